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
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    who = self.holder()
                    detail = ", ".join(f"{k} {who[k]}" for k in ("run_id", "pid", "host", "since") if who.get(k))
                    raise LockedError(
                        f"database {self.db_path} is being ingested by another process ({detail or 'unknown holder'}); "
                        f"waited {self.wait_seconds:g}s — retry later or raise --wait"
                    ) from None
                time.sleep(0.2)
        self._handle = handle
        self.record(run_id=None)

    def record(self, run_id: int | None) -> None:
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id, "host": socket.gethostname(),
                                       "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> IngestLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
