"""Summaries of topics: pick a topic's comments, summarise them, store the result.

The default method is extractive key points (`analyzer.topics.summarize.key_points`, MiniLM sentence
embeddings, no generation): the comments as a reader sees them (`textnorm.prose_text`: no markup,
URLs, entities, handles or hashtag runs), one sentence per group of near-duplicates, the most said
first, each with how many comments say it and their sentiment:

    ~120 comments say: Spotify is down again. (negative)
    ~35 comments say: Premium costs too much for this. (negative)

A text posted by many accounts counts once per account; retweets add nothing (the tweet they copy
counts once). `sides=True` makes two lists, from the positive and from the negative comments.

With a hub or local seq2seq model configured for the `summary` task, comments are summarised
abstractively, map-reduce style: chunks first, then the chunk summaries.

A topic's distinct texts are read most voiced first, up to `MAX_TEXTS`, so a huge topic costs a
bounded time; `n_comments` is the number of comments those texts cover (all of them below the cap).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import duckdb

from analyzer.models.spec import ModelSpec
from analyzer.store.database import run_sql
from analyzer.text.normalise import prose_text

MAX_TEXTS = 3000  # distinct texts one summary reads (about a minute of MiniLM on 2 CPU cores)
MIN_COMMENTS = 3
MIXED_BELOW = 0.6  # a point whose comments agree less than this on a label is "mixed"
SIDES = (("positive", "What people like"), ("negative", "What people dislike"))


@dataclass
class Point:
    """One sentence of a summary: how many comments say it, and their sentiment (None: not analysed)."""

    sentence: str
    comments: int
    sentiment: str | None

    def line(self) -> str:
        said = "1 comment says" if self.comments == 1 else f"~{self.comments:,} comments say"
        return f"{said}: {self.sentence}" + (f" ({self.sentiment})" if self.sentiment else "")


@dataclass
class TopicComments:
    """A topic's distinct texts as read for a summary: `voices` (comments that say it in their own name),
    `copies` (all comments with the text, retweets included) and the stored sentiment label."""

    texts: list[str]
    voices: list[int]
    copies: list[int]
    labels: list[str | None]

    def side(self, label: str) -> TopicComments:
        keep = [i for i, lab in enumerate(self.labels) if lab == label]
        return TopicComments([self.texts[i] for i in keep], [self.voices[i] for i in keep],
                             [self.copies[i] for i in keep], [self.labels[i] for i in keep])


@dataclass
class TopicSummary:
    topic: str
    summary: str
    n_comments: int
    method: str
    model: str
    points: list[Point] = field(default_factory=list)


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
            from analyzer.models import pack as modelpack
            return f"embedded/minilm@{modelpack.BASE_SHA256['model.safetensors'][:12]}"
        return self.spec.identity()

    def __call__(self, comments: list[str]) -> str:
        """A summary of plain comments (each counted once, no sentiment): the key points' lines."""
        read = TopicComments(comments, [1] * len(comments), [1] * len(comments), [None] * len(comments))
        summary, _ = self.summarise(read)
        return summary

    def summarise(self, read: TopicComments, sides: bool = False) -> tuple[str, list[Point]]:
        """The summary text and its points (no points from an abstractive model)."""
        if not self.spec.is_embedded:
            texts = [text for text in map(prose_text, read.texts) if text]
            return (self._abstractive(texts) if texts else ""), []
        if not sides:
            points = self.points(read)
            return "\n".join(p.line() for p in points), points
        blocks, points = [], []
        for label, heading in SIDES:
            side = self.points(read.side(label))
            if side:
                blocks.append("\n".join([f"{heading}:", *(p.line() for p in side)]))
                points.extend(side)
        return "\n\n".join(blocks), points

    def points(self, read: TopicComments) -> list[Point]:
        from analyzer.topics.summarize import default_encoder, key_points

        # the summary quotes what a reader of the post sees: no entities, tags, handles, markers or URLs
        cleaned = [prose_text(text) for text in read.texts]
        kept = [i for i, text in enumerate(cleaned) if text]
        if not kept:
            return []
        self._encoder = self._encoder or default_encoder()
        found = key_points([cleaned[i] for i in kept], [read.voices[i] for i in kept], max_words=self.max_words,
                           encoder=self._encoder)
        return [Point(p.sentence, p.comments, _sentiment([read.labels[kept[m]] for m in p.members],
                                                         [read.voices[kept[m]] for m in p.members]))
                for p in found]

    def _abstractive(self, comments: list[str]) -> str:
        from analyzer.models.runtime import choose_runtime, load_model, load_tokenizer
        from analyzer.models.spec import load_folder_or_id

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


def _sentiment(labels: list[str | None], voices: list[int]) -> str | None:
    """The label most of a point's comments have (weighted by voices), "mixed" when under `MIXED_BELOW`."""
    counts: Counter[str] = Counter()
    for label, weight in zip(labels, voices, strict=True):
        if label:
            counts[label] += weight
    if not counts:
        return None
    label, top = counts.most_common(1)[0]
    return label if top / sum(counts.values()) >= MIXED_BELOW else "mixed"


def read_topic(con: duckdb.DuckDBPyConnection, topic: str, since: dt.datetime | None,
               until: dt.datetime | None, limit: int = MAX_TEXTS) -> TopicComments:
    rows = run_sql(con, "summaries/topic_comments",
                   {"since": since, "until": until, "topic": topic, "limit": limit}).fetchall()
    return TopicComments([r[0] for r in rows], [r[3] for r in rows], [r[2] for r in rows], [r[4] for r in rows])


def summarise_topics(con: duckdb.DuckDBPyConnection, summarizer: Summarizer, topics: list[str] | None,
                     since: dt.datetime | None, until: dt.datetime | None, sides: bool = False) -> list[TopicSummary]:
    """Summarise the given topics (or every topic with enough comments) and store the results."""
    params = {"since": since, "until": until}
    if topics is None:
        topics = [row[0] for row in run_sql(con, "summaries/topics", {**params, "min_comments": MIN_COMMENTS}).fetchall()]
    else:  # case-insensitive names: `summarize united` summarises `United`
        from analyzer.topics.names import shown_names

        topics = [shown or topic for topic, shown in shown_names(con, topics).items()]
    results = []
    for topic in topics:
        read = read_topic(con, topic, since, until)
        if not read.texts or (sides and not any(read.labels)):
            from analyzer.reports.catalog import ReportError

            if not read.texts:
                raise ReportError(f"no comments for topic {topic!r} in that period")
            raise ReportError(f"--sides needs sentiment labels and topic {topic!r} has none: "
                              "ingest with --tasks sentiment first")
        summary, points = summarizer.summarise(read, sides=sides)
        n_comments = sum(read.copies)  # every comment whose text was read, retweets included
        run_sql(con, "summaries/store", {
            "topic": topic, "period_start": since, "period_end": until, "method": summarizer.method,
            "model": summarizer.model_id(), "summary": summary, "n_comments": n_comments,
        })
        results.append(TopicSummary(topic, summary, n_comments, summarizer.method, summarizer.model_id(), points))
    return results
