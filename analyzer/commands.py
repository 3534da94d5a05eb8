"""What each CLI command does, as plain functions (the CLI only parses and prints).

Python users can call these, or the lower-level modules, directly.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from analyzer import settings
from analyzer.config import load_config
from analyzer.models import pack as modelpack
from analyzer.models.pack import ModelNotFoundError
from analyzer.models.spec import ModelConfigError, ModelSpec, model_tasks, resolve
from analyzer.reports.catalog import DEFAULT_TIMEOUT_SECONDS, ReportError
from analyzer.store.database import Store, open_store
from analyzer.tasks import NAMES as TASK_NAMES
from analyzer.text.safe_output import for_terminal

if TYPE_CHECKING:
    from analyzer.ingest import IngestOptions, RunSummary


def parse_tasks(value: str) -> list[str]:
    """`--tasks`: names joined by commas, `default` (the tasks whose folder says so), `all` or `none`."""
    from analyzer.tasks import default_ingest_tasks

    value = (value or "").strip().lower()
    if value in {"default", ""}:
        return default_ingest_tasks()
    if value == "all":
        return list(TASK_NAMES)
    if value == "none":
        return []
    chosen = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TASK_NAMES]
    if unknown:
        raise ModelConfigError(f"unknown task(s) {', '.join(unknown)}: use {','.join(TASK_NAMES)} | default | all | none")
    return chosen


def _check_task(task: str, what: str) -> None:
    if task not in TASK_NAMES:
        raise ModelConfigError(f"{what} {task!r}: choose {' or '.join(TASK_NAMES)}")


def _stderr_console() -> Any:
    from rich.console import Console

    # log lines name their source location only for us (OPINIONS_DEBUG), not for an operator reading a cron mail
    return Console(stderr=True, log_path=bool(settings.value("debug")))


def run_ingest(paths: list[str], db: Path | None, config_path: Path | None, options: IngestOptions, tasks: str,
               models: dict[str, str | None], profile: str | None, device: str, batch_tokens: int | None,
               allow_pickle: bool, quantize: str, wait: float, quiet: bool) -> RunSummary:
    """`opinions ingest`: `options` as the CLI gave them, completed with the config file and the
    analysis settings (`tasks`: sentiment,ner | all | none; `models`: a flag per task, None: configured)."""
    from dataclasses import replace

    from analyzer.ingest import Progress, ingest
    from analyzer.tasks.analysis import AnalysisSettings

    config = load_config(config_path)
    chosen = parse_tasks(tasks)
    analysis = None
    if chosen:
        specs = {t: resolve(t, models.get(t), config, profile) for t in chosen}
        analysis = AnalysisSettings(chosen, specs, device=device, batch_tokens=batch_tokens, allow_pickle=allow_pickle,
                                    quantize=quantize)
    options = replace(options, analysis=analysis, config=config)
    store = Store(db, wait_seconds=wait)
    show_progress = not quiet and sys.stderr.isatty()
    if not show_progress:
        log = (lambda m: print(m, file=sys.stderr)) if not quiet else None
        return ingest(store, paths, options, Progress(on_log=log))
    return _ingest_with_bar(store, paths, options)


def _ingest_with_bar(store: Store, paths: list[str], options: IngestOptions) -> RunSummary:
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    from analyzer.ingest import Progress, ingest

    console = _stderr_console()
    with Bar(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console,
             transient=False) as bar:
        # the rows bar measures the input's bytes (files' sizes are known, row counts are not): a total and an ETA
        # from the start, compressed files included; the row count is shown beside it
        rows = bar.add_task("rows read", total=None, rate="", count="")
        texts = bar.add_task("texts analysed", total=0, rate="", count="", visible=options.analysis is not None)
        read = [0]

        def rate(task_id: Any, count: float, unit: str, digits: int) -> str:
            # rich's own speed needs several samples and reads 0 meanwhile: the average since the start never does
            elapsed = bar.tasks[task_id].elapsed or 0.0
            return f"{count / elapsed:,.{digits}f} {unit}/s" if elapsed > 0 and count else ""

        def on_rows(n: int) -> None:
            read[0] += n
            bar.update(rows, count=f"{read[0]:,}", rate=rate(rows, read[0], "rows", 0))
            if bar.tasks[rows].total is None:
                bar.advance(rows, n)  # no file sizes (stdin, pipes): the bar counts rows

        def on_input_total(n: int) -> None:
            bar.update(rows, total=n, completed=0)

        def on_input(n: int) -> None:
            bar.advance(rows, n)

        def on_texts(n: float) -> None:
            bar.advance(texts, n)
            task = bar.tasks[texts]
            bar.update(texts, rate=rate(texts, task.completed, "texts", 1),
                       count=f"{task.completed:,.0f}/{task.total or 0:,.0f}")

        def on_total(n: int) -> None:
            bar.update(texts, total=(bar.tasks[texts].total or 0) + n)

        return ingest(store, paths, options, Progress(on_rows, on_texts, on_total,
                                                      on_log=lambda m: console.log(m, markup=False, highlight=False),
                                                      on_input_total=on_input_total, on_input=on_input))


def print_summary(summary: RunSummary) -> None:
    console = _stderr_console() if not sys.stdout.isatty() else None
    lines = [
        f"run {summary.run_id} {summary.status} in {summary.seconds:.1f}s"
        + (f" on {summary.device}" if summary.device else ""),
        f"  rows read {summary.rows_read:,}: new {summary.rows_new:,}, duplicate {summary.rows_duplicate:,}, "
        f"rejected {summary.rows_rejected:,}, skipped ([deleted]/[removed]) {summary.rows_skipped:,}",
        f"  texts analysed {summary.texts_analysed:,}, cached {summary.texts_cached:,}, "
        f"unsupported language {summary.texts_unsupported:,}",
    ]
    # file names and reasons come from outside: one line each, with no control character
    for name, reason in summary.failed_sources.items():
        lines.append(for_terminal(f"  could not read {name}: {reason}"))
    for note in summary.notes:
        lines.append(for_terminal(f"  note: {note}"))
    if summary.rows_rejected:
        lines.append(f"  rejected rows: opinions query \"SELECT * FROM rejects WHERE run_id = {summary.run_id}\"")
    text = "\n".join(lines)
    if console:
        console.print(text, highlight=False, markup=False, soft_wrap=True)  # log lines: never wrapped mid-line
    else:
        print(text)


def show_report(kind: str, fmt: str, db: Path | None, timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
                output: Path | None = None, section: str | None = None, wide: bool = False,
                raw_cells: bool = False, **params: Any) -> list[Any]:
    """Run report `kind` (`analyzer.reports.catalog`) and write it as `fmt` to stdout or `output`; its sections."""
    from analyzer.reports.output import choose_section, write_report
    from analyzer.reports.render import format_name
    from analyzer.reports.run import page_title, report_connection, run_report

    fmt = format_name(fmt)
    with report_connection(db, float(params.pop("wait", 30.0)), timeout) as con:
        sections = run_report(con, kind, params)
    chosen = choose_section(sections, section, kind)
    for path in write_report(chosen, fmt, output, title=page_title(kind, params, sections), wide=wide, report=kind,
                             raw_cells=raw_cells):
        print(f"wrote {path}", file=sys.stderr)
    return sections


def show_query(sql: str, fmt: str, db: Path | None, timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
               allow_files: bool = False, output: Path | None = None, raw_cells: bool = False) -> None:
    """Run read-only SQL and write its rows as `fmt`; CSV is streamed (2M rows were 3.1 GB held as tuples)."""
    from analyzer.reports.output import write_report
    from analyzer.reports.render import format_name, write_csv
    from analyzer.reports.run import query_batches, query_report, report_connection

    fmt = format_name(fmt)
    with report_connection(db, 30.0, timeout, allow_files) as con:
        if fmt == "csv" and output is None:
            columns, row_batches = query_batches(con, sql)
            write_csv(columns, row_batches, sys.stdout, raw_cells=raw_cells)
            return
        sections = query_report(con, sql)
    write_report(sections, fmt, output, title="query", report="query", raw_cells=raw_cells)


def run_export_table(name: str, path: Path, db: Path | None, fmt: str | None, overwrite: bool,
                     timeout: float | None, raw_cells: bool = False) -> Any:
    from analyzer.reports.run import report_connection
    from analyzer.store.export import export_format, export_table

    export_format(path, fmt)  # a bad name or format is refused before the database is opened
    with report_connection(db, timeout=timeout) as con:
        return export_table(con, name, path, fmt, overwrite, raw_cells=raw_cells)


def run_export_report(kind: str, path: Path, db: Path | None, fmt: str | None, overwrite: bool, timeout: float | None,
                      section: str | None, raw_cells: bool = False, **params: Any) -> Any:
    from analyzer.reports.catalog import REPORTS
    from analyzer.reports.run import report_connection, run_report
    from analyzer.store.export import ExportError, export_format, export_section

    if kind not in REPORTS:
        raise ExportError(f"export a report by name: {', '.join(REPORTS)} (topic with --name)")
    export_format(path, fmt)
    spec = REPORTS[kind]
    names = {p.name for p in spec.params} | {"limit"}
    given = {k: v for k, v in params.items() if v is not None and k in names}
    if spec.without_argument and params.get("name"):
        given[spec.params[0].name] = params["name"]
    with report_connection(db, timeout=timeout) as con:
        sections = run_report(con, kind, given)
    by_name = {s.name: s for s in sections}
    if section is None and len(sections) > 1:
        raise ExportError(f"report {kind!r} has sections {', '.join(by_name)}: choose one with --section")
    if section is not None and section not in by_name:
        raise ExportError(f"report {kind!r} has no section {section!r}; choose one of {', '.join(by_name)}")
    return export_section(by_name[section] if section else sections[0], path, fmt, overwrite, raw_cells=raw_cells)


# summarize and topics discover hold the database open, for writing, while their model runs; an ingest waits for
# them between chunks for up to 10 minutes (store.database.READER_WAIT_SECONDS), so by default they stop before that
WRITER_TIMEOUT_SECONDS = 540.0


@contextmanager
def held_at_most(con: Any, seconds: float | None, command: str) -> Iterator[None]:
    """Stop the work inside the block after `seconds` (None or 0: no limit): the running DuckDB statement is
    interrupted, and so is Python code (a model between statements), which `--timeout` of the reports, bounding SQL
    only, would not stop. A Ctrl-C of the user's is still a Ctrl-C."""
    import _thread

    if seconds is not None and (seconds < 0 or not math.isfinite(seconds)):
        raise ReportError(f"--timeout {seconds:g}: give seconds ≥ 0 (0 = no limit)")
    if not seconds:
        yield
        return
    guard = threading.Lock()
    state = {"done": False, "fired": False}

    def expire() -> None:
        with guard:
            if state["done"]:
                return
            state["fired"] = True
        con.interrupt()
        _thread.interrupt_main()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except (KeyboardInterrupt, duckdb.InterruptException) as exc:
        if not state["fired"]:
            raise
        raise ReportError(f"{command} stopped after --timeout {seconds:g}s, so that an ingest is not held off: "
                          "narrow it (a topic, --since/--until, --limit) or raise --timeout (0 = no limit); what "
                          "it stored before stays") from exc
    finally:
        with guard:
            state["done"] = True
        timer.cancel()


def run_summarize(topic: str | None, all_topics: bool, db: Path | None, config_path: Path | None, since: str | None,
                  until: str | None, max_words: int, model: str | None, device: str, fmt: str, wait: float,
                  sides: bool = False, timeout: float | None = WRITER_TIMEOUT_SECONDS) -> None:
    from analyzer.reports.catalog import ReportError, parse_when
    from analyzer.reports.render import Section, render
    from analyzer.topics.summaries import Summarizer, summarise_topics

    if fmt not in {"table", "json"}:
        raise ReportError(f"--format {fmt!r}: choose table or json")
    if bool(topic) == all_topics:
        raise ReportError("give one TOPIC or --all")
    if max_words < 5:
        raise ReportError("--max-words must be at least 5")
    spec = resolve("summary", model, load_config(config_path))
    summarizer = Summarizer(spec, device=device, max_words=max_words)
    con = open_store(db, wait_seconds=wait)
    try:
        con.execute("SET TimeZone = 'UTC'")
        with held_at_most(con, timeout, "summarize"):
            results = summarise_topics(con, summarizer, None if all_topics else [topic or ""],
                                       parse_when(since, "since"), parse_when(until, "until"), sides=sides)
    finally:
        con.close()
    section = Section("summaries", ["topic", "summary", "n_comments", "points"],
                      [(r.topic, r.summary, r.n_comments,
                        [{"sentence": p.sentence, "comments": p.comments, "sentiment": p.sentiment} for p in r.points])
                       for r in results], title="Summaries")
    section.table_columns = ["topic", "summary", "n_comments"]
    sys.stdout.write(render([section], fmt, single=True))


def run_topics_apply(db: Path | None, config_path: Path | None, fmt: str, wait: float) -> None:
    from analyzer.reports.render import Section, render
    from analyzer.topics.discovery import apply_keyword_topics

    config = load_config(config_path)
    if not config.get("topics"):
        raise ModelConfigError("no [topics] rules in the config file (see README: Config file)")
    con = open_store(db, wait_seconds=wait)
    try:
        counts = apply_keyword_topics(con, config)
    finally:
        con.close()
    sys.stdout.write(render([Section("keyword_topics", ["topic", "comments"], counts, title="Keyword topics")], fmt))


def run_topics_discover(db: Path | None, since: str | None, until: str | None, limit: int,
                        min_cluster_size: int | None, fmt: str, wait: float,
                        timeout: float | None = WRITER_TIMEOUT_SECONDS) -> None:
    from analyzer.reports.catalog import parse_when
    from analyzer.reports.render import Section, render
    from analyzer.topics.discovery import DiscoveryStats, discover_topics

    con = open_store(db, wait_seconds=wait)
    stats = DiscoveryStats()
    try:
        con.execute("SET TimeZone = 'UTC'")
        with held_at_most(con, timeout, "topics discover"):
            clusters = discover_topics(con, parse_when(since, "since"), parse_when(until, "until"), limit,
                                       min_cluster_size, stats)
    finally:
        con.close()
    print(f"{stats.texts:,} distinct texts: {stats.reused:,} stored embeddings reused, {stats.embedded:,} embedded",
          file=sys.stderr)
    rows = [(c.topic, c.size, c.cohesion, ", ".join(c.terms)) for c in clusters]
    notes = ["cohesion: each cluster's mean silhouette (cosine) on the sentence embeddings; near 1 a tight group, "
             "near 0 or below not a real one"]
    sys.stdout.write(render([Section("clusters", ["topic", "texts", "cohesion", "terms"], rows,
                                     title="Discovered topics", notes=notes)], fmt))


def run_analyze(file: str, task: str, text_field: str, config_path: Path | None, model: str | None, device: str,
                batch_tokens: int | None, quantize: str = "auto") -> Iterator[str]:
    """Analyse texts from a file or stdin; yields one JSON line per input line, in order."""
    from analyzer.tasks import task_class
    from analyzer.tasks.analysis import AnalysisSettings, Predictor

    _check_task(task, "--task")
    texts = _read_texts(file, text_field)
    config = load_config(config_path)
    spec = resolve(task, model, config)
    predictor = Predictor(AnalysisSettings([task], {task: spec}, device=device, batch_tokens=batch_tokens,
                                           quantize=quantize))
    chunk = 2048
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        result = predictor({"text_hash": [str(i) for i in range(len(part))], "text": part})
        for prediction, status, lang in zip(result[task], result[f"{task}_status"], result["lang"], strict=True):
            line = task_class(task).json_line(prediction if status != "unsupported" else None, lang)
            yield json.dumps(line, ensure_ascii=False)


def _read_texts(file: str, text_field: str) -> list[str]:
    stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
    try:
        lines = stream.read().splitlines()
    finally:
        if stream is not sys.stdin:
            stream.close()
    texts = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                record = json.loads(stripped)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                value = record.get(text_field)
                if not isinstance(value, str):
                    raise ModelConfigError(f"line {number}: no string field {text_field!r}")
                texts.append(value)
                continue
        texts.append(line)
    return texts


def run_evaluate(file: Path, task: str, model: str | None, config_path: Path | None, device: str,
                 quantize: str = "auto") -> dict[str, Any]:
    from analyzer.finetune.evaluate import evaluate_file

    _check_task(task, "--task")
    config = load_config(config_path)
    return evaluate_file(file, task, resolve(task, model, config), device, quantize)


def print_metrics(task: str, metrics: dict[str, Any]) -> None:
    from analyzer.reports.render import Section, render
    from analyzer.tasks import task_class

    rows = [(k, v) for k, v in metrics.items() if not isinstance(v, dict)]
    sections = [Section("metrics", ["metric", "value"], rows, title=f"{task} on {metrics.get('file', '')}")]
    for name, (title, columns) in task_class(task).metric_tables.items():
        table = [(key, *(values[c] for c in columns[1:])) for key, values in metrics.get(name, {}).items()]
        sections.append(Section(name, columns, table, title=title))
    sys.stdout.write(render(sections, "table"))


def run_train(file: Path, task: str, base: str, epochs: float | None, out: Path | None, eval_file: Path | None,
              lr: float, batch_size: int, seed: int, device: str, balance: str = "weighted",
              head_init: str = "names") -> None:
    from analyzer.finetune.train import (
        BALANCE_CHOICES,
        HEAD_INIT_CHOICES,
        PER_CLASS_COLUMNS,
        TrainRequest,
        per_class_rows,
        train,
    )

    if not file.exists():
        raise FileNotFoundError(f"no such file: {file}")
    _check_task(task, "--task")
    if balance not in BALANCE_CHOICES:
        raise ModelConfigError(f"--balance {balance!r}: choose {' or '.join(BALANCE_CHOICES)}")
    if head_init not in HEAD_INIT_CHOICES:
        raise ModelConfigError(f"--head-init {head_init!r}: choose {' or '.join(HEAD_INIT_CHOICES)}")
    spec = resolve(task, base)
    out = out or Path("models") / f"{task}-{file.stem}"
    console = _stderr_console()
    report = train(TrainRequest(task=task, file=file, base=spec, out=out, eval_file=eval_file, epochs=epochs, lr=lr,
                                batch_size=batch_size, seed=seed, device=device, balance=balance, head_init=head_init),
                   log=lambda message: console.print(message, markup=False, highlight=False))
    from analyzer.reports.render import Section, render

    keys = [k for k, v in report.after.items() if isinstance(v, (int, float))]
    rows = [(k, (report.before or {}).get(k), report.after[k]) for k in keys]
    sections = [Section("metrics", ["metric", "before", "after"], rows,
                        title=f"validation ({report.n_val} examples): before and after")]
    per_class = per_class_rows(report)
    if per_class:
        sections.append(Section("per_class", PER_CLASS_COLUMNS, per_class,
                                title="per class: training and validation examples, precision / recall / F1"))
    sys.stdout.write(render(sections))
    for warning in report.warnings:  # repeated under the table, where a reader of the result looks
        print(warning)
    print(f"model written to {out} (use --{task}-model {out})")


def list_models(config_path: Path | None, profile: str | None, fmt: str = "table") -> None:
    from analyzer.reports.render import Section, render

    config = load_config(config_path)
    rows = []
    for task in model_tasks():
        spec = resolve(task, None, config, profile)
        analysed = task in TASK_NAMES  # the summary model is English-only and runs at fp32
        try:
            rows.append((task, spec.source, spec.where(), ",".join(spec.languages() or ["any"]) if analysed else "en",
                         _on_cpu(spec) if analysed else "fp32", _speed_paths(spec) if analysed else ""))
        except ModelNotFoundError as exc:  # one missing model is that task's row, not the end of the listing
            rows.append((task, spec.source, f"missing: {exc}", "", "", ""))
    columns = ["task", "model", "from", "languages", "on_cpu", "speed_paths"]
    sys.stdout.write(render([Section("models", columns, rows, title="Models in use")], fmt))


def _speed_paths(spec: ModelSpec) -> str:
    """Whether each of the task's speed paths is on for this model on this machine's CPU, found by
    loading it (a second or two; a cached trace says what its making found). A hub model is not
    downloaded for this: it is checked when a run loads it."""
    from analyzer.models.runtime import Runtime
    from analyzer.tasks import task_class
    from analyzer.tasks.base import TaskOptions

    cls = task_class(spec.task)
    if not cls.speed_path_names:
        return ""
    if not (spec.is_embedded or spec.is_local):
        return "checked when a run loads it"
    task = cls(spec, Runtime("cpu", "float32"), TaskOptions(quantize=spec.cpu_quantize()))
    return "; ".join(f"{name}: {task.speed_paths.get(name, 'off (not applied)')}" for name in cls.speed_path_names)


def show_settings(config_path: Path | None, flags: dict[str, str | None], fmt: str = "table") -> None:
    """`opinions config show`: each setting, its effective value, where it came from, and its variable."""
    from analyzer.models.spec import model_defaults
    from analyzer.reports.render import Section, render
    from analyzer.settings import lookup, show

    defaults = {task: model_defaults(task) for task in model_tasks()}
    rows = [(e.name, e.value, e.origin, lookup(e.name).env) for e in show(defaults, load_config(config_path), flags)]
    columns = ["setting", "value", "from", "env"]
    sys.stdout.write(render([Section("settings", columns, rows, title="Settings in effect")], fmt))


def _on_cpu(spec: ModelSpec) -> str:
    """What `--quantize auto` runs on this CPU, then what each reduced precision was measured to change
    against fp32 on held-out dev data: the metric drop and the churn (share of answers that differ)."""
    chosen = {"none": "fp32"}.get(spec.cpu_quantize(), spec.cpu_quantize())
    if not spec.is_embedded:
        return chosen
    manifest = modelpack.pack_entry(spec.task).manifest
    measured = []
    for mode in ("bf16", "int8"):
        variant = manifest.get(mode) or {}
        if variant:
            churn = f"churn {variant['churn']:.1f}%" if variant.get("churn") is not None else "churn not measured"
            drops = ", ".join(f"{k} {v:+.2f}" for k, v in variant["drop"].items())
            measured.append(f"{mode}: {churn}, drop {drops}")
    return f"{chosen} ({'; '.join(measured)})" if measured else chosen


def model_path(task: str, config_path: Path | None) -> str:
    from analyzer.models.spec import load_folder_or_id

    _check_task(task, "task")
    return load_folder_or_id(resolve(task, None, load_config(config_path)))
