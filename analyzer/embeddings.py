"""Sentence embeddings with the pack's MiniLM-L6 base (mean pooling + L2 norm).

Shared by extractive summaries and topic discovery. Matches sentence-transformers'
output for all-MiniLM-L6-v2 without importing it; the base is sha256-verified.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256


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
            from analyzer.modelpack import base_dir

            self._folder = base_dir()
        threads = self._threads or int(os.environ.get("OPINIONS_THREADS", "0") or 0)
        if threads:
            torch.set_num_threads(threads)
        from analyzer.runtime import quiet_transformers

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
            from analyzer.modelpack import BASE_SHA256

            weights = "embedded/minilm@" + BASE_SHA256["model.safetensors"][:16]
        else:
            from analyzer.models import folder_digest

            folder = Path(self._folder).resolve()
            weights = f"{folder}@{folder_digest(folder)[:16]}"
        return f"{weights}+mean+max{MAX_TOKENS}+fp32"

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """One L2-normalised float32 row per text, in input order."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self._load()
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.float().numpy()
        return out


_DEFAULT_ENCODER: SentenceEncoder | None = None


def default_encoder() -> SentenceEncoder:
    """One shared encoder per process (the model loads once)."""
    global _DEFAULT_ENCODER
    if _DEFAULT_ENCODER is None:
        _DEFAULT_ENCODER = SentenceEncoder()
    return _DEFAULT_ENCODER
