"""The DuckDB store: schema, versioning, connections and writes.

DuckDB allows one writing process per file. Writers take the file lock through
`open_store`; readers use `open_readonly`. Lock conflicts and version mismatches
become `StoreError` with one clear sentence, never a traceback.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

import queries

SCHEMA_VERSION = 4  # queries/schema_v1.sql, then queries/migrate_v<N>.sql up to this
_LOCK_HOLDER = re.compile(r"PID (\d+)")
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")


def _param_names(statement: str) -> set[str]:
    """Named parameters a statement uses (ignoring those mentioned in comments)."""
    return set(_PARAM.findall(_LINE_COMMENT.sub("", statement)))


class StoreError(RuntimeError):
    """A database problem explained in one line for the user."""


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """--db, else $OPINIONS_DB, else ./opinions.duckdb."""
    return Path(db or os.environ.get("OPINIONS_DB") or "opinions.duckdb")


def _explain(exc: duckdb.Error, path: Path) -> StoreError:
    message = str(exc)
    if "lock" in message.lower():
        holder = _LOCK_HOLDER.search(message)
        who = f" (held by pid {holder.group(1)})" if holder else ""
        return StoreError(f"database {path} is being written by another process{who} and stayed locked; "
                          "retry, or pass a longer --wait")
    if "read-only" in message.lower() or "permission denied" in message.lower():
        return StoreError(f"database {path} is not writable: {message.splitlines()[0]}")
    return StoreError(f"cannot open database {path}: {message.splitlines()[0]}")


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise _explain(exc, path) from exc
        # poll often: a writer frees the file only for a moment between chunks
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()[0]
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    version = schema_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"database {path} has schema version {version}, newer than this opinions ({SCHEMA_VERSION}); upgrade opinions"
        )
    if version == SCHEMA_VERSION:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if version is None:
            for statement in queries.statements("schema_v1"):
                con.execute(statement)
        for step in range((version or 1) + 1, SCHEMA_VERSION + 1):
            for statement in queries.statements(f"migrate_v{step}"):
                con.execute(statement)
        for statement in queries.statements("views"):
            con.execute(statement)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', $v)", {"v": str(SCHEMA_VERSION)}
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def open_store(db: str | os.PathLike | None = None, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A writable connection with the current schema (created or migrated in place)."""
    path = resolve_db_path(db)
    if path.parent and not path.parent.exists():
        raise StoreError(f"cannot create database {path}: folder {path.parent} does not exist")
    con = _connect(path, read_only=False, wait_seconds=wait_seconds)
    try:
        ensure_schema(con, path)
    except duckdb.Error as exc:
        con.close()
        raise _explain(exc, path) from exc
    except BaseException:
        con.close()
        raise
    return con


def open_readonly(db: str | os.PathLike | None = None, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection; the database must exist and not be newer than us."""
    path = resolve_db_path(db)
    if not path.exists():
        raise StoreError(f"no database at {path}: run `opinions ingest` first, or pass --db")
    con = _connect(path, read_only=True, wait_seconds=wait_seconds)
    version = schema_version(con)
    if version is None:
        con.close()
        raise StoreError(f"{path} is not an opinions database (no schema version)")
    if version > SCHEMA_VERSION:
        con.close()
        raise StoreError(f"database {path} has schema version {version}, newer than this opinions ({SCHEMA_VERSION})")
    if version < SCHEMA_VERSION:
        con.close()
        raise StoreError(f"database {path} has schema version {version}: run any `opinions ingest` to migrate it")
    return con


class Store:
    """A database opened only while it is written to.

    DuckDB lets one process hold a file at a time, and a read-only connection cannot
    open while a writer holds it. Long work (reading dumps, running models) therefore
    happens with the file closed; each `connect()` opens it for one chunk's writes, so
    reports from other processes get in between chunks.
    """

    def __init__(self, db: str | os.PathLike | None = None, wait_seconds: float = 60.0) -> None:
        self.path = resolve_db_path(db)
        self.wait_seconds = wait_seconds
        self._checked = False
        # one writer transaction at a time within the process: the reader thread landing a chunk and
        # the main thread writing model results both update the run's counters
        self._writing = threading.RLock()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._writing, self._open() as con:
            yield con

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._checked:
            con = _connect(self.path, read_only=False, wait_seconds=self.wait_seconds)
        else:
            con = open_store(self.path, wait_seconds=self.wait_seconds)
            self._checked = True
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        except duckdb.Error as exc:
            raise _explain(exc, self.path) from exc
        finally:
            con.close()
            time.sleep(0.005)  # a moment for a waiting reader to take the file between writes


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """Execute the statements of queries/<name>.sql with named parameters."""
    result = con
    for statement in queries.statements(name):
        names = _param_names(statement)
        used = {k: v for k, v in (params or {}).items() if k in names}
        result = con.execute(statement, used)
    return result


def query_frame(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> Any:
    """Run the single statement of queries/<name>.sql and return a Polars DataFrame."""
    statement = queries.statements(name)[-1]
    names = _param_names(statement)
    return con.sql(statement, params={k: v for k, v in (params or {}).items() if k in names} or None).pl()


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": key}).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": key, "v": value})
