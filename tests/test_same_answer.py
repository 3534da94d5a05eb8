"""Same text, same model, same answer: a text's result never depends on its batch neighbours, its
position, the batch size, the thread count or the engine.

Runs the EMBEDDED pack (real weights, at the precision `--quantize auto` picks on this machine) on
240 comments from sample_data. Dynamic int8 would fail these tests (17 of 300 labels flip
with another token budget), which is why `--quantize auto` never picks it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from analyzer.models.spec import ModelSpec
from analyzer.tasks import NAMES, task_class
from analyzer.tasks.analysis import AnalysisSettings, Predictor
from analyzer.tasks.classifier import SentenceClassifier

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
TASKS = list(NAMES)  # every registered task, its embedded entry
CLASSIFIERS = [task for task in TASKS if issubclass(task_class(task), SentenceClassifier)]


def sample_texts(limit: int = 240) -> list[str]:
    texts = [json.loads(line)["text"] for line in (SAMPLE / "youtube_comments_iphone17pro_review.jsonl").open()]
    texts += [tweet["text"] for tweet in json.loads((SAMPLE / "tweets_v2.json").read_text())["data"]]
    unique = list(dict.fromkeys(texts))
    return random.Random(7).sample(unique, min(limit, len(unique)))


def settings(**overrides: Any) -> AnalysisSettings:
    specs = {task: ModelSpec(task, "embedded") for task in TASKS}
    return AnalysisSettings(TASKS, specs, device="cpu", **overrides)


def predict(texts: list[str], order: list[int], **overrides: Any) -> dict[int, dict[str, Any]]:
    """Each text's results, keyed by its index in `texts`, computed with the texts in `order`."""
    predictor = Predictor(settings(**overrides))
    out = predictor({"text": [texts[i] for i in order], "text_hash": [str(i) for i in order], "lang": ["en"] * len(order)})
    return {i: {task: out[task][k] for task in TASKS} for k, i in enumerate(order)}


def assert_same_answers(expected: dict[int, dict[str, Any]], got: dict[int, dict[str, Any]]) -> None:
    for task in CLASSIFIERS:
        labels = [i for i in expected if expected[i][task]["label"] != got[i][task]["label"]]
        assert not labels, f"{len(labels)} {task} labels changed, e.g. text {labels[:5]}"
        worst = max(abs(expected[i][task]["scores"][k] - got[i][task]["scores"][k])
                    for i in expected for k in expected[i][task]["scores"])
        assert worst <= 0.01, (task, worst)
    spans = [i for i in expected
             if [(e["start"], e["end"], e["label"]) for e in expected[i]["ner"]]
             != [(e["start"], e["end"], e["label"]) for e in got[i]["ner"]]]
    assert not spans, f"{len(spans)} texts got other entities, e.g. text {spans[:5]}"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return sample_texts()


@pytest.fixture(scope="module")
def in_order(texts: list[str]) -> dict[int, dict[str, Any]]:
    return predict(texts, list(range(len(texts))))


def test_enough_real_texts_with_every_label(texts, in_order):
    assert len(texts) >= 200
    assert {r["sentiment"]["label"] for r in in_order.values()} == {"negative", "neutral", "positive"}
    assert sum(1 for r in in_order.values() if r["ner"]) > 50
    assert {r["offensive"]["label"] for r in in_order.values()} == {"offensive", "not-offensive"}
    assert len({r["emotion"]["label"] for r in in_order.values()}) >= 4


def test_shuffled_and_reversed_input_gives_the_same_answers(texts, in_order):
    shuffled = list(range(len(texts)))
    random.Random(3).shuffle(shuffled)
    assert_same_answers(in_order, predict(texts, shuffled))
    assert_same_answers(in_order, predict(texts, list(reversed(range(len(texts))))))


def test_one_text_per_batch_gives_the_same_answers_as_the_default_budget(texts, in_order):
    assert_same_answers(in_order, predict(texts, list(range(len(texts))), batch_tokens=1))


def test_one_thread_gives_the_same_answers_as_two(texts, in_order):
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        predictor = Predictor(settings())
        torch.set_num_threads(1)  # choose_runtime sets OPINIONS_THREADS (2 in tests); this run is the 1-thread one
        order = list(range(len(texts)))
        out = predictor({"text": [texts[i] for i in order], "text_hash": [str(i) for i in order], "lang": ["en"] * len(order)})
    finally:
        torch.set_num_threads(before)
    assert_same_answers(in_order, {i: {task: out[task][i] for task in TASKS} for i in order})


def test_ray_with_small_batches_gives_the_same_answers_as_local(tmp_path, texts):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'opinions[ray]')")
    from analyzer.ingest import IngestOptions, ingest
    from analyzer.ingest.ray import RayOptions, RaySession
    from analyzer.store.database import Store
    from tests.helpers import sql, write_jsonl

    dump = write_jsonl(tmp_path / "d.jsonl", [{"id": f"c{i}", "text": t, "created_at": 1_759_300_000 + i, "lang": "en"}
                                              for i, t in enumerate(texts)])
    results = {}
    for engine in ("local", "ray"):
        db = tmp_path / f"{engine}.duckdb"
        options = IngestOptions(analysis=settings(), engine=engine, ray=RayOptions(batch_rows=7))
        if engine == "ray":
            with RaySession(RayOptions()):
                ingest(Store(db), [str(dump)], options)
        else:
            ingest(Store(db), [str(dump)], options)
        results[engine] = {
            **{task: sql(db, f"SELECT text_hash, model, label, score FROM {task} ORDER BY text_hash")
               for task in CLASSIFIERS},
            "ner": sql(db, 'SELECT text_hash, model, "start", "end", label FROM entities ORDER BY ALL'),
        }
    local, ray = results["local"], results["ray"]
    for task in CLASSIFIERS:
        assert len(local[task]) == len(texts)
        assert local[task][0][1].endswith("+fp32") or "+bf16" in local[task][0][1]
        # labels and models exactly; scores as closely as assert_same_answers asks (bf16 on a CPU
        # with AMX rounds a little differently with other batch shapes and thread counts)
        assert [row[:3] for row in local[task]] == [row[:3] for row in ray[task]]
        assert max(abs(a[3] - b[3]) for a, b in zip(local[task], ray[task], strict=True)) <= 0.01
    assert local["ner"] == ray["ner"]
