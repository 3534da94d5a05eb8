"""Reports read the database read-only and agree with SQL computed independently here."""

from __future__ import annotations

import json
import sys

import pytest

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl

TEXTS = ["I love this", "this is awful", "it is a phone", "great stuff from Apple", "terrible battery",
         "meh", "Samsung is fine", "best purchase", "broken again", "ok I guess"]


@pytest.fixture()
def filled_db(runner, db, tmp_path, tiny_env):
    records = [reddit(i, body=TEXTS[i % len(TEXTS)] + f" #{i % 3}", sub=["apple", "android"][i % 2],
                      t=1_759_300_000 + (i % 4) * 86_400) for i in range(40)]
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db),
                                 "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def report(runner, db, *args):
    result = runner.invoke(app, ["report", *args, "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_topic_list_matches_independent_sql(runner, filled_db):
    rows = report(runner, filled_db, "topic")
    expected = sql(filled_db, """
        SELECT c.topic, count(*),
               avg(CASE WHEN s.label = 'positive' THEN 1.0 ELSE 0 END),
               avg(CASE WHEN s.label = 'negative' THEN 1.0 ELSE 0 END),
               avg(CASE s.label WHEN 'positive' THEN 1.0 WHEN 'negative' THEN -1.0 ELSE 0 END)
        FROM comments c JOIN sentiment s USING (text_hash)
        GROUP BY c.topic""")
    by_topic = {r["topic"]: r for r in rows}
    for topic, n, pos, neg, net in expected:
        got = by_topic[topic]
        assert got["comments"] == n
        assert got["positive"] == pytest.approx(pos)
        assert got["negative"] == pytest.approx(neg)
        assert got["net_sentiment"] == pytest.approx(net)
        assert got["positive"] + got["neutral"] + got["negative"] == pytest.approx(1.0)


def test_since_until_filter_by_created_at(runner, filled_db):
    rows = report(runner, filled_db, "topic", "--since", "2025-10-02", "--until", "2025-10-03")
    expected = dict(sql(filled_db, """
        SELECT topic, count(*) FROM comments
        WHERE created_at >= TIMESTAMPTZ '2025-10-02 00:00:00+00' AND created_at < TIMESTAMPTZ '2025-10-03 00:00:00+00'
        GROUP BY topic"""))
    assert {r["topic"]: r["comments"] for r in rows} == expected


def test_topic_detail_has_sections_and_daily_trend(runner, filled_db):
    detail = report(runner, filled_db, "topic", "apple")
    assert set(detail) == {"trend", "entities", "most_positive", "most_negative", "summary"}
    expected = sql(filled_db, "SELECT created_at::DATE::VARCHAR, count(*) FROM comments WHERE topic = 'apple' GROUP BY 1 ORDER BY 1")
    assert [(r["period"], r["comments"]) for r in detail["trend"]] == expected
    assert all(r["confidence"] is not None for r in detail["most_positive"])


def test_formats_render(runner, filled_db):
    for fmt in ("table", "csv", "markdown"):
        result = runner.invoke(app, ["report", "topic", "--db", str(filled_db), "--format", fmt])
        assert result.exit_code == 0 and "apple" in result.stdout


def test_unknown_topic_and_bad_date_are_clear_errors(runner, filled_db):
    result = runner.invoke(app, ["report", "topic", "nope", "--db", str(filled_db)])
    assert result.exit_code == 1 and "no topic named 'nope'" in result.stderr
    result = runner.invoke(app, ["report", "topic", "--since", "yesterday-ish", "--db", str(filled_db)])
    assert result.exit_code == 1 and "is not a date" in result.stderr


def test_injection_in_topic_name_is_just_a_name(runner, filled_db):
    hostile = "apple'; DROP TABLE comments; --"
    result = runner.invoke(app, ["report", "topic", hostile, "--db", str(filled_db)])
    assert result.exit_code == 1 and "no topic named" in result.stderr
    assert sql(filled_db, "SELECT count(*) FROM comments") == [(40,)]


def test_query_is_read_only(runner, filled_db):
    result = runner.invoke(app, ["query", "DELETE FROM comments", "--db", str(filled_db)])
    assert result.exit_code == 1 and "read-only" in result.stderr.lower()
    assert sql(filled_db, "SELECT count(*) FROM comments") == [(40,)]
    ok = runner.invoke(app, ["query", "SELECT count(*) AS n FROM comments", "--db", str(filled_db), "--format", "json"])
    assert json.loads(ok.stdout) == [{"n": 40}]


def test_reports_never_import_torch(filled_db):
    import subprocess

    code = ("import sys; from analyzer.cli import app; "
            f"app(['report', 'topic', '--db', r'{filled_db}', '--format', 'json'], standalone_mode=False); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_missing_database_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(app, ["report", "topic", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and "no database at" in result.stderr


# the CLI in-process, then its peak RSS (VmHWM) on stderr: ru_maxrss would carry over the test process's own peak
CLI_WITH_PEAK = """
import atexit, re, sys
from pathlib import Path
atexit.register(lambda: print("peak_kib", re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1),
                              file=sys.stderr))
sys.argv = ["opinions", *sys.argv[1:]]
from analyzer.cli import main
main()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read from /proc/self/status")
def test_query_csv_streams_a_million_rows_in_bounded_memory(tmp_path):
    import re
    import subprocess

    from analyzer.ingest import IngestOptions, ingest
    from analyzer.store.database import Store

    db = tmp_path / "q.duckdb"
    ingest(Store(db), [str(write_jsonl(tmp_path / "one.jsonl", [reddit(1)]))], IngestOptions())
    sql_text = "SELECT i, 'comment number ' || i AS text, i / 7 AS share FROM range(1000000) t(i)"
    out = tmp_path / "out.csv"
    with out.open("w") as stdout:
        done = subprocess.run([sys.executable, "-c", CLI_WITH_PEAK, "query", sql_text, "--db", str(db), "--format", "csv"],
                              stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak_mib = int(re.search(r"peak_kib (\d+)", done.stderr).group(1)) // 1024
    with out.open() as written:
        header, first = next(written), next(written)
        rows = 1 + sum(1 for _ in written)
    assert (header, first, rows) == ("i,text,share\n", "0,comment number 0,0.0\n", 1_000_000)
    print(f"peak RSS of query --format csv over 1M rows: {peak_mib} MiB")
    assert peak_mib < 300  # measured 118 MiB streamed; 464 MiB when the whole answer was fetched
