"""The `opinions` command: a thin shell over the analyzer library.

Exit codes: 0 success (rejected rows included); 1 fatal error (one line on stderr);
2 usage error; 3 `report alerts --fail-on-alert` found an alert.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from analyzer import __version__
from analyzer.reports.catalog import REPORTS, Report
from analyzer.tasks import NAMES as TASK_NAMES
from analyzer.tasks import default_ingest_tasks
from analyzer.text.safe_output import for_terminal

app = typer.Typer(
    help="Analyse social-media comment dumps: ingest into DuckDB with sentiment and entities, then report.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
report_app = typer.Typer(help="SQL reports over the database (read-only; never loads a model).", no_args_is_help=True)
models_app = typer.Typer(help="The models each task uses and where they come from.", invoke_without_command=True)
app.add_typer(report_app, name="report")
topics_app = typer.Typer(help="Keyword and discovered topics (no sentiment model runs).", no_args_is_help=True)
export_app = typer.Typer(help="Write a table or a report to a Parquet or CSV file you name.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(topics_app, name="topics")
app.add_typer(export_app, name="export")
config_app = typer.Typer(help="The settings in effect (flag > environment > config file > profile).")
app.add_typer(config_app, name="config")

F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: $OPINIONS_DB, else ./opinions.duckdb).")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="Config file (default: ./opinions.toml if present).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | json | jsonl | csv | markdown | html (any case).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file instead of stdout (CSV of several sections: one file per section).")]
SectionOption = Annotated[str | None, typer.Option(help="Only this section of a report that has several.")]
WideOption = Annotated[bool, typer.Option("--wide", help="The terminal table shows every column (default: those "
                                                          "that fit 80 columns).")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Only comments at or after this date (YYYY-MM-DD).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only comments before this date (YYYY-MM-DD).")]
def finite(value: float | None) -> float | None:
    """Every float option's check: nan and inf are refused (exit 2). nan compares false with every
    bound, so `--threshold nan` silently never alerted and `--timeout nan` meant no limit."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value}: give a finite number")
    return value


def field_name(value: str | None) -> str | None:
    """--*-field: a usable field name or dotted path (the library's check), else a usage error (exit 2)."""
    from analyzer.sources.presets import PresetError, field_path

    if value is not None and value != "@file":
        try:
            field_path(value)
        except PresetError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def time_format_flag(value: str | None) -> str | None:
    """--time-format: a strptime format DuckDB reads (the library's check), else a usage error (exit 2)."""
    from analyzer.sources.dates import TimeFormatError, check_time_format

    if value is not None:
        try:
            check_time_format(value)
        except TimeFormatError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


TimeoutOption = Annotated[float, typer.Option(
    "--timeout", callback=finite, help="Stop after this many seconds, so the database is never held for long (0 = no limit).")]
# summarize and topics discover hold the database while their model runs: by default they stop before an ingest
# waiting for them gives up (10 minutes)
WriterTimeoutOption = Annotated[float, typer.Option(
    "--timeout", callback=finite, help="Stop after this many seconds (model time included), so that an ingest waiting "
                                       "for the database is not held off (0 = no limit).")]
RawCellsOption = Annotated[bool, typer.Option(
    "--raw-cells", help="CSV: write cells that start with = + - @ TAB CR as they are (default: a leading ' keeps "
                        "spreadsheets from running them as formulas).")]
LimitHelp = "At most this many rows (1 to 100,000)."
BatchTokensOption = Annotated[int | None, typer.Option(
    help="Tokens per model batch (padded rows × length). Default: 2048 on CPUs (measured fastest), 8192 on GPUs.")]
QuantizeOption = Annotated[str, typer.Option(help=(
    "CPU precision. auto: fp32, or bf16 on CPUs with AMX for pack models whose measured loss is under half a point "
    "and churn at most 1% (see `opinions models`); none: fp32; int8: per-channel dynamic int8 on every Linear layer "
    "but the head (faster, but a text's answer can depend on its batch neighbours); "
    "bf16: the whole model in bfloat16 (fast only with AMX). GPUs always use bf16/fp16."))]


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"opinions {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                                   callback=_print_version)] = False) -> None:
    """Analyse social-media comment dumps: ingest into DuckDB with sentiment and entities, then report."""


TaskHelp = " | ".join(TASK_NAMES)
DEFAULT_TASKS = default_ingest_tasks()


def with_model_options(fn: F) -> F:
    """Adds `--<task>-model` for every task in `analyzer.tasks.NAMES` (after `--profile`) and hands
    them to `fn` as one `models` dict: a new task gets its option without an edit here."""
    names = {f"{task}_model": task for task in TASK_NAMES}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, models={task: kwargs.pop(name, None) for name, task in names.items()}, **kwargs)

    own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "models"]
    at = next(i for i, p in enumerate(own) if p.name == "profile") + 1
    added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[
        str | None, typer.Option(help=f"The {task} model: embedded, a hub id, or a folder.")])
        for name, task in names.items()]
    wrapper.__signature__ = inspect.Signature(own[:at] + added + own[at:])  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int = 1) -> typer.Exit:
    # an error quotes file names and values from the input: one line, no control character
    typer.echo(f"opinions: error: {for_terminal(message)}", err=True)
    return typer.Exit(code)


def friendly_errors(fn: F) -> F:
    """Known errors become one line on stderr and exit 1; never a traceback (unless OPINIONS_DEBUG=1)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from analyzer.errors import USER_ERRORS
        from analyzer.settings import value

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except BrokenPipeError:
            # the reader left (`opinions analyze dump | head`): stop quietly, as cat or grep do, with
            # the shell's status for SIGPIPE; stdout goes to /dev/null so the final flush cannot fail again
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        except USER_ERRORS as exc:
            if value("debug"):
                raise
            raise fail(str(exc)) from None
        except Exception as exc:  # a bug or an environment problem: still one clear line
            if value("debug"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise fail(f"{type(exc).__name__}: {first} (set OPINIONS_DEBUG=1 for a traceback)") from None

    return wrapper  # type: ignore[return-value]


@app.command()
@friendly_errors
@with_model_options
def ingest(
    paths: Annotated[list[str], typer.Argument(help=(
        "Dump files, folders, globs, or - for stdin: JSON lines (.jsonl .ndjson, or .json: detected from the bytes), "
        "JSON documents (arrays, Twitter API v2 pages, Mastodon outboxes, tweets.js), .csv/.tsv, .txt (one comment a "
        "line), .parquet; .gz/.zst/.bz2/.xz."))],
    db: DbOption = None,
    config: ConfigOption = None,
    preset: Annotated[str | None, typer.Option(help="reddit | twitter | mastodon | youtube | telegram | bluesky | generic (default: detected per file).")] = None,
    text_field: Annotated[str | None, typer.Option(callback=field_name, help="Field holding the text; dotted paths for nested fields (user.bio).")] = None,
    id_field: Annotated[str | None, typer.Option(callback=field_name, help="Field holding the comment id.")] = None,
    time_field: Annotated[str | None, typer.Option(callback=field_name, help="Field holding the timestamp (epoch seconds/ms or a date string).")] = None,
    time_format: Annotated[str | None, typer.Option(callback=time_format_flag, help=(
        "strptime format of the time field, e.g. '%m/%d/%Y %H:%M' for US dates. Needed only when no value of a file "
        "tells month/day from day/month (2/10/2015); such a file is refused without it."))] = None,
    author_field: Annotated[str | None, typer.Option(callback=field_name, help="Field holding the author.")] = None,
    author: Annotated[str | None, typer.Option(help="Author of records that name none (a Twitter archive without account.js).")] = None,
    topic_field: Annotated[str | None, typer.Option(callback=field_name, help="Field whose value is the comment's topic; @file: the file's name (without extensions).")] = None,
    topic: Annotated[str | None, typer.Option(help="One topic for every comment of this run (for files that have none).")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter: one character, or tab (default: sniffed among , ; tab |).")] = None,
    no_header: Annotated[bool, typer.Option("--no-header", help="A CSV's first line is a row: columns are named 1, 2, ... (--text-field 6).")] = False,
    tasks: Annotated[str, typer.Option(help=f"{','.join(TASK_NAMES)} | default | all | none: what to run on new "
                                            f"texts (default: {','.join(DEFAULT_TASKS)}).")] = "default",
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N | mps.")] = "auto",
    batch_tokens: BatchTokensOption = None,
    profile: Annotated[str | None, typer.Option(help="Model profile: embedded (offline default) | hub.")] = None,
    allow_pickle: Annotated[bool, typer.Option(help="Allow loading pickle (.bin) checkpoints; unsafe for untrusted models.")] = False,
    quantize: QuantizeOption = "auto",
    engine: Annotated[str, typer.Option(help="local (default) | ray: map and analyse on a Ray cluster.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (default: a private local one).")] = None,
    workers: Annotated[int | None, typer.Option(help="Ray predictor actors (default: from the cluster's CPUs).")] = None,
    gpus_per_worker: Annotated[float, typer.Option(callback=finite, help="GPUs per Ray predictor actor.")] = 0.0,
    wait: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for another process's lock on the database.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no log lines.")] = False,
    models: dict[str, str | None] | None = None,  # --<task>-model, one per task (with_model_options)
) -> None:
    """Read dumps into the database and analyse the new texts.

    Re-running on the same input adds nothing; rows that cannot be used go to the
    `rejects` table with their line number and reason. Example:

        opinions ingest RC_2024-01.zst --tasks sentiment --db reddit.duckdb
    """
    from analyzer.commands import print_summary, run_ingest
    from analyzer.ingest import IngestOptions, Interrupted, RayOptions, RunFailed
    from analyzer.ingest.options import parse_delimiter
    from analyzer.ingest.run import StoppedNow

    options = IngestOptions(
        preset=preset, text_field=text_field, id_field=id_field, time_field=time_field, author_field=author_field,
        topic_field=topic_field, topic=topic, author=author, time_format=time_format,
        delimiter=parse_delimiter(delimiter), no_header=no_header, engine=engine,
        ray=RayOptions(address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker))
    try:
        summary = run_ingest(
            paths, db, config, options, tasks=tasks, models=models or {},
            profile=profile, device=device, batch_tokens=batch_tokens, allow_pickle=allow_pickle, quantize=quantize,
            wait=wait, quiet=quiet or as_json)
    except (Interrupted, StoppedNow) as stopped:  # StoppedNow: a second signal, the run marked and summarised
        typer.echo(json.dumps(stopped.summary.as_json())) if as_json else print_summary(stopped.summary)
        raise fail(str(stopped), 130) from None
    except RunFailed as failed:  # the summary of what was committed, then the error in one line
        typer.echo(json.dumps(failed.summary.as_json())) if as_json else print_summary(failed.summary)
        raise failed.error from None
    typer.echo(json.dumps(summary.as_json())) if as_json else print_summary(summary)
    if summary.status == "failed":
        raise fail(summary.failure())


@app.command()
@friendly_errors
def analyze(
    file: Annotated[str, typer.Argument(help="Plain text (one text a line) or JSONL; - for stdin.")] = "-",
    task: Annotated[str, typer.Option(help=TaskHelp)] = "sentiment",
    text_field: Annotated[str, typer.Option(help="JSONL field holding the text.")] = "text",
    config: ConfigOption = None,
    model: Annotated[str | None, typer.Option(help="embedded, a hub id, or a folder (default: the task's configured model).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N | mps.")] = "auto",
    batch_tokens: BatchTokensOption = None,
    quantize: QuantizeOption = "auto",
) -> None:
    """Run one task on texts without a database; one JSON object per input line, in order.

        echo "I absolutely love this phone" | opinions analyze --task sentiment
    """
    from analyzer.commands import run_analyze

    for line in run_analyze(file, task, text_field, config, model, device, batch_tokens, quantize):
        sys.stdout.write(line + "\n")


@app.command()
@friendly_errors
def evaluate(
    file: Annotated[Path, typer.Argument(help="Labelled data: TSV (text, label) or JSONL for sentiment; CoNLL for ner.")],
    task: Annotated[str, typer.Option(help=TaskHelp)] = "sentiment",
    model: Annotated[str | None, typer.Option(help="embedded, a hub id, or a folder (default: configured model).")] = None,
    config: ConfigOption = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N | mps.")] = "auto",
    quantize: QuantizeOption = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score a model on your own labelled data (macro recall/F1 for sentiment, entity F1 for ner)."""
    from analyzer.commands import print_metrics, run_evaluate

    metrics = run_evaluate(file, task, model, config, device, quantize)
    typer.echo(json.dumps(metrics, indent=2)) if as_json else print_metrics(task, metrics)


@app.command("train")
@friendly_errors
def train_command(
    file: Annotated[Path, typer.Argument(help="Labelled data: TSV (text, label) or JSONL for sentiment; CoNLL for ner. "
                                              "One label per text (multi-label rows are refused).")],
    task: Annotated[str, typer.Option(help="sentiment (any label set of your own) | ner")] = "sentiment",
    base: Annotated[str, typer.Option(help="embedded, a hub id, or a model folder to start from.")] = "embedded",
    epochs: Annotated[float | None, typer.Option(
        callback=finite, help="At most this many epochs (early stopping on validation macro-F1; entity F1 for ner). Default: 3, or "
             "up to 10 on a small data set (enough for about 400 steps).", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: models/<task>-<file name>).")] = None,
    eval_file: Annotated[Path | None, typer.Option(
        "--eval", help="Validation file; must have every class (default: a seeded 15% split with every class).")] = None,
    balance: Annotated[str, typer.Option(
        help="weighted: class-weighted loss, so rare classes are learned | none: plain loss.")] = "weighted",
    head_init: Annotated[str, typer.Option(
        help="For a label set the base does not have: names: rows start from the base head's shared labels and "
             "the other labels' names | random.")] = "names",
    lr: Annotated[float, typer.Option(callback=finite, help="Learning rate.")] = 5e-5,
    batch_size: Annotated[int, typer.Option(help="Examples per step.")] = 16,
    seed: Annotated[int, typer.Option(help="Random seed (split, shuffling, new head).")] = 13,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N | mps.")] = "auto",
) -> None:
    """Fine-tune a model on your own labelled comments; prints validation metrics, overall and per class,
    before and after, and warns about classes with fewer than 30 examples.

        opinions train support_tickets.tsv --task sentiment --out models/support
        opinions ingest dump.jsonl --sentiment-model models/support
    """
    from analyzer.commands import run_train

    run_train(file, task, base, epochs, out, eval_file, lr, batch_size, seed, device, balance=balance,
              head_init=head_init)


def _report_command(spec: Report) -> Callable[..., None]:
    """`opinions report NAME`, built from the report's declaration (`analyzer.reports.catalog`):
    its parameters, then the options every report has."""

    def command(**values: Any) -> None:
        from analyzer.commands import show_report

        out = {name: values.pop(name) for name in ("fmt", "db", "timeout", "output", "section", "wide", "raw_cells")}
        sections = show_report(spec.name, **out, **values)
        if spec.fail_flag and values.get(spec.fail_flag) and sections[0].rows:
            raise typer.Exit(3)

    kinds = {"str": str | None, "int": int | None, "float": float | None, "bool": bool, "date": str | None,
             "list": list[str] | None}
    params = []
    for param in spec.params:
        default = None if param.kind == "list" else param.default
        declared = (typer.Argument(help=param.help, show_default=False) if param.argument
                    else typer.Option(param.option, help=param.help, show_default=default not in (None, False),
                                      callback=finite if param.kind == "float" else None))
        params.append(inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[kinds[param.kind], declared]))
    limit_help = LimitHelp + (f" Default: {spec.limit}." if spec.limit else " Default: each section's own.")
    common = {
        "db": (DbOption, None), "fmt": (FormatOption, "table"), "output": (OutputOption, None),
        "section": (SectionOption, None), "limit": (Annotated[int | None, typer.Option(help=limit_help)], None),
        "wide": (WideOption, False), "timeout": (TimeoutOption, 60.0), "raw_cells": (RawCellsOption, False),
    }
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
               for name, (annotation, default) in common.items()]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = f"report_{spec.name}"
    command.__doc__ = spec.help
    return command


for _spec in REPORTS.values():
    report_app.command(_spec.name)(friendly_errors(_report_command(_spec)))


@app.command()
@friendly_errors
def summarize(
    topic: Annotated[str | None, typer.Argument(help="The topic to summarise (or --all).")] = None,
    all_topics: Annotated[bool, typer.Option("--all", help="Summarise every topic with at least 3 comments.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    max_words: Annotated[int, typer.Option(help="Length budget of each summary, in words.")] = 60,
    sides: Annotated[bool, typer.Option(
        "--sides", help="Two lists: what the positive comments say, and what the negative ones say.")] = False,
    model: Annotated[str | None, typer.Option(help="embedded (extractive), or a seq2seq hub id / folder (abstractive).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N | mps.")] = "auto",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
    wait: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for another process's lock on the database.")] = 60.0,
    timeout: WriterTimeoutOption = 540.0,
) -> None:
    """Summarise what a topic's comments say, store it in `summaries`, and print it."""
    from analyzer.commands import run_summarize

    run_summarize(topic, all_topics, db, config, since, until, max_words, model, device, fmt, wait, sides=sides,
                  timeout=timeout)


@topics_app.command("apply")
@friendly_errors
def topics_apply(db: DbOption = None, config: ConfigOption = None, fmt: FormatOption = "table",
                 wait: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for the database lock.")] = 60.0) -> None:
    """Re-apply the [topics] keyword rules of the config file to every stored comment."""
    from analyzer.commands import run_topics_apply

    run_topics_apply(db, config, fmt, wait)


@topics_app.command("discover")
@friendly_errors
def topics_discover(
    db: DbOption = None, since: SinceOption = None, until: UntilOption = None,
    limit: Annotated[int, typer.Option(help="At most this many distinct texts are clustered.")] = 20_000,
    min_cluster_size: Annotated[int | None, typer.Option(help="Smallest cluster (default: one text in 400, from 5 to 50).")] = None,
    fmt: FormatOption = "table",
    wait: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for the database lock.")] = 60.0,
    timeout: WriterTimeoutOption = 540.0,
) -> None:
    """Cluster comments by meaning (MiniLM + HDBSCAN) and store the clusters as topics labelled by their terms."""
    from analyzer.commands import run_topics_discover

    run_topics_discover(db, since, until, limit, min_cluster_size, fmt, wait, timeout=timeout)


@app.command()
@friendly_errors
def query(sql: Annotated[str, typer.Argument(help="SQL to run on a read-only connection.")], db: DbOption = None,
          fmt: FormatOption = "table", output: OutputOption = None, timeout: TimeoutOption = 60.0,
          allow_files: Annotated[bool, typer.Option(
              "--allow-files", help="Let the SQL read and write files (COPY, read_csv, glob, ATTACH): only for SQL "
                                    "you trust. Extensions and settings stay locked.")] = False,
          raw_cells: RawCellsOption = False) -> None:
    """Run read-only SQL against the database (tables: comments, sentiment, entities, runs, ...).

    The SQL sees the database and nothing else: no files (COPY, read_csv, glob, ATTACH),
    no extensions, no settings. To save a result, use `opinions export`; a trusted user who
    wants COPY passes --allow-files.

        opinions query "SELECT topic, count(*) FROM comments GROUP BY ALL ORDER BY 2 DESC LIMIT 5"
    """
    from analyzer.commands import show_query

    show_query(sql, fmt, db, timeout, allow_files, output, raw_cells=raw_cells)


ExportFormatOption = Annotated[str | None, typer.Option(
    "--format", "-f", help="parquet | csv (default: from the file name's ending).")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace the file if it exists.")]


@export_app.command("table")
@friendly_errors
def export_table(
    name: Annotated[str, typer.Argument(help="A table or view: comments, comments_enriched, sentiment, entities, "
                                             "entity_mentions, comment_topics, runs, rejects, summaries, ...")],
    path: Annotated[Path, typer.Argument(help="The file to write (.parquet or .csv).")],
    db: DbOption = None, fmt: ExportFormatOption = None, overwrite: OverwriteOption = False,
    timeout: TimeoutOption = 60.0, raw_cells: RawCellsOption = False,
) -> None:
    """Write every row of a table or view to a file, streamed (memory stays flat).

        opinions export table comments_enriched comments.parquet
    """
    from analyzer.commands import run_export_table

    done = run_export_table(name, path, db, fmt, overwrite, timeout, raw_cells=raw_cells)
    typer.echo(for_terminal(f"wrote {done.rows:,} rows of {name} to {done.path} ({done.fmt})"), err=True)


@export_app.command("report")
@friendly_errors
def export_report(
    kind: Annotated[str, typer.Argument(help="topics | topic | entities | trend | alerts | runs | rejects")],
    path: Annotated[Path, typer.Argument(help="The file to write (.parquet or .csv).")],
    name: Annotated[str | None, typer.Option(help="The topic, for `topic` (its sections: see --section).")] = None,
    section: Annotated[str | None, typer.Option(help="The section of a report that has several (topic, rejects).")] = None,
    db: DbOption = None, since: SinceOption = None, until: UntilOption = None,
    by: Annotated[str, typer.Option(help="Trend period: day | week | month.")] = "day",
    limit: Annotated[int | None, typer.Option(help=LimitHelp + " Default: the report's own.")] = None,
    fmt: ExportFormatOption = None, overwrite: OverwriteOption = False, timeout: TimeoutOption = 60.0,
    raw_cells: RawCellsOption = False,
) -> None:
    """Write a report's rows (as `--format json` has them) to a file.

        opinions export report topics topics.csv --since 2026-10-01
        opinions export report topic spotify_entities.parquet --name spotify --section entities
    """
    from analyzer.commands import run_export_report

    params = {"name": name, "since": since, "until": until, "by": by, **({"limit": limit} if limit is not None else {})}
    done = run_export_report(kind, path, db, fmt, overwrite, timeout, section, raw_cells=raw_cells, **params)
    typer.echo(for_terminal(f"wrote {done.rows:,} rows of report {kind} to {done.path} ({done.fmt})"), err=True)


@models_app.callback()
@friendly_errors
def models_list(ctx: typer.Context, config: ConfigOption = None,
                profile: Annotated[str | None, typer.Option(help="embedded | hub | hub-multilingual")] = None,
                fmt: FormatOption = "table") -> None:
    """List the model each task uses and where it comes from."""
    if ctx.invoked_subcommand:
        return
    from analyzer.commands import list_models

    list_models(config, profile, fmt)


@models_app.command("path")
@friendly_errors
def models_path(task: Annotated[str, typer.Argument(help=TaskHelp)], config: ConfigOption = None) -> None:
    """Print a folder that `transformers.pipeline(task, model=FOLDER)` loads."""
    from analyzer.commands import model_path

    typer.echo(model_path(task, config))


@config_app.command("show")
@friendly_errors
def config_show(config: ConfigOption = None, db: DbOption = None,
                profile: Annotated[str | None, typer.Option(help="embedded | hub | hub-multilingual")] = None,
                fmt: FormatOption = "table") -> None:
    """Print every setting's effective value and where it came from."""
    from analyzer.commands import show_settings

    show_settings(config, {"db": str(db) if db else None, "profile": profile}, fmt)


def main() -> None:
    try:
        app()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: object) -> None:
    """Exit; after a model ran, skip the interpreter's teardown of torch, which takes ~0.5 s
    (load a model and exit: 3.19 s, the same with os._exit: 2.67 s). Output and logs are
    flushed first, and by now every database connection is closed (each command closes
    its own). Not with Ray alive, whose shutdown hooks must run; not for a message exit."""
    if isinstance(code, int | None) and "torch" in sys.modules and "ray" not in sys.modules:
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code or 0)
    sys.exit(code)


if __name__ == "__main__":
    main()
