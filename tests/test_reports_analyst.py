"""Analyst reports: entities, trend, alerts, rejects, and the HTML page in a real browser.

Sentiment comes from the tiny STAND-IN model (random labels), so numbers are checked
against SQL computed here on the same tables, not against expectations about meaning.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl

DAY = 86_400
START = 1_759_276_800  # 2025-10-01 00:00 UTC
ARTIFACTS = Path(os.environ.get("OPINIONS_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


@pytest.fixture(scope="module")
def storm_db(tmp_path_factory, tiny_models):
    """15 days: 'calm' has 10 comments a day; 'storm' has 10 a day, then 120 on the last day."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("storm")
    records, i = [], 0
    for day in range(15):
        for topic, count in (("calm", 10), ("storm", 120 if day == 14 else 10)):
            for k in range(count):
                body = f"{topic} update from Apple in Berlin number {k % 7} #{topic}"
                records.append(reddit(i, body=body, sub=topic, t=START + day * DAY + k * 60 - i * 60))
                i += 1
    records.append("{not json")
    db = folder / "storm.duckdb"
    env = {"OPINIONS_SENTIMENT_MODEL": str(tiny_models["sentiment"]), "OPINIONS_NER_MODEL": str(tiny_models["ner"])}
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(folder / "s.jsonl", records)), "--db", str(db),
                                      "--device", "cpu", "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    return db


def as_json(runner, db, *args):
    result = runner.invoke(app, ["report", *args, "--db", str(db), "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


def test_alerts_flag_the_storm_and_not_the_calm(runner, storm_db):
    alerts = as_json(runner, storm_db, "alerts")["alerts"]
    topics = {a["name"]: a for a in alerts if a["kind"] == "topic"}
    assert "storm" in topics and "calm" not in topics
    assert topics["storm"]["volume"] == 120 and topics["storm"]["usual_volume"] == 10
    assert "volume 120 vs usual 10" in topics["storm"]["reasons"]


def test_fail_on_alert_exits_3_for_cron(runner, storm_db):
    result = runner.invoke(app, ["report", "alerts", "--db", str(storm_db), "--fail-on-alert"])
    assert result.exit_code == 3
    quiet = runner.invoke(app, ["report", "alerts", "--db", str(storm_db), "--fail-on-alert", "--min-volume", "1000"])
    assert quiet.exit_code == 0


def test_entities_match_independent_sql(runner, storm_db):
    rows = as_json(runner, storm_db, "entities", "--label", "HASHTAG")
    expected = dict(sql(storm_db, """
        SELECT lower(e.text), count(DISTINCT (c.platform, c.id)) FROM entities e JOIN comments c USING (text_hash)
        WHERE e.label = 'HASHTAG' GROUP BY 1"""))
    assert {r["entity"]: r["mentions"] for r in rows} == expected
    assert all(r["label"] == "HASHTAG" for r in rows)
    storm = next(r for r in rows if r["entity"] == "#storm")
    assert storm["topics"] == "storm"


def test_trend_per_topic_matches_independent_sql(runner, storm_db):
    rows = as_json(runner, storm_db, "trend", "storm", "--by", "week")
    expected = sql(storm_db, """SELECT date_trunc('week', created_at)::DATE::VARCHAR, count(*) FROM comments
                                 WHERE topic = 'storm' GROUP BY 1 ORDER BY 1""")
    assert [(r["period"], r["comments"]) for r in rows] == expected


def test_rejects_report_lists_reason_and_line(runner, storm_db):
    report = as_json(runner, storm_db, "rejects")
    assert report["reasons"] == [{"reason": "malformed JSON", "rows": 1}]
    assert report["rejects"][0]["line_no"] == 14 * 20 + 130 + 1  # the last line of the dump


@pytest.mark.parametrize("args", [
    ["entities", "--label", "PER' OR '1'='1"],
    ["entities", "--topic", "x'); DROP TABLE comments; --"],
    ["trend", "storm'; DELETE FROM comments; --"],
    ["topic", "--since", "2025-10-01'; DROP TABLE runs; --"],
])
def test_hostile_parameters_have_no_effect(runner, storm_db, args):
    before = sql(storm_db, "SELECT count(*) FROM comments")
    result = runner.invoke(app, ["report", *args, "--db", str(storm_db), "--format", "json"])
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert json.loads(result.stdout) == []
    assert sql(storm_db, "SELECT count(*) FROM comments") == before


def test_html_report_renders_in_headless_chromium(runner, storm_db, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    result = runner.invoke(app, ["report", "topic", "storm", "--db", str(storm_db), "--format", "html"])
    assert result.exit_code == 0
    page = tmp_path / "storm.html"
    page.write_text(result.stdout)
    assert "<svg" in result.stdout and "http" not in result.stdout.split("<body>")[0]  # no CDN in the head
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-topic-storm.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    done = subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    console_errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert console_errors == []
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert "storm: volume and sentiment by day" in dom.stdout and dom.stdout.count("<tr>") > 10


def test_an_entity_the_model_types_differently_is_one_row_under_its_usual_type(runner, storm_db, tmp_path):
    import duckdb

    db = tmp_path / "retyped.duckdb"
    shutil.copy(storm_db, db)
    with duckdb.connect(str(db)) as con:  # the model called some mentions of two words something else
        for word, other in con.execute("""
                SELECT lower(text), CASE WHEN min(label) = 'PRODUCT' THEN 'WORK' ELSE 'PRODUCT' END FROM entities
                WHERE label NOT IN ('HASHTAG', 'MENTION', 'CASHTAG') GROUP BY 1 ORDER BY count(*) DESC LIMIT 2""").fetchall():
            con.execute("""UPDATE entities SET label = $other WHERE lower(text) = $word AND text_hash IN (
                               SELECT text_hash FROM entities WHERE lower(text) = $word ORDER BY text_hash LIMIT 5)""",
                        {"word": word, "other": other})
    storm_db = db
    found = sql(storm_db, """
        SELECT lower(e.text), e.label, count(*) FROM entities e
        WHERE e.model = (SELECT value FROM meta WHERE key = 'model.ner') GROUP BY ALL""")
    counts: dict[str, dict[str, int]] = {}
    for entity, label, n in found:
        counts.setdefault(entity, {})[label] = n
    assert any(len(labels) > 1 for labels in counts.values())
    usual = {entity: min(labels, key=lambda label: (-labels[label], label)) for entity, labels in counts.items()}
    comments = dict(sql(storm_db, """
        SELECT lower(e.text), count(DISTINCT (c.platform, c.id)) FROM entities e JOIN comments c USING (text_hash)
        WHERE e.model = (SELECT value FROM meta WHERE key = 'model.ner') GROUP BY 1"""))
    rows = as_json(runner, storm_db, "entities", "--limit", "100000")
    assert {r["entity"]: (r["label"], r["mentions"]) for r in rows} == {e: (usual[e], comments[e]) for e in usual}
    # --label filters on the usual type
    orgs = {r["entity"] for r in as_json(runner, storm_db, "entities", "--label", "org", "--limit", "100000")}
    assert orgs == {e for e, label in usual.items() if label == "ORG"}
