"""Loaders for ../shared/datasets (never copied into the repo).

Every loader raises `DatasetsMissing` with a clear message when the folder is absent,
so scripts can exit cleanly on a fresh clone.
"""

from __future__ import annotations

import os
from pathlib import Path

from analyzer.labelled import read_conll, read_labelled_texts
from analyzer.textnorm import normalise_for_sentiment, unescape_unicode

SENTIMENT_LABELS = ["negative", "neutral", "positive"]
NER_TYPES = ["PER", "ORG", "LOC", "PRODUCT", "WORK"]
WNUT_MAP = {
    "person": "PER",
    "location": "LOC",
    "corporation": "ORG",
    "group": "ORG",
    "product": "PRODUCT",
    "creative-work": "WORK",
}


class DatasetsMissing(SystemExit):
    pass


def datasets_root() -> Path:
    root = Path(os.environ.get("OPINIONS_DATASETS", Path(__file__).resolve().parents[1].parent / "shared" / "datasets"))
    if not root.is_dir():
        raise DatasetsMissing(f"skipped: labelled datasets not found at {root} (set OPINIONS_DATASETS)")
    return root


def tweeteval_val() -> tuple[list[str], list[str]]:
    root = datasets_root() / "tweeteval-sentiment"
    texts = (root / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [SENTIMENT_LABELS[int(x)] for x in (root / "val_labels.txt").read_text().split()]
    return texts, labels


def semeval_train(exclude: set[str]) -> tuple[list[str], list[str]]:
    """All SemEval files, de-duplicated, minus any tweet that is in TweetEval val."""
    texts, labels, seen = [], [], set(exclude)
    for path in sorted((datasets_root() / "semeval-sentiment").glob("*.tsv")):
        data = read_labelled_texts(path)
        for text, label in zip(data.texts, data.labels, strict=True):
            text = unescape_unicode(text).strip()
            key = normalise_for_sentiment(text).lower()
            if label not in SENTIMENT_LABELS or key in seen:
                continue
            seen.add(key)
            texts.append(text)
            labels.append(label)
    return texts, labels


def goemotions(split: str) -> tuple[list[str], list[str]]:
    """GoEmotions grouped sentiment, rows with one label among negative/neutral/positive."""
    names = ["ambiguous", "negative", "neutral", "positive"]
    texts, labels = [], []
    for line in (datasets_root() / "goemotions-sentiment" / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or "," in parts[1]:
            continue
        label = names[int(parts[1])]
        if label == "ambiguous":
            continue
        texts.append(parts[0])
        labels.append(label)
    return texts, labels


def ner_split(name: str, split: str) -> tuple[list[list[str]], list[list[str]]]:
    """btc or wnut17 CoNLL with tags mapped onto PER/ORG/LOC/PRODUCT/WORK."""
    data = read_conll(datasets_root() / name / f"{split}.conll")
    tags = []
    for sentence in data.tags:
        mapped = []
        for tag in sentence:
            if tag == "O":
                mapped.append("O")
            else:
                kind = tag[2:]
                mapped.append(tag[:2] + WNUT_MAP.get(kind, kind))
        tags.append(mapped)
    return data.tokens, tags
