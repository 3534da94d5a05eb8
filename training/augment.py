"""Gazetteer-free augmentation for NER: mention replacement (Dai & Adel, COLING 2020).

A copy of a tagged sentence in which each entity mention is, with probability `p`, swapped
for another mention of the same type drawn from the training data itself (no outside name
lists). The model sees the same contexts with other names, and rare types such as WNUT's
products and works appear in more contexts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def mentions(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each BIO mention."""
    spans: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-") or (tag.startswith("I-") and (i == 0 or tags[i - 1][2:] != tag[2:] or tags[i - 1] == "O")):
            spans.append((i, i + 1, tag[2:]))
        elif tag.startswith("I-") and spans and spans[-1][1] == i:
            spans[-1] = (spans[-1][0], i + 1, spans[-1][2])
    return spans


def mention_pools(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> dict[str, list[list[str]]]:
    pools: dict[str, list[list[str]]] = {}
    for words, sentence_tags in zip(sentences, tags, strict=True):
        for start, end, kind in mentions(sentence_tags):
            pools.setdefault(kind, []).append(list(words[start:end]))
    return pools


def mention_replaced(words: Sequence[str], tags: Sequence[str], pools: dict[str, list[list[str]]],
                     rng: random.Random, p: float = 0.5) -> tuple[list[str], list[str]]:
    out_words: list[str] = []
    out_tags: list[str] = []
    position = 0
    for start, end, kind in mentions(tags):
        out_words += words[position:start]
        out_tags += tags[position:start]
        chosen = rng.choice(pools[kind]) if kind in pools and rng.random() < p else list(words[start:end])
        out_words += chosen
        out_tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(chosen) - 1)
        position = end
    out_words += words[position:]
    out_tags += tags[position:]
    return out_words, out_tags
