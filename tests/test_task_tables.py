"""A task's result table comes from its folder (`analyzer/tasks/<name>/table.sql`): the store creates it,
re-creates it when the definition changes (the task's results are derived, so they are computed again),
and readers refuse a database whose task tables are older than this opinions."""

from __future__ import annotations

import pytest

from analyzer import tasks
from analyzer.store.database import StoreError, get_meta, open_readonly, open_store


def _tables(con) -> set[str]:
    return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_a_new_database_has_every_registered_tasks_table_from_its_folder(db):
    con = open_store(db)
    assert {tasks.about(name).table for name in tasks.NAMES} <= _tables(con)
    assert all(get_meta(con, f"table.{name}") == tasks.table_digest(name) for name in tasks.NAMES)
    columns = [row[0] for row in con.execute("DESCRIBE emotion").fetchall()]  # the whole distribution is kept
    assert columns[4:11] == [f"p_{label}" for label in tasks.about("emotion").labels]
    con.close()


def test_a_database_from_before_task_folders_keeps_its_results_and_gains_the_new_tables(db):
    newer = [name for name in tasks.NAMES if name != "sentiment"]
    con = open_store(db)
    con.execute("INSERT INTO sentiment VALUES ('h1', 'm', 'positive', 0.9, 0.05, 0.05, 0.9, NULL)")
    # what an older opinions left: no table digests, no tables of the tasks it did not know
    con.execute("DELETE FROM meta WHERE key LIKE 'table.%'")
    for name in newer:
        con.execute(f"DROP TABLE {tasks.about(name).table}")
    con.close()
    with pytest.raises(StoreError, match=f"{', '.join(newer)}.*run any `opinions ingest`"):
        open_readonly(db)
    con = open_store(db)
    assert con.execute("SELECT label FROM sentiment").fetchall() == [("positive",)]  # adopted, not re-created
    assert {tasks.about(name).table for name in newer} <= _tables(con)
    con.close()
    open_readonly(db).close()


def test_a_changed_table_definition_drops_that_tasks_results_and_cache_markers_only(db):
    con = open_store(db)
    con.execute("INSERT INTO sentiment VALUES ('h1', 'm', 'positive', 0.9, 0.05, 0.05, 0.9, NULL)")
    con.execute("INSERT INTO entities VALUES ('h1', 'm', 0, 5, 'ORG', 'Apple', 0.8)")
    con.execute("INSERT INTO analyses VALUES ('h1', 'sentiment', 'm', 'ok', 1), ('h1', 'ner', 'm', 'ok', 1)")
    con.execute("UPDATE meta SET value = 'older' WHERE key = 'table.ner'")
    con.close()
    con = open_store(db)
    assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == 0
    assert con.execute("SELECT task FROM analyses").fetchall() == [("sentiment",)]
    assert con.execute("SELECT count(*) FROM sentiment").fetchone()[0] == 1
    assert get_meta(con, "table.ner") == tasks.table_digest("ner")
    con.close()


def test_a_comment_in_a_table_definition_is_not_a_change(monkeypatch):
    before = tasks.table_digest("sentiment")
    text = tasks.sql("sentiment", "table")
    commented = "-- a new comment\n" + text.replace("NOT NULL,", "NOT NULL,   -- note")
    monkeypatch.setattr(tasks, "sql", lambda name, part: commented)
    assert tasks.table_digest("sentiment") == before
    monkeypatch.setattr(tasks, "sql", lambda name, part: text.replace("score DOUBLE", "score FLOAT"))
    assert tasks.table_digest("sentiment") != before
