"""The database stays valid and explained: migrations, newer versions, read-only and full disks, model files."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from analyzer.cli import app
from analyzer.store.database import SCHEMA_VERSION
from tests.helpers import reddit, sql, write_jsonl

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "db_v1.sql"


def db_from_fixture(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute(FIXTURE_V1.read_text())
    con.close()
    return path


def test_version_1_database_is_migrated_in_place_without_losing_data(runner, tmp_path):
    db = db_from_fixture(tmp_path / "v1.duckdb")
    result = runner.invoke(app, ["report", "topic", "--db", str(db)])
    assert result.exit_code == 1 and "schema version 1" in result.stderr and "migrate" in result.stderr
    dump = write_jsonl(tmp_path / "new.jsonl", [reddit(1, body="fresh comment")])
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] == 2
    assert sql(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert sql(db, "SELECT id FROM comments ORDER BY id") == [("t1_a",), ("t1_b",), ("t1_c1",)]
    assert sql(db, "SELECT count(*) FROM sentiment") == [(2,)]
    assert sql(db, "SELECT run_id, status, command IS NOT NULL FROM runs ORDER BY run_id") == [
        (1, "completed", False), (2, "completed", True)]
    report = runner.invoke(app, ["report", "topic", "--db", str(db), "--format", "json"])
    assert json.loads(report.stdout)[0]["comments"] == 3


def test_migration_keeps_every_topic_and_stores_a_comments_own_topic_once(runner, tmp_path):
    db = db_from_fixture(tmp_path / "v1.duckdb")
    with duckdb.connect(str(db)) as con:  # a hashtag beyond the comment's own topic, and a keyword topic
        con.execute("INSERT INTO comment_topics VALUES ('reddit', 't1_a', 'iphone', 'field'), "
                    "('reddit', 't1_b', 'battery', 'keyword')")
        before = con.execute("SELECT * FROM comment_topics ORDER BY ALL").fetchall()
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "none.jsonl", [])), "--db", str(db),
                                 "--tasks", "none"])
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT * FROM comment_topics ORDER BY ALL") == before
    assert sql(db, "SELECT * FROM extra_topics ORDER BY ALL") == [("reddit", "t1_a", "iphone", "field"),
                                                                  ("reddit", "t1_b", "battery", "keyword")]


def test_database_from_a_newer_version_is_refused(runner, tmp_path):
    db = db_from_fixture(tmp_path / "future.duckdb")
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    for args in (["report", "topic"], ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--tasks", "none"]):
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 1
        assert "schema version 99, newer than this opinions" in result.stderr
    assert sql(db, "SELECT count(*) FROM comments") == [(2,)]


def test_not_an_opinions_database_is_refused(runner, tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INT)").close()
    result = runner.invoke(app, ["report", "runs", "--db", str(other)])
    assert result.exit_code == 1 and "not an opinions database" in result.stderr


@pytest.fixture()
def small_fs(tmp_path):
    """A real 3 MiB tmpfs, so that 'disk full' and 'read-only' are the kernel's answers."""
    mount = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analyzer.cli", *args], capture_output=True, text=True)


def test_disk_full_gives_a_clear_error_and_the_database_stays_valid(small_fs, tmp_path):
    db = small_fs / "full.duckdb"
    first = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(200)])
    assert run_cli("ingest", str(first), "--db", str(db), "--tasks", "none").returncode == 0
    big = write_jsonl(tmp_path / "big.jsonl", [reddit(i, body=os.urandom(3000).hex()) for i in range(1000, 3000)])
    done = run_cli("ingest", str(big), "--db", str(db), "--tasks", "none")
    assert done.returncode == 1
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("opinions: error:")]
    assert len(error_lines) == 1 and "Traceback" not in done.stderr
    assert "space" in error_lines[0].lower() or "disk" in error_lines[0].lower() or "full" in error_lines[0].lower()
    # the database still opens, holds the first run whole, and the accounting of what was committed is exact
    subprocess.run(["rm", "-f", *map(str, small_fs.glob("*.wal"))])
    stored = sql(db, "SELECT count(*) FROM comments")[0][0]
    assert stored >= 200
    assert sql(db, "SELECT sum(rows_new) FROM runs")[0][0] == stored


def test_read_only_database_gives_a_clear_error(small_fs, tmp_path):
    db = small_fs / "ro.duckdb"
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(20)])
    assert run_cli("ingest", str(dump), "--db", str(db), "--tasks", "none").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    done = run_cli("ingest", str(dump), "--db", str(db), "--tasks", "none")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "read-only" in done.stderr.lower() or "not writable" in done.stderr.lower()
    report = run_cli("report", "topic", "--db", str(db), "--format", "json")
    assert report.returncode == 0, report.stderr  # reading still works
    assert sum(r["comments"] for r in json.loads(report.stdout)) == 20


def test_pickle_only_checkpoint_needs_allow_pickle(runner, tmp_path, tiny_models):
    import shutil

    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_models["sentiment"], folder)
    weights = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    torch.save(weights, folder / "pytorch_model.bin")
    result = runner.invoke(app, ["analyze", "-", "--model", str(folder), "--device", "cpu"], input="hello there\n")
    assert result.exit_code == 1 and "--allow-pickle" in result.stderr


def test_disk_full_names_the_path_and_free_bytes_and_json_still_prints_the_summary(small_fs, tmp_path):
    """The kernel's own ENOSPC, on a 3 MiB tmpfs (needs root to mount; skipped otherwise)."""
    db = small_fs / "full.duckdb"
    first = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(200)])
    assert run_cli("ingest", str(first), "--db", str(db), "--tasks", "none").returncode == 0
    big = write_jsonl(tmp_path / "big.jsonl", [reddit(i, body=os.urandom(3000).hex()) for i in range(1000, 3000)])
    done = run_cli("ingest", str(big), "--db", str(db), "--tasks", "none", "--json")
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert summary["status"] == "failed" and summary["run_id"] == 2
    assert summary["rows_read"] == summary["rows_new"] + summary["rows_duplicate"] + summary["rows_rejected"] + summary["rows_skipped"]
    [error] = [line for line in done.stderr.splitlines() if line.startswith("opinions: error:")]
    assert f"no space left on device ({db}, " in error and " bytes free)" in error
    assert "invalidated" not in error and "being written" not in error


def test_a_full_disk_mid_run_is_named_and_summarised_without_root(runner, tmp_path, monkeypatch):
    """Without a small filesystem to fill: the chunk write raises DuckDB's real exception type with
    the OS's ENOSPC text, as DuckDB does when a write fails."""
    import errno

    import analyzer.ingest.landing

    db = tmp_path / "d.duckdb"
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(50)])

    def full(*args, **kwargs):
        raise duckdb.IOException(f'IO Error: Could not write file "{db}.wal": {os.strerror(errno.ENOSPC)}')

    monkeypatch.setattr(analyzer.ingest.landing, "land_mapped", full)
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and summary["error"].startswith("no space left on device")
    assert f"no space left on device ({db}, " in result.stderr and "bytes free" in result.stderr


def test_an_invalidated_database_on_a_nearly_full_disk_is_called_a_full_disk(tmp_path, monkeypatch):
    """After a failed checkpoint DuckDB says only "invalidated": the free space tells the truth."""
    from analyzer.store import database as store
    monkeypatch.setattr(store, "free_bytes", lambda path: 4096)
    invalidated = duckdb.FatalException("FATAL Error: database has been invalidated because of a previous fatal error")
    explained = store._explain(invalidated, tmp_path / "x.duckdb")
    assert isinstance(explained, store.DiskFullError)
    assert str(explained).startswith(f"no space left on device ({tmp_path / 'x.duckdb'}, 4096 bytes free)")


def filled_db(path: Path, rows: int) -> Path:
    dump = write_jsonl(path.parent / "many.jsonl", [reddit(i, body=f"comment {i} " + "words " * (i % 40))
                                                   for i in range(rows)])
    assert run_cli("ingest", str(dump), "--db", str(path), "--tasks", "none").returncode == 0
    return path


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_a_truncated_database_is_refused_on_open_by_reports_and_ingest(tmp_path, fraction):
    db = filled_db(tmp_path / "t.duckdb", 30_000)
    os.truncate(db, int(db.stat().st_size * fraction))
    size = db.stat().st_size
    report = run_cli("report", "topics", "--db", str(db))
    assert report.returncode == 1 and "Traceback" not in report.stderr
    assert "is damaged" in report.stderr and "restore it from a backup" in report.stderr
    dump = write_jsonl(tmp_path / "more.jsonl", [reddit(i) for i in range(50_000, 50_010)])
    ingest = run_cli("ingest", str(dump), "--db", str(db), "--tasks", "none", "--json")
    assert ingest.returncode == 1 and "is damaged" in ingest.stderr
    assert db.stat().st_size == size  # not written to


@pytest.mark.parametrize("damage", ["main header", "database header block"])
def test_a_corrupt_header_is_called_damaged_at_once_not_locked(tmp_path, damage):
    db = filled_db(tmp_path / "h.duckdb", 200)
    with db.open("r+b") as fh:
        fh.seek(0 if damage == "main header" else 4096)
        fh.write(b"\xa5" * 4096)
    started = time.monotonic()
    done = run_cli("report", "runs", "--db", str(db))  # reports wait up to 30 s for a lock
    elapsed = time.monotonic() - started
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "being written" not in done.stderr and "locked" not in done.stderr
    assert "is damaged" in done.stderr
    assert elapsed < 15, f"took {elapsed:.1f}s: it waited for a lock that nobody holds"


def test_a_held_connection_lets_a_waiting_reader_in_at_the_next_write(tmp_path):
    from analyzer.store.database import Store, ask_for_window, readers_waiting_path

    store = Store(tmp_path / "h.duckdb")
    with store.held(seconds=3600) as held:
        with held.connect() as first:
            first.execute("SELECT 1")
        with held.connect() as second:
            assert second is first  # nobody waits: the file stays open between writes
        ask_for_window(store.path)  # what a report does when it finds the file held
        assert readers_waiting_path(store.path).exists()
        with held.connect() as third:
            assert third is not first  # closed for a moment, then opened again
        assert not readers_waiting_path(store.path).exists()
        held.close()
        with duckdb.connect(str(store.path), read_only=True) as reader:  # closed: readers get in
            assert reader.execute("SELECT count(*) FROM comments").fetchone() == (0,)


def test_a_held_connection_drops_what_duckdb_cached_and_keeps_its_memory_limit(tmp_path):
    from analyzer.store.database import Store

    store = Store(tmp_path / "m.duckdb")
    with store.held(seconds=3600) as held:
        with held.connect() as con:
            con.execute("CREATE TABLE t AS SELECT i, repeat('x', 200) || i AS s FROM range(500000) r(i)")
            con.execute("SELECT count(*) FROM t WHERE s LIKE '%9'").fetchall()
            cached = "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
            before = con.execute(cached).fetchall()[0][0]
            limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        held.drop_cache()
        with held.connect() as again:
            assert again is con  # still the same connection
            assert before > 10 * 2**20 and again.execute(cached).fetchall()[0][0] < before / 10
            assert again.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == limit


def test_a_sqlite_file_is_refused_before_duckdb_touches_it(runner, tmp_path):
    """DuckDB opened a SQLite file by auto-installing sqlite_scanner from the network (issue 35, point 26)."""
    import sqlite3

    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE users (name TEXT)")
    before = path.read_bytes()
    for args in (["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--tasks", "none"],
                 ["report", "topics"]):
        result = runner.invoke(app, [*args, "--db", str(path)])
        assert result.exit_code == 1, result.output
        assert "is a SQLite database, not an opinions (DuckDB) database" in " ".join(result.stderr.split())
    assert path.read_bytes() == before


def test_a_duckdb_file_of_another_application_is_left_as_it_is(runner, tmp_path):
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE orders (id INTEGER, total DOUBLE)")
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(path),
                                 "--tasks", "none"])
    assert result.exit_code == 1, result.output
    assert "database of another application (tables: orders)" in " ".join(result.stderr.split())
    assert [t for (t,) in sql(path, "SELECT table_name FROM information_schema.tables")] == ["orders"]


def test_no_connection_installs_or_loads_an_extension_by_itself(tmp_path):
    from analyzer.store.database import open_readonly, open_store

    con = open_store(tmp_path / "x.duckdb")
    settings = ("autoinstall_known_extensions", "autoload_known_extensions")
    assert [con.execute(f"SELECT current_setting('{s}')").fetchone()[0] for s in settings] == [False, False]
    con.close()
    con = open_readonly(tmp_path / "x.duckdb")
    assert [con.execute(f"SELECT current_setting('{s}')").fetchone()[0] for s in settings] == [False, False]
    con.close()


def test_a_file_size_limit_is_named_not_called_damage(tmp_path):
    # `ulimit -f`: DuckDB's write fails with EFBIG; that was "damaged ... restore it from a backup"
    import resource

    db = tmp_path / "limited.duckdb"
    dump = write_jsonl(tmp_path / "big.jsonl", [reddit(i, body=f"comment {i} " * 20) for i in range(20_000)])

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    done = subprocess.run([sys.executable, "-m", "analyzer.cli", "ingest", str(dump), "--db", str(db), "--tasks",
                           "none", "--json"], capture_output=True, text=True, preexec_fn=limit)
    assert done.returncode == 1
    error = next(line for line in done.stderr.splitlines() if line.startswith("opinions: error:"))
    assert os.strerror(errno.EFBIG) in error and "ulimit -f" in error
    assert "is damaged" not in error and "backup" not in error
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "failed"


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.ENOENT])
def test_system_errors_are_not_called_damage(tmp_path, code):
    from analyzer.store.database import DamagedDatabaseError, _explain

    db = tmp_path / "x.duckdb"
    duckdb.connect(str(db)).close()
    explained = _explain(duckdb.IOException(f'IO Error: Cannot open file "{db}.wal": {os.strerror(code)}'), db)
    assert not isinstance(explained, DamagedDatabaseError)
    assert os.strerror(code) in str(explained) and "backup" not in str(explained)
    damaged = _explain(duckdb.IOException("IO Error: The file is not a valid DuckDB database file"), db)
    assert isinstance(damaged, DamagedDatabaseError)
