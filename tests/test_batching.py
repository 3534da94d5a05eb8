"""The shared batching mechanism: order restored, token budget kept, OOM back-off, long texts."""

from __future__ import annotations

import logging

import torch

from analyzer.models.batching import BatchStats, plan_batches, run_batched


def test_batches_respect_the_token_budget_and_results_come_back_in_input_order():
    sequences = [[i] * length for i, length in enumerate([5, 50, 3, 17, 50, 1, 33, 8, 2, 40])]
    seen_shapes = []

    def forward(ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None) -> torch.Tensor:
        seen_shapes.append(tuple(ids.shape))
        return (ids * mask).sum(dim=1, keepdim=True).float() / mask.sum(dim=1, keepdim=True)

    out = run_batched(sequences, forward, pad_id=0, budget=100)
    assert [int(row.item()) for row in out] == list(range(len(sequences)))
    assert all(rows * width <= 100 or rows == 1 for rows, width in seen_shapes)
    assert len(seen_shapes) < len(sequences)  # short texts share batches


def test_token_types_travel_with_their_rows_and_pad_with_zero():
    sequences = [[7] * length for length in [4, 30, 2, 9]]
    types = [[row + 1] * len(seq) for row, seq in enumerate(sequences)]

    def forward(ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None) -> torch.Tensor:
        assert types is not None and types.shape == ids.shape
        assert torch.equal(types * (1 - mask), torch.zeros_like(types))  # padding has type 0
        return (types * mask).amax(dim=1, keepdim=True).float()

    out = run_batched(sequences, forward, pad_id=0, budget=40, types=types)
    assert [int(row.item()) for row in out] == [1, 2, 3, 4]


def test_plan_sorts_by_length_within_a_window():
    lengths = [3, 90, 4, 88, 5, 91]
    batches = plan_batches(lengths, budget=200)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert batches[0] == [5, 1]  # the longest ones together, not padded next to short ones


def test_out_of_memory_halves_the_budget_and_retries_without_losing_rows():
    calls = []

    def forward(ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None) -> torch.Tensor:
        calls.append(ids.numel())
        if ids.numel() > 64:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return ids[:, :1].float()

    stats = BatchStats()
    sequences = [[i + 1] * 16 for i in range(20)]
    out = run_batched(sequences, forward, pad_id=0, budget=320, stats=stats)
    assert [int(row.item()) for row in out] == [i + 1 for i in range(20)]
    assert stats.oom_retries >= 1 and stats.final_budget <= 64
    assert any("budget halved" in note for note in stats.notes)


def test_other_runtime_errors_are_not_swallowed():
    def forward(ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None) -> torch.Tensor:
        raise RuntimeError("shape mismatch")

    try:
        run_batched([[1, 2]], forward, pad_id=0)
    except RuntimeError as exc:
        assert "shape mismatch" in str(exc)
    else:
        raise AssertionError("the error was swallowed")


def test_long_text_ner_uses_strided_windows_with_exact_offsets(tiny_models, caplog):
    # stand-in model: random tags, so this pins plumbing: windows cover the whole text,
    # every span's offsets are exact, and no "sequence length" warning appears
    from analyzer.models.runtime import Runtime
    from analyzer.models.spec import ModelSpec
    from analyzer.tasks.ner.task import NerTask
    from analyzer.tasks.sentiment.task import SentimentTask

    words = " ".join(f"Berlin{i} Apple phone review" for i in range(120)) + " end #Final @who"
    ner = NerTask(ModelSpec("ner", str(tiny_models["ner"])), Runtime("cpu", "float32"))
    assert len(ner.tokenizer([words])["input_ids"][0]) > 4 * ner.max_length
    with caplog.at_level(logging.WARNING):
        [entities] = ner.predict([words])
        SentimentTask(ModelSpec("sentiment", str(tiny_models["sentiment"])), Runtime("cpu", "float32")).predict([words])
    assert not [r for r in caplog.records if "longer than the specified maximum" in r.getMessage()]
    for entity in entities:
        assert words[entity["start"]:entity["end"]] == entity["text"]
    model_spans = [e for e in entities if e["label"] not in {"HASHTAG", "MENTION", "CASHTAG"}]
    assert max(e["end"] for e in model_spans) > len(words) * 0.9  # the last window was tagged too
    assert [e["text"] for e in entities if e["label"] in {"HASHTAG", "MENTION"}] == ["#Final", "@who"]


def test_sentiment_long_text_keeps_head_and_tail(tiny_models):
    from analyzer.models.runtime import Runtime
    from analyzer.models.spec import ModelSpec
    from analyzer.tasks.sentiment.task import HEAD_SHARE, SentimentTask

    task = SentimentTask(ModelSpec("sentiment", str(tiny_models["sentiment"])), Runtime("cpu", "float32"))
    text = "phone " + "battery " * 300 + "camera"
    [ids] = task.tokenize([text])
    vocab = {word: task.tokenizer([word], add_special_tokens=False)["input_ids"][0][0] for word in ("phone", "battery", "camera")}
    assert len(ids) == task.max_length
    assert ids[0] == task.tokenizer.cls_token_id and ids[-1] == task.tokenizer.sep_token_id
    assert ids[1] == vocab["phone"] and ids[-2] == vocab["camera"]  # the head and the tail both survive
    head = int((task.max_length - 2) * HEAD_SHARE)
    assert ids[1 + head:-2] == [vocab["battery"]] * (task.max_length - 3 - head)


def test_cpu_runs_use_the_smaller_measured_budget_unless_one_is_given(tiny_models):
    # tiny randomly initialised model: plumbing only
    from analyzer.models.batching import CPU_BATCH_TOKENS, DEFAULT_BATCH_TOKENS
    from analyzer.models.spec import ModelSpec
    from analyzer.tasks.analysis import AnalysisSettings, Predictor

    specs = {"sentiment": ModelSpec("sentiment", str(tiny_models["sentiment"]))}
    default = Predictor(AnalysisSettings(["sentiment"], specs, device="cpu"))
    assert default.tasks["sentiment"].options.batch_tokens == CPU_BATCH_TOKENS < DEFAULT_BATCH_TOKENS
    chosen = Predictor(AnalysisSettings(["sentiment"], specs, device="cpu", batch_tokens=512))
    assert chosen.tasks["sentiment"].options.batch_tokens == 512
