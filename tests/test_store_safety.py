"""The database stays valid and explained: migrations, newer versions, read-only and full disks, model files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from analyzer.cli import app
from analyzer.store import SCHEMA_VERSION
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
