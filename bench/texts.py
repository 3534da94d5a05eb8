"""Real benchmark texts: tweets and Reddit comments from ../shared/datasets when present, else the samples."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from training.datasets import datasets_root

ROOT = Path(__file__).resolve().parents[1]


def real_texts(n: int, seed: int = 3) -> tuple[list[str], str]:
    datasets = datasets_root(required=False)
    texts: list[str] = []
    origin = ""
    if (datasets / "tweeteval-sentiment").is_dir():
        texts += (datasets / "tweeteval-sentiment" / "val_text.txt").read_text(encoding="utf-8").splitlines()
        for line in (datasets / "semeval-sentiment" / "twitter-2016test-A.tsv").read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                texts.append(parts[2])
        origin = "tweets from ../shared/datasets (TweetEval val, SemEval 2016 test)"
    if not texts:
        for line in gzip.decompress((ROOT / "sample_data" / "tweets_v1.jsonl.gz").read_bytes()).decode().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            texts.append(record.get("full_text") or record.get("text") or "")
        origin = "generated sample tweets (../shared/datasets absent)"
    texts = [t for t in texts if t.strip()]
    rng = random.Random(seed)
    picked = [texts[rng.randrange(len(texts))] for _ in range(n)] if len(texts) < n else rng.sample(texts, n)
    return picked, origin


def reddit_texts(n: int, seed: int = 3) -> list[str]:
    """`n` Reddit comments (GoEmotions dev) from ../shared/datasets, else `real_texts`' fallback."""
    path = datasets_root(required=False) / "goemotions-sentiment" / "dev.tsv"
    if not path.exists():
        return real_texts(n, seed)[0]
    texts = [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return random.Random(seed).sample(texts, min(n, len(texts)))


def with_duplicates(texts: list[str], share: float = 0.2, seed: int = 5) -> list[str]:
    """Replace `share` of the texts with copies of others (a retweet storm)."""
    rng = random.Random(seed)
    out = list(texts)
    for i in rng.sample(range(len(out)), int(len(out) * share)):
        out[i] = out[rng.randrange(len(out))]
    return out
