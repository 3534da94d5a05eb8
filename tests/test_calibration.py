"""Temperature scaling (`training.calibrate`) and the templated complaint set (`training.complaints`)."""

from __future__ import annotations

import torch

from training.calibrate import expected_calibration_error, fit_temperature
from training.complaints import PROBES_KEPT_OUT, generate


def test_fitted_temperature_undoes_an_overconfident_scale():
    generator = torch.Generator().manual_seed(3)
    true_logits = torch.randn(4000, 3, generator=generator) * 1.5
    gold = torch.multinomial(torch.softmax(true_logits, dim=-1), 1, generator=generator).squeeze(1)
    overconfident = true_logits * 3  # a model three times too sure of itself
    temperature = fit_temperature(overconfident, gold)
    assert 2.6 < temperature < 3.4
    before = expected_calibration_error(torch.softmax(overconfident, -1).tolist(), gold.tolist())
    after = expected_calibration_error(torch.softmax(overconfident / temperature, -1).tolist(), gold.tolist())
    assert after < before / 3


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_it_does_not():
    # four answers at 75% confidence, three of them right
    probs = [[0.75, 0.25, 0.0]] * 4
    assert expected_calibration_error(probs, [0, 0, 0, 1]) == 0.0
    assert expected_calibration_error(probs, [1, 1, 1, 1]) == 75.0


def test_complaint_templates_are_seeded_mixed_and_never_the_probes():
    texts, labels = generate(3000, seed=5)
    assert (texts, labels) == generate(3000, seed=5)
    assert len(texts) == 3000
    share = {label: labels.count(label) / len(labels) for label in ("negative", "neutral", "positive")}
    assert 0.4 < share["negative"] < 0.6 and share["positive"] > 0.15 and share["neutral"] > 0.15
    assert not PROBES_KEPT_OUT & {t.lower() for t in texts}
    assert not any("{" in t for t in texts)  # every slot filled
