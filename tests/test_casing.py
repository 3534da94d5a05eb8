"""Letter case as token type ids (analyzer.text.casing): classes, training/inference agreement, and that
a model trained with it actually receives it. Tiny randomly initialised stand-in models: plumbing only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from analyzer.text.casing import CAPITALISED, LOWER, NONE, UPPER, case_type, enable_case_types

CPU = Runtime("cpu", "float32")


def test_a_subword_takes_the_case_of_its_letter_run_and_punctuation_its_own():
    def classes(word: str) -> list[int]:
        return [case_type(word, i, i + 1) for i in range(len(word))]

    assert classes("Visit") == [CAPITALISED] * 5
    assert classes("U.S.") == [CAPITALISED, NONE, CAPITALISED, NONE]
    assert classes("NASA's") == [UPPER] * 4 + [NONE, LOWER]
    assert classes("iPhone") == [CAPITALISED] * 6  # mixed case reads as a name
    assert classes("@Bob") == [NONE] + [CAPITALISED] * 3
    assert classes("ÉCOLE 2024") == [UPPER] * 5 + [NONE] * 5
    assert case_type("hello", 2, 4) == LOWER and case_type("x", 0, 0) == NONE


@pytest.fixture(scope="module")
def cased_ner(tiny_models, tmp_path_factory) -> Path:
    """The tiny NER stand-in with case types enabled and distinct (random) type embeddings."""
    from transformers import AutoModelForTokenClassification

    folder = tmp_path_factory.mktemp("cased-ner")
    shutil.copytree(tiny_models["ner"], folder, dirs_exist_ok=True)
    model = AutoModelForTokenClassification.from_pretrained(str(folder))
    enable_case_types(model)
    with torch.no_grad():
        torch.manual_seed(1)
        model.base_model.embeddings.token_type_embeddings.weight.normal_(0, 1.0)
    model.save_pretrained(folder)
    return folder


def _ner(folder: Path):
    from analyzer.tasks.ner.task import NerTask

    return NerTask(ModelSpec("ner", str(folder)), CPU)


def test_inference_gives_subwords_the_case_types_training_gave_them(cased_ner, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_TRACE", "0")
    from analyzer.finetune.loop import encode_tagged
    from analyzer.models.runtime import load_tokenizer

    words = ["Apple", "and", "NASA's", "U.S.", "iPhone", "launch", "#Fail"]
    features, _ = encode_tagged(load_tokenizer(str(cased_ner)), [words], 64, case_types=True)
    task = _ner(cased_ner)
    seen: list[torch.Tensor] = []
    forward = task._forward
    monkeypatch.setattr(task, "_forward", lambda ids, mask, types=None: seen.append(types) or forward(ids, mask, types))
    task.predict([" ".join(words)])
    assert seen[0][0].tolist() == features[0]["token_type_ids"]
    assert set(features[0]["token_type_ids"]) == {NONE, LOWER, CAPITALISED, UPPER}


def test_a_model_trained_with_case_types_reads_letter_case_traced_or_not(cased_ner, tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path))

    def logits(folder: Path, text: str) -> torch.Tensor:
        task = _ner(folder)
        ids = task.tokenizer([text], add_special_tokens=False, return_offsets_mapping=True)
        out: list[torch.Tensor] = []
        forward = task._forward
        task._forward = lambda i, m, t=None: out.append(forward(i, m, t)) or out[-1]
        task.predict([text])
        assert ids["input_ids"]  # the text was tokenised
        return out[0]

    uncased = tiny_models["ner"]
    assert torch.equal(logits(uncased, "apple pie in paris"), logits(uncased, "Apple pie in Paris"))
    eager = logits(cased_ner, "Apple pie in Paris")  # first load: eager, and makes the trace
    assert not torch.allclose(logits(cased_ner, "apple pie in paris"), eager)
    from analyzer.models import traced
    assert isinstance(_ner(cased_ner).model, traced.TracedModel)
    assert torch.allclose(logits(cased_ner, "Apple pie in Paris"), eager, atol=1e-5)
