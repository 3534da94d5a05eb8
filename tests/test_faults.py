"""Cron-safety: real processes killed, stopped, run twice at once, read while writing.

Each test injects the fault for real (a subprocess, a signal, a second process) and then
checks the invariants against the input: every comment exactly once, accounting exact,
runs marked, no orphaned or doubled analysis rows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analyzer.store.database import ask_for_window
from tests.helpers import sql

CLI = [sys.executable, "-m", "analyzer.cli"]


def make_dump(path: Path, rows: int, distinct_texts: int | None = None) -> Path:
    distinct_texts = distinct_texts or rows
    with path.open("w") as fh:
        for i in range(rows):
            fh.write(json.dumps({"id": f"r{i}", "body": f"comment {i % distinct_texts} says the phone is fine",
                                 "subreddit": f"s{i % 5}", "created_utc": 1_759_300_000 + i, "score": i % 9}) + "\n")
    return path


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def start_fed(db: Path, dump: Path, first_rows: int = 250_000) -> tuple[subprocess.Popen, str]:
    """An ingest of `dump` through stdin, given its first rows only: it lands them and then waits,
    mid-run, for the rest (returned) until the test writes it and closes stdin."""
    lines = dump.read_text().splitlines(keepends=True)
    proc = subprocess.Popen([*CLI, "ingest", "-", "--db", str(db), "--tasks", "none", "--quiet"], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc.stdin.write("".join(lines[:first_rows]))
    proc.stdin.flush()
    return proc, "".join(lines[first_rows:])


def wait_for_rows(db: Path, minimum: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until some chunk is committed (reading between the writer's chunks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the ingest finished before the fault could be injected"
        try:
            rows = sql(db, "SELECT coalesce(sum(rows_read), 0) FROM runs")[0][0]
            if rows >= minimum:
                return
        except Exception:  # locked or not created yet: the writer is busy
            ask_for_window(db)  # as opinions' own readers do: the writer lets go after its chunk
        time.sleep(0.01)  # the writer frees the file for ~30 ms then
    raise AssertionError("no chunk was committed in time")


def wait_for_results(db: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until the run has committed some sentiment results (it is then analysing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sql(db, "SELECT count(*) FROM sentiment")[0][0] > 0:
                return
        except Exception:
            pass  # the file is being written or not there yet
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)


def assert_accounting(db: Path) -> None:
    for run_id, read, accounted in sql(db, """SELECT run_id, rows_read,
            rows_new + rows_duplicate + rows_rejected + rows_skipped FROM runs"""):
        assert read == accounted, f"run {run_id}: {read} read, {accounted} accounted"


@pytest.fixture(scope="module")
def big_dump(tmp_path_factory) -> Path:
    return make_dump(tmp_path_factory.mktemp("dumps") / "big.jsonl", 400_000)


def test_kill_9_mid_ingest_then_rerun_holds_every_comment_once(tmp_path, big_dump):
    db = tmp_path / "k.duckdb"
    args = ["ingest", str(big_dump), "--db", str(db), "--tasks", "none", "--quiet"]
    proc = start(args)
    wait_for_rows(db, 50_000, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run([*CLI, *args, "--json"], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert sql(db, "SELECT count(*), count(DISTINCT id) FROM comments") == [(400_000, 400_000)]
    runs = sql(db, "SELECT status, rows_new FROM runs ORDER BY run_id")
    assert [r[0] for r in runs] == ["interrupted", "completed"]
    assert sum(r[1] for r in runs) == 400_000
    assert_accounting(db)


def test_kill_9_during_analysis_leaves_no_orphan_or_double(tmp_path, tiny_models):
    dump = make_dump(tmp_path / "a.jsonl", 30_000, distinct_texts=12_000)
    db = tmp_path / "a.duckdb"
    env = {"OPINIONS_SENTIMENT_MODEL": str(tiny_models["sentiment"]), "OPINIONS_NER_MODEL": str(tiny_models["ner"])}
    args = ["ingest", str(dump), "--db", str(db), "--tasks", "sentiment", "--device", "cpu", "--quiet"]
    proc = start(args, env)
    wait_for_results(db, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    assert sql(db, "SELECT count(*) FROM comments") == [(30_000,)]
    # every distinct text analysed exactly once, and no result without its comment
    assert sql(db, "SELECT count(*), count(DISTINCT text_hash) FROM sentiment") == [(12_000, 12_000)]
    assert sql(db, "SELECT count(*) FROM analyses WHERE task = 'sentiment'") == [(12_000,)]
    assert sql(db, "SELECT count(*) FROM sentiment s ANTI JOIN comments c USING (text_hash)") == [(0,)]
    assert sql(db, "SELECT count(*) FROM comments c ANTI JOIN sentiment s USING (text_hash)") == [(0,)]
    assert_accounting(db)


def test_sigterm_finishes_the_chunk_marks_interrupted_and_exits_nonzero(tmp_path, big_dump):
    db = tmp_path / "t.duckdb"
    proc = start(["ingest", str(big_dump), "--db", str(db), "--tasks", "none", "--quiet"])
    wait_for_rows(db, 50_000, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [line for line in stderr.splitlines() if line.startswith("opinions: error:")]
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in stderr
    [(status, rows_new, error)] = sql(db, "SELECT status, rows_new, error FROM runs")
    assert status == "interrupted" and error == "stopped by SIGTERM"
    assert sql(db, "SELECT count(*) FROM comments") == [(rows_new,)]
    assert_accounting(db)


def test_second_ingest_waits_or_names_the_holder(tmp_path, big_dump):
    db = tmp_path / "c.duckdb"
    small = make_dump(tmp_path / "small.jsonl", 100)
    # the first ingest stays mid-run (lock held) for as long as the test keeps its stdin open
    first, rest = start_fed(db, big_dump)
    wait_for_rows(db, 1, first)
    refused = subprocess.run([*CLI, "ingest", str(small), "--db", str(db), "--tasks", "none", "--wait", "1"],
                             capture_output=True, text=True)
    assert refused.returncode == 1
    assert f"pid {first.pid}" in refused.stderr and "run_id 1" in refused.stderr
    waiting = start(["ingest", str(small), "--db", str(db), "--tasks", "none", "--wait", "120", "--json"])
    first.stdin.write(rest)
    first.stdin.close()
    stdout, stderr = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, stderr
    waited = json.loads(stdout)
    first.wait(timeout=120)
    assert first.returncode == 0, first.stderr.read()
    assert sql(db, "SELECT count(*) FROM comments") == [(400_000,)]
    assert waited["rows_read"] == 100
    assert_accounting(db)


def test_a_writer_waiting_on_its_input_leaves_the_database_to_readers(tmp_path, big_dump):
    db = tmp_path / "w.duckdb"
    writer, rest = start_fed(db, big_dump)  # lands the first rows, then waits for the rest
    wait_for_rows(db, 1, writer)
    time.sleep(0.5)  # the writer lets the file go after 0.2 s without a chunk to write
    for _ in range(3):  # no retry: the file is free for as long as the writer waits
        assert sql(db, "SELECT count(*) > 0 FROM comments") == [(True,)]
        time.sleep(0.2)
    writer.stdin.write(rest)
    writer.stdin.close()
    writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read()
    assert sql(db, "SELECT count(*) FROM comments") == [(400_000,)]


def test_stale_lock_file_from_a_dead_process_is_taken_over(tmp_path):
    db = tmp_path / "s.duckdb"
    Path(str(db) + ".lock").write_text(json.dumps({"pid": 999_999, "run_id": 7}))
    dump = make_dump(tmp_path / "d.jsonl", 10)
    done = subprocess.run([*CLI, "ingest", str(dump), "--db", str(db), "--tasks", "none", "--wait", "0"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_report_during_ingest_answers_from_committed_data_or_says_why(tmp_path, big_dump):
    db = tmp_path / "r.duckdb"
    # fed through stdin in two parts: the writer is still mid-run while the reports below ask
    writer, rest = start_fed(db, big_dump)
    wait_for_rows(db, 1, writer)
    finish = threading.Thread(target=lambda: (time.sleep(2), writer.stdin.write(rest), writer.stdin.close()))
    finish.start()
    answered, waits = 0, []
    while writer.poll() is None and answered < 3:
        started = time.monotonic()
        report = subprocess.run([*CLI, "query", "SELECT (SELECT count(*) FROM comments) AS stored, "
                                 "(SELECT sum(rows_new) FROM runs) AS counted", "--db", str(db), "--format", "json"],
                                capture_output=True, text=True)
        waits.append(time.monotonic() - started)
        assert "Traceback" not in report.stderr
        if report.returncode == 0:
            [row] = json.loads(report.stdout)
            assert row["stored"] == row["counted"]  # a committed snapshot: whole chunks with their counters
            answered += 1
        else:
            assert "locked" in report.stderr or "being written" in report.stderr
    finish.join()
    writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read()
    assert answered >= 1
    print(f"report waits while ingesting: {[round(w, 2) for w in waits]}")


def test_a_symlinked_database_path_shares_the_ingest_lock_of_its_real_file(tmp_path):
    from analyzer.store.locking import IngestLock, LockedError

    real = tmp_path / "data" / "real.duckdb"
    real.parent.mkdir()
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    with IngestLock(real, wait_seconds=0), pytest.raises(LockedError, match="being ingested by another process"):
        IngestLock(link, wait_seconds=0).acquire()
    # and through the CLI: an ingest by the link waits for (and names) the holder of the real file's lock
    dump = make_dump(tmp_path / "d.jsonl", 20)
    with IngestLock(real, wait_seconds=0) as held:
        held.record(run_id=41)
        refused = subprocess.run([*CLI, "ingest", str(dump), "--db", str(link), "--tasks", "none", "--wait", "0"],
                                 capture_output=True, text=True)
    assert refused.returncode == 1 and f"pid {os.getpid()}" in refused.stderr and "run_id 41" in refused.stderr
    done = subprocess.run([*CLI, "ingest", str(dump), "--db", str(link), "--tasks", "none"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "link.duckdb.lock").exists() and not (tmp_path / "link.duckdb.wal").exists()
    assert link.is_symlink() and sql(real, "SELECT count(*) FROM comments") == [(20,)]


def test_ingest_waits_for_a_slow_reader_between_chunks_instead_of_failing(tmp_path):
    db = tmp_path / "w.duckdb"
    assert subprocess.run([*CLI, "ingest", str(make_dump(tmp_path / "a.jsonl", 100)), "--db", str(db), "--tasks", "none",
                           "--quiet"], capture_output=True).returncode == 0
    hold = 4.0
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(db)!r}, read_only=True)\n"
                               "print('open', flush=True)\n"
                               f"time.sleep({hold})\n"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "open"
    started = time.monotonic()
    done = subprocess.run([*CLI, "ingest", str(make_dump(tmp_path / "b.jsonl", 200)), "--db", str(db), "--tasks", "none",
                           "--wait", "0.5"], capture_output=True, text=True)
    reader.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= hold - 1.5  # it waited for the reader ...
    # ... said so while waiting, naming the reader's command line (issue 35, point 30) ...
    assert f"waiting for pid {reader.pid} ({sys.executable} -c import duckdb, sys, time con = " in done.stderr
    assert f"which has {db} open" in done.stderr
    assert "completed" in done.stderr and "note: waited" in done.stderr  # ... and in the summary
    assert sql(db, "SELECT count(*) FROM comments") == [(200,)]


def wait_for_run(db: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the ingest has recorded its run (it is then reading its inputs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if sql(db, "SELECT count(*) FROM runs")[0][0]:
                return
        except Exception:  # not created yet, or the writer has it open
            pass
        time.sleep(0.05)
    raise AssertionError("the ingest never started its run")


def stop_and_time(proc: subprocess.Popen) -> tuple[float, str]:
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        proc.wait(timeout=30)  # not communicate(): that would close stdin, an EOF the reader would see
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("SIGTERM did not end the ingest within 30 s") from None
    return time.monotonic() - started, proc.stderr.read()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_sigterm_ends_an_ingest_waiting_on_a_fifo_with_no_writer(tmp_path):
    fifo = tmp_path / "feed.jsonl"
    os.mkfifo(fifo)
    db = tmp_path / "f.duckdb"
    proc = start(["ingest", str(fifo), "--db", str(db), "--tasks", "none", "--quiet"])
    wait_for_run(db, proc)
    time.sleep(0.5)  # the reader is now waiting for a writer that never comes
    seconds, stderr = stop_and_time(proc)
    print(f"SIGTERM to exit with a FIFO that has no writer: {seconds:.2f} s")
    assert seconds < 10 and proc.returncode == 130, stderr
    assert sql(db, "SELECT status, error, rows_read FROM runs") == [("interrupted", "stopped by SIGTERM", 0)]


def test_sigterm_ends_an_ingest_whose_stdin_is_idle_and_keeps_the_lines_read(tmp_path):
    db = tmp_path / "i.duckdb"
    proc = subprocess.Popen([*CLI, "ingest", "-", "--db", str(db), "--tasks", "none", "--quiet"], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for i in range(3):
        proc.stdin.write(json.dumps({"id": f"r{i}", "body": f"comment {i}", "created_utc": 1_759_300_000 + i}) + "\n")
    proc.stdin.write('{"id": "half", "bo')  # the producer stalls mid-line
    proc.stdin.flush()
    wait_for_run(db, proc)
    time.sleep(1)  # the three whole lines are read; the producer stays idle and never closes stdin
    seconds, stderr = stop_and_time(proc)
    proc.stdin.close()
    print(f"SIGTERM to exit with an idle stdin producer: {seconds:.2f} s")
    assert seconds < 10 and proc.returncode == 130, stderr
    assert sql(db, "SELECT status, rows_read, rows_new, rows_rejected FROM runs") == [("interrupted", 4, 3, 1)]
    assert sql(db, "SELECT reason FROM rejects") == [("line cut short: the run was stopped while reading it",)]
    assert_accounting(db)


def test_sigint_during_analysis_is_acknowledged_at_once_and_stops_between_model_batches(tmp_path, tiny_models):
    # small token budget: many model batches per 2,048-text chunk, so the stop lands inside a chunk
    dump = make_dump(tmp_path / "s.jsonl", 20_000, distinct_texts=8_000)
    db = tmp_path / "s.duckdb"
    env = {"OPINIONS_SENTIMENT_MODEL": str(tiny_models["sentiment"])}
    args = ["ingest", str(dump), "--db", str(db), "--tasks", "sentiment", "--device", "cpu", "--batch-tokens", "64"]
    proc = start([*args, "--quiet"], env)
    wait_for_results(db, proc)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGINT)
    first_line = proc.stderr.readline()
    acknowledged = time.monotonic() - signalled
    _, rest = proc.communicate(timeout=60)
    assert "SIGINT: stopping after the current batch" in first_line and "Ctrl-C again" in first_line
    assert acknowledged < 2.0
    assert proc.returncode == 130 and "Traceback" not in rest
    analysed = sql(db, "SELECT count(*) FROM sentiment")[0][0]
    assert 0 < analysed < 8_000
    [(status, texts_analysed)] = sql(db, "SELECT status, texts_analysed FROM runs")
    assert status == "interrupted" and texts_analysed == analysed  # the abandoned chunk is not counted
    done = subprocess.run([*CLI, *args, "--quiet"], capture_output=True, text=True, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    assert sql(db, "SELECT count(*), count(DISTINCT text_hash) FROM sentiment") == [(8_000, 8_000)]
    assert_accounting(db)


def test_a_hard_link_to_the_database_shares_the_ingest_lock_of_its_file(tmp_path):
    # a hard link is a second name, so a second `<name>.lock`: two ingests ran at once
    from analyzer.store.locking import IngestLock, LockedError

    dump = make_dump(tmp_path / "d.jsonl", 20)
    db = tmp_path / "a.duckdb"
    assert subprocess.run([*CLI, "ingest", str(dump), "--db", str(db), "--tasks", "none"]).returncode == 0
    other = tmp_path / "other" / "b.duckdb"
    other.parent.mkdir()
    os.link(db, other)
    with IngestLock(db, wait_seconds=0), pytest.raises(LockedError, match="hard link") as refused:
        IngestLock(other, wait_seconds=0).acquire()
    assert f"pid {os.getpid()}" in str(refused.value)
    with IngestLock(db, wait_seconds=0):
        cli = subprocess.run([*CLI, "ingest", str(dump), "--db", str(other), "--tasks", "none", "--wait", "0"],
                             capture_output=True, text=True)
    assert cli.returncode == 1 and "hard link" in cli.stderr
    with IngestLock(other, wait_seconds=0):  # let go: the other name takes it
        pass
