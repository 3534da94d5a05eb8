"""Small helpers shared by tests: dump writers and direct SQL reads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import duckdb


def write_jsonl(path: Path, records: list[Any], compress: str | None = None) -> Path:
    lines = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"
    data = lines.encode("utf-8")
    if compress == "gz":
        data = gzip.compress(data, mtime=0)
    elif compress == "zst":
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    elif compress == "bz2":
        import bz2

        data = bz2.compress(data)
    elif compress == "xz":
        import lzma

        data = lzma.compress(data)
    path.write_bytes(data)
    return path


def sql(db: Path, query: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or {}).fetchall()
    finally:
        con.close()


def reddit(i: int, body: str | None = None, sub: str = "apple", t: int = 1_759_300_000, **extra: Any) -> dict:
    record = {"id": f"c{i}", "body": body if body is not None else f"comment number {i} about phones",
              "author": f"user{i % 7}", "subreddit": sub, "created_utc": t + i * 60, "score": i % 11,
              "parent_id": "t3_p1", "link_id": "t3_p1"}
    record.update(extra)
    return record


def finishes_within(code: str, seconds: float) -> bool:
    """Whether `python -c code` ends (successfully) within `seconds`: for inputs that hang a super-linear
    regex for minutes or hours, with a bound generous enough that a loaded machine cannot fail it."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=seconds, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return False
    assert done.returncode == 0, done.stderr
    return True
