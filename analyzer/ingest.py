"""Ingest: sources → presets → store → analysis, one chunk at a time.

Each chunk (≤100k records) is mapped by one SQL statement and landed in one
transaction together with the run's counters, so the database never holds half a
chunk and `runs` always matches what was stored:

    rows_read = rows_new + rows_duplicate + rows_rejected + rows_skipped
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import duckdb
import polars as pl

from analyzer import dates, presets, queries
from analyzer.analysis import AnalysisSettings, Predictor, add_counters, analyse
from analyzer.config import keyword_patterns
from analyzer.locking import IngestLock
from analyzer.runtime import Runtime
from analyzer.sources import (
    BATCH_ROWS,
    ReadLimits,
    RecordBatch,
    Source,
    SourceError,
    expand_inputs,
    printable_path,
    read_batches,
)
from analyzer.store import Store, StoreError, get_meta, query_frame, run_sql, set_meta, transaction

T = TypeVar("T")
READER_WINDOW_SECONDS = 0.03


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
    topic: str | None = None  # --topic: one topic for every record
    author: str | None = None  # --author: for records that name none
    time_format: str | None = None  # --time-format: strptime format of the time field
    delimiter: str | None = None  # --delimiter: CSV delimiter (default: sniffed)
    analysis: AnalysisSettings | None = None  # None: --tasks none
    config: dict[str, Any] = field(default_factory=dict)
    batch_rows: int = BATCH_ROWS
    limits: ReadLimits = field(default_factory=ReadLimits)  # line cap, chunk bytes, read size
    engine: str = "local"  # local | ray
    ray: Any = None  # analyzer.ray_engine.RayOptions for engine="ray"


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
    model_seconds: float = 0.0  # time the model was computing: its busy share of `seconds` shows the overlap
    device: str | None = None
    presets: dict[str, str] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # why a failed run stopped (its committed chunks are kept)

    @property
    def rows_landed(self) -> int:
        """Rows that are in the database now (new, or stored before) or deliberately not stored (skipped)."""
        return self.rows_new + self.rows_duplicate + self.rows_skipped

    def failure(self) -> str:
        """Why nothing was ingested, in one line."""
        parts = [f"{k}: {v}" for k, v in self.failed_sources.items()]
        if self.rows_read:
            parts.append(f"all {self.rows_read:,} rows read were rejected (see `opinions report rejects "
                         f"--run {self.run_id}`)")
        return "nothing was ingested: " + "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["model_seconds"] = round(self.model_seconds, 3)
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


class GracefulStop:
    """SIGTERM / SIGINT ask the run to stop after the current chunk; a second one stops at once."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class RunFailed(RuntimeError):
    """The run stopped on an error after it started: `summary` holds what was committed, and the
    error itself is the exception's cause (for the caller to explain, e.g. a full disk)."""

    def __init__(self, summary: RunSummary, error: BaseException) -> None:
        super().__init__(str(error))
        self.summary = summary
        self.error = error


class Interrupted(RuntimeError):
    """The run stopped early on a signal; everything up to the last chunk is committed."""

    def __init__(self, summary: RunSummary, signal_name: str) -> None:
        super().__init__(f"{signal_name}: run {summary.run_id} interrupted after {summary.rows_read:,} rows; "
                         "re-run the same command to continue (nothing is lost or doubled)")
        self.summary = summary


def ingest(store: Store, paths: list[str], options: IngestOptions, progress: Progress | None = None) -> RunSummary:
    """Ingest `paths` into the store and return the run's summary.

    Holds the ingest lock for the run; opens the database only to write each chunk.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    sources, errors = expand_inputs(paths)
    if not sources:
        raise IngestError("; ".join(str(e) for e in errors) or "no inputs given")
    if options.preset:
        presets.get_preset(options.preset)  # fail fast on an unknown name
    if options.engine not in ("local", "ray"):
        raise IngestError(f"unknown engine {options.engine!r}: choose local or ray")
    local = options.engine == "local"
    if store.on_wait is None:
        store.on_wait = progress.log
    with IngestLock(store.path, store.wait_seconds) as lock, GracefulStop() as stop:
        predictor = Predictor(options.analysis) if options.analysis and local else None
        device = predictor.describe() if predictor else ("ray" if options.analysis else None)
        tasks = options.analysis.tasks if options.analysis else []
        # Ray workers run on GPUs when given some, else on CPUs: the recorded model (its precision) follows them,
        # and each worker checks that it computed at the precision recorded here (ray_engine.PredictorActor)
        worker_runtime = Runtime("cuda:0", "bfloat16") if getattr(options.ray, "gpus_per_worker", 0) else Runtime("cpu", "float32")
        model_ids = (predictor.model_ids if predictor else options.analysis.model_ids(worker_runtime)) if options.analysis else {}
        with store.connect() as con, transaction(con):
            # we hold the ingest lock, so any run still marked running belongs to a dead process
            run_sql(con, "ingest/mark_dead_runs", {"pid": os.getpid()})
            run_id = run_sql(con, "ingest/run_start", {
                "sources": [s.name for s in sources], "tasks": tasks, "device": device, "pid": os.getpid(),
                "command": shlex.join(map(printable_path, sys.argv)), "host": socket.gethostname(),
            }).fetchone()[0]
            model_changes = changed_models(con, model_ids)
            for task, model_id in model_ids.items():
                set_meta(con, f"model.{task}", model_id)
            for error in errors:
                _record_source_failure(con, run_id, error)
        lock.record(run_id)
        summary = RunSummary(run_id=run_id, device=device, notes=model_changes)
        for note in model_changes:
            progress.log(note)
        summary.failed_sources.update({e.source: e.reason for e in errors})
        try:
            if not local:
                from analyzer.ray_engine import RaySession, analyse_with_ray, land_sources_with_ray

                with RaySession(options.ray) as ray:
                    land_sources_with_ray(ray, store, sources, options, summary, progress, stop)
                    if options.analysis and not stop.requested:
                        analyse_with_ray(ray, store, options.analysis, model_ids, summary, options.ray, progress)
            elif predictor is None:
                for _ in _landed_batches(store, sources, options, summary, progress, stop):
                    pass
            else:
                _catch_up(store, predictor, summary, progress, stop)
                # reading and landing the next chunk overlap with the model working on this one
                landed = _landed_batches(store, sources, options, summary, progress, stop)
                for new_texts in _prefetched(landed, depth=2):
                    _analyse(store, predictor, new_texts, summary, progress, stop)
                summary.notes.extend(predictor.notes())
        except KeyboardInterrupt:
            summary.status = "interrupted"
            _finish(store, summary, "interrupted by a second signal")
            raise
        except Exception as exc:
            summary.status = "failed"
            summary.error = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            summary.seconds = time.perf_counter() - started
            _note_waits(store, summary)
            _finish(store, summary, summary.error)
            raise RunFailed(summary, exc) from exc
        except BaseException as exc:
            summary.status = "failed"
            _finish(store, summary, f"{type(exc).__name__}: {exc}")
            raise
        summary.seconds = time.perf_counter() - started
        _note_waits(store, summary)
        if stop.requested:
            summary.status = "interrupted"
            _finish(store, summary, f"stopped by {stop.requested}")
            raise Interrupted(summary, stop.requested)
        # nothing ingested (every file unreadable, or every row read rejected) is a failure: cron must hear of it.
        # A re-run whose rows are all duplicates ingested them before, and an empty input has nothing to ingest.
        nothing_landed = not summary.rows_landed and (summary.rows_read or summary.failed_sources)
        summary.status = "failed" if nothing_landed else "completed"
        _finish(store, summary, summary.failure() if summary.status == "failed" else
                "; ".join(f"{k}: {v}" for k, v in summary.failed_sources.items()) or None)
    return summary


def _note_waits(store: Store, summary: RunSummary) -> None:
    waited = [w for w in store.waits if w >= 1.0]
    if waited:
        summary.notes.append(f"waited {sum(waited):.1f}s in {len(waited)} pause(s) for other processes (reports, "
                             "queries) to close the database between chunks")


def _finish(store: Store, summary: RunSummary, error: str | None) -> None:
    # if the database itself failed, the caller reports the original error
    with contextlib.suppress(Exception), store.connect() as con:
        run_sql(con, "ingest/run_finish", {"run_id": summary.run_id, "status": summary.status, "error": error,
                                           "device": summary.device})


def changed_models(con: duckdb.DuckDBPyConnection, model_ids: dict[str, str]) -> list[str]:
    """One note per task whose model (weights, decoding or precision) differs from the last run's:
    its results are not mixed with the old ones, so every stored text is analysed again."""
    notes = []
    for task, model_id in model_ids.items():
        previous = get_meta(con, f"model.{task}")
        if previous and previous != model_id:
            notes.append(f"{task}: model changed from {previous} to {model_id}; stored texts are analysed again with it")
    return notes


def _record_source_failure(con: duckdb.DuckDBPyConnection, run_id: int, error: SourceError) -> None:
    con.execute("INSERT INTO rejects VALUES ($run_id, $source, NULL, $reason, NULL)",
                {"run_id": run_id, "source": error.source, "reason": f"file not readable: {error.reason}"})


def _catch_up(store: Store, predictor: Predictor, summary: RunSummary, progress: Progress, stop: GracefulStop) -> None:
    """Analyse stored comments that lack results for the current models (e.g. after a kill)."""
    for task, model_id in predictor.model_ids.items():
        with store.connect() as con:
            leftovers = query_frame(con, "ingest/unanalysed", {"task": task, "model": model_id})
        if leftovers.height:
            progress.log(f"analysing {leftovers.height} stored texts that {task} has not seen yet")
            _analyse(store, predictor, leftovers, summary, progress, stop)


def _analyse(store: Store, predictor: Predictor, texts: pl.DataFrame, summary: RunSummary, progress: Progress,
             stop: GracefulStop) -> None:
    if progress.on_texts_total:
        progress.on_texts_total(texts.height)
    counts = analyse(store, predictor, texts, summary.run_id, progress=progress.on_texts,
                     should_stop=lambda: stop.requested is not None)
    summary.texts_analysed += counts.texts_analysed
    summary.texts_cached += counts.texts_cached
    summary.texts_unsupported += counts.texts_unsupported
    summary.model_seconds += counts.model_seconds


def source_mapping_params(source: Source, first: RecordBatch, options: IngestOptions,
                          summary: RunSummary) -> dict[str, Any]:
    """The mapping parameters for one source: its preset (forced or detected from the first
    batch) with the --*-field overrides, and the order of its numeric dates (`analyzer.dates`);
    records the preset in the summary. Raises SourceError for dates no value disambiguates."""
    preset = presets.get_preset(options.preset) if options.preset else presets.detect_preset(first.record)
    preset = presets.with_overrides(preset, options.text_field, options.id_field, options.time_field,
                                    options.author_field, options.topic_field, topic_literal=options.topic,
                                    author_literal=options.author, time_format=options.time_format)
    summary.presets[source.name] = preset.name
    slash_formats: list[str] = []
    if not preset.time_format and preset.time:
        counts = _mapper().execute_with_frame(batch_frame(first), queries.load("ingest/date_order"),
                                              {"time_paths": preset.time})
        slash_formats = dates.numeric_date_formats(source.name, *counts)
    return presets.mapping_params(preset, source.name, source.stem, slash_formats)


def _landed_batches(store: Store, sources: list[Source], options: IngestOptions, summary: RunSummary,
                    progress: Progress, stop: GracefulStop) -> Iterator[pl.DataFrame]:
    """Read, map and land every source chunk by chunk; yield each chunk's new texts."""
    names, patterns = keyword_patterns(options.config)
    for source in sources:
        if stop.requested:
            return
        try:
            # the next chunk is read and mapped (in-memory DuckDB, no GIL) while this one is written
            for index, (batch, mapped) in enumerate(_prefetched(_mapped_batches(source, options, summary, progress,
                                                                                stop), depth=1)):
                if index:
                    # the next chunk is usually mapped already: leave readers (they retry every 20 ms) a
                    # window between two writes (~0.3 s per 1M rows)
                    time.sleep(READER_WINDOW_SECONDS)
                with store.connect() as con:
                    new_texts = land_mapped(con, mapped, batch, summary, names, patterns,
                                            want_texts=options.analysis is not None)
                release_freed_memory()
                if progress.on_rows:
                    progress.on_rows(batch.rows_read)
                if new_texts.height:
                    yield new_texts
                if stop.requested:
                    return
        except SourceError as exc:
            summary.failed_sources[exc.source] = exc.reason
            with store.connect() as con:
                _record_source_failure(con, summary.run_id, exc)


def _mapped_batches(source: Source, options: IngestOptions, summary: RunSummary, progress: Progress,
                    stop: GracefulStop) -> Iterator[tuple[RecordBatch, Any]]:
    params: dict[str, Any] | None = None
    for batch in read_batches(source, options.batch_rows, options.delimiter, options.limits,
                              should_stop=lambda: stop.requested is not None):
        if params is None:
            params = source_mapping_params(source, batch, options, summary)
            progress.log(f"{source.name}: preset {summary.presets[source.name]}")
        for note in batch.notes:
            if note not in summary.notes:
                summary.notes.append(note)
                progress.log(note)
        yield batch, map_records(batch_frame(batch), params)


def release_freed_memory() -> None:
    """Hand memory freed by the last chunk back to the OS (glibc keeps it in per-thread arenas
    otherwise, and peak RSS creeps up with the dump's size: 2M/200k rows 1.35 → 1.32 at 50k-row
    chunks, 1.11 at 100k). A no-op off glibc."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


def _prefetched(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run `items` in a thread, `depth` ahead of the consumer; its errors surface here."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    halt = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not halt.is_set():
                    try:
                        box.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if halt.is_set():
                    return
            box.put(("done", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            box.put(("error", exc))

    worker = threading.Thread(target=produce, name="opinions-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        halt.set()
        worker.join(timeout=60)


_MAPPER = threading.local()


class _MapperConnection:
    """A per-thread in-memory DuckDB that runs SQL over one registered batch."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")

    def execute_with_frame(self, frame: pl.DataFrame | Any, sql: str, params: dict[str, Any]) -> tuple:
        self.con.register("batch", frame)
        try:
            return self.con.execute(sql, params).fetchall()[0]
        finally:
            self.con.unregister("batch")

    def arrow_with_frame(self, frame: pl.DataFrame | Any, sql: str, params: dict[str, Any]) -> Any:
        self.con.register("batch", frame)
        try:
            return self.con.sql(sql, params=params).to_arrow_table()
        finally:
            self.con.unregister("batch")


def _mapper() -> _MapperConnection:
    mapper = getattr(_MAPPER, "mapper", None)
    if mapper is None:
        mapper = _MAPPER.mapper = _MapperConnection()
    return mapper


def map_records(frame: pl.DataFrame | Any, params: dict[str, Any]) -> Any:
    """Map raw records (line_no, record) onto canonical columns: an Arrow table with outcome
    and reason per row. Runs in an in-memory DuckDB, so it needs no database file and can
    run in any thread or Ray worker."""
    return _mapper().arrow_with_frame(frame, queries.load("ingest/map_batch"), params)


def batch_frame(batch: RecordBatch) -> pl.DataFrame:
    return pl.DataFrame({"line_no": batch.line_no, "record": batch.record},
                        schema={"line_no": pl.Int64, "record": pl.String})


def land_mapped(con: duckdb.DuckDBPyConnection, mapped: Any, batch: RecordBatch, summary: RunSummary,
                keyword_topics: list[str], keyword_regexes: list[str], want_texts: bool = True) -> pl.DataFrame:
    """Land one mapped chunk in one transaction: comments, topics, rejects and the run's counters."""
    con.register("mapped", mapped)
    try:
        with transaction(con):
            if batch.rejects:
                con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                                [(summary.run_id, batch.source.name, line, reason, raw)
                                 for line, reason, raw in batch.rejects])
            run_sql(con, "ingest/land_batch", {"run_id": summary.run_id, "keyword_topics": keyword_topics,
                                                "keyword_patterns": keyword_regexes})
            ok, rejected, skipped, new = con.execute(
                "SELECT count(*) FILTER (outcome = 'ok'), count(*) FILTER (outcome = 'reject'), "
                "count(*) FILTER (outcome = 'skip'), (SELECT count(*) FROM new_comments) FROM mapped"
            ).fetchone()
            rejected += len(batch.rejects)
            delta = {"rows_read": batch.rows_read, "rows_new": new, "rows_duplicate": ok - new,
                     "rows_rejected": rejected, "rows_skipped": skipped}
            add_counters(con, summary.run_id, delta)
            new_texts = (con.sql("SELECT text_hash, text, lang FROM new_comments ORDER BY line_no").pl() if want_texts
                         else pl.DataFrame())
    finally:
        con.unregister("mapped")
    summary.rows_read += batch.rows_read
    summary.rows_new += new
    summary.rows_duplicate += ok - new
    summary.rows_rejected += rejected
    summary.rows_skipped += skipped
    return new_texts
