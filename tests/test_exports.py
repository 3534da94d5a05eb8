"""Every export a user has: API responses and chat exports are read whole (issue 32).

The fixtures in tests/fixtures/real/ are written by hand in each format's real shape (Reddit API
listings and threads, YouTube Data API commentThreads pages, a Telegram Desktop result.json,
Bluesky feeds, threads and Jetstream events); no third-party file is copied. One test per point.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.cli import app
from analyzer.ingest import IngestOptions, ingest
from analyzer.sources import containers
from analyzer.store.database import Store
from tests.helpers import sql

REAL = Path(__file__).parent / "fixtures" / "real"


def run(db: Path, *paths: Path | str, **options):
    # IngestOptions' default analysis is None: `--tasks none`, no model runs
    return ingest(Store(db, wait_seconds=5), [str(p) for p in paths], IngestOptions(**options))


def counts(summary) -> tuple[int, int, int, int, int]:
    assert summary.rows_read == (summary.rows_new + summary.rows_duplicate + summary.rows_rejected
                                 + summary.rows_skipped)
    return summary.rows_read, summary.rows_new, summary.rows_duplicate, summary.rows_rejected, summary.rows_skipped


def rows(db: Path, where: str = "true") -> dict[str, dict]:
    cols = ["id", "platform", "author", "topic", "parent_id", "thread_id", "is_retweet", "retweet_of", "text",
            "created_at", "lang", "score"]
    found = sql(db, f"SELECT {', '.join(cols)} FROM comments WHERE {where}")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in found}


def test_1_reddit_thread_every_comment_with_parent_and_more_stubs_skipped(db):
    summary = run(db, REAL / "reddit_thread.json")
    # the post, three nested comments; a deleted comment and two `more` stubs are skipped
    assert counts(summary) == (7, 4, 0, 0, 3) and summary.presets == {str(REAL / "reddit_thread.json"): "reddit"}
    stored = rows(db)
    assert set(stored) == {"t3_1b2c3d", "t1_kq1a001", "t1_kq1a002", "t1_kq1a003"}
    post = stored["t3_1b2c3d"]
    assert post["text"].startswith("Pixel 8 battery after the March update") and post["topic"] == "android"
    assert [stored[f"t1_kq1a00{i}"]["parent_id"] for i in (1, 2, 3)] == ["t3_1b2c3d", "t1_kq1a001", "t1_kq1a002"]
    assert {r["thread_id"] for r in stored.values()} == {"t3_1b2c3d"}
    assert stored["t1_kq1a003"]["author"] == "drained_dan" and str(stored["t1_kq1a003"]["created_at"]).startswith(
        "2024-03-08 09:30")


def test_1_reddit_thread_records_keep_their_depth():
    import json

    thread = json.loads((REAL / "reddit_thread.json").read_text())
    records = [r for listing in thread for r in containers.records(listing)]
    depths = {r["name"]: r.get("depth") for r in records if containers.OURS not in r}
    assert depths == {"t3_1b2c3d": None, "t1_kq1a001": 0, "t1_kq1a002": 1, "t1_kq1a003": 2, "t1_kq1a004": 0}
    assert not any("replies" in r for r in records)  # a comment's replies are rows of their own, not copies
    # a listing without Reddit's own depths (a user's comments) gets them from the nesting
    nested = {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"id": "a", "body": "x", "replies": {
        "kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"id": "b", "body": "y"}}]}}}}]}}
    assert [(r["id"], r["depth"]) for r in containers.records(nested)] == [("a", 0), ("b", 1)]


def test_1_reddit_listing_is_one_row_per_thing(db):
    summary = run(db, REAL / "reddit_listing.json")
    assert counts(summary) == (3, 3, 0, 0, 0)
    stored = rows(db)
    assert stored["t1_kq2b002"]["parent_id"] == "t1_kq2a777" and stored["t3_1b9zz9"]["text"] == "Is the patch worth it?"
    assert {r["topic"] for r in stored.values()} == {"pcgaming"}


def test_2_youtube_comment_threads_page_replies_get_their_parent(db):
    summary = run(db, REAL / "youtube_comment_threads.json")
    assert counts(summary) == (4, 4, 0, 0, 0)
    assert set(summary.presets.values()) == {"youtube"}
    stored = rows(db)
    top = stored["UgzQ8x1a2b3c4d5e6f7AaABAg"]
    assert (top["platform"], top["author"], top["topic"], top["parent_id"], top["score"]) == (
        "youtube", "@vinyl_vera", "dQw4w9WgXcQ", None, 1520)
    assert top["text"] == "This song never gets old & neither does the dance"  # textOriginal, not the HTML
    assert str(top["created_at"]).startswith("2023-11-02 18:04:11")
    replies = [r for r in stored.values() if r["parent_id"] == "UgzQ8x1a2b3c4d5e6f7AaABAg"]
    assert sorted(r["author"] for r in replies) == ["@meme_mo", "@retro_rick"]
    assert {r["topic"] for r in replies} == {"dQw4w9WgXcQ"}


def test_2_youtube_jsonl_of_pages(db):
    summary = run(db, REAL / "youtube_comment_threads.jsonl")
    assert counts(summary) == (5, 5, 0, 0, 0)
    assert sql(db, "SELECT topic, count(*) FROM comments GROUP BY topic ORDER BY topic") == [
        ("9bZkp7q19f0", 1), ("dQw4w9WgXcQ", 4)]


def test_3_telegram_desktop_export_text_arrays_replies_and_service_messages(db):
    summary = run(db, REAL / "telegram" / "result.json")
    # three messages; two service messages and a photo without a caption are skipped with their reasons
    assert counts(summary) == (6, 3, 0, 0, 3) and set(summary.presets.values()) == {"telegram"}
    stored = rows(db)
    assert set(stored) == {"1581234567/2", "1581234567/3", "1581234567/6"}
    reply = stored["1581234567/3"]
    assert reply["text"] == "Same on the northern line, see https://status.example.org/rail #delays"
    assert (reply["author"], reply["parent_id"], reply["topic"], reply["platform"]) == (
        "Bo Speaks", "1581234567/2", "Trains Chat", "telegram")
    assert str(reply["created_at"]).startswith("2024-03-01 09:17:40")  # date_unixtime: UTC, not the local `date`


def test_3_telegram_messages_are_streamed_not_built_whole(tmp_path, db, monkeypatch):
    import json

    import ijson

    chat = json.loads((REAL / "telegram" / "result.json").read_text())
    message = chat["messages"][1]
    chat["messages"] = [{**message, "id": i, "text": f"message {i}"} for i in range(1, 3001)]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat, indent=1))
    built: list[str] = []
    real_items = ijson.items

    def watched(source, prefix, *args, **kwargs):
        built.append(prefix)
        return real_items(source, prefix, *args, **kwargs)

    monkeypatch.setattr(ijson, "items", watched)
    summary = run(db, path, batch_rows=1000)
    assert counts(summary) == (3000, 3000, 0, 0, 0)
    assert built == ["messages.item"]  # never the whole document ("")
    assert sql(db, "SELECT count(DISTINCT topic), min(topic) FROM comments") == [(1, "Trains Chat")]


BSKY_ROOT = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kmuyrpoit22c"


def test_4_bluesky_timeline_posts_replies_and_reposts_as_retweets(db):
    summary = run(db, REAL / "bluesky" / "timeline.json")
    assert counts(summary) == (3, 3, 0, 0, 0) and set(summary.presets.values()) == {"bluesky"}
    stored = rows(db)
    reply = stored["at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3kmuz2xq5bk2s"]
    assert (reply["platform"], reply["author"], reply["parent_id"], reply["thread_id"], reply["lang"]) == (
        "bluesky", "bo.example.com", BSKY_ROOT, BSKY_ROOT, "en")
    assert str(reply["created_at"]).startswith("2024-03-01 09:05:00")
    german = stored["at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3kmv3nn2mtc2a"]
    assert german["lang"] == "de" and german["is_retweet"] is False
    (repost,) = [r for r in stored.values() if r["is_retweet"]]
    assert (repost["author"], repost["retweet_of"], repost["topic"]) == ("cy.bsky.social", BSKY_ROOT, "commute")
    assert repost["text"] == "The new trains are late again #commute"


def test_4_bluesky_post_thread_nested_replies(db):
    summary = run(db, REAL / "bluesky" / "post_thread.json")
    # the post, a reply, a reply to the reply; a blocked post the thread names is skipped
    assert counts(summary) == (4, 3, 0, 0, 1)
    stored = rows(db)
    assert stored[BSKY_ROOT]["parent_id"] is None and stored[BSKY_ROOT]["score"] == 42
    deep = stored["at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kmuzq7pl3s2d"]
    assert deep["parent_id"] == "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3kmuz2xq5bk2s"
    assert deep["thread_id"] == BSKY_ROOT


def test_4_jetstream_posts_and_reposts_kept_other_events_skipped(db):
    summary = run(db, REAL / "bluesky" / "jetstream.jsonl")
    # two posts and a repost of one of them; a like, a repost of a post the stream never showed (no text), a
    # delete and an identity event are skipped
    assert counts(summary) == (7, 3, 0, 0, 4) and set(summary.presets.values()) == {"bluesky"}
    stored = rows(db)
    first = stored["at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kmw1aaaaaa2a"]
    assert (first["author"], first["topic"], first["lang"]) == ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "commute", "en")
    answer = stored["at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3kmw1dddddd2d"]
    assert answer["parent_id"] == first["id"]
    repost = stored["at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.repost/3kmw1ffffff2f"]
    assert (repost["is_retweet"], repost["retweet_of"], repost["text"], repost["topic"]) == (
        True, first["id"], first["text"], "commute")
    assert str(repost["created_at"]).startswith("2024-03-01 11:00:06")


def test_4_repository_records_posts_by_did(db):
    # com.atproto.repo.listRecords, the JSON tools make of a repository's CAR export
    summary = run(db, REAL / "bluesky" / "list_records.json")
    assert counts(summary) == (3, 2, 0, 0, 1)  # the repost's post is not in the file: no text, skipped
    stored = rows(db)
    assert {r["author"] for r in stored.values()} == {"did:plc:ewvi7nxzyoun6zhxrhs64oiz"}
    reply = stored["at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kmuzq7pl3s2d"]
    assert reply["parent_id"] == "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3kmuz2xq5bk2s"


def test_5_a_file_read_as_one_rejected_row_says_what_it_holds(runner, tmp_path, db):
    # DiscordChatExporter's JSON: a shape no preset knows, read as one record
    export = REAL / "unknown" / "discord_export.json"
    result = runner.invoke(app, ["ingest", str(export), "--db", str(db), "--tasks", "none", "--quiet"])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "read as 1 record and rejected (no text)" in message
    assert "top-level keys guild, channel, dateRange, exportedAt, messages, messageCount" in message
    assert "messages (1 object)" in message and "nearest preset:" in message and "--text-field" in message
    (error,) = sql(db, "SELECT error FROM runs")[0]
    assert "top-level keys guild, channel" in error  # `report runs` says it too
    # whatever the format: a one-row CSV and a one-line JSONL name their keys and the nearest preset
    csv_path = tmp_path / "one.csv"
    csv_path.write_text("tweet_id,airline,tweet_created\n570306133677760513,Virgin America,2015-02-24 11:35:52 -0800\n")
    summary = run(tmp_path / "csv.duckdb", csv_path)
    assert summary.status == "failed"  # no column holds text: the file is refused with its columns named
    reason = summary.failed_sources[str(csv_path)]
    assert "the columns are tweet_id, airline, tweet_created" in reason and "--text-field" in reason
    line = tmp_path / "one.jsonl"
    line.write_text('{"id_str": "1", "user": {"screen_name": "x"}, "lang": "en", "retweet_count": 0}\n')
    summary = run(tmp_path / "line.duckdb", line)
    hint = summary.unread[str(line)]
    assert "(no text)" in hint and "nearest preset: twitter (shares id_str, user, lang)" in hint
    assert any(hint in note for note in summary.notes)
    # a file of many rows, all rejected, is not one record misread: no such hint
    many = tmp_path / "many.jsonl"
    many.write_text('{"id": "1"}\n{"id": "2"}\n')
    assert run(tmp_path / "many.duckdb", many).unread == {}


def test_4_reposts_remember_a_bounded_number_of_posts():
    seen = containers.SeenPosts(limit=2)
    for i in range(3):
        seen.add({"uri": f"at://did:plc:a/app.bsky.feed.post/{i}", "text": f"post {i}"})
    assert seen.get("at://did:plc:a/app.bsky.feed.post/0") is None  # the oldest went
    assert seen.get("at://did:plc:a/app.bsky.feed.post/2") == {"text": "post 2", "langs": None, "tags": None}


def test_6_csv_header_is_scored_not_taken_for_twitter(runner, db):
    # Sentiment140's columns: a `text` and a `user` made it Twitter, which found no id, author or date in them
    path = REAL / "sentiment140.csv"
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--tasks", "none"])
    assert result.exit_code == 0, result.output
    line = f"{path}: columns read as preset generic: text ← text, id ← ids, time ← date, author ← user; " \
           "no column for topic; not read: target, flag"
    assert line in result.stderr  # one line on stderr saying which column was taken for what
    stored = rows(db)
    assert set(stored) == {"1467810369", "1467810672", "1467822272", "1467822273"}
    first = stored["1467810369"]
    assert first["author"] == "_TheSpecialOne_" and first["platform"] == "generic"
    assert str(first["created_at"]).startswith("2009-04-07 05:19:45")  # 22:19:45 PDT
    # the run's notes (printed in its summary and by --json) carry the line too
    summary = run(db.with_name("again.duckdb"), path)
    assert any(note.startswith(f"{path}: columns read as preset generic") for note in summary.notes)


def test_6_a_mapped_column_empty_in_every_row_is_a_warning(tmp_path, db):
    path = tmp_path / "export.csv"
    path.write_text("id,author,created_at,text\n1,,2024-01-02,first comment here\n2,,2024-01-03,second one\n")
    summary = run(db, path)
    assert summary.rows_new == 2
    assert f"{path}: warning: column author (author) is empty in every stored row" in summary.notes
    full = tmp_path / "full.csv"
    full.write_text("id,author,created_at,text\n1,ann,2024-01-02,first comment here\n")
    assert not any("warning" in note for note in run(tmp_path / "full.duckdb", full).notes)


def test_6_no_header_columns_by_position(runner, tmp_path, db):
    path = REAL / "sentiment140_noheader.csv"
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--tasks", "none", "--no-header",
                                 "--text-field", "6", "--id-field", "2", "--time-field", "3", "--author-field", "5"])
    assert result.exit_code == 0, result.output
    stored = rows(db)
    assert len(stored) == 4  # the first line is a row, not a header
    assert stored["1467810369"]["author"] == "_TheSpecialOne_"
    assert str(stored["1467810369"]["created_at"]).startswith("2009-04-07 05:19:45")
    # without --text-field the text column is found by its shape
    shaped = run(tmp_path / "shaped.duckdb", path, no_header=True)
    assert shaped.rows_new == 4
    assert any("text ← 6 (the longest free-text column)" in note for note in shaped.notes)
    assert {r["text"] for r in rows(tmp_path / "shaped.duckdb").values()} == {r["text"] for r in stored.values()}


def test_7_text_column_found_by_name_and_by_shape(tmp_path, db):
    posts = run(db, REAL / "reddit_posts_export.csv")
    stored = rows(db)
    assert posts.rows_new == 2 and stored["1b2c3d"]["text"].startswith("Pixel 8 battery")
    assert stored["1b2c3d"]["topic"] == "Android" and str(stored["1b2c3d"]["created_at"]).startswith("2024-03-08 09:00")
    survey = run(tmp_path / "survey.duckdb", REAL / "survey_free_text.csv")
    assert survey.rows_new == 5
    assert any("text ← what_could_we_do_better (the longest free-text column)" in n for n in survey.notes)
    assert ("More vegan options in the cafe please",) in sql(tmp_path / "survey.duckdb", "SELECT text FROM comments")
    # no column holds text: the file is refused, naming the names looked for, its columns and the flag
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("id,store,rating\n1,Leeds,2\n2,York,5\n")
    refused = run(tmp_path / "numbers.duckdb", numbers)
    reason = refused.failed_sources[str(numbers)]
    assert reason.startswith("no text column: none of text, body, content, message, comment, comment_text")
    assert "the columns are id, store, rating: name the text with --text-field COLUMN" in reason


def test_7_an_unreadable_date_column_names_time_format_and_the_values(tmp_path, db):
    path = tmp_path / "dates.csv"
    path.write_text("id,text,date\n1,first comment here,7 Mar 2024 at 09h15\n2,second one,8 Mar 2024 at 10h00\n")
    refused = run(db, path)
    reason = refused.failed_sources[str(path)]
    assert reason.startswith("column 'date' holds dates opinions cannot read ('7 Mar 2024 at 09h15', "
                             "'8 Mar 2024 at 10h00')") and "--time-format" in reason
    forced = run(db, path, time_format="%d %b %Y at %Hh%M")
    assert forced.rows_new == 2
    assert str(sql(db, "SELECT created_at FROM comments WHERE id = '1'")[0][0]).startswith("2024-03-07 09:15")
    # one bad value among good ones rejects its row only, as before
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("id,text,date\n1,first comment here,2024-03-07\n2,second one,someday\n")
    summary = run(tmp_path / "mixed.duckdb", mixed)
    assert (summary.rows_new, summary.rows_rejected) == (1, 1)


def test_hostile_shapes_of_the_new_containers_are_counted_not_crashes(tmp_path, db):
    import json

    docs = [
        {"kind": ["t1"], "data": {"body": "a list for a kind"}},
        {"kind": "Listing", "data": {"children": [{"kind": {"x": 1}, "data": {}}, 5, {"kind": "t1", "data": {
            "id": "h1", "body": "replies that are not a listing", "subreddit": "x",
            "replies": {"kind": "Listing", "data": {"children": "nope"}}}}]}},
        {"feed": [{"post": {"uri": "at://did:plc:h/app.bsky.feed.post/1", "author": "not an object",
                            "record": {"text": "odd facets", "facets": 5, "tags": "abc"}}}]},
        {"kind": "commit", "did": "did:plc:h", "commit": {"collection": ["x"], "operation": "create", "record": {}}},
        {"kind": "youtube#commentThreadListResponse", "items": [{"snippet": {"topLevelComment": {"id": "y1"}},
                                                                 "replies": {"comments": 7}}]},
        {"name": "c", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", "text": 5},
                                                                    "not a message"]},
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    summary = run(db, path)
    assert summary.status == "completed"
    counts(summary)  # exactly accounted: read = new + duplicate + rejected + skipped
    assert {r["text"] for r in rows(db).values()} >= {"replies that are not a listing", "odd facets"}
    assert [t for t in containers._bsky_tags({"tags": "abc", "facets": 5})] == []


def test_9_topic_names_are_case_insensitive_shown_in_their_most_common_spelling(runner, db, tiny_env):
    import json

    survey = REAL / "survey_store_names.csv"  # staff typed the store as Leeds, leeds and LEEDS
    result = runner.invoke(app, ["ingest", str(survey), "--db", str(db), "--tasks", "none", "--topic-field", "store",
                                 "--time-field", "submitted_at"])
    assert result.exit_code == 0, result.output
    topics = json.loads(runner.invoke(app, ["report", "topics", "--db", str(db), "--format", "json"]).stdout)
    assert {t["topic"]: t["comments"] for t in topics} == {"Leeds": 4, "York": 2}  # a tie: the first in order
    for name in ("leeds", "LEEDS", "Leeds"):
        detail = runner.invoke(app, ["report", "topic", name, "--db", str(db), "--format", "json"])
        assert detail.exit_code == 0, detail.output
        assert sum(p["comments"] for p in json.loads(detail.stdout)["trend"]) == 4
    trend = json.loads(runner.invoke(app, ["report", "trend", "york", "LEEDS", "--db", str(db), "--format", "json"]).stdout)
    assert {p["topic"] for p in trend} == {"York", "Leeds"}
    assert runner.invoke(app, ["report", "topic", "Bradford", "--db", str(db)]).exit_code == 1
    summary = runner.invoke(app, ["summarize", "lEEDS", "--db", str(db), "--format", "json"])
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)[0]["topic"] == "Leeds" and json.loads(summary.stdout)[0]["n_comments"] == 4
    detail = json.loads(runner.invoke(app, ["report", "topic", "leeds", "--db", str(db), "--format", "json"]).stdout)
    assert detail["summary"][0]["n_comments"] == 4
    # a comment filed under one topic twice (its field and a hashtag, `Leeds` and `#leeds`) counts once
    tweet = {"id_str": "9001", "full_text": "Leeds store closed early again #leeds #Leeds", "user": {"screen_name": "bo"},
             "created_at": "Mon Oct 10 08:00:00 +0000 2022", "entities": {"hashtags": [{"text": "leeds"}]}}
    (tmp := db.parent / "t.jsonl").write_text(json.dumps(tweet) + "\n")
    runner.invoke(app, ["ingest", str(tmp), "--db", str(db), "--tasks", "none"])
    topics = json.loads(runner.invoke(app, ["report", "topics", "--db", str(db), "--format", "json"]).stdout)
    assert {t["topic"]: t["comments"] for t in topics} == {"Leeds": 5, "York": 2}
    # a keyword rule `Leeds` is not added again where a comment has the name as a field topic: of the 3 texts
    # it matches (the tills, the Leeds tweet, self checkout), only the York one gets it
    config = db.parent / "opinions.toml"
    config.write_text('[topics]\nLeeds = ["leeds", "the tills", "self checkout"]\n')
    result = runner.invoke(app, ["topics", "apply", "--db", str(db), "--config", str(config), "--format", "json"])
    assert json.loads(result.stdout) == [{"topic": "Leeds", "comments": 1}]
    topics = json.loads(runner.invoke(app, ["report", "topics", "--db", str(db), "--format", "json"]).stdout)
    assert {t["topic"]: t["comments"] for t in topics} == {"Leeds": 6, "York": 2}


def test_12_escapes_are_decoded_for_display_and_ner_and_html_escapes_once(runner, db, tiny_env):
    import json

    from analyzer.tasks.ner.task import social_entities

    dump = REAL / "pushshift_markup.jsonl"  # Reddit bodies: `&amp;`, `&gt;` and a typed `&amp;#x200B;` blank line
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "sentiment,ner", "--quiet"])
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT count(*) FROM comments WHERE text LIKE '%&amp;#x200B;%'") == [(1,)]  # stored as it came
    # NER reads the escapes as their characters: `#x200B` is no hashtag, `#fail` is one
    hashtags = {r[0] for r in sql(db, "SELECT text FROM entities WHERE label = 'HASHTAG'")}
    assert hashtags == {"#fail"}
    body = json.loads(dump.read_text().splitlines()[0])["body"]
    assert [e["text"] for e in social_entities(body)] == []
    detail = json.loads(runner.invoke(app, ["report", "topic", "tmobile", "--db", str(db), "--format", "json"]).stdout)
    shown = {c["text"] for side in ("most_positive", "most_negative") for c in detail[side]}
    assert shown == {"Switched from AT&T to T-Mobile last month. Coverage in the subway is actually better & the bill "
                     "is lower.", "> Coverage in the subway Not on my line. Still one bar & dropped calls #fail"}
    page = runner.invoke(app, ["report", "topic", "tmobile", "--db", str(db), "--format", "html"]).stdout
    assert "AT&amp;T" in page and "&amp;amp;" not in page and "#x200B" not in page and "&amp;gt;" not in page


def test_8_retweets_keep_the_hashtags_of_the_tweet_they_retweet(db):
    v1, v2 = REAL / "twitter_v1_retweets.jsonl", REAL / "twarc2_retweets.jsonl"
    run(db, v1, v2)
    topics = dict(sql(db, "SELECT topic, count(*) FROM comment_topics GROUP BY topic"))
    # every one of the 7 tweets says #Brexit, 3 of them (an original and its two retweets) #PeoplesVote:
    # before, the retweets' own cut copies ("... #Pe…") lost it (brexit 6, peoplesvote 1, bercow 1)
    assert topics == {"brexit": 7, "peoplesvote": 3, "bercow": 2, "backstop": 1}
    mentions = sql(db, "SELECT count(*) FROM comments WHERE text ILIKE '%#brexit%'")[0][0]
    assert mentions == 6  # the seventh is the cut v2 copy ("... coming #…"): its topics are its stored original's
    cut = "1106000000000000031"
    assert sql(db, "SELECT text LIKE '%#…', retweet_of FROM comments WHERE id = $id", {"id": cut}) == [
        (True, "1106000000000000030")]
    assert {r[0] for r in sql(db, "SELECT topic FROM comment_topics WHERE id = $id", {"id": cut})} == {"brexit", "bercow"}
    # a cut hashtag is no topic, nor is an escape, an anchor or a number
    assert not {"pe", "bre", "x200b", "2019"} & set(topics)


def test_8_a_cut_retweet_gets_its_original_s_topics_when_the_original_comes_later(db):
    pages = (REAL / "twarc2_retweets.jsonl").read_text().splitlines()
    (first := db.parent / "p1.jsonl").write_text(pages[0] + "\n")
    (second := db.parent / "p2.jsonl").write_text(pages[1] + "\n")
    run(db, first)
    assert sql(db, "SELECT count(*) FROM comment_topics WHERE id = '1106000000000000031'") == [(0,)]
    run(db, second)
    assert {r[0] for r in sql(db, "SELECT topic FROM comment_topics WHERE id = '1106000000000000031'")} == {
        "brexit", "bercow"}


def test_11_account_languages_are_checked_against_the_text_and_tags_are_bcp47(runner, db, tiny_env, tmp_path,
                                                                               monkeypatch):
    import json
    import shutil

    from analyzer.text.langid import check_hints

    # Mastodon statuses whose `language` is the account's default: `de` on an English post and on a bare
    # link, `zh-CN` on Chinese. The tiny sentiment model supports English only
    dump = REAL / "mastodon_statuses_languages.jsonl"
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "sentiment", "--quiet"])
    assert result.exit_code == 0, result.output
    langs = dict(sql(db, "SELECT right(id, 1), lang FROM comments"))
    # the English post is `en` (was `de`, so unsupported); a link says too little: the hint stays
    assert langs == {"1": "en", "2": "de", "3": "de", "4": "zh-cn", "5": "de", "6": "en"}
    assert sql(db, "SELECT count(label) FROM comments c JOIN sentiment s USING (text_hash)") == [(2,)]
    table = runner.invoke(app, ["report", "topics", "--db", str(db)]).stdout
    assert "shares of few scored comments: bahn 2 of 6" in " ".join(table.split())
    assert check_hints(["Made it to Hamburg four hours late, the staff were lovely"], ["de"]) == ["en"]
    assert check_hints(["Der Zug fällt heute schon wieder aus"], ["de"]) == ["de"]
    # a model that names `zh` reads `zh-cn` (a regional tag is its language's)
    model = tmp_path / "sentiment-en-zh"
    shutil.copytree(tiny_env["sentiment"], model)
    (model / "opinions.json").write_text(json.dumps({"languages": ["en", "zh"]}))
    monkeypatch.setenv("OPINIONS_SENTIMENT_MODEL", str(model))
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "sentiment", "--quiet"])
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT c.lang FROM comments c JOIN sentiment s ON s.text_hash = c.text_hash "
                   "AND s.model = (SELECT value FROM meta WHERE key = 'model.sentiment') WHERE s.label IS NOT NULL "
                   "AND c.lang = 'zh-cn'") == [("zh-cn",)]


def test_10_archive_without_account_says_authors_are_unknown_and_rt_tweets_are_retweets(runner, db):
    import json

    tweets = REAL / "archive_no_account" / "data" / "tweets.js"  # no account.js beside it
    result = runner.invoke(app, ["ingest", str(tweets), "--db", str(db), "--tasks", "none", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    said = [n for n in summary["notes"] if "no account.js" in n]
    assert len(said) == 1 and "--author NAME" in said[0]  # once, not once per batch
    runs = runner.invoke(app, ["report", "runs", "--db", str(db)]).stdout
    assert "no account.js beside this Twitter archive" in " ".join(runs.split())
    stored = rows(db)
    assert {r["author"] for r in stored.values()} == {None}
    rt = stored["1712000000000000003"]
    assert rt["is_retweet"] and rt["retweet_of"] == "@bo_speaks"
    assert not stored["1712000000000000004"]["is_retweet"]
    # the archive's `lang` is a hint: the German tweet it calls `en` is `de`
    assert stored["1712000000000000004"]["lang"] == "de" and stored["1712000000000000005"]["lang"] == "en"
    # with --author, or with account.js (the other fixture), nothing is said
    result = runner.invoke(app, ["ingest", str(tweets), "--db", str(db.parent / "b.duckdb"), "--tasks", "none",
                                 "--author", "me", "--json"])
    assert not [n for n in json.loads(result.stdout)["notes"] if "account.js" in n]
    result = runner.invoke(app, ["ingest", str(REAL / "archive" / "tweets.js"), "--db", str(db.parent / "c.duckdb"),
                                 "--tasks", "none", "--json"])
    assert not [n for n in json.loads(result.stdout)["notes"] if "account.js" in n]


def test_9_views_made_by_an_older_version_are_replaced(runner, db):
    import json

    import duckdb

    from analyzer.store.database import views_digest

    survey = REAL / "survey_store_names.csv"
    runner.invoke(app, ["ingest", str(survey), "--db", str(db), "--tasks", "none", "--topic-field", "store"])
    con = duckdb.connect(str(db))  # as the previous version left it: one topic per spelling
    con.execute("""CREATE OR REPLACE VIEW comment_topics AS
                   SELECT platform, id, topic, 'field' AS origin FROM comments WHERE topic <> ''
                   UNION ALL SELECT platform, id, topic, origin FROM extra_topics""")
    con.execute("UPDATE meta SET value = 'older' WHERE key = 'views'")
    con.close()
    # a report (read-only) reads through this version's views, without writing them
    topics = json.loads(runner.invoke(app, ["report", "topics", "--db", str(db), "--format", "json"]).stdout)
    assert {t["topic"]: t["comments"] for t in topics} == {"Leeds": 4, "York": 2}
    assert sql(db, "SELECT value FROM meta WHERE key = 'views'") == [("older",)]
    runner.invoke(app, ["ingest", str(survey), "--db", str(db), "--tasks", "none", "--topic-field", "store"])
    assert sql(db, "SELECT value FROM meta WHERE key = 'views'") == [(views_digest(),)]
    assert sql(db, "SELECT count(*) FROM comment_topics") == [(6,)]
