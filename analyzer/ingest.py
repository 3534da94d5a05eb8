"""Ingest: sources → presets → store → analysis, one chunk at a time.

Each chunk (≤50k records) is mapped by one SQL statement and landed in one
transaction together with the run's counters, so the database never holds half a
chunk and `runs` always matches what was stored:

    rows_read = rows_new + rows_duplicate + rows_rejected + rows_skipped
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import polars as pl

import queries
from analyzer import presets
from analyzer.analysis import AnalysisCounts, AnalysisSettings, Predictor, analyse
from analyzer.config import keyword_patterns
from analyzer.sources import RecordBatch, Source, SourceError, expand_inputs, read_batches
from analyzer.store import query_frame, run_sql, set_meta, transaction


class IngestError(RuntimeError):
    """Nothing could be ingested (every input failed), or the inputs were unusable."""


@dataclass
class IngestOptions:
    preset: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    time_field: str | None = None
    author_field: str | None = None
    topic_field: str | None = None
    analysis: AnalysisSettings | None = None  # None: --tasks none
    config: dict[str, Any] = field(default_factory=dict)
    batch_rows: int = 50_000


@dataclass
class RunSummary:
    run_id: int
    status: str = "running"
    rows_read: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    texts_analysed: int = 0
    texts_cached: int = 0
    texts_unsupported: int = 0
    seconds: float = 0.0
    device: str | None = None
    presets: dict[str, str] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class Progress:
    """Callbacks the CLI wires to a progress bar; all optional."""

    on_rows: Callable[[int], None] | None = None
    on_texts: Callable[[int], None] | None = None
    on_texts_total: Callable[[int], None] | None = None
    on_log: Callable[[str], None] | None = None

    def log(self, message: str) -> None:
        if self.on_log:
            self.on_log(message)


def ingest(con: duckdb.DuckDBPyConnection, paths: list[str], options: IngestOptions,
           progress: Progress | None = None) -> RunSummary:
    """Ingest `paths` into the open store and return the run's summary."""
    progress = progress or Progress()
    started = time.perf_counter()
    con.execute("SET TimeZone = 'UTC'")
    sources, errors = expand_inputs(paths)
    if not sources:
        raise IngestError("; ".join(str(e) for e in errors) or "no inputs given")
    if options.preset:
        presets.get_preset(options.preset)  # fail fast on an unknown name
    predictor = Predictor(options.analysis) if options.analysis else None
    device = predictor.runtime.describe() if predictor else None
    tasks = options.analysis.tasks if options.analysis else []
    with transaction(con):
        run_id = run_sql(con, "ingest/run_start", {
            "sources": [s.name for s in sources], "tasks": tasks, "device": device, "pid": os.getpid(),
        }).fetchone()[0]
        if predictor:
            for task, model_id in predictor.model_ids.items():
                set_meta(con, f"model.{task}", model_id)
    summary = RunSummary(run_id=run_id, device=device)
    for error in errors:
        _record_source_failure(con, summary, error)
    try:
        if predictor:
            _catch_up(con, predictor, summary, progress)
        for source in sources:
            try:
                _ingest_source(con, source, options, predictor, summary, progress)
            except SourceError as exc:
                _record_source_failure(con, summary, exc)
        summary.status = "completed"
        if summary.failed_sources and summary.rows_read == 0:
            summary.status = "failed"
        if predictor:
            summary.notes.extend(predictor.notes())
    except KeyboardInterrupt:
        summary.status = "interrupted"
        _finish(con, summary, "interrupted by signal")
        raise
    except BaseException as exc:
        summary.status = "failed"
        _finish(con, summary, f"{type(exc).__name__}: {exc}")
        raise
    summary.seconds = time.perf_counter() - started
    error = "; ".join(f"{k}: {v}" for k, v in summary.failed_sources.items()) or None
    _finish(con, summary, error)
    return summary


def _finish(con: duckdb.DuckDBPyConnection, summary: RunSummary, error: str | None) -> None:
    # if the database itself failed, the caller reports the original error
    with contextlib.suppress(duckdb.Error):
        run_sql(con, "ingest/run_finish", {"run_id": summary.run_id, "status": summary.status, "error": error,
                                           "device": summary.device})


def _record_source_failure(con: duckdb.DuckDBPyConnection, summary: RunSummary, error: SourceError) -> None:
    summary.failed_sources[error.source] = error.reason
    con.execute("INSERT INTO rejects VALUES ($run_id, $source, NULL, $reason, NULL)",
                {"run_id": summary.run_id, "source": error.source, "reason": f"file not readable: {error.reason}"})


def _catch_up(con: duckdb.DuckDBPyConnection, predictor: Predictor, summary: RunSummary, progress: Progress) -> None:
    """Analyse stored comments that lack results for the current models (e.g. after a kill)."""
    for task, model_id in predictor.model_ids.items():
        leftovers = query_frame(con, "ingest/unanalysed", {"task": task, "model": model_id})
        if leftovers.height:
            progress.log(f"analysing {leftovers.height} stored texts that {task} has not seen yet")
            _analyse(con, predictor, leftovers, summary, progress)


def _analyse(con: duckdb.DuckDBPyConnection, predictor: Predictor, texts: pl.DataFrame, summary: RunSummary,
             progress: Progress) -> None:
    if progress.on_texts_total:
        progress.on_texts_total(texts.height)
    counts = analyse(con, predictor, texts, summary.run_id, progress=progress.on_texts)
    summary.texts_analysed += counts.texts_analysed
    summary.texts_cached += counts.texts_cached
    summary.texts_unsupported += counts.texts_unsupported
    _add_counters(con, summary.run_id, texts_counts=counts)


def _ingest_source(con: duckdb.DuckDBPyConnection, source: Source, options: IngestOptions,
                   predictor: Predictor | None, summary: RunSummary, progress: Progress) -> None:
    params: dict[str, Any] | None = None
    names, patterns = keyword_patterns(options.config)
    for batch in read_batches(source, options.batch_rows):
        if params is None:
            preset = presets.get_preset(options.preset) if options.preset else presets.detect_preset(batch.record)
            preset = presets.with_overrides(preset, options.text_field, options.id_field, options.time_field,
                                            options.author_field, options.topic_field)
            summary.presets[source.name] = preset.name
            progress.log(f"{source.name}: preset {preset.name}")
            params = presets.mapping_params(preset, source.name, source.stem)
        new_texts = _land_batch(con, batch, params, summary, names, patterns)
        if progress.on_rows:
            progress.on_rows(batch.rows_read)
        if predictor and new_texts.height:
            _analyse(con, predictor, new_texts, summary, progress)


def _land_batch(con: duckdb.DuckDBPyConnection, batch: RecordBatch, params: dict[str, Any], summary: RunSummary,
                keyword_topics: list[str], keyword_regexes: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"line_no": batch.line_no, "record": batch.record},
                         schema={"line_no": pl.Int64, "record": pl.String})
    con.register("batch", frame)
    try:
        with transaction(con):
            con.execute("CREATE OR REPLACE TEMP TABLE mapped AS " + queries.load("ingest/map_batch"), params)
            if batch.rejects:
                con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                                [(summary.run_id, batch.source.name, line, reason, raw)
                                 for line, reason, raw in batch.rejects])
            run_sql(con, "ingest/land_batch", {"run_id": summary.run_id, "keyword_topics": keyword_topics,
                                                "keyword_patterns": keyword_regexes})
            counts = con.execute(
                "SELECT count(*) FILTER (outcome = 'ok'), count(*) FILTER (outcome = 'reject'), "
                "count(*) FILTER (outcome = 'skip'), (SELECT count(*) FROM new_comments) FROM mapped"
            ).fetchone()
            ok, rejected, skipped, new = counts
            rejected += len(batch.rejects)
            delta = {"rows_read": batch.rows_read, "rows_new": new, "rows_duplicate": ok - new,
                     "rows_rejected": rejected, "rows_skipped": skipped}
            _add_counters(con, summary.run_id, rows=delta)
            new_texts = con.sql("SELECT text_hash, text, lang FROM new_comments ORDER BY line_no").pl()
    finally:
        con.unregister("batch")
    summary.rows_read += batch.rows_read
    summary.rows_new += new
    summary.rows_duplicate += ok - new
    summary.rows_rejected += rejected
    summary.rows_skipped += skipped
    return new_texts


def _add_counters(con: duckdb.DuckDBPyConnection, run_id: int, rows: dict[str, int] | None = None,
                  texts_counts: AnalysisCounts | None = None) -> None:
    params = {"run_id": run_id, "rows_read": 0, "rows_new": 0, "rows_duplicate": 0, "rows_rejected": 0,
              "rows_skipped": 0, "texts_analysed": 0, "texts_cached": 0, "texts_unsupported": 0}
    params.update(rows or {})
    if texts_counts:
        params.update(texts_analysed=texts_counts.texts_analysed, texts_cached=texts_counts.texts_cached,
                      texts_unsupported=texts_counts.texts_unsupported)
    run_sql(con, "ingest/run_progress", params)
