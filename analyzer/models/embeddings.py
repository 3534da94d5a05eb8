"""Sentence embeddings with the pack's MiniLM-L6 base (mean pooling + L2 norm).

Shared by extractive summaries and topic discovery. Matches sentence-transformers'
output for all-MiniLM-L6-v2 without importing it; the base is sha256-verified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256
# tokens per batch (padded length × rows). Larger batches than the analysis tasks' (batching.CPU_BATCH_TOKENS):
# on 800 tweets + 40 long texts, 2 cores, eager MiniLM, CPU-s relative to fixed batches of 64 rows:
# 0.94 at 2,048 tokens, 0.67 at 8,192, 0.66 at 16,384 (medians of 2 rounds, load ~12-20)
BATCH_TOKENS = 8192


class SentenceEncoder:
    """MiniLM-L6 sentence embeddings (mean pooling + L2 norm), loaded on first use."""

    def __init__(self, folder: str | Path | None = None, threads: int | None = None) -> None:
        self._folder = folder
        self._embedded = folder is None  # the pack's pinned base (its folder is found on load)
        self._threads = threads
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self._folder is None:
            from analyzer.models.pack import base_dir

            self._folder = base_dir()
        if self._threads:
            torch.set_num_threads(self._threads)
        else:
            from analyzer.models.runtime import set_cpu_threads

            set_cpu_threads()
        from analyzer.models.runtime import quiet_transformers

        quiet_transformers()
        self._tokenizer = AutoTokenizer.from_pretrained(str(self._folder))
        self._tokenizer.model_max_length = MAX_TOKENS
        model = AutoModel.from_pretrained(str(self._folder))
        model.eval()
        self._model = model

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

    @property
    def id(self) -> str:
        """What produced a vector, for the embeddings cache: weights, pooling, length limit, precision."""
        if self._embedded:
            from analyzer.models.pack import BASE_SHA256

            weights = "embedded/minilm@" + BASE_SHA256["model.safetensors"][:16]
        else:
            from analyzer.models.spec import folder_digest

            folder = Path(self._folder).resolve()
            weights = f"{folder}@{folder_digest(folder)[:16]}"
        return f"{weights}+mean+max{MAX_TOKENS}+fp32"

    def encode(self, texts: list[str], budget: int = BATCH_TOKENS) -> np.ndarray:
        """One L2-normalised float32 row per text, in input order. Texts are tokenised once and
        run in length-sorted batches of about `budget` tokens (analyzer.models.batching)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self._load()
        import torch

        from analyzer.models.batching import run_batched

        ids = self._tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]

        def forward(input_ids: torch.Tensor, mask: torch.Tensor, _types: torch.Tensor | None) -> torch.Tensor:
            hidden = self._model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

        rows = run_batched(ids, forward, self._tokenizer.pad_token_id or 0, budget)
        return torch.stack(rows).numpy().astype(np.float32, copy=False)


_DEFAULT_ENCODER: SentenceEncoder | None = None


def default_encoder() -> SentenceEncoder:
    """One shared encoder per process (the model loads once)."""
    global _DEFAULT_ENCODER
    if _DEFAULT_ENCODER is None:
        _DEFAULT_ENCODER = SentenceEncoder()
    return _DEFAULT_ENCODER
