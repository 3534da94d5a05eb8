"""Per-class logit offsets for the sentiment entry (`training.class_bias`), on synthetic logits."""

from __future__ import annotations

import torch

from analyzer.labels.metrics import classification_scores
from training.class_bias import biased_labels, fit_offsets, label_ids, macro_scores
from training.datasets import SENTIMENT_LABELS


def _planted(n: int, seed: int, shift: list[float]) -> tuple[torch.Tensor, list[str]]:
    """Logits of a model that is right in expectation, with `shift` subtracted (a decision bias)."""
    generator = torch.Generator().manual_seed(seed)
    gold = torch.randint(0, 3, (n,), generator=generator)
    logits = torch.randn(n, 3, generator=generator) + 1.5 * torch.nn.functional.one_hot(gold, 3)
    return logits - torch.tensor(shift), [SENTIMENT_LABELS[i] for i in gold.tolist()]


def test_fast_scores_match_sklearn():
    logits, gold = _planted(600, 1, [0.0, 0.7, 0.0])
    for offsets in ([0.0, 0.0, 0.0], [0.2, 0.5, 0.0], [-0.4, 1.0, 0.0]):
        recall, f1 = macro_scores(logits, label_ids(gold), offsets)
        reference = classification_scores(gold, biased_labels(logits, offsets), SENTIMENT_LABELS)
        assert abs(recall - reference["macro_recall"]) < 0.01
        assert abs(f1 - reference["macro_f1"]) < 0.01


def test_fitted_offsets_undo_a_planted_neutral_bias():
    val = _planted(3000, 2, [0.0, 0.8, 0.0])
    ge = _planted(3000, 3, [0.0, 0.8, 0.0])
    offsets = fit_offsets(val, ge)
    assert offsets[2] == 0.0
    assert 0.5 <= offsets[1] - offsets[0] <= 1.1 and abs(offsets[0]) <= 0.3
    recall_before = macro_scores(val[0], label_ids(val[1]), [0.0, 0.0, 0.0])[0]
    assert macro_scores(val[0], label_ids(val[1]), offsets)[0] > recall_before + 1


def test_an_unbiased_model_keeps_small_offsets():
    val, ge = _planted(3000, 4, [0.0, 0.0, 0.0]), _planted(3000, 5, [0.0, 0.0, 0.0])
    assert all(abs(x) <= 0.3 for x in fit_offsets(val, ge))
