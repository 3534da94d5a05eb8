"""Analysis on ingest: results keyed by (text_hash, model), cached, retweets analysed once.

Uses the tiny randomly initialised STAND-IN models from conftest (plumbing only: their
labels are meaningless, so these tests check counts, keys and shapes, not predictions).
"""

from __future__ import annotations

import json

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl


def ingest(runner, db, *args):
    result = runner.invoke(app, ["ingest", *args, "--db", str(db), "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_new_texts_get_sentiment_and_entities_once(runner, db, tmp_path, tiny_env):
    records = [reddit(i, body="Apple makes phones in California") for i in range(5)]  # a retweet storm
    records += [reddit(10, body="worst service ever"), reddit(11, body="[deleted]")]
    dump = write_jsonl(tmp_path / "a.jsonl", records)
    summary = ingest(runner, db, str(dump))
    assert summary["texts_analysed"] == 2  # five identical texts cost one inference; [deleted] none
    assert sql(db, "SELECT count(*), count(DISTINCT text_hash) FROM sentiment") == [(2, 2)]
    assert sql(db, "SELECT count(*) FROM analyses WHERE task = 'ner'") == [(2,)]
    labels = {row[0] for row in sql(db, "SELECT label FROM sentiment")}
    assert labels <= {"negative", "neutral", "positive"}
    probabilities = sql(db, "SELECT p_negative + p_neutral + p_positive FROM sentiment")
    assert all(abs(p[0] - 1) < 1e-4 for p in probabilities)
    model = sql(db, "SELECT DISTINCT model FROM sentiment")[0][0]
    assert str(tiny_env["sentiment"]) in model


def test_rerun_and_repeated_texts_are_served_from_cache(runner, db, tmp_path, tiny_env):
    ingest(runner, db, str(write_jsonl(tmp_path / "a.jsonl", [reddit(1, body="same words here")])))
    summary = ingest(runner, db, str(write_jsonl(tmp_path / "b.jsonl", [reddit(2, body="same words here")])))
    assert (summary["rows_new"], summary["texts_analysed"], summary["texts_cached"]) == (1, 0, 1)


def test_comments_enriched_view_joins_current_model(runner, db, tmp_path, tiny_env):
    ingest(runner, db, str(write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(3)])))
    rows = sql(db, "SELECT count(*), count(sentiment) FROM comments_enriched")
    assert rows == [(3, 3)]


def test_social_tokens_are_entities_with_exact_offsets(runner, db, tmp_path, tiny_env):
    text = "Loving #GoPackers with @bob, bought $AAPL"
    ingest(runner, db, str(write_jsonl(tmp_path / "a.jsonl", [reddit(1, body=text)])))
    rows = sql(db, "SELECT label, text, start, \"end\" FROM entities WHERE label IN ('HASHTAG','MENTION','CASHTAG') ORDER BY start")
    assert rows == [("HASHTAG", "#GoPackers", 7, 17), ("MENTION", "@bob", 23, 27), ("CASHTAG", "$AAPL", 36, 41)]
    for _label, surface, start, end in rows:
        assert text[start:end] == surface


def test_unsupported_language_gets_null_label_and_is_counted(runner, db, tmp_path, tiny_env):
    french = "Je déteste vraiment cette nouvelle mise à jour, elle est lente et pleine de bugs"
    summary = ingest(runner, db, str(write_jsonl(tmp_path / "a.jsonl", [reddit(1, body=french)])))
    assert summary["texts_unsupported"] == 1
    assert sql(db, "SELECT label, reason FROM sentiment") == [(None, "unsupported language: fr")]
    assert sql(db, "SELECT lang FROM comments") == [("fr",)]


def test_tasks_none_then_later_ingest_analyses_leftovers(runner, db, tmp_path, tiny_env):
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(4)])
    runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none"])
    summary = ingest(runner, db, str(dump), "--tasks", "sentiment")
    assert summary["texts_analysed"] == 4
    assert sql(db, "SELECT count(*) FROM sentiment") == [(4,)]
