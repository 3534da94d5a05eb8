"""The ingest lock: one writer run per database, with the holder named.

An `fcntl` lock on `<db>.lock` (next to the database's real file, symlinks resolved) is held for the whole run. The
kernel drops it when the holder dies, even on kill -9, so a stale lock cannot block
anyone: the next run simply takes it, and marks the dead run as interrupted. The file
holds the holder's pid and run id so a waiting run can say who it waits for.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from analyzer.errors import OpinionsError
from analyzer.store.database import real_db_path


class LockedError(OpinionsError, RuntimeError):
    """Another live process holds the ingest lock."""


@dataclass
class IngestLock:
    db_path: Path
    wait_seconds: float = 60.0
    _handle: IO[str] | None = field(default=None, repr=False)
    _identity: int | None = field(default=None, repr=False)  # a descriptor of the database file, flocked

    @property
    def path(self) -> Path:
        # next to the real file: a symlink and its target (or two spellings of one path) are one database
        real = real_db_path(self.db_path)
        return real.with_name(real.name + ".lock")

    def holder(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        deadline = time.monotonic() + self.wait_seconds
        if not self._wait(handle.fileno(), deadline):
            handle.close()
            who = self.holder()
            detail = ", ".join(f"{k} {who[k]}" for k in ("run_id", "pid", "host", "since") if who.get(k))
            raise LockedError(
                f"database {self.db_path} is being ingested by another process ({detail or 'unknown holder'}); "
                f"waited {self.wait_seconds:g}s — retry later or raise --wait"
            ) from None
        self._handle = handle
        try:
            self._lock_identity(deadline)
        except BaseException:
            self.release()
            raise
        self.record(run_id=None)

    def _wait(self, fd: int, deadline: float) -> bool:
        """Take an exclusive flock on `fd`, waiting until `deadline`; False if it stayed held."""
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.2)

    def _lock_identity(self, deadline: float) -> None:
        """Lock the database file itself (its device and inode, whatever name reaches it): a hard link is a second
        name, so a second `<name>.lock`, for the same file. DuckDB locks the file with fcntl record locks, which
        are independent of flock on Linux's local filesystems, so readers are not kept out. A file not created
        yet is locked once it is (`record`)."""
        if self._identity is not None:
            return
        try:
            identity = os.open(real_db_path(self.db_path), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return  # no file yet (or not ours to open): only its name can be locked
        if not self._wait(identity, deadline):
            holder = _flock_holder(identity)
            os.close(identity)
            raise LockedError(
                f"database {self.db_path} is being ingested by another process through another name of the same file "
                f"(a hard link){f' (pid {holder})' if holder else ''}; waited {self.wait_seconds:g}s — retry later or "
                "raise --wait")
        self._identity = identity

    def record(self, run_id: int | None) -> None:
        if self._handle is None:
            return
        self._lock_identity(time.monotonic() + self.wait_seconds)  # the run created the file: lock it now
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id, "host": socket.gethostname(),
                                       "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        self._handle.flush()

    def release(self) -> None:
        if self._identity is not None:
            os.close(self._identity)  # closing the descriptor lets the flock go
            self._identity = None
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> IngestLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _flock_holder(fd: int) -> int | None:
    """The pid holding a flock on the file behind `fd`, from /proc/locks (Linux), else None."""
    info = os.fstat(fd)
    where = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 00:2c:1234 0 EOF"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == where and fields[4].isdigit():
            return int(fields[4])
    return None
