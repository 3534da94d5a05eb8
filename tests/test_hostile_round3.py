"""Hostile input, round 3 (issue 35): encodings, JSON escapes and duplicate keys, unreadable
folders, files that shrink while read. Each test failed on the code before its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analyzer.ingest import IngestOptions, ingest
from analyzer.store.database import Store
from tests.helpers import sql


def run(db: Path, *paths: Path | str, **options):
    return ingest(Store(db, wait_seconds=5), [str(p) for p in paths], IngestOptions(**options))


def accounted(summary) -> bool:
    return summary.rows_read == summary.rows_new + summary.rows_duplicate + summary.rows_rejected + summary.rows_skipped


WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]  # "utf-16"/"utf-32": with a BOM


@pytest.mark.parametrize("encoding", WIDE)
@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "txt"])
def test_utf16_and_utf32_files_are_decoded_with_or_without_a_bom(tmp_path, db, encoding, kind):
    rows = [{"id": "w1", "text": "caf\u00e9 \u00fcber alles"}, {"id": "w2", "text": "emoji \U0001F600 ok"}]
    if kind == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows)
    elif kind == "json":
        body = json.dumps(rows, ensure_ascii=False, indent=2)
    elif kind == "csv":
        body = "id,text\r\n" + "".join(f"{r['id']},{r['text']}\r\n" for r in rows)
    else:
        body = "".join(r["text"] + "\r\n" for r in rows)
    path = tmp_path / f"wide.{kind}"
    path.write_bytes(body.encode(encoding))
    summary = run(db, path)
    assert not summary.failed_sources and accounted(summary)
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (2, 2, 0)
    assert sorted(r[0] for r in sql(db, "SELECT text FROM comments")) == sorted(r["text"] for r in rows)


def test_a_file_that_is_not_valid_utf16_fails_naming_the_encoding(tmp_path, db):
    good = "".join(json.dumps({"id": f"g{i}", "text": f"fine {i}"}) + "\n" for i in range(3)).encode("utf-16-le")
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"\xff\xfe" + good + b"\x00\xd8{\x00")  # a lone high surrogate
    summary = run(db, path)
    reason = summary.failed_sources[str(path)]
    assert "UTF-16" in reason and accounted(summary)
    assert summary.rows_new == 3


def test_escapes_in_json_documents_read_as_in_json_lines(tmp_path, db):
    # `\\ud800` is an escaped backslash and 5 letters (was stored as `\uffff`); a real `\uffff` is kept
    # (was refused as a lone surrogate); a lone `\ud800` is refused in both
    texts = ['{"id": "%s1", "text": "path C:\\\\ud800 here"}', '{"id": "%s2", "text": "odd \\uffff char"}',
             '{"id": "%s3", "text": "lone \\ud800 here"}', '{"id": "%s4", "text": "pair \\ud83d\\ude00 ok"}',
             '{"id": "%s5", "text": "three \\\\\\ud800 slashes"}']
    document = tmp_path / "d.json"
    document.write_text("[" + ", ".join(t % "d" for t in texts) + "]")
    lines = tmp_path / "l.jsonl"
    lines.write_text("\n".join(t % "l" for t in texts) + "\n")
    summary = run(db, document, lines)
    assert accounted(summary) and (summary.rows_new, summary.rows_rejected) == (6, 4)
    stored = dict(sql(db, "SELECT id, text FROM comments"))
    for prefix in "dl":
        assert stored[f"{prefix}1"] == "path C:\\ud800 here"
        assert stored[f"{prefix}2"] == "odd \uffff char"
        assert stored[f"{prefix}4"] == "pair \U0001F600 ok"
        assert f"{prefix}3" not in stored and f"{prefix}5" not in stored


def test_a_file_that_shrinks_while_it_is_read_is_a_failed_source(tmp_path):
    # truncated mid-read, it ended `completed` with one malformed-JSON reject (issue 35, point 24)
    from analyzer.sources.reader import ReadLimits, Source, SourceError, read_batches

    path = tmp_path / "shrinking.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": f"comment {i} " * 8}) + "\n" for i in range(60_000)))
    size = path.stat().st_size
    batches = read_batches(Source(str(path), path), batch_rows=1000, limits=ReadLimits(read_bytes=65_536))
    first = next(batches)
    os.truncate(path, size // 2 + 7)  # mid-line
    rows = first.rows_read
    with pytest.raises(SourceError, match="shrank") as failed:
        for batch in batches:
            rows += batch.rows_read
    assert f"{size:,}" in str(failed.value) and 1000 <= rows < 60_000


def test_a_file_read_whole_is_not_taken_for_one_that_shrank(tmp_path):
    from analyzer.sources.reader import Source, read_batches

    path = tmp_path / "whole.json"
    path.write_text(json.dumps([{"id": "1", "text": "one"}]) + " " * 3_000_000)  # trailing space the parser need not read
    assert sum(b.rows_read for b in read_batches(Source(str(path), path))) == 1


def test_an_unreadable_sub_folder_is_a_failed_source_as_an_unreadable_file_is(tmp_path, db, monkeypatch):
    # it was skipped silently (pathlib's rglob swallows the PermissionError) (issue 35, point 23)
    folder = tmp_path / "dumps"
    locked = folder / "locked"
    locked.mkdir(parents=True)
    (folder / "good.jsonl").write_text(json.dumps({"id": "1", "text": "readable"}) + "\n")
    (locked / "hidden.jsonl").write_text(json.dumps({"id": "2", "text": "unread"}) + "\n")
    if os.geteuid() == 0:
        # root reads a mode-000 folder: the kernel's refusal is simulated where os.walk lists folders
        print("running as root, which reads mode-000 folders: os.scandir is made to refuse the folder instead")
        real_scandir = os.scandir

        def refusing(path="."):
            if os.fspath(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(locked))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", refusing)
    else:
        locked.chmod(0)
    try:
        summary = run(db, folder)
    finally:
        locked.chmod(0o755)
    assert summary.rows_new == 1 and accounted(summary)
    assert summary.failed_sources.get(str(locked), "").startswith("permission denied"), summary.failed_sources


def test_a_second_signal_still_prints_the_runs_json_line(tmp_path, db, monkeypatch):
    # the second Ctrl-C stops at once: with --json the cron log got no line for the run (issue 35, point 29)
    from typer.testing import CliRunner

    import analyzer.ingest.run as ingest_run
    from analyzer.cli import app
    from tests.helpers import reddit, write_jsonl

    def second_signal(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_run, "_run_engine", second_signal)
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(db),
                                      "--tasks", "none", "--json"])
    assert result.exit_code == 130, result.output
    [line] = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["status"] == "interrupted" and line["run_id"] == 1
    assert "interrupted" in result.stderr
    assert sql(db, "SELECT status, error FROM runs") == [("interrupted", "interrupted by a second signal")]


def test_a_hangup_stops_a_run_as_sigterm_does():
    # SIGHUP (the terminal or ssh session went away) killed the run, left `running` until the next ingest
    import signal

    from analyzer.ingest.progress import GracefulStop

    with GracefulStop() as stop:
        assert signal.getsignal(signal.SIGHUP) == stop._handle


def _slow(*args, **kwargs):
    import time

    end = time.monotonic() + 20
    while time.monotonic() < end:  # a model at work: Python between short native calls
        time.sleep(0.01)
    raise AssertionError("not stopped by --timeout")


@pytest.mark.parametrize("command", [["summarize", "--all"], ["topics", "discover"]])
def test_summarize_and_topics_discover_stop_at_their_timeout(tmp_path, db, monkeypatch, command):
    # they hold the database for writing while their model runs, with no bound: an ingest waiting for
    # them gave up after 10 minutes (issue 35, point 30)
    import time

    from typer.testing import CliRunner

    import analyzer.topics.discovery as discovery
    import analyzer.topics.summaries as summaries
    from analyzer.cli import app
    from tests.helpers import reddit, write_jsonl

    run(db, write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(5)]))
    monkeypatch.setattr(summaries, "summarise_topics", _slow)
    monkeypatch.setattr(discovery, "discover_topics", _slow)
    started = time.monotonic()
    result = CliRunner().invoke(app, [*command, "--db", str(db), "--timeout", "0.5"])
    assert result.exit_code == 1, result.output
    assert "--timeout 0.5s" in result.stderr and time.monotonic() - started < 15
