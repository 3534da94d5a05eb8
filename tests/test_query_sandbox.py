"""`opinions query` and reports see the database and nothing else; `opinions export` writes files
instead; reports are bounded in time and in their parameters."""

from __future__ import annotations

import csv
import json
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl


@pytest.fixture()
def stored_db(runner, db, tmp_path):
    records = [reddit(i, sub=["apple", "android"][i % 2]) for i in range(30)]
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db),
                                 "--tasks", "none", "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def query(runner, db, statement, *extra):
    return runner.invoke(app, ["query", statement, "--db", str(db), "--format", "json", *extra])


@pytest.mark.parametrize("escape", [
    "COPY (SELECT * FROM comments) TO '{out}/stolen.csv'",
    "EXPORT DATABASE '{out}/dump'",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/root/*')",
    "ATTACH '{other}' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET lock_configuration = false",
    "SET temp_directory = '{out}/spill'",
])
def test_query_cannot_touch_files_extensions_or_settings(runner, stored_db, tmp_path, escape):
    out = tmp_path / "outside"
    out.mkdir()
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE secrets AS SELECT 'hunter2' AS password").close()
    result = query(runner, stored_db, escape.format(out=out, other=other))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []  # nothing was written outside the database
    assert not result.stdout.strip()


def test_a_refused_file_access_says_what_to_use_instead(runner, stored_db):
    result = query(runner, stored_db, "SELECT * FROM read_text('/etc/hostname')")
    assert result.exit_code == 1
    assert "opinions export" in result.stderr and "--allow-files" in result.stderr


def test_allow_files_lets_a_trusted_copy_through_but_keeps_settings_locked(runner, stored_db, tmp_path):
    target = tmp_path / "mine.csv"
    result = query(runner, stored_db, f"COPY (SELECT id FROM comments ORDER BY id) TO '{target}'", "--allow-files")
    assert result.exit_code == 0, result.output
    assert len(target.read_text().splitlines()) == 31  # header + 30 comments
    locked = query(runner, stored_db, "SET autoload_known_extensions = true", "--allow-files")
    assert locked.exit_code == 1


def test_reports_still_work_in_the_sandbox_and_in_utc(runner, stored_db):
    result = query(runner, stored_db, "SELECT current_setting('TimeZone') AS tz, count(*) AS n FROM comments_enriched")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"tz": "UTC", "n": 30}]


def test_a_query_past_its_timeout_is_stopped_with_a_clear_error(runner, stored_db):
    started = time.monotonic()
    result = query(runner, stored_db, "SELECT count(*) FROM range(200000) a, range(200000) b WHERE (a.range * b.range) % 7 = 3",
                   "--timeout", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert "--timeout 1s" in result.stderr
    assert elapsed < 15, f"took {elapsed:.1f}s"


def test_report_parameters_are_bounded(runner, stored_db):
    for args, flag in ((["alerts", "--history", "100000000"], "--history"), (["topics", "--limit", "0"], "--limit"),
                       (["runs", "--limit", "1000000000"], "--limit"), (["rejects", "--limit", "-5"], "--limit")):
        result = runner.invoke(app, ["report", *args, "--db", str(stored_db)])
        assert result.exit_code == 1, (args, result.output)
        assert flag in result.stderr and "between" in result.stderr
    assert runner.invoke(app, ["report", "alerts", "--history", "400", "--db", str(stored_db)]).exit_code == 0


def test_export_table_writes_parquet_and_csv_of_every_row(runner, stored_db, tmp_path):
    parquet = tmp_path / "comments.parquet"
    result = runner.invoke(app, ["export", "table", "comments_enriched", str(parquet), "--db", str(stored_db)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(parquet)
    assert table.num_rows == 30
    assert sorted(table.column("id").to_pylist()) == sorted(r[0] for r in sql(stored_db, "SELECT id FROM comments"))
    as_csv = tmp_path / "runs.out"
    result = runner.invoke(app, ["export", "table", "runs", str(as_csv), "--format", "csv", "--db", str(stored_db)])
    assert result.exit_code == 0, result.output
    [run] = list(csv.DictReader(as_csv.open()))
    assert run["rows_read"] == "30" and run["status"] == "completed"


def test_export_refuses_an_existing_file_unless_told_and_unknown_tables(runner, stored_db, tmp_path):
    target = tmp_path / "keep.csv"
    target.write_text("precious\n")
    result = runner.invoke(app, ["export", "table", "comments", str(target), "--db", str(stored_db)])
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    assert target.read_text() == "precious\n"
    result = runner.invoke(app, ["export", "table", "comments; DROP TABLE runs", str(tmp_path / "x.csv"),
                                 "--db", str(stored_db)])
    assert result.exit_code == 1 and "no table or view named" in result.stderr
    result = runner.invoke(app, ["export", "table", "comments", str(tmp_path / "x.xlsx"), "--db", str(stored_db)])
    assert result.exit_code == 1 and ".parquet or .csv" in result.stderr
    assert list(tmp_path.glob("*.partial-*")) == [] and not (tmp_path / "x.csv").exists()
    result = runner.invoke(app, ["export", "table", "comments", str(target), "--overwrite", "--db", str(stored_db)])
    assert result.exit_code == 0 and len(target.read_text().splitlines()) == 31


def test_export_report_writes_the_rows_the_json_report_shows(runner, stored_db, tmp_path):
    target = tmp_path / "topics.csv"
    result = runner.invoke(app, ["export", "report", "topics", str(target), "--db", str(stored_db)])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(app, ["report", "topics", "--db", str(stored_db), "--format", "json"]).stdout)
    exported = list(csv.DictReader(target.open()))
    assert [(r["topic"], int(r["comments"])) for r in exported] == [(r["topic"], r["comments"]) for r in shown]
    several = runner.invoke(app, ["export", "report", "rejects", str(tmp_path / "r.csv"), "--db", str(stored_db)])
    assert several.exit_code == 1 and "--section" in several.stderr
    chosen = runner.invoke(app, ["export", "report", "rejects", str(tmp_path / "r.csv"), "--section", "reasons",
                                 "--db", str(stored_db)])
    assert chosen.exit_code == 0, chosen.output


def test_the_spill_folder_is_out_of_reach_of_query(runner, stored_db):
    # DuckDB allows its spill folder (`<db>.tmp/`) even with external access off: COPY dumped every comment there
    spill = stored_db.with_name(stored_db.name + ".tmp")
    spill.mkdir()
    result = query(runner, stored_db, f"COPY (SELECT * FROM comments) TO '{spill}/x.csv'")
    assert result.exit_code == 1, result.output
    assert list(spill.iterdir()) == []
    where = query(runner, stored_db, "SELECT current_setting('temp_directory') AS t")
    assert where.exit_code == 0, where.output
    private = json.loads(where.stdout)[0]["t"]
    assert private != str(spill) and not str(private).startswith(str(stored_db))


@pytest.mark.parametrize("statement", ["INSTALL httpfs", "LOAD httpfs", "FORCE INSTALL httpfs FROM core",
                                       "SELECT 1; LOAD httpfs", "UPDATE EXTENSIONS"])
def test_allow_files_allows_files_not_extensions(runner, stored_db, statement):
    result = query(runner, stored_db, statement, "--allow-files")
    assert result.exit_code == 1, result.output
    assert "extension" in result.stderr and "--allow-files" in result.stderr
    assert "is damaged" not in result.stderr and "Traceback" not in result.stderr


def test_a_copy_to_a_missing_folder_says_so_and_not_that_the_database_is_damaged(runner, stored_db, tmp_path):
    result = query(runner, stored_db, f"COPY comments TO '{tmp_path}/nowhere/x.parquet'", "--allow-files")
    assert result.exit_code == 1
    assert "is damaged" not in result.stderr and "backup" not in result.stderr
    assert "No such file or directory" in result.stderr
