"""Promises of `opinions ingest` (no models: --tasks none): formats, presets, accounting, idempotence."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import polars as pl
import pytest

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl

ACCOUNTING = "SELECT rows_read, rows_new + rows_duplicate + rows_rejected + rows_skipped FROM runs"


def ingest(runner, db: Path, *args: str, input: bytes | None = None) -> dict:
    result = runner.invoke(app, ["ingest", *args, "--db", str(db), "--tasks", "none", "--json"], input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reddit_jsonl_lands_canonical_columns(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "rc.jsonl", [reddit(1, "I love it"), reddit(2, "I hate it", sub="android")])
    summary = ingest(runner, db, str(dump))
    assert summary["rows_new"] == 2
    rows = sql(db, "SELECT platform, id, topic, author, score, thread_id, text, created_at FROM comments ORDER BY id")
    assert rows[0][:7] == ("reddit", "t1_c1", "apple", "user1", 1, "t3_p1", "I love it")
    assert rows[0][7].timestamp() == 1_759_300_060
    assert sql(db, "SELECT topic, origin FROM comment_topics ORDER BY topic") == [("android", "field"), ("apple", "field")]


def test_reddit_submission_joins_title_and_selftext(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "rs.jsonl", [
        {"id": "p1", "title": "New phone", "selftext": "Thoughts?", "subreddit": "apple", "created_utc": 1759300000},
    ])
    ingest(runner, db, str(dump))
    assert sql(db, "SELECT id, text, thread_id FROM comments") == [("t3_p1", "New phone\n\nThoughts?", "t3_p1")]


@pytest.mark.parametrize("compress", ["gz", "zst", "bz2", "xz"])
def test_compressed_dumps_are_read(runner, db, tmp_path, compress):
    dump = write_jsonl(tmp_path / f"rc.jsonl.{compress}", [reddit(i) for i in range(30)], compress=compress)
    assert ingest(runner, db, str(dump))["rows_new"] == 30


@pytest.mark.parametrize("compress", ["zst", "bz2", "xz"])
def test_compression_is_detected_by_content_not_name(runner, db, tmp_path, compress):
    dump = write_jsonl(tmp_path / "rc.jsonl", [reddit(i) for i in range(5)], compress=compress)
    assert ingest(runner, db, str(dump))["rows_new"] == 5


def test_bz2_and_xz_in_a_folder_and_on_stdin_are_read(runner, db, tmp_path):
    # both were "not a text dump (binary content)"
    folder = tmp_path / "dumps"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl.bz2", [reddit(i) for i in range(3)], compress="bz2")
    (folder / "b.csv.xz").write_bytes(lzma.compress(b"id,text\nx1,from a csv\nx2,another\n"))
    assert ingest(runner, db, str(folder))["rows_new"] == 5

    piped = bz2.compress("\n".join(json.dumps(reddit(i)) for i in range(10, 14)).encode())
    assert ingest(runner, db, "-", input=piped)["rows_new"] == 4


def test_a_text_file_that_starts_like_bzip2_is_text(runner, db, tmp_path):
    dump = tmp_path / "notes.txt"
    dump.write_text("BZh9 is a bzip2 header\nsecond line\n")
    assert ingest(runner, db, str(dump))["rows_new"] == 2


def test_stdin_dash_reads_standard_input(runner, db):
    data = "\n".join(json.dumps(reddit(i)) for i in range(4)).encode()
    summary = ingest(runner, db, "-", input=gzip.compress(data))
    assert summary["rows_new"] == 4
    assert sql(db, "SELECT DISTINCT source FROM comments") == [("-",)]


def test_twitter_v1_uses_id_str_screen_name_first_hashtag_and_lang(runner, db, tmp_path):
    tweet = {"id": 1, "id_str": "1049035000000000001", "full_text": "Go #Packers #NFL", "lang": "en",
             "created_at": "Wed Oct 10 20:19:24 +0000 2018", "user": {"screen_name": "bob"},
             "entities": {"hashtags": [{"text": "Packers"}, {"text": "NFL"}]}, "favorite_count": 3}
    ingest(runner, db, str(write_jsonl(tmp_path / "t.jsonl", [tweet])))
    assert sql(db, "SELECT platform, id, author, topic, lang, score, created_at::VARCHAR FROM comments") == [
        ("twitter", "1049035000000000001", "bob", "packers", "en", 3, "2018-10-10 20:19:24+00")]
    assert sql(db, "SELECT topic FROM comment_topics ORDER BY topic") == [("nfl",), ("packers",)]


def test_twitter_v2_page_and_archive_tweets_js(runner, db, tmp_path):
    page = {"data": [{"id": "5", "text": "v2 tweet #AI", "created_at": "2026-10-01T10:00:00.000Z", "author_id": "9",
                      "entities": {"hashtags": [{"start": 9, "end": 12, "tag": "AI"}]}}], "meta": {"result_count": 1}}
    (tmp_path / "page.json").write_text(json.dumps(page))
    archive = [{"tweet": {"id_str": "6", "full_text": "from my archive", "created_at": "Wed Oct 10 20:19:24 +0000 2018"}}]
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(archive))
    summary = ingest(runner, db, str(tmp_path / "page.json"), str(tmp_path / "tweets.js"), "--preset", "twitter")
    assert summary["rows_new"] == 2
    assert sql(db, "SELECT id, topic FROM comments ORDER BY id") == [("5", "ai"), ("6", None)]


def test_youtube_topic_is_the_video_file_and_votes_parse(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "dQw4w9WgXcQ.jsonl", [
        {"cid": "Ug1", "text": "great video", "time": "2 days ago", "author": "@fan", "votes": "1.2K",
         "replies": "0", "reply": False, "time_parsed": 1759300000.0}])
    ingest(runner, db, str(dump))
    assert sql(db, "SELECT platform, id, topic, score FROM comments") == [("youtube", "Ug1", "dQw4w9WgXcQ", 1200)]


def test_generic_csv_with_field_overrides_and_ragged_row(runner, db, tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("cid,when,who,product,msg\n1,2026-10-01T10:00:00Z,ann,kettle,Boils fast\n2,2026-10-02,bo,kettle,Too loud,extra\n")
    summary = ingest(runner, db, str(csv), "--text-field", "msg", "--id-field", "cid", "--time-field", "when",
                     "--author-field", "who", "--topic-field", "product")
    assert (summary["rows_new"], summary["rows_rejected"]) == (1, 1)
    assert sql(db, "SELECT id, author, topic, text FROM comments") == [("1", "ann", "kettle", "Boils fast")]
    assert sql(db, "SELECT line_no, reason FROM rejects") == [(3, "CSV row has 6 fields, header has 5")]


def test_parquet_and_nested_dotted_fields(runner, db, tmp_path):
    frame = pl.DataFrame({"post": [{"body": "nested text", "meta": {"uid": "x1"}}, {"body": "more", "meta": {"uid": "x2"}}]})
    frame.write_parquet(tmp_path / "p.parquet")
    summary = ingest(runner, db, str(tmp_path / "p.parquet"), "--text-field", "post.body", "--id-field", "post.meta.uid")
    assert summary["rows_new"] == 2
    assert sql(db, "SELECT id, text FROM comments ORDER BY id") == [("x1", "nested text"), ("x2", "more")]


def test_folder_and_glob_inputs(runner, db, tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [reddit(1)])
    write_jsonl(folder / "b.jsonl", [reddit(2)])
    (folder / "notes.txt").write_text("not a dump")
    assert ingest(runner, db, str(folder))["rows_new"] == 2
    assert ingest(runner, db, str(folder / "*.jsonl"))["rows_duplicate"] == 2


def test_every_bad_line_is_rejected_with_reason_and_run_continues(runner, db, tmp_path):
    lines = [
        json.dumps(reddit(1)),
        '{"id": "c2", "body": "truncated',
        "[1, 2, 3]",
        json.dumps(reddit(3, body=None) | {"body": 42}),
        json.dumps({"id": "c4", "subreddit": "apple", "created_utc": 1759300000}),
        json.dumps(reddit(5, body="x" * 100_001)),
        json.dumps(reddit(6, t=32_503_680_000)),
        json.dumps(reddit(7) | {"id": {"nested": True}}),
        json.dumps(reddit(8, body="[deleted]")),
        json.dumps(reddit(9, body="has a \u0000 NUL")),
        json.dumps(reddit(10)),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "c11", "body": "caf\xe9"}\n')
    summary = ingest(runner, db, str(path))
    assert (summary["rows_read"], summary["rows_new"], summary["rows_skipped"]) == (12, 2, 1)
    reasons = dict(sql(db, "SELECT line_no, reason FROM rejects ORDER BY line_no"))
    assert reasons[2] == "malformed JSON"
    assert reasons[3] == "record is a JSON array, not an object"
    assert reasons[4].startswith("text field is")
    assert reasons[5] == "no text"
    assert reasons[6] == "text longer than 100000 characters"
    assert reasons[7].startswith("timestamp out of range")
    assert reasons[8].startswith("id field is object")
    assert reasons[10] == "text contains NUL characters"
    assert reasons[12].startswith("invalid UTF-8")
    assert sql(db, "SELECT raw FROM rejects WHERE line_no = 2") == [('{"id": "c2", "body": "truncated',)]
    assert sql(db, ACCOUNTING) == [(12, 12)]


def test_rerun_adds_nothing_and_overlap_adds_only_new(runner, db, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(10)])
    overlap = write_jsonl(tmp_path / "b.jsonl", [reddit(i) for i in range(5, 15)])
    assert ingest(runner, db, str(first))["rows_new"] == 10
    again = ingest(runner, db, str(first))
    assert (again["rows_new"], again["rows_duplicate"]) == (0, 10)
    more = ingest(runner, db, str(overlap))
    assert (more["rows_new"], more["rows_duplicate"]) == (5, 5)
    assert sql(db, "SELECT count(*), count(DISTINCT id) FROM comments") == [(15, 15)]
    for read, accounted in sql(db, ACCOUNTING):
        assert read == accounted


def test_rows_without_id_get_a_stable_id(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "g.jsonl", [{"text": "no id here"}, {"text": "nor here"}])
    assert ingest(runner, db, str(dump))["rows_new"] == 2
    assert ingest(runner, db, str(dump))["rows_duplicate"] == 2


def test_same_id_twice_in_one_file_counts_once(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "d.jsonl", [reddit(1), reddit(1)])
    summary = ingest(runner, db, str(dump))
    assert (summary["rows_new"], summary["rows_duplicate"]) == (1, 1)


def test_missing_file_is_a_fatal_error_with_one_line(runner, db):
    result = runner.invoke(app, ["ingest", "/nonexistent/x.jsonl", "--db", str(db), "--tasks", "none"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["opinions: error: /nonexistent/x.jsonl: no such file or folder"]


def test_unknown_preset_is_a_fatal_error(runner, db, tmp_path):
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(1)])
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--preset", "myspace"])
    assert result.exit_code == 1
    assert "unknown preset 'myspace'" in result.stderr
    assert "Traceback" not in result.output


def test_binary_file_is_reported_and_exit_is_nonzero_when_nothing_ingested(runner, db, tmp_path):
    blob = tmp_path / "blob.jsonl"
    blob.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(app, ["ingest", str(blob), "--db", str(db), "--tasks", "none", "--json"])
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["rows_read"] == summary["rows_rejected"]


def test_depth_zero_prefetch_makes_the_next_chunk_only_while_this_one_is_worked_on():
    """The local engine maps one chunk while it lands the previous one: never a third in memory."""
    import time

    from analyzer.ingest.local import _prefetched

    made = []

    def chunks():
        for i in range(6):
            made.append(i)
            yield i

    taken = []
    for chunk in _prefetched(chunks(), depth=0):
        time.sleep(0.05)  # landing `chunk`: meanwhile the next one is made, and no more
        assert len(made) <= chunk + 2
        taken.append(chunk)
    assert taken == list(range(6))


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--text-field", "*", "wildcards"),
    ("--text-field", "..", "empty name between dots"),
    ("--id-field", "user..id", "empty name between dots"),
    ("--topic-field", "a.*", "wildcards"),
    ("--time-format", "%Q", "not a strptime format"),
    ("--time-format", "%Y-%m-%d %", "not a strptime format"),
    ("--time-format", "yesterday", "no % directive"),
])
def test_unusable_field_and_time_format_flags_are_usage_errors_before_any_run(runner, db, tmp_path, flag, value, says):
    # `--text-field '*'` stored every record's id as its text; `..` and `%Q` recorded failed runs with raw DuckDB errors
    dump = write_jsonl(tmp_path / "d.jsonl", [reddit(1)])
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", flag, value])
    assert result.exit_code == 2, result.output
    assert flag in result.stderr and says in result.stderr
    assert not db.exists()  # no run recorded, nothing opened


def test_python_callers_get_the_same_flag_checks_before_a_run(tmp_path):
    from analyzer.ingest import IngestOptions, ingest
    from analyzer.ingest.options import IngestError
    from analyzer.store.database import Store

    dump = write_jsonl(tmp_path / "d.jsonl", [reddit(1)])
    for options, flag in ((IngestOptions(text_field="*"), "--text-field"), (IngestOptions(time_format="%Q"), "--time-format")):
        with pytest.raises(IngestError, match=flag):
            ingest(Store(tmp_path / "o.duckdb"), [str(dump)], options)
    assert not (tmp_path / "o.duckdb").exists()


@pytest.mark.parametrize(("given", "texts"), [
    (b"a\nb\n", ["a", "b"]),  # was a CSV whose header "a" was eaten: one row
    (b"I loved it, honestly\nmeh\nworst, ever, seriously\nok\n", ["I loved it, honestly", "meh",
                                                                   "worst, ever, seriously", "ok"]),
])
def test_plain_lines_on_stdin_are_one_comment_a_line(runner, db, given, texts):
    summary = ingest(runner, db, "-", input=given)
    assert summary["rows_new"] == len(texts) and summary["rows_read"] == len(texts)
    assert sorted(t for (t,) in sql(db, "SELECT text FROM comments")) == sorted(texts)


@pytest.mark.parametrize(("given", "args", "texts"), [
    (b'id,text\n1,"hello, there"\n2,bye\n', (), ["bye", "hello, there"]),
    (b"id;text;author\nr1;fine;ana\nr2;slow;bo\n", (), ["fine", "slow"]),
    (b"text\nfirst\nsecond\n", (), ["first", "second"]),  # one column, named as a text column
    (b"msg\nfirst\nsecond\n", ("--delimiter", ",", "--text-field", "msg"), ["first", "second"]),
    (b'{"id": "1", "text": "json line"}\n{"id": "2", "text": "another"}\n', (), ["another", "json line"]),
])
def test_tables_and_json_lines_on_stdin_are_still_read_as_such(runner, db, given, args, texts):
    ingest(runner, db, "-", *args, input=given)
    assert sorted(t for (t,) in sql(db, "SELECT text FROM comments")) == texts


def test_topics_per_comment_are_capped_and_the_cut_is_said(runner, db, tmp_path):
    # 300 tweets of 10,000 hashtags each made 3 million topic rows; a comment keeps its first 20 topics
    def tweet(i: int, tags: int) -> dict:
        return {"id_str": str(100 + i), "full_text": f"tweet {i}", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                "user": {"screen_name": "bob"}, "entities": {"hashtags": [{"text": f"Tag{n}"} for n in range(tags)]}}

    summary = ingest(runner, db, str(write_jsonl(tmp_path / "t.jsonl", [tweet(1, 5000), tweet(2, 20), tweet(3, 3)])))
    counts = dict(sql(db, "SELECT id, count(*) FROM comment_topics GROUP BY id"))
    assert counts == {"101": 20, "102": 20, "103": 3}
    assert sql(db, "SELECT topic FROM comment_topics WHERE id = '101' ORDER BY topic") == sorted(
        [(f"tag{n}",) for n in range(20)])
    assert summary["notes"] == ["1 comment(s) had more than 20 topics (their own and hashtags): the first 20 of each "
                                "were kept"]
    assert "topics_capped" not in summary  # the summary's keys stay as documented


def test_lone_cr_line_ends_are_line_ends_in_json_lines_and_text(runner, db, tmp_path):
    # old Mac exports: 3 records were 1 reject (JSON lines) and 3 comments were one (.txt)
    records = [json.dumps(reddit(1)), "{not json", json.dumps(reddit(3))]
    (tmp_path / "mac.jsonl").write_bytes("\r".join(records).encode() + b"\r")
    (tmp_path / "mac.txt").write_bytes(b"first comment\rsecond comment\rthird comment\r")
    (tmp_path / "mac.jsonl.gz").write_bytes(gzip.compress("\r".join(
        json.dumps(reddit(i)) for i in range(10, 13)).encode()))
    summary = ingest(runner, db, str(tmp_path / "mac.jsonl"), str(tmp_path / "mac.txt"), str(tmp_path / "mac.jsonl.gz"))
    assert (summary["rows_read"], summary["rows_new"], summary["rows_rejected"]) == (9, 8, 1)
    assert sql(db, "SELECT line_no, reason FROM rejects") == [(2, "malformed JSON")]
    assert sorted(t for (t,) in sql(db, "SELECT text FROM comments WHERE source LIKE '%mac.txt'")) == [
        "first comment", "second comment", "third comment"]


def test_a_first_line_starting_with_a_bracket_is_json_only_if_it_parses(runner, db, tmp_path):
    # "[deleted] lol" made the whole .txt one reject, as a JSON document; so did a CSV header "[id],text"
    (tmp_path / "notes.txt").write_text("[deleted] lol\nstill here\n")
    (tmp_path / "table.csv").write_text("[id],text\nr1,from the csv\nr2,and more\n")
    (tmp_path / "array.csv").write_text(json.dumps([reddit(7)]))  # a real JSON array stays JSON, whatever its name
    summary = ingest(runner, db, str(tmp_path / "notes.txt"), str(tmp_path / "table.csv"), str(tmp_path / "array.csv"))
    assert (summary["rows_new"], summary["rows_rejected"]) == (5, 0)
    assert sorted(t for (t,) in sql(db, "SELECT text FROM comments")) == sorted(
        ["[deleted] lol", "still here", "from the csv", "and more", reddit(7)["body"]])
    assert ingest(runner, db, "-", input=b"[removed] by a mod\nok then\n")["rows_new"] == 2  # stdin: plain lines
