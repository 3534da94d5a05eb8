"""Loaders for ../shared/datasets (never copied into the repo).

Every loader raises `DatasetsMissing` with a clear message when the folder is absent,
so scripts can exit cleanly on a fresh clone.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from analyzer.labels.read import read_conll, read_labelled_texts
from analyzer.text.normalise import normalise_for_sentiment, unescape_unicode

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


def datasets_root(required: bool = True) -> Path:
    """The labelled datasets: $OPINIONS_DATASETS, else ../shared/datasets next to the repository.
    `required`: a missing folder skips the script (DatasetsMissing); else the caller checks its sub-folder."""
    root = Path(os.environ.get("OPINIONS_DATASETS", Path(__file__).resolve().parents[1].parent / "shared" / "datasets"))
    if required and not root.is_dir():
        raise DatasetsMissing(f"skipped: labelled datasets not found at {root} (set OPINIONS_DATASETS)")
    return root


def tweeteval_val() -> tuple[list[str], list[str]]:
    root = datasets_root() / "tweeteval-sentiment"
    texts = (root / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [SENTIMENT_LABELS[int(x)] for x in (root / "val_labels.txt").read_text().split()]
    return texts, labels


# The latest period of SemEval (2016 test and devtest): held out of every training run and scored beside
# validation. TweetEval val comes from the same pool as training, and scores ~7 points above tweets of a
# later period (its test split); choices made on it (data mixes, checkpoints, soups) went the wrong way.
TESTLIKE_FILES = ("twitter-2016test-A.tsv", "twitter-2016devtest-A.tsv")


def tweet_key(text: str) -> str:
    """What makes two SemEval tweets the same one (files repeat tweets, escaped differently)."""
    return normalise_for_sentiment(unescape_unicode(text).strip()).lower()


def semeval_testlike(rows: int = 4000, seed: int = 13) -> tuple[list[str], list[str]]:
    """A seeded sample of `rows` tweets (0: all 22.6k) of SemEval's latest period, de-duplicated."""
    texts, labels, seen = [], [], set()
    for name in TESTLIKE_FILES:
        data = read_labelled_texts(datasets_root() / "semeval-sentiment" / name)
        for text, label in zip(data.texts, data.labels, strict=True):
            key = tweet_key(text)
            if label in SENTIMENT_LABELS and key not in seen:
                seen.add(key)
                texts.append(unescape_unicode(text).strip())
                labels.append(label)
    if rows and rows < len(texts):
        pick = sorted(random.Random(seed).sample(range(len(texts)), rows))
        texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
    return texts, labels


def semeval_train(exclude: set[str], keep_testlike: bool = False) -> tuple[list[str], list[str]]:
    """All SemEval files, de-duplicated, minus any tweet that is in TweetEval val (`exclude`, lower-cased)
    and, unless `keep_testlike`, every tweet of the test-like period (all of it, not only the scored sample)."""
    texts, labels, seen = [], [], set(exclude)
    if not keep_testlike:
        seen |= set(map(tweet_key, semeval_testlike(rows=0)[0]))
    for path in sorted((datasets_root() / "semeval-sentiment").glob("*.tsv")):
        if not keep_testlike and path.name in TESTLIKE_FILES:
            continue
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
    texts, labels = goemotions_single("goemotions-sentiment", split, ["ambiguous", "negative", "neutral", "positive"])
    keep = [i for i, label in enumerate(labels) if label != "ambiguous"]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def goemotions_single(folder: str, split: str, names: list[str]) -> tuple[list[str], list[str]]:
    """The single-label rows of a GoEmotions folder (`text<TAB>label ids<TAB>id`); rows with several labels
    (several ids, comma-separated) are left out."""
    texts, labels = [], []
    for line in (datasets_root() / folder / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or "," in parts[1]:
            continue
        texts.append(parts[0])
        labels.append(names[int(parts[1])])
    return texts, labels


EMOTION_LABELS = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]  # GoEmotions' Ekman grouping
OFFENSIVE_LABELS = ["not-offensive", "offensive"]
# TweetEval emotion's four labels as Ekman emotions: optimism is a kind of joy
TWEETEVAL_EMOTION_EKMAN = {"anger": "anger", "joy": "joy", "optimism": "joy", "sadness": "sadness"}


def goemotions_ekman(split: str) -> tuple[list[str], list[str]]:
    """GoEmotions Ekman comments with exactly one of the seven labels (multi-label rows left out)."""
    return goemotions_single("goemotions-ekman", split, EMOTION_LABELS)


def tweeteval_task(folder: str, split: str) -> tuple[list[str], list[str]]:
    """A TweetEval split (`{split}_text.txt`, `{split}_labels.txt`) with its ids named by `mapping.txt`."""
    root = datasets_root() / folder
    names = [line.split("\t")[1].strip() for line in (root / "mapping.txt").read_text().splitlines() if "\t" in line]
    texts = (root / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [names[int(x)] for x in (root / f"{split}_labels.txt").read_text().split()]
    return [t.strip() for t in texts], labels


def tweeteval_offensive(split: str) -> tuple[list[str], list[str]]:
    """TweetEval offensive (OffensEval 2019 / OLID): not-offensive / offensive tweets."""
    return tweeteval_task("tweeteval-offensive", split)


def tweeteval_emotion_ekman(split: str) -> tuple[list[str], list[str]]:
    """TweetEval emotion tweets as Ekman emotions (anger, joy, sadness; optimism as joy)."""
    texts, names = tweeteval_task("tweeteval-emotion", split)
    return texts, [TWEETEVAL_EMOTION_EKMAN[name] for name in names]


EMOTION_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}


def tweeteval_emotion(split: str) -> tuple[list[str], list[str]]:
    """TweetEval emotion tweets as sentiment: anger and sadness negative, joy and optimism positive."""
    texts, names = tweeteval_task("tweeteval-emotion", split)
    return texts, [EMOTION_SENTIMENT[name] for name in names]


def emoji_examples(min_occurrences: int = 50, min_share: float = 0.5, min_margin: float = 0.15,
                   ) -> tuple[list[str], list[str]]:
    """Emoji-only texts ("😡", "😡😡😡") labelled by the Emoji Sentiment Ranking, where one class clearly
    dominates the tweets an emoji occurs in (😂 does not: 47% positive, so context decides)."""
    import csv

    texts, labels = [], []
    with open(datasets_root() / "emoji-sentiment" / "Emoji_Sentiment_Data_v1.0.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts = [int(row["Negative"]), int(row["Neutral"]), int(row["Positive"])]
            total = sum(counts)
            if total < min_occurrences:
                continue
            shares = sorted((c / total, i) for i, c in enumerate(counts))
            (top, best), (second, _) = shares[-1], shares[-2]
            if top >= min_share and top - second >= min_margin:
                for repeat in (1, 3):
                    texts.append(row["Emoji"] * repeat)
                    labels.append(SENTIMENT_LABELS[best])
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
