"""The offensive and emotion pack entries (issue 31), with real weights: materialised from the pack as stored
(base + int8 deltas), loaded as a plain transformers classifier, and asked a few obvious texts. No dataset needed."""

from __future__ import annotations

import json

import pytest

from analyzer.models import pack as modelpack

PROBES = {
    "offensive": [
        ("you are a stupid worthless idiot", "offensive"),
        ("shut up you pathetic moron", "offensive"),
        ("thank you so much for your help today", "not-offensive"),
        ("the meeting is moved to 3pm on thursday", "not-offensive"),
    ],
    "emotion": [
        ("I'm so angry right now", "anger"),
        ("this is wonderful news, I'm so happy!", "joy"),
        ("I miss her so much, I can't stop crying", "sadness"),
        ("I'm terrified of what will happen tomorrow", "fear"),
    ],
}
LABELS = {
    "offensive": ["not-offensive", "offensive"],
    "emotion": ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"],
}


def classify(task: str, texts: list[str]) -> list[dict[str, float]]:
    import torch
    import transformers

    from analyzer.text.normalise import model_normalisation, normaliser

    folder = modelpack.materialise(task)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    normalise = normaliser(model_normalisation(model.config))  # the entry names the normalisation it was trained on
    batch = tokenizer([normalise(t) for t in texts], padding=True, truncation=True, max_length=96, return_tensors="pt")
    with torch.inference_mode():
        probs = torch.softmax(model(**batch).logits, dim=-1)
    return [{model.config.id2label[i]: float(p) for i, p in enumerate(row)} for row in probs]


@pytest.mark.parametrize("task", sorted(PROBES))
def test_the_entry_answers_obvious_texts(task):
    texts = [text for text, _ in PROBES[task]]
    got = [max(scores, key=scores.get) for scores in classify(task, texts)]
    wrong = {text: (answer, want) for (text, want), answer in zip(PROBES[task], got, strict=True) if answer != want}
    assert not wrong, f"(got, wanted): {wrong}"


@pytest.mark.parametrize("task", sorted(PROBES))
def test_the_entry_is_small_verified_calibrated_and_names_its_labels(task):
    entry = modelpack.pack_entry(task)
    manifest = entry.manifest
    assert manifest["labels"] == LABELS[task]
    config = json.loads((entry.folder / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(LABELS[task]))] == LABELS[task]
    assert manifest["languages"] == ["en"]
    assert manifest["bytes"] == entry.weights.stat().st_size <= 9_500_000
    assert modelpack.sha256_file(entry.weights) == manifest["sha256"]
    calibration = manifest["calibration"]
    assert calibration["temperature"] > 0
    assert calibration["nll_after"] <= calibration["nll_before"]  # what the temperature minimises
    # ECE is not what is fitted: emotion's one temperature moves it 4.68 -> 4.73 (class weights skew classes apart)
    assert calibration["ece_after"] <= calibration["ece_before"] + 0.5


def test_the_whole_pack_stays_under_40_mb():
    total = sum(path.stat().st_size for path in modelpack.PACK_DIR.rglob("*") if path.is_file())
    assert total <= 40_000_000
