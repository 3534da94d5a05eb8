"""The Ray engine: the same mapping and the same predictor, run as Ray Data tasks and actors.

    opinions ingest ... --engine ray [--ray-address ADDR] [--workers N] [--gpus-per-worker G]

Flow (one run, same accounting as the local engine):
1. the driver reads the sources with the same readers (line numbers and undecodable lines
   are kept exactly), one Arrow block per chunk;
2. `map_batches(map_records)` maps records onto canonical columns in the workers;
3. the driver lands the mapped blocks in order with the same SQL (dedup, rejects, topics);
4. the texts no model has seen go through `map_batches(PredictorActor)` on an actor pool
   (`ActorPoolStrategy`, fractional CPUs so reading never starves, `num_gpus` per actor);
5. results are written as Parquet to a staging folder, and the single DuckDB writer
   loads them with the same idempotent writes (cache markers, counters).

Without `--ray-address` a private local Ray is started on 127.0.0.1 only and shut down
afterwards. Ray is an optional extra: `pip install "opinions[ray]"`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import polars as pl

from analyzer.errors import OpinionsError
from analyzer.ingest import landing
from analyzer.ingest.options import IngestOptions, RayOptions
from analyzer.ingest.progress import GracefulStop, InputMeter, Progress, RunSummary
from analyzer.sources.reader import Source, SourceError, input_size, read_batches
from analyzer.store.database import Store, query_frame
from analyzer.tasks.analysis import AnalysisSettings, write_results

if TYPE_CHECKING:
    import pyarrow as pa


class RayUnavailable(OpinionsError, RuntimeError):
    """Ray is not installed or cannot start."""


# Set before ray is imported: it keeps every listener of a private cluster on loopback
# (ray otherwise binds all interfaces and silently replaces _node_ip_address), and no usage stats.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def _ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable('the Ray engine needs Ray: pip install "opinions[ray]"') from exc
    return ray


class RaySession:
    """ray.init for this run (a private loopback cluster unless an address is given)."""

    def __init__(self, options: RayOptions) -> None:
        self.options = options
        self.started_here = False

    def __enter__(self) -> ModuleType:
        ray = _ray()
        for name in ("ray", "ray.data", "ray.train"):
            logging.getLogger(name).setLevel(logging.WARNING)
        if not ray.is_initialized():
            if self.options.address:
                ray.init(address=self.options.address, log_to_driver=False)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                         object_store_memory=self.options.object_store_mb * 2**20,
                         _node_ip_address="127.0.0.1", logging_level=logging.WARNING)
                self.started_here = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # land chunks in input order, like the local engine
        ctx.enable_progress_bars = False
        return ray

    def __exit__(self, *exc: object) -> None:
        if self.started_here:
            _ray().shutdown()


def _map_block(block: pa.Table, params_by_source: dict[str, dict[str, Any]]) -> pa.Table:
    source = block.column("source")[0].as_py()
    mapped = landing.map_records(block.select(["line_no", "record"]), params_by_source[source])
    return pl.DataFrame(pl.from_arrow(mapped)).to_arrow()  # Ray Data takes no string views: large strings


class PredictorActor:
    """One loaded predictor per actor; called on Arrow blocks of (text_hash, text, lang)."""

    def __init__(self, settings: AnalysisSettings, threads: int, expected_ids: dict[str, str]) -> None:
        import os

        os.environ["OPINIONS_THREADS"] = str(max(1, threads))  # this actor's process: its models use that many
        from analyzer.tasks.analysis import Predictor

        self.predictor = Predictor(settings)
        if self.predictor.model_ids != expected_ids:  # e.g. a GPU without bf16 runs fp16
            raise RuntimeError(f"a Ray worker runs {self.predictor.model_ids}, not the {expected_ids} the driver "
                               "records; its results would be stored under the wrong model")

    def __call__(self, block: dict[str, Any]) -> dict[str, Any]:
        batch = {"text_hash": list(block["text_hash"]), "text": list(block["text"]), "lang": list(block["lang"])}
        return result_columns(self.predictor(batch), self.predictor.settings.tasks)


def result_columns(result: dict[str, list[Any]], tasks: list[str]) -> dict[str, list[Any]]:
    """A predictor's result as flat columns, one row per text: `<task>.status` and each task's own
    columns (`Task.to_columns`) under `<task>.`; `from_result_columns` reads them back."""
    from analyzer.tasks import task_class

    columns: dict[str, list[Any]] = {"text_hash": result["text_hash"], "lang": result["lang"]}
    for task in tasks:
        columns[f"{task}.status"] = result[f"{task}_status"]
        for name, values in task_class(task).to_columns(result[task]).items():
            columns[f"{task}.{name}"] = values
    return columns


def from_result_columns(columns: dict[str, list[Any]], tasks: list[str]) -> dict[str, list[Any]]:
    """The predictor's result (as `analysis.write_results` takes it) from `result_columns`."""
    from analyzer.tasks import task_class

    result: dict[str, list[Any]] = {"text_hash": columns["text_hash"], "lang": columns["lang"]}
    for task in tasks:
        prefix = f"{task}."
        own = {name[len(prefix):]: values for name, values in columns.items() if name.startswith(prefix)}
        statuses = own.pop("status")
        result[task] = [p if status == "ok" else None
                        for p, status in zip(task_class(task).from_columns(own), statuses, strict=True)]
        result[f"{task}_status"] = statuses
    return result


def run_ray(store: Store, sources: list[Source], options: IngestOptions, model_ids: dict[str, str],
            summary: RunSummary, progress: Progress, stop: GracefulStop) -> None:
    """Land every source through Ray, then analyse the texts no current model has seen."""
    with RaySession(options.ray) as ray:
        land_sources_with_ray(ray, store, sources, options, summary, progress, stop)
        if options.analysis and not stop.requested:
            analyse_with_ray(ray, store, options.analysis, model_ids, summary, options.ray, progress)


def land_sources_with_ray(ray: ModuleType, store: Store, sources: list[Source], options: IngestOptions, summary: RunSummary,
                          progress: Progress, stop: GracefulStop) -> None:
    """Read in the driver, map in Ray tasks, land in order in the driver."""
    import pyarrow as pa

    from analyzer.config import keyword_patterns

    names, patterns = keyword_patterns(options.config)
    meter = InputMeter(progress, [input_size(source) for source in sources])
    blocks, batches, params_by_source = [], [], {}
    for source_index, source in enumerate(sources):
        try:
            for batch in read_batches(source, options.batch_rows, options.delimiter, options.limits,
                                      should_stop=lambda: stop.requested is not None, no_header=options.no_header):
                if source.name not in params_by_source:
                    params_by_source[source.name] = landing.source_mapping_params(source, batch, options, summary)
                batch.split()  # the workers map (line_no, record) tables
                blocks.append(pa.table({"source": [source.name] * len(batch.record),
                                        "line_no": pa.array(batch.line_no, pa.int64()),
                                        "record": pa.array(batch.record, pa.string())}))
                batches.append((source_index, batch))
        except SourceError as exc:
            summary.failed_sources[exc.source] = exc.reason
            with store.connect() as con:
                landing.record_source_failure(con, summary.run_id, exc)
    cpus = float(ray.available_resources().get("CPU", 1))
    mapped_ds = ray.data.from_arrow(blocks).map_batches(
        _map_block, batch_format="pyarrow", batch_size=None, fn_kwargs={"params_by_source": params_by_source},
        num_cpus=min(1.0, cpus / 4))
    # blocks keep their order (preserve_order) and size; pair each with its batch's own rejects
    mapped_tables = [mapped for mapped in mapped_ds.iter_batches(batch_format="pyarrow", batch_size=None)]
    mapped_all = landing.concat_mapped(mapped_tables) if mapped_tables else None
    offset = 0
    for source_index, batch in batches:
        if stop.requested:
            return
        n = len(batch.record)
        mapped = mapped_all.slice(offset, n) if mapped_all is not None else pa.table({})
        offset += n
        with store.connect() as con:
            landing.land_mapped(con, mapped, batch, summary, names, patterns)
        meter.landed(source_index, batch.rows_read, batch.input_position)
    for source_index in range(len(sources)):
        meter.finished(source_index)  # every source was read to its end or given up: all of it counts


def analyse_with_ray(ray: ModuleType, store: Store, settings: AnalysisSettings, model_ids: dict[str, str],
                     summary: RunSummary, ray_options: RayOptions, progress: Progress) -> None:
    """Texts no current model has seen → actor pool → Parquet staging → the same idempotent writes."""
    from ray.data import ActorPoolStrategy

    frames = []
    with store.connect() as con:
        for task in settings.tasks:
            frames.append(query_frame(con, "ingest/unanalysed", {"task": task, "model": model_ids[task]}))
    todo = pl.concat(frames).unique(subset="text_hash", keep="first", maintain_order=True) if frames else None
    if todo is None or todo.height == 0:
        return
    need_sets = {task: set(frame["text_hash"].to_list()) for task, frame in zip(settings.tasks, frames, strict=True)}
    cpus = float(ray.available_resources().get("CPU", 1))
    workers = ray_options.workers or max(1, int(cpus // 2) or 1)
    per_actor_cpus = max(0.25, min(1.0, (cpus - 0.5) / workers))  # leave room for the read/map tasks
    staging = Path(tempfile.mkdtemp(prefix=f"opinions-run{summary.run_id}-"))
    try:
        dataset = ray.data.from_arrow(todo.select(["text_hash", "text", "lang"]).to_arrow())
        results = dataset.map_batches(
            PredictorActor, batch_size=ray_options.batch_rows, batch_format="numpy",
            fn_constructor_kwargs={"settings": settings, "threads": max(1, int(per_actor_cpus)),
                                   "expected_ids": model_ids},
            compute=ActorPoolStrategy(size=workers), num_cpus=per_actor_cpus,
            num_gpus=ray_options.gpus_per_worker or None)
        results.write_parquet(str(staging))
        _load_staged(store, staging, model_ids, need_sets, summary, progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load_staged(store: Store, staging: Path, model_ids: dict[str, str], need_sets: dict[str, set[str]],
                 summary: RunSummary, progress: Progress) -> None:
    files = sorted(staging.glob("*.parquet"))
    # one file per block: a column a block holds only nulls in (every text unsupported) is typed null there
    frame = pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed") if files else pl.DataFrame()
    if frame.is_empty():
        return
    frame = frame.unique(subset="text_hash", keep="first", maintain_order=True)
    hashes = frame["text_hash"].to_list()
    tasks = list(model_ids)
    result = from_result_columns(frame.to_dict(as_series=False), tasks)
    unsupported = sum(1 for i in range(len(hashes))
                      if any(result[f"{t}_status"][i] == "unsupported" for t in tasks))
    with store.connect() as con:
        write_results(con, result, model_ids, summary.run_id, need_sets,
                      {"texts_analysed": len(hashes), "texts_unsupported": unsupported})
    summary.texts_analysed += len(hashes)
    summary.texts_unsupported += unsupported
    if progress.on_texts:
        progress.on_texts(len(hashes))
