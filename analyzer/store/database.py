"""The DuckDB store: schema, versioning, connections and writes.

DuckDB allows one writing process per file. Writers take the file lock through
`open_store`; readers use `open_readonly`. Lock conflicts, full disks, damaged files and
version mismatches become `StoreError` with one clear sentence, never a traceback.

Errors are told apart by DuckDB's exception type and by asking the kernel (is the file
locked? is the disk full?), never by words in a message: "block" contains "lock".
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from analyzer import queries
from analyzer.errors import OpinionsError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 7  # queries/schema_v1.sql, then queries/migrate_v<N>.sql up to this
# Between chunks a writer waits this long for readers to close the file. Reports stop at their
# --timeout (default 60 s), so only a reader from outside opinions (the duckdb CLI) can hold it longer.
READER_WAIT_SECONDS = 600.0
READER_WINDOW_SECONDS = 0.03  # how long a writer leaves the file closed for readers (they retry every 20 ms)
# DuckDB's file starts with its main header and two database headers of 4 KiB each, then the blocks
_DB_HEADER_BYTES = 3 * 4096
# a write that fails with this little room left is a full disk, whatever DuckDB's message says
_LOW_SPACE_BYTES = 16 * 2**20
# What a report or `opinions query` may not do: touch files other than the database (COPY, EXPORT
# DATABASE, read_text, read_csv, glob, ATTACH), install or load extensions, or change these settings.
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,  # SQL may not read the calling Python code's variables
    # the settings a report sets per connection: reports run in UTC, and without the progress bar DuckDB
    # draws on stdout for queries over 2 s (it would land inside `query --format csv`)
    "allowed_configs": ["TimeZone", "enable_progress_bar"],
    "lock_configuration": True,  # no SET, RESET or PRAGMA can undo the above
}
# --allow-files: COPY and the file readers work; extensions and settings stay locked
SANDBOX_WITH_FILES = {**SANDBOX, "enable_external_access": True}
# every connection, the writer's too: DuckDB otherwise downloads and loads an extension it thinks a file needs
# (a SQLite file passed as --db fetched sqlite_scanner from the network)
NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HOLDER_PID = re.compile(r"PID (\d+)")  # only to name the holder; whether it is a lock is the kernel's answer
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")


def _param_names(statement: str) -> set[str]:
    """Named parameters a statement uses (ignoring those mentioned in comments)."""
    return set(_PARAM.findall(_LINE_COMMENT.sub("", statement)))


class StoreError(OpinionsError, RuntimeError):
    """A database problem explained in one line for the user."""


class DiskFullError(StoreError):
    """The database's filesystem has no room left; what was committed before stays valid."""


class DamagedDatabaseError(StoreError):
    """The file is truncated or corrupt; opinions refuses to read or write it."""


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """--db, else $OPINIONS_DB, else ./opinions.duckdb (analyzer.settings)."""
    from analyzer.settings import effective

    return Path(str(effective("db", os.fspath(db) if db else None).value))


def real_db_path(path: Path) -> Path:
    """The file a (possibly symlinked) database path names: locks and DuckDB's WAL live next to it,
    so that two spellings of one database can never be two writers."""
    return path.resolve()


def readers_waiting_path(path: Path) -> Path:
    """The file a reader that found the database held creates, so that the writer closes it for a moment
    after its current chunk (`HeldConnection`) instead of at its next turn."""
    return path.with_name(path.name + ".readers")


def ask_for_window(path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only folder: the writer's regular windows still come
        readers_waiting_path(path).touch()


def _lock_held_elsewhere(path: Path, read_only: bool) -> bool:
    """Whether another process holds a kernel lock on the database file that keeps us out.

    DuckDB takes a POSIX record lock (shared for readers, exclusive for a writer); we ask for
    the same one without waiting and let go at once. Our own process holds no DuckDB lock on
    the file here (DuckDB would have shared its open database), so the probe releases nothing.
    """
    try:
        with open(path, "rb" if read_only else "r+b") as probe:
            try:
                fcntl.lockf(probe, (fcntl.LOCK_SH if read_only else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except OSError as exc:
                return exc.errno in (errno.EAGAIN, errno.EACCES)
            fcntl.lockf(probe, fcntl.LOCK_UN)
            return False
    except OSError:  # no such file, or not ours to open: not a lock
        return False


def free_bytes(path: Path) -> int | None:
    """Free bytes on the filesystem that holds `path` (None when that cannot be told)."""
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder or Path(".")).free
    except OSError:
        return None


def _out_of_space(exc: duckdb.Error, path: Path) -> bool:
    if not isinstance(exc, duckdb.IOException | duckdb.TransactionException | duckdb.FatalException):
        return False
    free = free_bytes(path)
    # DuckDB passes the OS's ENOSPC text on; after a failed checkpoint it says only "invalidated"
    return os.strerror(errno.ENOSPC) in str(exc) or (free is not None and free < _LOW_SPACE_BYTES)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _explain(exc: duckdb.Error, path: Path) -> StoreError:
    """One sentence for a DuckDB error on `path`, chosen by the error's type and the file's state."""
    if _out_of_space(exc, path):
        free = free_bytes(path)
        return DiskFullError(f"no space left on device ({real_db_path(path)}, {free if free is not None else 'unknown'} "
                             "bytes free): free space and re-run the same command; committed chunks are kept")
    if isinstance(exc, duckdb.PermissionException) or (
            isinstance(exc, duckdb.IOException) and any(os.strerror(code) in str(exc) for code in (errno.EROFS, errno.EACCES))):
        return StoreError(f"database {path} is not writable: {_first_line(exc)}")
    system = _system_error(exc)
    if system is not None:
        return StoreError(f"database {path}: {_first_line(exc)} ({system}); the database is not damaged by this: "
                          "fix that and re-run the same command")
    if _is_damage(exc, path):
        return DamagedDatabaseError(f"database {path} is damaged (truncated or corrupt) or not a DuckDB file: "
                                    f"{_first_line(exc)}; restore it from a backup. opinions neither reads nor writes it")
    return StoreError(f"database {path}: {_first_line(exc)}")


# Write and open errors that say nothing about the database file: the OS's own words for them (os.strerror, as
# DuckDB passes them on), and what to look at. They were reported as damage, with advice to restore a backup.
_SYSTEM_ERRORS = {
    errno.EFBIG: "a file size limit: `ulimit -f`, or the largest file the filesystem holds",
    errno.EMFILE: "this process may open no more files: raise `ulimit -n`",
    errno.ENFILE: "the system may open no more files",
    errno.ENOENT: "a file or folder it names does not exist",
    errno.ENOTDIR: "a folder it names is a file",
    errno.EISDIR: "a file it names is a folder",
    errno.ENAMETOOLONG: "a file name it names is too long",
    errno.ENOMEM: "out of memory",
    errno.EDQUOT: "the user's disk quota is used up",
}


def _system_error(exc: duckdb.Error) -> str | None:
    """What failed, when a DuckDB error is the system's (a limit, a missing folder, a download) and not the file's."""
    if isinstance(exc, duckdb.HTTPException):
        return "a download failed: opinions never installs DuckDB extensions"
    if not isinstance(exc, duckdb.IOException | duckdb.TransactionException | duckdb.FatalException):
        return None  # a failed commit is a TransactionException, with the write's error in its message
    return next((hint for code, hint in _SYSTEM_ERRORS.items() if os.strerror(code) in str(exc)), None)


def _is_damage(exc: duckdb.Error, path: Path) -> bool:
    """An existing file that DuckDB cannot read: an IO error no lock or full disk explains, a failed
    checksum (raised as the bare `duckdb.Error`), or a serialization error in its metadata."""
    if not real_db_path(path).is_file():
        return False
    return type(exc) in (duckdb.Error, duckdb.IOException, duckdb.SerializationException)


def _locked(exc: duckdb.Error, path: Path, waited: float) -> StoreError:
    holder = _HOLDER_PID.search(str(exc))
    who = f" (held by pid {holder.group(1)})" if holder else ""
    return StoreError(f"database {path} is being written by another process{who} and stayed locked for {waited:.0f}s; "
                      "retry, or pass a longer --wait")


def _connect(path: Path, read_only: bool, wait_seconds: float, config: dict[str, Any] | None = None,
             on_wait: Callable[[str], None] | None = None, waits: list[float] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the real file behind `path`, waiting up to `wait_seconds` while another process holds it
    (`on_wait` hears of a wait past a second; `waits` gets its length)."""
    real = real_db_path(path)
    _refuse_other_formats(real, path)
    started = time.monotonic()
    deadline = started + wait_seconds
    unlocked_failures = 0
    told = waited = False
    while True:
        try:
            con = duckdb.connect(str(real), read_only=read_only, config={**NO_EXTENSIONS, **(config or {})})
            if waited and waits is not None:
                waits.append(time.monotonic() - started)
            return con
        except duckdb.IOException as exc:
            if not _lock_held_elsewhere(real, read_only):
                # the holder may have let go between the failure and the probe: one retry tells
                unlocked_failures += 1
                if unlocked_failures >= 2:
                    raise _explain(exc, path) from exc
                continue
            unlocked_failures = 0
            waited = True
            if read_only:
                ask_for_window(real)
            if time.monotonic() >= deadline:
                raise _locked(exc, path, time.monotonic() - started) from exc
            if on_wait and not told and time.monotonic() - started >= 1.0:
                holder = _HOLDER_PID.search(str(exc))
                who = f"pid {holder.group(1)}{_command_of(int(holder.group(1)))}" if holder else "another process"
                on_wait(f"waiting for {who}, which has {path} open (a report or query?), to close it "
                        f"(up to {wait_seconds:.0f}s)")
                told = True
        except duckdb.Error as exc:
            raise _explain(exc, path) from exc
        # poll often: a writer frees the file only for a moment between chunks
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def _command_of(pid: int, limit: int = 160) -> str:
    """` (the command line)` of process `pid`, from /proc (Linux; "" elsewhere or when not ours to read): a waiting
    ingest names the report, query or duckdb CLI that holds the database, not just its pid."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return ""
    line = "".join(ch if ch.isprintable() else " " for ch in " ".join(os.fsdecode(w) for w in words if w))
    return f" ({line[:limit]}{'…' if len(line) > limit else ''})" if line else ""


def _refuse_other_formats(real: Path, path: Path) -> None:
    """A file of another database engine is refused by its first bytes, before DuckDB opens (or tries to
    extend itself to open) it."""
    try:
        with open(real, "rb") as head:
            start = head.read(len(_SQLITE_MAGIC))
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return  # a new database, or a problem DuckDB's own error explains
    if start == _SQLITE_MAGIC:
        raise StoreError(f"{path} is a SQLite database, not an opinions (DuckDB) database: pass --db with a new "
                         "file name or an opinions database; opinions neither reads nor writes it")


def _refuse_foreign_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A DuckDB database that holds tables but no opinions schema belongs to another application: creating
    our tables beside its own would change it (and its reports failed with binder errors)."""
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "ORDER BY table_name LIMIT 6").fetchall()]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(f"{path} is a DuckDB database of another application (tables: {shown}), not an opinions "
                         "database: pass --db with a new file name or an opinions database; opinions leaves it as it is")


def check_intact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a truncated file: DuckDB opens one happily and fails only when a query reaches a lost
    block. Every block in use lies inside the file, so the file is at least headers + used blocks."""
    block_size, used_blocks = con.execute(
        "SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()"
    ).fetchone()
    needed = _DB_HEADER_BYTES + used_blocks * block_size if used_blocks else 0
    size = real_db_path(path).stat().st_size
    if size < needed:
        raise DamagedDatabaseError(
            f"database {path} is damaged (truncated): the file holds {size:,} bytes but its {used_blocks:,} blocks "
            f"need {needed:,}; restore it from a backup. opinions neither reads nor writes it")


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()[0]
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def stale_task_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The registered tasks whose result table is missing or older than its folder's `table.sql`."""
    from analyzer import tasks  # the registry (cheap); tasks sit above the store, so the call is made late

    stored = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'table.%'").fetchall())
    return [name for name in tasks.NAMES if stored.get(f"table.{name}") != tasks.table_digest(name)]


def views_digest() -> str:
    """A digest of queries/views.sql, comments and spacing left out: the store re-creates its views when
    the definitions change, as it does a task's table (`stale_task_tables`)."""
    code = "\n".join(line.split("--", 1)[0] for line in queries.load("views").splitlines())
    return hashlib.sha256(" ".join(code.split()).encode()).hexdigest()[:16]


def views_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """The database's views were made by another version of queries/views.sql."""
    return get_meta(con, "views") != views_digest()


def _ensure_task_tables(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Create each named task's table from its folder (`analyzer/tasks/<name>/table.sql`).

    A task's schema is its folder's, not a global version: a table made by an older definition is
    dropped with the task's cache markers, so its results (derived from the stored comments, which
    stay) are computed again by the next ingest or `opinions analyze-stored`. A table that predates
    the digests (sentiment and entities were in schema_v1, same definition) is adopted as it is."""
    from analyzer import tasks

    for name in names:
        table = tasks.about(name).table
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = $t",
                             {"t": table}).fetchone()[0]
        if exists and get_meta(con, f"table.{name}") is not None:
            log.warning("the %s task's table changed in this version of opinions: its results are dropped and "
                        "computed again for every stored comment by the next ingest", name)
            con.execute(f'DROP TABLE "{table}"')  # our own table name (About.table), never a user value
            con.execute("DELETE FROM analyses WHERE task = $task", {"task": name})
        for statement in queries.split(tasks.sql(name, "table")):
            con.execute(statement)
        set_meta(con, f"table.{name}", tasks.table_digest(name))


def ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    version = schema_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"database {path} has schema version {version}, newer than this opinions ({SCHEMA_VERSION}); upgrade opinions"
        )
    stale = stale_task_tables(con) if version is not None else None
    if version == SCHEMA_VERSION and not stale and not views_stale(con):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if version is None:
            for statement in queries.statements("schema_v1"):
                con.execute(statement)
        for step in range((version or 1) + 1, SCHEMA_VERSION + 1):
            for statement in queries.statements(f"migrate_v{step}"):
                con.execute(statement)
        _ensure_task_tables(con, stale_task_tables(con))
        for statement in queries.statements("views"):
            con.execute(statement)
        set_meta(con, "views", views_digest())
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', $v)", {"v": str(SCHEMA_VERSION)}
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


@contextmanager
def _closed_on_failure(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[None]:
    """Checks on a fresh connection: any failure closes it, and a DuckDB error is explained."""
    try:
        yield
    except duckdb.Error as exc:
        con.close()
        raise _explain(exc, path) from exc
    except BaseException:
        con.close()
        raise


def open_store(db: str | os.PathLike | None = None, wait_seconds: float = 0.0,
               on_wait: Callable[[str], None] | None = None, waits: list[float] | None = None) -> duckdb.DuckDBPyConnection:
    """A writable connection with the current schema (created or migrated in place)."""
    path = resolve_db_path(db)
    if path.parent and not path.parent.exists():
        raise StoreError(f"cannot create database {path}: folder {path.parent} does not exist")
    con = _connect(path, read_only=False, wait_seconds=wait_seconds, on_wait=on_wait, waits=waits)
    with _closed_on_failure(con, path):
        check_intact(con, path)
        if schema_version(con) is None:
            _refuse_foreign_tables(con, path)
        ensure_schema(con, path)
    return con


def open_readonly(db: str | os.PathLike | None = None, wait_seconds: float = 0.0,
                  allow_files: bool = False, temp_directory: str = "") -> duckdb.DuckDBPyConnection:
    """A read-only connection in UTC; the database must exist, be intact and not be newer than us.

    It is sandboxed (`SANDBOX`): no files but the database, no extensions, settings locked.
    `allow_files` lets COPY and the file readers through, for a trusted user. DuckDB lets SQL
    reach its spill folder whatever the sandbox says, so it spills to `temp_directory` only, a
    folder of the caller's own (reports.run.report_connection: a private one, removed after);
    "": it does not spill (its default, `<db>.tmp/`, would be shared and stay).
    """
    path = resolve_db_path(db)
    if not path.exists():
        raise StoreError(f"no database at {path}: run `opinions ingest` first, or pass --db")
    con = _connect(path, read_only=True, wait_seconds=wait_seconds,
                   config={**(SANDBOX_WITH_FILES if allow_files else SANDBOX), "temp_directory": temp_directory})
    with _closed_on_failure(con, path):
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        check_intact(con, path)
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
    stale = stale_task_tables(con)
    if stale:
        con.close()
        raise StoreError(f"database {path} has no current table for task(s) {', '.join(stale)} (made by an older "
                         "opinions): run any `opinions ingest` to add them")
    if views_stale(con):  # views made by another version: this connection reads through its own, until an ingest
        with _closed_on_failure(con, path):
            for statement in queries.statements("views"):
                con.execute(statement.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW", 1))
    return con


def explain_read_error(exc: duckdb.Error, path: Path) -> StoreError | None:
    """A report's error that is the database's fault (damaged blocks), else None: the SQL's own fault."""
    return _explain(exc, path) if type(exc) in (duckdb.Error, duckdb.IOException) else None


class Store:
    """A database opened only while it is written to.

    DuckDB lets one process hold a file at a time, and a read-only connection cannot
    open while a writer holds it. Long work (reading dumps, running models) therefore
    happens with the file closed; each `connect()` opens it for one chunk's writes, so
    reports from other processes get in between chunks. A reader that holds the file
    is waited for (up to `READER_WAIT_SECONDS`, said in a log line and kept in `waits`),
    whatever `wait_seconds` (the wait for another ingest's lock) is.
    """

    def __init__(self, db: str | os.PathLike | None = None, wait_seconds: float = 60.0,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = resolve_db_path(db)
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self.waits: list[float] = []  # each wait for another process to close the file, in seconds
        self._checked = False
        # one writer transaction at a time within the process: the reader thread landing a chunk and
        # the main thread writing model results both update the run's counters
        self._writing = threading.RLock()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._writing, self._open() as con:
            yield con

    @contextmanager
    def held(self, seconds: float) -> Iterator[HeldConnection]:
        """One connection for a run of writes with nothing else between them (`HeldConnection`), closed at the end."""
        held = HeldConnection(self, seconds)
        try:
            yield held
        finally:
            held.close()
            with contextlib.suppress(OSError):  # nobody is held off now
                readers_waiting_path(real_db_path(self.path)).unlink()

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        wait = max(self.wait_seconds, READER_WAIT_SECONDS)
        if self._checked:
            con = _connect(self.path, read_only=False, wait_seconds=wait, on_wait=self.on_wait, waits=self.waits)
        else:
            con = open_store(self.path, wait_seconds=wait, on_wait=self.on_wait, waits=self.waits)
            self._checked = True
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        except duckdb.Error as exc:
            raise _explain(exc, self.path) from exc
        finally:
            con.close()
            time.sleep(0.005)  # a moment for a waiting reader to take the file between writes


class HeldConnection:
    """Writes through one connection that is closed for readers when one waits, not after each write.

    Opening and closing the file cost ~60 ms a chunk, a fifth of landing a chunk with --tasks none. Held, the
    file still lets reports in: a reader that finds it held says so (`ask_for_window`), and the next write
    first closes the file for READER_WINDOW_SECONDS (readers retry every 20 ms); other clients (the duckdb
    CLI) get the same window at the first write `seconds` after the file was opened (5 s in ingest).
    `close` also lets the file go, e.g. while the next chunk is slow to come. Only for writes with no long
    work between them: while a model runs, the file must be closed (`Store.connect`)."""

    def __init__(self, store: Store, seconds: float) -> None:
        self._store = store
        self._seconds = seconds  # 0: closed after every write, as Store.connect does
        self._open: Any = None  # the entered Store._open() context
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._writes = 0

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._store._writing:
            if self._con is not None and (time.monotonic() - self._opened >= self._seconds or self._readers_wait()):
                self.close()
            if self._con is None:
                if self._writes:
                    time.sleep(READER_WINDOW_SECONDS)
                self._open = self._store._open()
                self._con, self._opened = self._open.__enter__(), time.monotonic()
            self._writes += 1
            try:
                yield self._con
            except BaseException as exc:
                opened, self._open, self._con = self._open, None, None
                opened.__exit__(type(exc), exc, exc.__traceback__)  # raises a DuckDB error explained (_open)
                raise
            if self._seconds <= 0:
                self.close()

    def drop_cache(self) -> None:
        """Let DuckDB drop the blocks it keeps cached (written and scanned): lowering its memory limit evicts
        them at once (~7 ms). Held open, a writer's cache would otherwise grow with the database up to 80%
        of RAM (109 MiB after 1.5M rows). Not worth it before a write that only adds to an open row group
        (long rows: a few thousand a chunk), which would read that row group back each time (1.7x slower)."""
        with self._store._writing:
            if self._con is None:
                return
            self._con.execute("SET memory_limit = '1MB'")
            self._con.execute("RESET memory_limit")  # the store sets none: DuckDB's default

    def _readers_wait(self) -> bool:
        try:
            readers_waiting_path(real_db_path(self._store.path)).unlink()
            return True
        except OSError:
            return False

    def close(self) -> None:
        opened, self._open, self._con = self._open, None, None
        if opened is not None:
            opened.__exit__(None, None, None)


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
