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


def long_comment_dump(path: Path, total_bytes: int, chars: int = 20_000, seed: int = 7) -> Path:
    """A Pushshift-shaped dump of `total_bytes` made of comments of about `chars` characters each."""
    if path.exists() and path.stat().st_size > 0:
        return path
    rng = random.Random(seed)
    written, i = 0, 0
    with path.open("w") as fh:
        while written < total_bytes:
            words: list[str] = []
            length = 0
            while length < chars:
                word = rng.choice(WORDS)
                words.append(word)
                length += len(word) + 1
            line = json.dumps({"id": f"L{i:x}", "body": " ".join(words), "author": f"user{rng.randint(0, 5_000)}",
                               "subreddit": rng.choice(SUBS), "created_utc": 1_700_000_000 + i * 7}) + "\n"
            fh.write(line)
            written += len(line)
            i += 1
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
