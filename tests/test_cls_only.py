"""Sentiment's last layer on [CLS] only (analyzer.models.cls_only): the full model's answers, for less work.

The embedded pack's real weights on real comments of mixed lengths (short tweets, long
YouTube comments cut to head and tail): in full precision the same labels and scores within
1e-5. bf16 keeps the full model (its rounding depends on the row count).
"""

from __future__ import annotations

import pytest

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from tests.test_same_answer import sample_texts

CPU = Runtime("cpu", "float32")
LONG = "The battery lasts all day but the camera app crashes every time I open it, " * 12


def _task(quantize: str, trimmed: bool, monkeypatch: pytest.MonkeyPatch, spec: ModelSpec | None = None):
    from analyzer.tasks.base import TaskOptions
    from analyzer.tasks.sentiment.task import SentimentTask

    monkeypatch.setenv("OPINIONS_TRACE", "0")  # the eager models, compared as they are
    if not trimmed:
        monkeypatch.setattr(SentimentTask, "prepare", lambda self, model: model)
    task = SentimentTask(spec or ModelSpec("sentiment", "embedded"), CPU, TaskOptions(quantize=quantize))
    monkeypatch.undo()
    return task


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [*sample_texts(), LONG, "ok", "", "😡😡 worst update ever @apple https://t.co/x"]


def test_the_trimmed_model_answers_as_the_full_one(texts, monkeypatch):
    from analyzer.models.cls_only import ClsOnly

    trimmed = _task("none", True, monkeypatch)
    full = _task("none", False, monkeypatch)
    # off here means a dependency changed what the trim reads: the reason names the transformers version
    assert isinstance(trimmed.model, ClsOnly), trimmed.speed_paths
    assert trimmed.speed_paths == {"[CLS]-only last layer": "on"} and not isinstance(full.model, ClsOnly)
    assert max(len(s) for s in trimmed.preprocess(texts).sequences) == trimmed.max_length  # a cut text is in
    got, expected = trimmed.predict(texts), full.predict(texts)
    assert [p["label"] for p in got] == [p["label"] for p in expected]
    worst = max(abs(g["scores"][k] - e["scores"][k]) for g, e in zip(got, expected, strict=True) for k in g["scores"])
    assert worst <= 1e-5, worst


def test_bf16_keeps_the_full_model(monkeypatch):
    from analyzer.models.cls_only import ClsOnly

    # a bf16 product rounds differently with its row count: answers would depend on the batch size
    assert not isinstance(_task("bf16", True, monkeypatch).model, ClsOnly)


def test_int8_and_other_architectures_keep_the_full_model(tiny_models, monkeypatch, tmp_path):
    from analyzer.models import cls_only
    from analyzer.models.runtime import load_model, quantize

    folder = str(tiny_models["sentiment"])
    model, state = cls_only.trim(load_model("sequence", folder, CPU))
    assert isinstance(model, cls_only.ClsOnly), state
    # dynamic int8 scales activations per batch: fewer rows would change the answers
    int8 = quantize(load_model("sequence", folder, CPU), "int8", CPU)
    assert cls_only.trim(int8) == (int8, cls_only.Trim(False, "int8 keeps the whole model"))
    token_model = load_model("token", str(tiny_models["ner"]), CPU)
    model, state = cls_only.trim(token_model)
    assert model is token_model and not state.active and not state.expected


def test_a_trim_that_stops_working_says_why_once(tiny_models, monkeypatch, caplog):
    """The first version called a private transformers method; when 5.25 changed it, the trim went off
    for every new install without a word. A fallback now names its cause and the version, once."""
    from importlib import metadata

    from analyzer.models import cls_only
    from analyzer.models.runtime import load_model

    def broken(self, *args, **kwargs):
        raise TypeError("forward() got an unexpected keyword argument 'position_ids'")

    monkeypatch.setattr(cls_only.ClsOnly, "forward", broken)
    monkeypatch.setattr(cls_only, "_warned", set())
    folder = str(tiny_models["sentiment"])
    with caplog.at_level("WARNING", logger="analyzer.models.cls_only"):
        first = cls_only.trim(load_model("sequence", folder, CPU))
        second = cls_only.trim(load_model("sequence", folder, CPU))
    for model, state in (first, second):
        assert not isinstance(model, cls_only.ClsOnly) and state.expected and not state.active
        assert "position_ids" in state.reason and f"transformers {metadata.version('transformers')}" in state.reason
    warnings = [r for r in caplog.records if "[CLS]-only last layer is off" in r.getMessage()]
    assert len(warnings) == 1 and "position_ids" in warnings[0].getMessage()


def test_a_cached_trace_runs_the_trimmed_graph(tiny_models, monkeypatch, tmp_path):
    from analyzer.models import cls_only, traced
    from analyzer.tasks.base import TaskOptions
    from analyzer.tasks.sentiment.task import SentimentTask

    monkeypatch.setenv("OPINIONS_CACHE", str(tmp_path))
    spec = ModelSpec("sentiment", str(tiny_models["sentiment"]))
    first = SentimentTask(spec, CPU, TaskOptions())  # eager and trimmed; makes the trace
    second = SentimentTask(spec, CPU, TaskOptions())
    assert isinstance(first.model, cls_only.ClsOnly) and isinstance(second.model, traced.TracedModel)
    assert second.speed_paths == first.speed_paths == {"[CLS]-only last layer": "on"}  # the trace remembers
    texts = ["I absolutely love this phone", "worst service " * 40, ""]
    assert second.predict(texts) == first.predict(texts)
    # a trace of the full graph, made before (or by version 2 on transformers 5.25, after the trim fell
    # back), is another cache entry: never loaded in its place
    key = traced.trace_dir(str(tiny_models["sentiment"]), "sequence", "none")
    monkeypatch.setattr(traced, "GRAPH_VERSION", traced.GRAPH_VERSION - 1)
    assert traced.trace_dir(str(tiny_models["sentiment"]), "sequence", "none") != key
