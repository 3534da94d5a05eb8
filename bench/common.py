"""Shared helpers for the benchmarks: generated dumps, timing, peak RSS of a child process."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
from pathlib import Path

WORDS = ["phone", "battery", "camera", "update", "price", "service", "love", "hate", "great", "awful", "fine", "screen", "app", "music", "game", "car", "train", "slow", "fast", "broken", "amazing", "support", "refund", "delivery", "quality", "design", "sound"]
SUBS = ["apple", "android", "gaming", "music", "teslamotors", "europe", "spotify", "travel"]


def reddit_dump(path: Path, rows: int, seed: int = 7) -> Path:
    """A Pushshift-shaped comment dump with varied texts."""
    if path.exists() and path.stat().st_size > 0:
        return path
    rng = random.Random(seed)
    with path.open("w") as fh:
        for i in range(rows):
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40)))
            fh.write(json.dumps({
                "id": f"k{i:x}", "body": body, "author": f"user{rng.randint(0, 50_000)}",
                "subreddit": rng.choice(SUBS), "created_utc": 1_700_000_000 + i * 7, "score": rng.randint(-5, 500),
                "parent_id": f"t3_{i // 50:x}", "link_id": f"t3_{i // 50:x}", "controversiality": 0, "gilded": 0,
            }) + "\n")
    return path


def peak_rss_of(args: list[str]) -> int:
    """Peak RSS of one child, measured with /usr/bin/time-like wait4 accounting."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {' '.join(args)}: {proc.stderr.read().decode()[-500:]}")
    return usage.ru_maxrss * 1024


def median(values: list[float]) -> float:
    return statistics.median(values)
