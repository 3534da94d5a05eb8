"""Keyword topics (config rules, `topics apply`) and discovered topics (`topics discover`, real MiniLM)."""

from __future__ import annotations

import json

from analyzer.cli import app
from analyzer.ingest import IngestOptions, ingest
from analyzer.store.database import Store
from tests.helpers import reddit, sql, write_jsonl

RULES = '[topics]\niphone = ["iphone", "ios 18"]\nrail = ["deutsche bahn"]\n'


BATTERY = ["battery drains fast on my phone", "phone battery dies by noon", "terrible battery life this phone",
           "battery lasts two days, impressive phone", "charging the phone battery takes forever"]
PIZZA = ["best pizza in town, crispy crust", "pizza dough was soggy", "ordered pizza with extra cheese",
         "this pizza place has great toppings", "pizza delivery took an hour"]


def test_keyword_rules_apply_at_ingest_case_insensitive_on_word_boundaries(runner, db, tmp_path):
    config = tmp_path / "opinions.toml"
    config.write_text(RULES)
    texts = ["My iPhone is great", "IOS 18 broke it", "iphones everywhere", "Deutsche  Bahn late again", "nothing"]
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i, body=t) for i, t in enumerate(texts)])
    runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--config", str(config)])
    rows = sql(db, "SELECT id, topic FROM comment_topics WHERE origin = 'keyword' ORDER BY id")
    assert rows == [("t1_c0", "iphone"), ("t1_c1", "iphone"), ("t1_c3", "rail")]


def test_topics_apply_reapplies_edited_rules_without_models(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(1, body="Pixel camera rocks"), reddit(2, body="my iphone")])
    runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none"])
    config = tmp_path / "opinions.toml"
    config.write_text('[topics]\npixel = ["pixel"]\n')
    result = runner.invoke(app, ["topics", "apply", "--db", str(db), "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"topic": "pixel", "comments": 1}]
    hostile = tmp_path / "hostile.toml"
    hostile.write_text("[topics]\n\"x'; DROP TABLE comments; --\" = [\"camera'); DELETE FROM comments; --\"]\n")
    runner.invoke(app, ["topics", "apply", "--db", str(db), "--config", str(hostile)])
    assert sql(db, "SELECT count(*) FROM comments") == [(2,)]


def test_discover_finds_the_groups_and_labels_them_by_terms(runner, db, tmp_path):
    groups = {
        "battery": BATTERY,
        "train": ["the train was late again this morning", "train cancelled, stuck at the station",
                  "rail strike means no trains today", "the station announced the train delay", "train seats were dirty"],
        "pizza": PIZZA,
    }
    records, i = [], 0
    for texts in groups.values():
        for repeat in range(3):
            for text in texts:
                records.append(reddit(i, body=f"{text} #{repeat}" if repeat else text))
                i += 1
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["topics", "discover", "--db", str(db), "--format", "json", "--min-cluster-size", "5"])
    assert result.exit_code == 0, result.output
    clusters = json.loads(result.stdout)
    assert len(clusters) >= 3
    for word in groups:
        assert any(word in c["topic"] for c in clusters), (word, clusters)
    per_text = sql(db, """SELECT c.text, ct.topic FROM comment_topics ct JOIN comments c USING (platform, id)
                          WHERE ct.origin = 'cluster'""")
    for text, topic in per_text:
        group = next(g for g, texts in groups.items() if any(text.startswith(t) for t in texts))
        assert group in topic or not any(g in topic for g in groups), (text, topic)


def test_discovery_embeds_text_without_markup_or_urls(monkeypatch, db, tmp_path):
    records = [reddit(0, body="<p>Loving it &amp; more</p> https://x.example/a"), reddit(1, body="plain words about trains")]
    batches = embedded_batches(monkeypatch, db, tmp_path, records)
    assert sorted(text for batch in batches for text in batch) == ["Loving it & more", "plain words about trains"]


def test_discovered_clusters_are_named_without_handles_or_markup_words(runner, db, tmp_path):
    groups = {
        "battery": BATTERY,
        "pizza": PIZZA,
    }
    records, i = [], 0
    for texts in groups.values():
        for repeat in range(3):
            for text in texts:
                body = (f"@BigCorp @helpdesk_{repeat} {text} &lt;br&gt;&lt;span class=\"x\"&gt; "
                        f"https://t.co/{i} #{repeat}")
                records.append(reddit(i, body=body))
                i += 1
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["topics", "discover", "--db", str(db), "--format", "json", "--min-cluster-size", "5"])
    assert result.exit_code == 0, result.output
    clusters = json.loads(result.stdout)
    assert {g for g in groups if any(g in c["topic"] for c in clusters)} == set(groups)
    words = {w for c in clusters for term in c["terms"].split(", ") for w in term.split()}
    assert not words & {"bigcorp", "helpdesk", "br", "span", "class", "https", "co", "lt", "gt"}, words


def test_discovery_embeds_each_cleaned_text_once(monkeypatch, db, tmp_path):
    records = [reddit(0, body="@alice the train was late again today"),
               reddit(1, body="@bob the train was late again today"),
               reddit(2, body="the train was late again today https://t.co/x"), reddit(3, body="#tagone #tagtwo #three")]
    assert embedded_batches(monkeypatch, db, tmp_path, records) == [["the train was late again today"]]


def embedded_batches(monkeypatch, db, tmp_path, records, encoder_id: str = "recorder") -> list[list[str]]:
    """What topic discovery hands the sentence encoder (one list per encode call) for `records`
    (ingested first; records already stored are duplicates)."""
    import numpy as np

    import analyzer.models.embeddings
    from analyzer.store.database import open_store
    from analyzer.topics.discovery import discover_topics

    batches: list[list[str]] = []

    class Recorder:
        id = encoder_id

        def encode(self, texts):
            batches.append(list(texts))
            return np.eye(len(texts), 4)

    monkeypatch.setattr(analyzer.models.embeddings, "default_encoder", lambda: Recorder())
    ingest(Store(db), [str(write_jsonl(tmp_path / "a.jsonl", records))], IngestOptions())
    con = open_store(db)
    try:
        discover_topics(con)
    finally:
        con.close()
    return batches


def test_discovery_embeds_only_texts_not_embedded_before(monkeypatch, db, tmp_path):
    first = [reddit(i, body=text) for i, text in enumerate(BATTERY)]
    assert sorted(t for batch in embedded_batches(monkeypatch, db, tmp_path, first) for t in batch) == sorted(BATTERY)
    more = first + [reddit(10 + i, body=text) for i, text in enumerate(PIZZA)]
    again = embedded_batches(monkeypatch, db, tmp_path, more)  # ingests the pizza texts, discovers again
    assert sorted(t for batch in again for t in batch) == sorted(PIZZA)
    assert embedded_batches(monkeypatch, db, tmp_path, more) == []
    assert sql(db, "SELECT count(*), count(DISTINCT encoder) FROM embeddings") == [(10, 1)]


def test_another_encoder_does_not_reuse_stored_embeddings(monkeypatch, db, tmp_path):
    records = [reddit(i, body=text) for i, text in enumerate(PIZZA)]
    embedded_batches(monkeypatch, db, tmp_path, records)
    assert sorted(t for b in embedded_batches(monkeypatch, db, tmp_path, records, encoder_id="other") for t in b) \
        == sorted(PIZZA)
    assert sql(db, "SELECT encoder, count(*) FROM embeddings GROUP BY encoder ORDER BY encoder") == [
        ("other", 5), ("recorder", 5)]


def test_stored_embeddings_give_the_same_clusters_as_fresh_ones(monkeypatch, db, tmp_path):
    import numpy as np

    import analyzer.models.embeddings
    from analyzer.store.database import open_store
    from analyzer.topics.discovery import DiscoveryStats, discover_topics

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))

    class Points:  # three well-separated groups, with noise that float16 rounding touches
        id = "points"

        def encode(self, texts):
            rows = np.array([centres[int(t.rsplit(" ", 1)[1]) % 3] + rng.normal(scale=0.05, size=16) for t in texts])
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    monkeypatch.setattr(analyzer.models.embeddings, "default_encoder", lambda: Points())
    records = [reddit(i, body=f"{['battery', 'pizza', 'train'][i % 3]} text number {i}") for i in range(60)]
    ingest(Store(db), [str(write_jsonl(tmp_path / "a.jsonl", records))], IngestOptions())
    runs = []
    for _ in range(2):
        con = open_store(db)
        try:
            stats = DiscoveryStats()
            clusters = discover_topics(con, min_cluster_size=5, stats=stats)
            runs.append((stats.embedded, stats.reused, [(c.topic, c.size) for c in clusters],
                         sql_rows(con, "SELECT id, topic FROM comment_topics WHERE origin = 'cluster' ORDER BY id")))
        finally:
            con.close()
    (embedded, reused, clusters, rows), (embedded_again, reused_again, clusters_again, rows_again) = runs
    assert (embedded, reused, embedded_again, reused_again) == (60, 0, 0, 60)
    assert len(clusters) == 3 and len(rows) >= 45
    assert (clusters_again, rows_again) == (clusters, rows)


def test_topics_discover_says_how_many_embeddings_it_reused(runner, db, tmp_path):
    records = [reddit(i, body=text) for i, text in enumerate(BATTERY + PIZZA)]
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db), "--tasks", "none"])
    first = runner.invoke(app, ["topics", "discover", "--db", str(db), "--format", "json", "--min-cluster-size", "5"])
    again = runner.invoke(app, ["topics", "discover", "--db", str(db), "--format", "json", "--min-cluster-size", "5"])
    assert first.exit_code == 0 and again.exit_code == 0, (first.output, again.output)
    assert "10 distinct texts: 0 stored embeddings reused, 10 embedded" in first.stderr
    assert "10 distinct texts: 10 stored embeddings reused, 0 embedded" in again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)


def sql_rows(con, query: str) -> list[tuple]:
    return con.execute(query).fetchall()


def _community(offset: float, seed: int = 0):
    """Unit vectors: three groups of 300 close around one centre (one community), and 60 far from it."""
    import numpy as np

    rng = np.random.default_rng(seed)
    dims = 384

    def unit(v):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    centre, far = unit(rng.normal(size=dims)), unit(rng.normal(size=dims))
    groups = [centre + offset * unit(rng.normal(size=dims)) for _ in range(3)] + [far]
    points = [g + 0.24 * rng.normal(size=(300 if k < 3 else 60, dims)) / np.sqrt(dims) for k, g in enumerate(groups)]
    truth = np.repeat(np.arange(4), [300, 300, 300, 60])
    return unit(np.vstack(points)), truth


def test_a_corpus_dominated_by_one_community_is_split_into_its_groups(monkeypatch):
    """HDBSCAN's most stable cut takes the whole community as one cluster (94% of the texts here); clustering
    that cluster again on its own finds its three groups."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from analyzer.topics import discovery

    embeddings, truth = _community(offset=0.12)
    monkeypatch.setattr(discovery, "SPLIT_DEPTH", 0)
    unsplit = discovery.cluster_embeddings(embeddings, 5)
    assert np.bincount(unsplit[unsplit >= 0]).max() == 900  # the failure: one cluster of 900 of 960
    monkeypatch.undo()
    split = discovery.cluster_embeddings(embeddings, 5)
    assert len(set(split[split >= 0])) == 4
    assert adjusted_rand_score(truth, split) > 0.95
    quality = discovery.cohesion(embeddings, split)
    assert min(quality.values()) > 0.15  # real groups (the three of the community are close to each other)
    shuffled = np.random.default_rng(1).permutation(split)
    assert np.mean(list(discovery.cohesion(embeddings, shuffled).values())) < 0  # arbitrary groups are not
