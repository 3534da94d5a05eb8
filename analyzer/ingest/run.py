"""One ingest run: take the lock, open a `runs` row, hand the sources to an engine, finish the row.

The engines (`local`, `ray`) only land and analyse; how a run starts, what its model ids
are, and how it ends (completed, failed, interrupted) is decided here once for both.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import sys
import time

import duckdb

from analyzer.ingest import landing
from analyzer.ingest.options import IngestError, IngestOptions
from analyzer.ingest.progress import GracefulStop, Progress, RunSummary
from analyzer.models.runtime import Runtime
from analyzer.sources.reader import Source, SourceError, expand_inputs, printable_path
from analyzer.store.database import Store, StoreError, get_meta, run_sql, set_meta, transaction
from analyzer.store.locking import IngestLock
from analyzer.tasks.analysis import Predictor


class RunFailed(RuntimeError):
    """The run stopped on an error after it started: `summary` holds what was committed, and the
    error itself is the exception's cause (for the caller to explain, e.g. a full disk)."""

    def __init__(self, summary: RunSummary, error: BaseException) -> None:
        super().__init__(str(error))
        self.summary = summary
        self.error = error


class StoppedNow(KeyboardInterrupt):
    """A second signal stopped the run at once: still a KeyboardInterrupt, with the run's `summary` (marked
    interrupted) for a caller that prints it (`opinions ingest --json`: the cron log gets its line)."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(f"run {summary.run_id} interrupted at once by a second signal after {summary.rows_read:,} rows; "
                         "re-run the same command to continue (nothing is lost or doubled)")
        self.summary = summary


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
    options.check()
    if store.on_wait is None:
        store.on_wait = progress.log
    with IngestLock(store.path, store.wait_seconds) as lock, GracefulStop() as stop:
        predictor = Predictor(options.analysis) if options.analysis and options.engine == "local" else None
        device = predictor.describe() if predictor else ("ray" if options.analysis else None)
        model_ids = _model_ids(options, predictor)
        summary = _start_run(store, sources, errors, options, device, model_ids, progress)
        lock.record(summary.run_id)
        try:
            _run_engine(store, sources, options, predictor, model_ids, summary, progress, stop)
        except KeyboardInterrupt:
            summary.status = "interrupted"
            summary.seconds = time.perf_counter() - started
            _finish(store, summary, "interrupted by a second signal")
            raise StoppedNow(summary) from None
        except Exception as exc:
            summary.status = "failed"
            summary.error = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            summary.seconds = time.perf_counter() - started
            _note_waits(store, summary)
            _note_capped_topics(summary)
            _finish(store, summary, summary.error)
            raise RunFailed(summary, exc) from exc
        except BaseException as exc:
            summary.status = "failed"
            _finish(store, summary, f"{type(exc).__name__}: {exc}")
            raise
        summary.seconds = time.perf_counter() - started
        _note_waits(store, summary)
        _note_capped_topics(summary)
        _conclude(store, summary, stop, progress)
    return summary


def _model_ids(options: IngestOptions, predictor: Predictor | None) -> dict[str, str]:
    """The model recorded for each task: the local predictor's, or what the Ray workers will run:
    on GPUs when given some, else on CPUs (each worker checks it: ray.PredictorActor)."""
    if options.analysis is None:
        return {}
    if predictor is not None:
        return predictor.model_ids
    on_gpus = options.ray.gpus_per_worker > 0
    return options.analysis.model_ids(Runtime("cuda:0", "bfloat16") if on_gpus else Runtime("cpu", "float32"))


def _start_run(store: Store, sources: list[Source], errors: list[SourceError], options: IngestOptions,
               device: str | None, model_ids: dict[str, str], progress: Progress) -> RunSummary:
    """The run's row (and the sources that could not even be opened), in one transaction."""
    tasks = options.analysis.tasks if options.analysis else []
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
            # what reports correct the model's class shares with (analyzer.labels.shares); "" when never measured
            spec = options.analysis.specs.get(task) if options.analysis else None
            set_meta(con, f"confusion.{task}", (spec.confusion() if spec else None) or "")
        for error in errors:
            landing.record_source_failure(con, run_id, error)
    summary = RunSummary(run_id=run_id, device=device, notes=model_changes)
    for note in model_changes:
        progress.log(note)
    summary.failed_sources.update({e.source: e.reason for e in errors})
    return summary


def _run_engine(store: Store, sources: list[Source], options: IngestOptions, predictor: Predictor | None,
                model_ids: dict[str, str], summary: RunSummary, progress: Progress, stop: GracefulStop) -> None:
    if options.engine == "ray":
        from analyzer.ingest.ray import run_ray

        run_ray(store, sources, options, model_ids, summary, progress, stop)
    else:
        from analyzer.ingest.local import run_local

        run_local(store, sources, options, predictor, summary, progress, stop)


def _conclude(store: Store, summary: RunSummary, stop: GracefulStop, progress: Progress) -> None:
    """Finish a run the engine came back from: interrupted, failed (nothing ingested) or completed."""
    with store.connect() as con, transaction(con):
        run_sql(con, "ingest/retweet_topics", {"run_id": summary.run_id})
    for note in summary.conclude_sources():
        summary.notes.append(note)
        progress.log(note)
    if stop.requested:
        summary.status = "interrupted"
        _finish(store, summary, f"stopped by {stop.requested}")
        raise Interrupted(summary, stop.requested)
    # nothing ingested (every file unreadable, or every row read rejected) is a failure: cron must hear of it.
    # A re-run whose rows are all duplicates ingested them before, and an empty input has nothing to ingest.
    nothing_landed = not summary.rows_landed and (summary.rows_read or summary.failed_sources)
    summary.status = "failed" if nothing_landed else "completed"
    # the run's `error` (what `report runs` shows): sources that failed, and what read ones lack
    _finish(store, summary, summary.failure() if summary.status == "failed" else
            "; ".join([f"{k}: {v}" for k, v in summary.failed_sources.items()]
                      + [f"{k}: warning: {v}" for k, v in summary.warnings.items()]) or None)


def _note_capped_topics(summary: RunSummary) -> None:
    from analyzer.sources.presets import MAX_TOPICS_PER_COMMENT

    if summary.topics_capped:
        summary.notes.append(f"{summary.topics_capped:,} comment(s) had more than {MAX_TOPICS_PER_COMMENT} topics "
                             f"(their own and hashtags): the first {MAX_TOPICS_PER_COMMENT} of each were kept")


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
