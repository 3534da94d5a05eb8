"""Extractive summaries (draft)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256


class SentenceEncoder:
    """MiniLM-L6 sentence embeddings (mean pooling + L2 norm), loaded on first use."""

    def __init__(self, folder: str | Path | None = None, threads: int | None = None) -> None:
        self._folder = folder
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
        if self._threads:
            torch.set_num_threads(self._threads)
        self._tokenizer = AutoTokenizer.from_pretrained(str(self._folder))
        self._tokenizer.model_max_length = MAX_TOKENS
        model = AutoModel.from_pretrained(str(self._folder))
        model.eval()
        self._model = model

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

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


# ----------------------------------------------------------------------------- sentence splitting

_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "eg", "ie", "approx", "appt", "apt", "dept", "est", "fig", "inc", "ltd", "co", "corp", "no", "nos", "vol", "min", "max", "oz", "lb", "lbs", "ft", "sq", "pt", "qt", "tbsp", "tsp", "hr", "hrs", "mins", "sec", "secs", "wk", "wks", "mo", "mos", "yr", "yrs", "av", "ave", "rd", "blvd", "mt", "u.s", "u.k"]
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# a run of terminators (with closing quotes/brackets), then whitespace: a candidate boundary
_BOUNDARY = re.compile(r"(?:[.!?\u2026]+|(?<=\s)[:;]-?[()DPp](?=\s))[\"'\u201d\u2019)\]]*\s+")
# "sunglasses.I guess": a missing space after the terminator, before a capitalised word
_GLUED = re.compile(r"(?<=[a-z]{2}[.!?])(?=(?:[A-Z][a-z]|I\b|A\b))")
_EMOJI_BOUNDARY = re.compile(r"(?<=[\U0001F300-\U0001FAFF\u2600-\u27BF])\s+(?=[A-Z])")
_BULLET = re.compile(r"^\s*(?:[-*\u2022>]+|\d+[.)])\s+")
_HAS_WORD = re.compile(r"[^\W\d_]{2}")


def _ends_with_abbreviation(chunk: str) -> bool:
    match = re.search(r"(\S+)$", chunk)
    if match is None:
        return False
    word = match.group(1).rstrip(".").lower().lstrip("(\"'")
    if word in _ABBREVIATIONS:
        return True
    # single initials ("J. Smith") but not a lone pronoun "I."
    return len(word) == 1 and word.isalpha() and word != "i"


def _split_line(line: str) -> list[str]:
    protected: list[str] = []

    def _protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    line = _URL.sub(_protect, line)
    line = _GLUED.sub(" ", line)
    line = _EMOJI_BOUNDARY.sub("\n", line)
    pieces: list[str] = []
    for part in line.split("\n"):
        start = 0
        for match in _BOUNDARY.finditer(part):
            end = match.end()
            rest = part[end:]
            head = part[start : match.start()]
            punct = match.group(0).strip()
            if not rest:
                continue
            if punct.startswith(".") and not punct.startswith("..") and _ends_with_abbreviation(head + "."):
                continue
            # an ellipsis (or "!!" / "?!") followed by lower case usually goes on with the same thought
            if (punct.startswith("..") or punct.startswith("\u2026")) and not rest[0].isupper():
                continue
            if punct[0] in ":;" and not rest[0].isupper():
                continue
            pieces.append(part[start:end].strip())
            start = end
        pieces.append(part[start:].strip())

    def _restore(text: str) -> str:
        return re.sub("\x00(\\d+)\x00", lambda m: protected[int(m.group(1))], text)

    return [_restore(p) for p in pieces if p]


def split_sentences(text: str) -> list[str]:
    """Split social-media / review text into sentences (regex rules, no model, no download).

    Handles missing spaces after a full stop ("great.The fit"), abbreviations and initials,
    decimals and URLs, ellipses, "!!!"/"?!", emoticons and emoji used as terminators, line
    breaks and bullet lists. Fragments without at least two letters are dropped.
    """
    if not text:
        return []
    sentences: list[str] = []
    for raw_line in re.split(r"\s*(?:\r?\n|<br\s*/?>)+\s*", text):
        line = _BULLET.sub("", re.sub(r"[ \t\u00a0]+", " ", raw_line)).strip()
        if not line:
            continue
        sentences.extend(s for s in _split_line(line) if _HAS_WORD.search(s))
    return sentences
