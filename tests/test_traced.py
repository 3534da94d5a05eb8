"""Traced models (analyzer.models.traced): same answers as the eager model, and a start without transformers.

Tiny randomly initialised stand-in models: these pin plumbing (identical outputs, cache
keys, fallbacks), not prediction quality.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.models import traced
from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec

CPU = Runtime("cpu", "float32")
TEXTS = ["I absolutely love this phone", "Barack Obama met Angela Merkel in Berlin #fail @support",
         "worst service " * 40, "", "Apple and Samsung released new phones this week"]


def _task(kind: str, folder: Path, quantize: str = "none"):
    from analyzer.tasks.base import TaskOptions
    from analyzer.tasks.ner.task import NerTask
    from analyzer.tasks.sentiment.task import SentimentTask

    cls = SentimentTask if kind == "sentiment" else NerTask
    return cls(ModelSpec(kind, str(folder)), CPU, TaskOptions(quantize=quantize))


@pytest.mark.parametrize(("kind", "quantize"), [("sentiment", "none"), ("ner", "none"), ("sentiment", "bf16")])
def test_traced_model_gives_the_eager_models_answers(kind, quantize, tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path))
    first = _task(kind, tiny_models[kind], quantize)  # eager; makes the trace
    assert not isinstance(first.model, traced.TracedModel)
    second = _task(kind, tiny_models[kind], quantize)
    assert isinstance(second.model, traced.TracedModel)
    assert isinstance(second.tokenizer, traced.BareTokenizer)
    assert second.max_length == first.max_length
    assert second.predict(TEXTS) == first.predict(TEXTS)


def test_a_run_with_a_cached_trace_never_imports_transformers(tiny_models, tmp_path):
    env_code = f"""
import os, sys, json
os.environ["OPINIONS_CACHE"] = {str(tmp_path)!r}
from analyzer.models.spec import ModelSpec
from analyzer.models.runtime import Runtime
from analyzer.tasks.ner.task import NerTask
task = NerTask(ModelSpec("ner", {str(tiny_models["ner"])!r}), Runtime("cpu", "float32"))
out = task.predict(["Barack Obama met Angela Merkel in Berlin"])
print(json.dumps({{"transformers": "transformers" in sys.modules, "traced": type(task.model).__name__}}))
"""
    runs = [json.loads(subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True, check=True,
                                      cwd=Path(__file__).resolve().parents[1]).stdout) for _ in range(2)]
    assert runs[0] == {"transformers": True, "traced": "BertForTokenClassification"}
    assert runs[1] == {"transformers": False, "traced": "TracedModel"}


def test_a_changed_model_or_int8_or_a_gpu_gets_no_stale_trace(tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    import shutil

    shutil.copytree(tiny_models["sentiment"], folder)
    before = traced.trace_dir(str(folder), "sequence", "none")
    (folder / "config.json").write_text((folder / "config.json").read_text() + "\n")  # any rewrite of a file
    assert traced.trace_dir(str(folder), "sequence", "none") != before
    assert traced.trace_dir(str(folder), "sequence", "bf16") != traced.trace_dir(str(folder), "sequence", "none")
    assert not traced.eligible(str(folder), CPU, "int8")  # a traced int8 model ran 2.2x slower than eager
    assert not traced.eligible(str(folder), Runtime("cuda:0", "bfloat16"), "none")
    monkeypatch.setenv("OPINIONS_TRACE", "0")
    assert not traced.eligible(str(folder), CPU, "none")


def test_a_new_trace_of_a_model_replaces_its_older_ones(tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path / "cache"))
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_models["sentiment"], folder)
    _task("sentiment", folder)
    old = traced.trace_dir(str(folder), "sequence", "none")
    (folder / "config.json").write_text((folder / "config.json").read_text() + "\n")  # as an upgrade would
    _task("sentiment", folder)
    new = traced.trace_dir(str(folder), "sequence", "none")
    assert new != old and new.exists() and not old.exists()
    assert [p.name for p in new.parent.iterdir()] == [new.name]


def test_a_broken_trace_is_dropped_and_rebuilt(tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path))
    reference = _task("sentiment", tiny_models["sentiment"]).predict(TEXTS)
    entry = traced.trace_dir(str(tiny_models["sentiment"]), "sequence", "none")
    (entry / "model.pt").write_bytes(b"not a torchscript archive")
    assert traced.load(str(tiny_models["sentiment"]), "sequence", "none", CPU) is None
    assert not entry.exists()
    again = _task("sentiment", tiny_models["sentiment"])  # eager again, and traced anew
    assert again.predict(TEXTS) == reference
    assert isinstance(_task("sentiment", tiny_models["sentiment"]).model, traced.TracedModel)


def test_no_trace_is_kept_when_the_bare_tokenizer_would_encode_differently(tiny_models, monkeypatch, tmp_path):
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path))
    from analyzer.models.runtime import load_model, load_tokenizer

    folder = str(tiny_models["sentiment"])
    tokenizer = load_tokenizer(folder)
    tokenizer.backend_tokenizer.normalizer = None  # transformers' tokenizer now keeps case; tokenizer.json lowercases
    assert traced.save(folder, "sequence", "none", CPU, tokenizer, load_model("sequence", folder, CPU)) is False
    assert not traced.trace_dir(folder, "sequence", "none").exists()


def test_an_unwritable_cache_costs_no_tracing_and_the_run_goes_on(tiny_models, monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")
    monkeypatch.setenv("OPINIONS_CACHE", str(cache))
    traces = []
    monkeypatch.setattr(traced, "_trace", lambda *a: traces.append(a))
    task = _task("sentiment", tiny_models["sentiment"])
    assert not isinstance(task.model, traced.TracedModel) and traces == []
    assert [r["label"] for r in task.predict(TEXTS)]


def test_a_traced_ner_model_decodes_with_the_models_learned_tag_transitions(tiny_models, monkeypatch, tmp_path):
    import shutil

    from analyzer.tasks.ner import bio
    folder = tmp_path / "ner-transitions"
    shutil.copytree(tiny_models["ner"], folder)
    config = json.loads((folder / "config.json").read_text())
    tags = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    # a heavy weight against O after O: the random model's near-uniform outputs then tag more words
    gold = [["B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]] * 20 + [["O", "B-PER"]]
    config[bio.CONFIG_KEY] = bio.learned_transitions(gold, tags, weight=5.0)
    (folder / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path / "cache"))
    plain = _task("ner", tiny_models["ner"]).predict(TEXTS)
    eager = _task("ner", folder)
    again = _task("ner", folder)
    assert isinstance(again.model, traced.TracedModel)
    assert eager.predict(TEXTS) == again.predict(TEXTS)
    assert eager.predict(TEXTS) != plain  # the transitions change what is decoded
