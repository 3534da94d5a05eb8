"""Summaries of topics: pick a topic's comments, summarise them, store the result.

The default method is extractive (`analyzer.summarize`, MiniLM sentence embeddings,
no generation). With a hub or local seq2seq model configured for the `summary` task,
comments are summarised abstractively, map-reduce style: chunks first, then the
chunk summaries. Comments are capped (most repeated, then most engaged, first) so a
huge topic costs a bounded time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from analyzer.models import ModelSpec
from analyzer.store import run_sql
from analyzer.textnorm import readable_text

MAX_COMMENTS = 400
MIN_COMMENTS = 3


@dataclass
class TopicSummary:
    topic: str
    summary: str
    n_comments: int
    method: str
    model: str


class Summarizer:
    """Extractive by default; abstractive when the summary model is a seq2seq model."""

    def __init__(self, spec: ModelSpec, device: str = "auto", max_words: int = 60) -> None:
        self.spec = spec
        self.max_words = max_words
        self.device = device
        self._encoder: Any = None
        self._seq2seq: Any = None

    @property
    def method(self) -> str:
        return "extractive" if self.spec.is_embedded else "abstractive"

    def model_id(self) -> str:
        if self.spec.is_embedded:
            from analyzer import modelpack

            return f"embedded/minilm@{modelpack.BASE_SHA256['model.safetensors'][:12]}"
        return self.spec.identity()

    def __call__(self, comments: list[str]) -> str:
        # the summary reads what a reader of the post sees: no entities, tags, markers or URLs
        comments = [text for text in map(readable_text, comments) if text]
        if not comments:
            return ""
        if self.spec.is_embedded:
            from analyzer.summarize import default_encoder, extractive_summary

            self._encoder = self._encoder or default_encoder()
            return extractive_summary(comments, max_words=self.max_words, encoder=self._encoder)
        return self._abstractive(comments)

    def _abstractive(self, comments: list[str]) -> str:
        from analyzer.models import load_folder_or_id
        from analyzer.runtime import choose_runtime, load_model, load_tokenizer

        if self._seq2seq is None:
            runtime = choose_runtime(self.device)
            folder = load_folder_or_id(self.spec)
            self._seq2seq = (load_tokenizer(folder), load_model("seq2seq", folder, runtime), runtime)
        tokenizer, model, runtime = self._seq2seq
        limit = min(int(getattr(tokenizer, "model_max_length", 1024) or 1024), 1024)

        def generate(text: str, words: int) -> str:
            import torch

            encoded = tokenizer(text, truncation=True, max_length=limit, return_tensors="pt").to(runtime.device)
            with torch.inference_mode():
                out = model.generate(**encoded, max_new_tokens=int(words * 1.6) + 8, num_beams=2)
            return tokenizer.decode(out[0], skip_special_tokens=True).strip()

        chunks, current = [], ""
        for comment in comments:  # map: chunks that fit the model's input
            if current and len(tokenizer(current + "\n" + comment)["input_ids"]) > limit:
                chunks.append(current)
                current = ""
            current = f"{current}\n{comment}" if current else comment
        if current:
            chunks.append(current)
        partial = [generate(chunk, self.max_words) for chunk in chunks]
        summary = partial[0] if len(partial) == 1 else generate("\n".join(partial), self.max_words)  # reduce
        return " ".join(summary.split()[: self.max_words])


def summarise_topics(con: duckdb.DuckDBPyConnection, summarizer: Summarizer, topics: list[str] | None,
                     since: dt.datetime | None, until: dt.datetime | None) -> list[TopicSummary]:
    """Summarise the given topics (or every topic with enough comments) and store the results."""
    params = {"since": since, "until": until}
    if topics is None:
        topics = [row[0] for row in run_sql(con, "summaries/topics", {**params, "min_comments": MIN_COMMENTS}).fetchall()]
    results = []
    for topic in topics:
        rows = run_sql(con, "summaries/topic_comments", {**params, "topic": topic, "limit": MAX_COMMENTS}).fetchall()
        if not rows:
            from analyzer.reports.catalog import ReportError

            raise ReportError(f"no comments for topic {topic!r} in that period")
        summary = summarizer([row[0] for row in rows])
        n_comments = sum(row[2] for row in rows)
        run_sql(con, "summaries/store", {
            "topic": topic, "period_start": since, "period_end": until, "method": summarizer.method,
            "model": summarizer.model_id(), "summary": summary, "n_comments": n_comments,
        })
        results.append(TopicSummary(topic, summary, n_comments, summarizer.method, summarizer.model_id()))
    return results
