"""BIO tag sequences: the best valid sequence under a model's per-word probabilities.

A token classifier scores each word independently, so its argmax can produce
sequences no annotator would write (`O I-PER`, `B-ORG I-LOC`). Decoding under the BIO
constraint (Viterbi: I-X only after B-X or I-X) picks the most probable *valid*
sequence instead, so an entity's boundaries and type are decided together.
Training evaluation and inference both decode here, so measured scores are what
users get.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(allowed[i, j]: tag j may follow tag i, may_start[j]: tag j may open a sentence)."""
    # only where the tag set has B-X: an IO-scheme model (I-X alone) keeps I-X unconstrained
    inside = [t[2:] if t.startswith("I-") and f"B-{t[2:]}" in tags else None for t in tags]
    allowed = np.ones((len(tags), len(tags)), dtype=bool)
    for j, kind in enumerate(inside):
        if kind is not None:
            allowed[:, j] = [t in (f"B-{kind}", f"I-{kind}") for t in tags]
    may_start = np.array([kind is None for kind in inside])
    return allowed, may_start


def decode(probs: np.ndarray, tags: Sequence[str]) -> list[int]:
    """Indices of the most probable valid BIO sequence for `probs` [words × tags]."""
    if len(probs) == 0:
        return []
    allowed, may_start = transitions(tags)
    penalty = np.where(allowed, 0.0, -np.inf)
    scores = np.log(np.clip(probs, 1e-12, None))
    best = np.where(may_start, scores[0], -np.inf)
    back = np.zeros((len(probs), len(tags)), dtype=np.int64)
    for t in range(1, len(probs)):
        candidates = best[:, None] + penalty  # [previous, next]
        back[t] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[t]
    path = [int(best.argmax())]
    for t in range(len(probs) - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    return path[::-1]


def decode_words(token_probs: np.ndarray, word_ids: Sequence[int | None], tags: Sequence[str]) -> list[tuple[int, int, int]]:
    """(word id, position of its first subword, tag index) for each word, in order.

    A word is scored by its first subword (the one training labels) and the words' tags are
    the most probable valid sequence (`decode`). `token_probs` is [subwords × tags].
    """
    first: dict[int, int] = {}
    for position, wid in enumerate(word_ids):
        if wid is not None and wid not in first:
            first[wid] = position
    words = sorted(first)
    path = decode(token_probs[[first[w] for w in words]], tags)
    return [(wid, first[wid], tag) for wid, tag in zip(words, path, strict=True)]
