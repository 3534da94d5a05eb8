"""The analysis stage: which texts need a model, running it, landing the results.

Work avoidance: only distinct `text_hash` values are analysed, and only those that
`analyses` does not already hold for (task, model). `Predictor` is the engine-neutral
callable: built from `AnalysisSettings`, called on a columnar batch; the local engine
here and any scale-out engine use the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from analyzer.store.database import Store, query_frame, run_sql, transaction

ANALYSIS_CHUNK = 2048  # texts per model call and per write transaction
DTYPE_PRECISION = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
QUANTIZE_PRECISION = {"none": "fp32", "bf16": "bf16", "int8": "int8-dynamic"}


@dataclass
class AnalysisSettings:
    tasks: list[str]
    specs: dict[str, ModelSpec]
    device: str = "auto"
    batch_tokens: int | None = None  # None: batching.default_budget(device)
    allow_pickle: bool = False
    quantize: str = "auto"  # auto | none | int8 | bf16 (see runtime.quantize)
    social_tokens: bool = True  # NER adds #hashtags, @mentions, $CASHTAGS by rule (tasks.with_social_tokens)

    def quantize_for(self, task: str, device: str) -> str:
        """The resolved mode for one task on `device` (none off the CPU); an unknown mode is refused on any device."""
        from analyzer.models.runtime import check_quantize_mode

        check_quantize_mode(self.quantize)
        if device != "cpu":
            return "none"
        return self.specs[task].cpu_quantize() if self.quantize == "auto" else self.quantize

    def precision_for(self, task: str, runtime: Runtime) -> str:
        """The numeric precision `task` runs at: fp32, bf16, fp16, or int8-dynamic (CPU only)."""
        if runtime.device != "cpu":
            return DTYPE_PRECISION[runtime.dtype]
        return QUANTIZE_PRECISION[self.quantize_for(task, "cpu")]

    def model_ids(self, runtime: Runtime | None = None) -> dict[str, str]:
        """The model recorded next to each result, precision included (`embedded/sentiment@<sha>+fp32`):
        the same weights at another precision give other answers, so their results never mix, and a
        change of precision re-analyses on the next run as a new model does."""
        if runtime is None:
            from analyzer.models.runtime import choose_runtime

            runtime = choose_runtime(self.device)
        from analyzer.tasks import task_class

        return {task: f"{self.specs[task].identity()}{task_class(task).decoding_id(self.specs[task])}"
                      f"+{self.precision_for(task, runtime)}" for task in self.tasks}


@dataclass
class AnalysisCounts:
    texts_analysed: int = 0
    texts_cached: int = 0
    texts_unsupported: int = 0
    model_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class AnalysisStopped(Exception):
    """A stop was requested between two model batches: the chunk in progress is abandoned, not written."""


class LoadedOnUse(dict):
    """Task name → task, each built (its model loaded, 10-40 s on a CPU) the first time a batch needs it, so a cron
    run that finds nothing new loads no model. Iterating sees only the tasks built so far."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, name: str) -> Any:
        task = self[name] = self._build(name)
        return task


class Predictor:
    """Columnar in, columnar out: {text_hash, text, lang} → per-task result columns."""

    def __init__(self, settings: AnalysisSettings) -> None:
        from analyzer.models.runtime import choose_runtime, set_cpu_threads
        from analyzer.tasks import task_class
        from analyzer.tasks.base import TaskOptions
        from analyzer.text import langid

        langid.preload()  # in the background, overlapping the first model load
        self.settings = settings
        self.runtime = choose_runtime(settings.device)
        self.quantized = {name: settings.quantize_for(name, self.runtime.device) for name in settings.tasks}

        def build(name: str) -> Any:
            from analyzer.models.batching import default_budget  # imports torch

            if self.runtime.device == "cpu":
                set_cpu_threads()  # here, not in choose_runtime: a run that loads no model never imports torch
            return task_class(name)(settings.specs[name], self.runtime, TaskOptions(
                batch_tokens=settings.batch_tokens or default_budget(self.runtime.device), allow_pickle=settings.allow_pickle,
                quantize=self.quantized[name], social_tokens=settings.social_tokens))

        self.tasks = LoadedOnUse(build)
        self.model_ids = settings.model_ids(self.runtime)
        self.languages = {name: settings.specs[name].languages() for name in settings.tasks}

    def __call__(self, batch: dict[str, list[Any]], tasks: list[str] | None = None,
                 between_batches: Callable[[int], None] | None = None) -> dict[str, list[Any]]:
        """Each task's predictions for `batch`; `between_batches` runs before every model batch and may raise
        (`AnalysisStopped`) to abandon the call."""
        from analyzer.text.langid import detect_languages, primary

        texts: list[str] = list(batch["text"])
        langs: list[str | None] = list(batch.get("lang") or [None] * len(texts))
        missing = [i for i, lang in enumerate(langs) if not lang]
        if missing:
            for i, lang in zip(missing, detect_languages([texts[i] for i in missing]), strict=True):
                langs[i] = lang
        out: dict[str, list[Any]] = {"text_hash": list(batch["text_hash"]), "lang": langs}
        for name in tasks or self.settings.tasks:
            allowed = self.languages[name]
            # a regional tag is its language's (`zh-cn`, `pt-br`: a model names `zh`, `pt`)
            supported = [allowed is None or lang is None or lang in allowed or primary(lang) in allowed
                         for lang in langs]
            chosen = [i for i, ok in enumerate(supported) if ok]
            predictions = self.tasks[name].predict([texts[i] for i in chosen], between_batches) if chosen else []
            column: list[Any] = [None] * len(texts)
            for i, prediction in zip(chosen, predictions, strict=True):
                column[i] = prediction
            out[name] = column
            out[f"{name}_status"] = ["ok" if ok else "unsupported" for ok in supported]
        return out

    def describe(self) -> str:
        reduced = [f"{mode}: {name}" for name, mode in self.quantized.items() if mode != "none"]
        return self.runtime.describe().rstrip(")") + "".join(f", {r}" for r in reduced) + ")"

    def model_seconds(self) -> float:
        return sum(task.stats.model_seconds for task in self.tasks.values())

    def notes(self) -> list[str]:
        return [note for task in self.tasks.values() for note in task.stats.notes]


def texts_needing(con: duckdb.DuckDBPyConnection, texts: pl.DataFrame, task: str, model: str) -> pl.DataFrame:
    """Rows of `texts` (text_hash, ...) not yet analysed by (task, model)."""
    con.register("candidate", texts.select("text_hash"))
    try:
        done = query_frame(con, "ingest/analysed_hashes", {"task": task, "model": model})
    finally:
        con.unregister("candidate")
    return texts.join(done, on="text_hash", how="anti")


def analyse(
    store: Store,
    predictor: Predictor,
    texts: pl.DataFrame,
    run_id: int,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> AnalysisCounts:
    """Analyse the distinct texts in `texts` (text_hash, text, lang) that are not cached.

    The database is open only to look up the cache and to write each chunk's results
    (with the run's counters, in one transaction); models run with it closed.
    """
    counts = AnalysisCounts()
    texts = texts.unique(subset="text_hash", keep="first", maintain_order=True)
    with store.connect() as con:
        needs = {task: texts_needing(con, texts, task, predictor.model_ids[task]) for task in predictor.settings.tasks}
        todo_hashes = pl.concat([df.select("text_hash") for df in needs.values()]).unique()
        todo = texts.join(todo_hashes, on="text_hash", how="semi")
        counts.texts_cached = texts.height - todo.height
        add_counters(con, run_id, {"texts_cached": counts.texts_cached})
    if progress and counts.texts_cached:
        progress(counts.texts_cached)
    need_sets = {task: set(df["text_hash"].to_list()) for task, df in needs.items()}

    shown = 0.0  # of the current chunk: progress moves per model batch, a chunk takes minutes on a CPU
    chunk_tasks = 1

    def between_batches(rows: int) -> None:
        # a model batch takes about a second on a CPU, a chunk of 2,048 texts minutes: stop between batches
        nonlocal shown
        if should_stop and should_stop():
            raise AnalysisStopped
        if progress and rows:
            shown += rows / chunk_tasks  # each text passes through every task of the chunk
            progress(rows / chunk_tasks)

    before = predictor.model_seconds()
    for start in range(0, todo.height, ANALYSIS_CHUNK):
        if should_stop and should_stop():
            break
        chunk = todo.slice(start, ANALYSIS_CHUNK)
        hashes = chunk["text_hash"].to_list()
        tasks = [t for t in predictor.settings.tasks if any(h in need_sets[t] for h in hashes)]
        shown, chunk_tasks = 0.0, max(1, len(tasks))
        try:
            result = predictor(chunk.to_dict(as_series=False), tasks=tasks, between_batches=between_batches)
        except AnalysisStopped:
            break  # nothing of this chunk is written: the next run analyses it (ingest's catch-up)
        unsupported = sum(
            1 for i in range(chunk.height) if any(result[f"{t}_status"][i] == "unsupported" for t in tasks)
        )
        with store.connect() as con:
            write_results(con, result, predictor.model_ids, run_id, need_sets,
                          {"texts_analysed": chunk.height, "texts_unsupported": unsupported})
        counts.texts_analysed += chunk.height
        counts.texts_unsupported += unsupported
        if progress:
            progress(chunk.height - shown)  # the rest of the chunk (its last batches)
    counts.model_seconds = predictor.model_seconds() - before
    return counts


def add_counters(con: duckdb.DuckDBPyConnection, run_id: int, delta: dict[str, int]) -> None:
    """Add to the run's counters (inside the caller's transaction)."""
    params = {"run_id": run_id, "rows_read": 0, "rows_new": 0, "rows_duplicate": 0, "rows_rejected": 0,
              "rows_skipped": 0, "texts_analysed": 0, "texts_cached": 0, "texts_unsupported": 0}
    params.update(delta)
    run_sql(con, "ingest/run_progress", params)


def write_results(con: duckdb.DuckDBPyConnection, result: dict[str, list[Any]], model_ids: dict[str, str],
                  run_id: int, need_sets: dict[str, set[str]], counters: dict[str, int] | None = None) -> None:
    """Land one chunk of predictions in one transaction: each task's rows (through its own
    `analyzer/tasks/<task>/land.sql`), the cache markers and the detected languages."""
    from analyzer import queries
    from analyzer.tasks import sql as task_sql
    from analyzer.tasks import task_class

    hashes = result["text_hash"]
    markers = []
    task_rows: dict[str, list[dict[str, Any]]] = {}
    for task in model_ids:
        if task not in result:
            continue
        rows = task_rows.setdefault(task, [])
        to_rows = task_class(task).rows
        for i, text_hash in enumerate(hashes):
            if text_hash not in need_sets.get(task, ()):
                continue
            markers.append({"text_hash": text_hash, "task": task, "model": model_ids[task],
                            "status": result[f"{task}_status"][i]})
            rows.extend(to_rows(text_hash, model_ids[task], result[task][i], result["lang"][i]))
    marker_df = pl.DataFrame(markers, schema={"text_hash": pl.String, "task": pl.String, "model": pl.String,
                                              "status": pl.String})
    lang_df = pl.DataFrame({"text_hash": hashes, "lang": result["lang"]}, schema={"text_hash": pl.String,
                                                                                  "lang": pl.String})
    with transaction(con):
        con.register("new_markers", marker_df)
        con.register("detected_langs", lang_df)
        for task, rows in task_rows.items():
            con.register("task_rows", pl.DataFrame(rows, schema=task_class(task).row_schema))
            try:
                for statement in queries.split(task_sql(task, "land")):
                    con.execute(statement)
            finally:
                con.unregister("task_rows")
        run_sql(con, "ingest/write_results", {"run_id": run_id})
        if counters:
            add_counters(con, run_id, counters)
        for name in ("new_markers", "detected_langs"):
            con.unregister(name)
