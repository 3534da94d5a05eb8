"""`opinions summarize`: extractive summaries of topics, stored in `summaries`, shown by reports."""

from __future__ import annotations

import json

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl

BATTERY = [
    "The battery lasts two full days on the new phone.",
    "Battery life is the best I have had on any phone.",
    "Honestly the battery is great, two days easily.",
    "The camera struggles in low light though.",
    "Low light photos are noisy, the camera needs work.",
]


def test_summarize_topic_stores_and_prints_json(runner, db, tmp_path, tiny_env):
    records = [reddit(i, body=BATTERY[i % len(BATTERY)]) for i in range(10)]
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["summarize", "apple", "--db", str(db), "--format", "json", "--max-words", "25"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["topic"] == "apple" and row["n_comments"] == 10
    assert 0 < len(row["summary"].split()) <= 25
    assert any(sentence.rstrip(".") in row["summary"] for sentence in BATTERY)
    assert sql(db, "SELECT topic, method, n_comments FROM summaries") == [("apple", "extractive", 10)]
    detail = json.loads(runner.invoke(app, ["report", "topic", "apple", "--db", str(db), "--format", "json"]).stdout)
    assert detail["summary"][0]["summary"] == row["summary"]


def test_summarize_needs_a_topic_or_all(runner, db, tmp_path):
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["summarize", "--db", str(db)])
    assert result.exit_code == 1 and "give one TOPIC or --all" in result.stderr
    result = runner.invoke(app, ["summarize", "nosuchtopic", "--db", str(db)])
    assert result.exit_code == 1 and "no comments for topic" in result.stderr


def test_summaries_read_text_without_markup_or_urls(monkeypatch):
    import analyzer.summarize
    from analyzer.models import resolve
    from analyzer.topic_summaries import Summarizer

    seen: list[list[str]] = []
    monkeypatch.setattr(analyzer.summarize, "extractive_summary", lambda comments, **kw: seen.append(comments) or "ok")
    summarizer = Summarizer(resolve("summary", None, {}, None), device="cpu")
    summarizer(["<p>Great &amp; fast</p>", "see https://x.example/y", "[removed]"])
    assert seen == [["Great & fast", "see"]]
