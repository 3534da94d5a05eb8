"""BIO tag sequences: the best valid sequence under a model's per-word probabilities.

A token classifier scores each word independently, so its argmax can produce
sequences no annotator would write (`O I-PER`, `B-ORG I-LOC`). Decoding under the BIO
constraint (Viterbi: I-X only after B-X or I-X) picks the most probable *valid*
sequence instead, so an entity's boundaries and type are decided together.
Training evaluation and inference both decode here, so measured scores are what
users get.

A model may also carry learned tag transitions (`CONFIG_KEY` in its config): how much
more often tag j follows tag i in the training data than tag j occurs at all, as a log
ratio (pointwise mutual information), scaled by a weight. The model's probabilities
already hold each tag's prior, so adding the ratio is the HMM correction
P(j | word) * P(j | i) / P(j). It is learned from the gold tag sequences rather than fitted
as a CRF on the model's own training-set outputs: those are overconfident (measured: a
CRF fitted that way lowered wnut17 dev from 61.2 to 58.7).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

CONFIG_KEY = "opinions_tag_transitions"
# measured on wnut17/btc dev with the embedded pack (0.15-0.3 all helped; training/README.md)
DEFAULT_TRANSITION_WEIGHT = 0.2


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


def learned_transitions(tag_sequences: Sequence[Sequence[str]], tags: Sequence[str], weight: float) -> dict[str, Any]:
    """Tag transition scores for a model config (`CONFIG_KEY`), from gold tag sequences.

    `pairs[i][j]` = log P(tag j | previous tag i) - log P(tag j) and `start[j]` = log P(first
    tag j) - log P(tag j), add-one smoothed; decoding adds them times `weight`.
    """
    index = {tag: k for k, tag in enumerate(tags)}
    pairs = np.ones((len(tags), len(tags)))
    first = np.ones(len(tags))
    for sequence in tag_sequences:
        ids = [index[tag] for tag in sequence]
        if ids:
            first[ids[0]] += 1
        for previous, current in itertools.pairwise(ids):
            pairs[previous, current] += 1
    prior = np.log(pairs.sum(axis=0) / pairs.sum())
    follows = np.log(pairs / pairs.sum(axis=1, keepdims=True)) - prior[None, :]
    opens = np.log(first / first.sum()) - prior
    return {"tags": list(tags), "weight": weight, "sentences": len(tag_sequences),
            "pairs": np.round(follows, 4).tolist(), "start": np.round(opens, 4).tolist()}


def transition_scores(config: Any, tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(pairs × weight, start × weight) from a model config that carries them for `tags`, else None."""
    learned = getattr(config, CONFIG_KEY, None) if not isinstance(config, Mapping) else config.get(CONFIG_KEY)
    if not learned or list(learned.get("tags", [])) != list(tags) or not math.isfinite(float(learned.get("weight", 0))):
        return None  # another tag set (a resized head) cannot use them
    weight = float(learned["weight"])
    return weight * np.asarray(learned["pairs"], dtype=np.float64), weight * np.asarray(learned["start"], dtype=np.float64)


def decode(probs: np.ndarray, tags: Sequence[str], learned: tuple[np.ndarray, np.ndarray] | None = None) -> list[int]:
    """Indices of the most probable valid BIO sequence for `probs` [words × tags], with a
    model's learned transition scores (`transition_scores`) added where it has them."""
    if len(probs) == 0:
        return []
    allowed, may_start = transitions(tags)
    pair_scores, start_scores = learned if learned is not None else (0.0, 0.0)
    penalty = np.where(allowed, pair_scores, -np.inf)
    scores = np.log(np.clip(probs, 1e-12, None))
    best = np.where(may_start, scores[0] + start_scores, -np.inf)
    back = np.zeros((len(probs), len(tags)), dtype=np.int64)
    for t in range(1, len(probs)):
        candidates = best[:, None] + penalty  # [previous, next]
        back[t] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[t]
    path = [int(best.argmax())]
    for t in range(len(probs) - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    return path[::-1]


def decode_words(token_probs: np.ndarray, word_ids: Sequence[int | None], tags: Sequence[str],
                 learned: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple[int, int, int]]:
    """(word id, position of its first subword, tag index) for each word, in order.

    A word is scored by its first subword (the one training labels) and the words' tags are
    the most probable valid sequence (`decode`, with the model's `learned` transitions). `token_probs` is [subwords × tags].
    """
    first: dict[int, int] = {}
    for position, wid in enumerate(word_ids):
        if wid is not None and wid not in first:
            first[wid] = position
    words = sorted(first)
    path = decode(token_probs[[first[w] for w in words]], tags, learned)
    return [(wid, first[wid], tag) for wid, tag in zip(words, path, strict=True)]
