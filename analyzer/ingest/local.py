"""The local engine: read, map and land each source chunk by chunk in this process, with the
model analysing one chunk's new texts while the next is read and landed (`_prefetched`)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from analyzer.config import keyword_patterns
from analyzer.ingest import landing
from analyzer.ingest.options import IngestOptions
from analyzer.ingest.progress import GracefulStop, InputMeter, Progress, RunSummary
from analyzer.sources.reader import RecordBatch, Source, SourceError, input_size, read_batches
from analyzer.store.database import HeldConnection, Store, query_frame
from analyzer.tasks.analysis import Predictor, analyse

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
# with --tasks none, the most a client that cannot ask for a window (the duckdb CLI) waits for the file, plus one
# chunk; opinions' own readers ask, and get in after the current chunk (store.HeldConnection)
HOLD_SECONDS = 5.0
IDLE_SECONDS = 0.2  # waiting this long for the next chunk, the writer lets the database go (HeldConnection.close)


def run_local(store: Store, sources: list[Source], options: IngestOptions, predictor: Predictor | None,
              summary: RunSummary, progress: Progress, stop: GracefulStop) -> None:
    """Land every source; analyse the new texts (and any stored ones the current models have not seen)."""
    if predictor is None:
        for _ in _landed_batches(store, sources, options, summary, progress, stop):
            pass
        return
    _catch_up(store, predictor, summary, progress, stop)
    # reading and landing the next chunk overlap with the model working on this one
    landed = _landed_batches(store, sources, options, summary, progress, stop)
    for new_texts in _prefetched(landed, depth=2):
        _analyse(store, predictor, new_texts, summary, progress, stop)
    summary.notes.extend(predictor.notes())


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


def _landed_batches(store: Store, sources: list[Source], options: IngestOptions, summary: RunSummary,
                    progress: Progress, stop: GracefulStop) -> Iterator[pl.DataFrame]:
    """Read, map and land every source chunk by chunk; yield each chunk's new texts."""
    names, patterns = keyword_patterns(options.config)
    meter = InputMeter(progress, [input_size(source) for source in sources])
    # with no model, chunks are written back to back: one connection, closed when a reader asks
    with store.held(HOLD_SECONDS if options.analysis is None else 0.0) as held:
        yield from _land_sources(held, sources, options, summary, progress, stop, meter, names, patterns)


def _land_sources(held: HeldConnection, sources: list[Source], options: IngestOptions, summary: RunSummary,
                  progress: Progress, stop: GracefulStop, meter: InputMeter, names: list[str],
                  patterns: list[str]) -> Iterator[pl.DataFrame]:
    for source_index, source in enumerate(sources):
        if stop.requested:
            return
        try:
            # the next chunk is read and mapped (in-memory DuckDB, no GIL) while this one is written
            mapped_batches = _mapped_batches(source, options, summary, progress, stop)
            # a chunk slow to come (a pipe, a slow disk) must not keep reports out: the file is let go meanwhile.
            # Depth 0: one chunk is mapped while one is landed, no third waits in memory
            for batch, mapped in _prefetched(mapped_batches, depth=0, on_idle=held.close):
                # whole row groups (BATCH_ROWS): DuckDB's cache (the dedup's scan, the last chunk) can go before
                # the insert; a chunk of long rows adds to an open row group, which would have to be read back
                whole_groups = batch.records >= options.batch_rows
                with held.connect() as con:
                    new_texts = landing.land_mapped(con, mapped, batch, summary, names, patterns,
                                                    want_texts=options.analysis is not None,
                                                    before_insert=held.drop_cache if whole_groups else None)
                landing.release_freed_memory()
                meter.landed(source_index, batch.rows_read, batch.input_position)
                if new_texts.height:
                    yield new_texts
                if stop.requested:
                    return
        except SourceError as exc:
            summary.failed_sources[exc.source] = exc.reason
            with held.connect() as con:
                landing.record_source_failure(con, summary.run_id, exc)
        if not stop.requested:
            meter.finished(source_index)


def _mapped_batches(source: Source, options: IngestOptions, summary: RunSummary, progress: Progress,
                    stop: GracefulStop) -> Iterator[tuple[RecordBatch, pa.Table]]:
    params: dict[str, Any] | None = None
    for batch in read_batches(source, options.batch_rows, options.delimiter, options.limits,
                              should_stop=lambda: stop.requested is not None, no_header=options.no_header):
        if params is None:
            params = landing.source_mapping_params(source, batch, options, summary)
            progress.log(f"{source.name}: preset {summary.presets[source.name]}")
        for note in batch.notes:
            if note not in summary.notes:
                summary.notes.append(note)
                progress.log(note)
        mapped = landing.map_batch(batch, params)
        batch.release_block()  # mapped: its bytes are not needed to land it (rows_read stays)
        yield batch, mapped


def _prefetched(items: Iterator[T], depth: int, on_idle: Callable[[], None] | None = None) -> Iterator[T]:
    """Run `items` in a thread, `depth` ahead of the consumer; its errors surface here. Depth 0: the next
    item is made while the consumer works on this one, and waits for it to be taken (two in memory, not
    three). `on_idle` is called when the consumer has waited IDLE_SECONDS for the next item (and then waits on)."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(depth, 1))
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
                while depth == 0 and not halt.is_set() and not box.empty():
                    time.sleep(0.002)  # until taken: only then is the next one made
                if halt.is_set():
                    return
            box.put(("done", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            box.put(("error", exc))

    worker = threading.Thread(target=produce, name="opinions-reader", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, value = box.get(timeout=IDLE_SECONDS if on_idle else None)
            except queue.Empty:
                on_idle()  # type: ignore[misc]
                kind, value = box.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        halt.set()
        worker.join(timeout=60)
