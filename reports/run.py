"""Run a declared report (`reports.catalog`): check its values, run its SQL, build its sections.

Each section is one `queries/reports/*.sql` run on a read-only connection. Rendering is
`reports.render`'s job. No torch here.

A report is bounded twice: its parameters have ranges (`--history` at most `MAX_HISTORY`
periods, `--limit` at most `MAX_LIMIT` rows), and its SQL is stopped at a time limit
(`--timeout`, default `DEFAULT_TIMEOUT_SECONDS`), so a report never holds the database for
long and an ingest waiting to write its next chunk gets in.

A section's SQL may return a `_total` column (`count(*) OVER ()`, counted before its LIMIT):
the number of rows there were, for "showing N of M". A SQL file without `$limit` is cut here.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from analyzer.reports.catalog import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_LIMIT,
    Report,
    ReportError,
    SectionSpec,
    checked,
    report,
)
from analyzer.reports.render import Section, sparkline
from analyzer.store.database import explain_read_error, open_readonly, resolve_db_path, run_sql
from analyzer.text.normalise import display_text
from analyzer.topics.names import shown_names

# comment texts and entity names are shown decoded (`display_text`); the stored text is never changed
DISPLAY_TEXT_COLUMNS = ("text", "entity")

TOTAL_COLUMN = "_total"


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float | None) -> Iterator[None]:
    """Interrupt the statements run on `con` inside the block after `seconds` (None or 0: no limit)."""
    if seconds is not None and (seconds < 0 or not math.isfinite(seconds)):  # nan/inf would mean "no limit"
        raise ReportError(f"--timeout {seconds:g}: give seconds ≥ 0 (0 = no limit)")
    if not seconds:
        yield
        return
    # DuckDB runs a statement without the GIL, so this timer thread can interrupt it mid-way
    timer = threading.Timer(seconds, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException:
        raise ReportError(f"stopped after --timeout {seconds:g}s: narrow it (--since/--until, a topic, a LIMIT) "
                          "or raise --timeout (0 = no limit)") from None
    finally:
        timer.cancel()


@contextmanager
def report_connection(db: Path | None, wait: float = 30.0, timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
                      allow_files: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The sandboxed read-only connection reports, queries and exports run on, under their time limit;
    an error that is the database's fault (a damaged block) is explained as such. DuckDB spills to a
    private folder of this connection, removed at the end: its default, `<db>.tmp/`, is a folder the
    sandbox lets SQL write to and read from."""
    spill = tempfile.TemporaryDirectory(prefix="opinions-spill-")
    try:
        con = open_readonly(db, wait_seconds=wait, allow_files=allow_files, temp_directory=spill.name)
    except BaseException:
        spill.cleanup()
        raise
    try:
        with time_limit(con, timeout):
            yield con
    except duckdb.PermissionException as exc:  # the sandbox said no (store.SANDBOX)
        raise ReportError(f"{str(exc).splitlines()[0]}: reports and queries see only the database; save results "
                          "with `opinions export`, or pass --allow-files to `opinions query` for SQL you trust") from None
    except duckdb.Error as exc:
        explained = explain_read_error(exc, resolve_db_path(db))
        if explained is None:
            raise
        raise explained from exc
    finally:
        con.close()
        spill.cleanup()


def run_report(con: duckdb.DuckDBPyConnection, name: str, given: dict[str, Any]) -> list[Section]:
    """The sections of report `name` with the values `given` (CLI strings for dates; missing: the defaults)."""
    spec = report(name)
    if spec.without_argument and not given.get(spec.params[0].name):
        spec = report(spec.without_argument)
        given = {k: v for k, v in given.items() if k in {p.name for p in spec.params} | {"limit"}}
    values = checked(spec, given)
    _check_names(con, spec, values)
    if spec.name == "alerts":
        values = _alerts_span(con, values)
    adjustment, why_raw = None, None
    if any(section.shares for section in spec.sections):
        # shares corrected for the sentiment model's measured confusion (analyzer.labels.shares), or as counted
        adjustment, why_raw = shares_adjustment(con, bool(values.get("raw")))
        values = {**values, **adjustment.linear_params()}  # for SQL that corrects shares itself
    sections = [_section(con, section, values, spec.limit) for section in spec.sections]
    if adjustment is not None:
        _fill_shares(spec, sections, adjustment, why_raw)
    _add_notes(con, spec, values, sections)
    return sections


def _fill_shares(spec: Report, sections: list[Section], adjustment: Any, why_raw: str | None) -> None:
    """Share columns from label counts (`analyzer.labels.shares.apply`), and the caption that says how they were made,
    under the report's first section with shares."""
    from analyzer.labels import shares
    captioned = False
    for section_spec, section in zip(spec.sections, sections, strict=True):
        if section_spec.shares == "counts":
            section.columns, section.rows = shares.apply(section.columns, section.rows, adjustment)
        if section_spec.shares and not captioned:
            note = why_raw or shares.describe(adjustment)
            if section_spec.shares == "linear":  # no interval column there: the caption's first clause only
                note = note.split("; ±neg")[0]
            section.notes.append(note)
            captioned = True


def shares_adjustment(con: duckdb.DuckDBPyConnection, raw: bool) -> tuple[Any, str | None]:
    """The adjustment the database's sentiment model allows, and why the shares are raw (None: they are not).
    The confusion is what ingest stored beside the model (`meta`), else the embedded pack's own when the
    database's model is this pack's sentiment entry."""
    from analyzer.labels import shares
    from analyzer.models import pack as modelpack
    labels = ("negative", "neutral", "positive")
    if raw:
        return shares.raw(labels), None
    model, stored = run_sql(con, "reports/sentiment_confusion").fetchone() or (None, None)
    if not stored and model and model.startswith("embedded/sentiment@"):
        manifest = modelpack.pack_entry("sentiment").manifest
        if model.removeprefix("embedded/sentiment@").startswith(manifest["sha256"][:12]):
            stored = shares.stored_confusion(manifest.get("confusion"))
    counted = "shares as the model's labels count them: "
    if not stored:
        return shares.raw(labels), (f"{counted}no confusion measured on held-out data for {model or 'no model yet'} "
                                    f"to correct them with; {shares.INTERVAL_NOTE}")
    try:
        adjustment = shares.from_json(stored)
    except (shares.ConfusionError, ValueError, KeyError) as exc:
        return shares.raw(labels), f"{counted}the model's stored confusion is unusable ({exc}); {shares.INTERVAL_NOTE}"
    if set(adjustment.labels) != set(labels):
        return shares.raw(labels), (f"{counted}the model's confusion is over {', '.join(adjustment.labels)}, not "
                                    f"negative, neutral, positive; {shares.INTERVAL_NOTE}")
    return adjustment, None


def page_title(name: str, given: dict[str, Any], sections: list[Section]) -> str:
    """What the page is, for the HTML `<title>` and heading."""
    spec = report(name)
    if spec.without_argument and not given.get(spec.params[0].name):
        spec = report(spec.without_argument)
    if spec.page_title:
        return spec.page_title.format_map({p.name: given.get(p.name) for p in spec.params})
    return sections[0].title or spec.name


def _check_names(con: duckdb.DuckDBPyConnection, spec: Report, values: dict[str, Any]) -> None:
    """A topic or label the database does not know is an error, never an empty table."""
    for param in spec.params:
        if not param.names or not values.get(param.name):
            continue
        wanted = values[param.name] if isinstance(values[param.name], list) else [values[param.name]]
        if param.names == "topic":  # case-insensitive: the SQL gets the spelling the database shows
            shown = shown_names(con, wanted)
            unknown = [name for name in wanted if shown[name] is None]
            resolved = [shown[name] or name for name in wanted]
            values[param.name] = resolved if isinstance(values[param.name], list) else resolved[0]
        else:
            unknown = [row[0] for row in run_sql(con, "reports/unknown_names",
                                                 {"kind": param.names, "names": wanted}).fetchall()]
        if not unknown:
            continue
        quoted = ", ".join(repr(u) for u in unknown)
        if param.names == "topic":
            raise ReportError(f"no topic named {quoted}: `opinions report topics` lists the topics")
        known = [row[0] for row in run_sql(con, "reports/entity_labels").fetchall()]
        raise ReportError(f"no entities labelled {quoted}; labels in this database: {', '.join(known) or 'none'}")


def _section(con: duckdb.DuckDBPyConnection, spec: SectionSpec, values: dict[str, Any],
             report_limit: int | None) -> Section:
    limit = values["limit"] or spec.limit or report_limit or MAX_LIMIT
    cursor = run_sql(con, spec.query, {**values, **spec.bind, "limit": limit})
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    total = len(rows)
    if TOTAL_COLUMN in columns:
        index = columns.index(TOTAL_COLUMN)
        total = rows[0][index] if rows else 0
        columns = columns[:index] + columns[index + 1:]
        rows = [row[:index] + row[index + 1:] for row in rows]
    else:  # a SQL file without $limit: cut here
        rows = rows[:limit]
    shown = {i for i, c in enumerate(columns) if c in DISPLAY_TEXT_COLUMNS}
    if shown:  # as a reader of the post sees it: `&amp;` is `&`, `&#x200B;` nothing (every format)
        rows = [tuple(display_text(v) if i in shown and isinstance(v, str) else v for i, v in enumerate(row))
                for row in rows]
    return Section(spec.name, columns, rows, title=spec.title.format(**values, until_or_newest=_until_text(values)),
                   table_columns=list(spec.table_columns) if spec.table_columns else None, total=total)


def _until_text(values: dict[str, Any]) -> str:
    """Where a report's latest period ends, for titles: explicit, so a cut inside the data is never a surprise."""
    until = values.get("until")
    if until is None:
        return "up to its newest comment"
    return "before " + (until.date().isoformat() if until.time() == dt.time(0) else until.isoformat(" ", "minutes"))


def _add_notes(con: duckdb.DuckDBPyConnection, spec: Report, values: dict[str, Any], sections: list[Section]) -> None:
    """What the rows alone do not say: sparklines of a trend, retweets left out."""
    for section in sections:
        if "period" in section.columns and "comments" in section.columns and section.rows:
            _sparklines(section)
        if {"topic", "comments", "analysed"} <= set(section.columns) and "period" not in section.columns:
            _few_scored(section)
        if spec.name == "alerts" and section is sections[0]:
            section.notes[:0] = _span_notes(values)
        if spec.name == "runs" and "error" in section.columns:  # the table leaves `error` out: say it below
            run_id, error = section.columns.index("run_id"), section.columns.index("error")
            section.notes.extend(f"run {row[run_id]}: {row[error]}" for row in section.rows if row[error])
    if values.get("no_retweets"):
        left_out = run_sql(con, "reports/retweets_left_out",
                           {"since": values.get("since"), "until": values.get("until"),
                            "topic": values.get("topic")}).fetchone()[0]
        sections[0].notes.append(f"--no-retweets: {left_out:,} retweets counted in the volume, "
                                 "left out of the sentiment shares")


# a last period the data covers less of than this (by its usual profile) is left out, not compared by its rate;
# one it covers this much of is whole (a day whose newest comment is at 23:57)
MIN_COVERED = 0.1
WHOLE_COVERED = 0.99


def _alerts_span(con: duckdb.DuckDBPyConnection, values: dict[str, Any], leave_out: bool = True) -> dict[str, Any]:
    """The alerts report's values with where its data ends (queries/reports/alerts_span.sql): the last period's
    start and how much of a usual period it covers, for its volume to be compared by rate; a last period
    covered under `MIN_COVERED` is left out (the report ends where it starts); `_span_notes` say which."""
    span = run_sql(con, "reports/alerts_span", {k: values[k] for k in ("period", "until", "history")}).fetchone()
    last_start, newest, data_periods, covered = span or (None, None, 0, 1.0)
    covered = 1.0 if covered is None or covered >= WHOLE_COVERED else float(covered)
    values = {**values, "last_start": last_start, "covered": covered, "data_periods": data_periods or 0,
              "_newest": newest, "_left_out": None}
    if leave_out and last_start is not None and values["covered"] < MIN_COVERED and data_periods:
        left_out = (last_start, newest, values["covered"])
        return {**_alerts_span(con, {**values, "until": last_start}, leave_out=False), "_left_out": left_out}
    asked = values.get("_min_history_asked", values["min_history"])
    if last_start is not None and values["data_periods"] < asked:  # scored on what the data has, and titled so
        values = {**values, "min_history": max(values["data_periods"], 1)}
    return {**values, "_min_history_asked": asked}


def _span_notes(values: dict[str, Any]) -> list[str]:
    """What the alerts report did with where its data ends: a partial last period, a short history."""
    notes, period = [], values["period"]
    if values.get("_left_out"):
        start, newest, covered = values["_left_out"]
        notes.append(f"the last {period} ({start:%Y-%m-%d}) is left out: the data ends at {newest:%Y-%m-%d %H:%M}, "
                     f"where a {period} usually holds {covered:.0%} of its comments: too little to compare")
    elif values.get("last_start") is not None and values["covered"] < 1:
        notes.append(f"the last {period} ({values['last_start']:%Y-%m-%d}) is partial: the data ends at "
                     f"{values['_newest']:%Y-%m-%d %H:%M}, where a {period} usually holds {values['covered']:.0%} of "
                     "its comments; its volume is compared with that part of the usual volume")
    if values.get("last_start") is not None and values["data_periods"] < values["_min_history_asked"]:
        notes.append(f"the data holds {values['data_periods']} {period}(s) before its last: names are scored on "
                     f"that history, shorter than --min-history {values['_min_history_asked']}")
    return notes


FEW_SCORED_NAMED = 5


def _few_scored(section: Section) -> None:
    """Topics whose shares rest on under half of their comments (the rest in a language the model does not
    support, or not analysed yet): the table shows shares and comments, not how few of them were scored."""
    column = section.columns.index
    few = [(row[column("topic")], row[column("analysed")], row[column("comments")]) for row in section.rows
           if row[column("analysed")] and row[column("analysed")] * 2 < row[column("comments")]]
    if not few:
        return
    named = ", ".join(f"{topic} {analysed:,} of {comments:,}" for topic, analysed, comments in few[:FEW_SCORED_NAMED])
    more = f" and {len(few) - FEW_SCORED_NAMED} more" if len(few) > FEW_SCORED_NAMED else ""
    section.notes.insert(0, f"shares of few scored comments: {named}{more} (the rest: a language the model does not "
                            "support, or not analysed yet; `analysed` has each topic's count)")


def _sparklines(section: Section) -> None:
    column = section.columns.index
    by_topic: dict[str, list[tuple]] = {}
    for row in section.rows:
        by_topic.setdefault(row[column("topic")] if "topic" in section.columns else "", []).append(row)
    for name, rows in by_topic.items():
        volume = sparkline([r[column("comments")] for r in rows])
        net = sparkline([r[column("net_sentiment")] for r in rows])
        section.notes.append(f"{name + ': ' if name else ''}volume {volume}   net sentiment {net}")


# statements user SQL may not run, even with --allow-files: INSTALL, LOAD, UPDATE EXTENSIONS (which DuckDB's
# Python API cannot even name) and CREATE EXTENSION REPOSITORY. Files are not extensions: an extension runs code
# and INSTALL goes to the network.
_EXTENSION_STATEMENTS = {duckdb.StatementType.LOAD, duckdb.StatementType.EXTENSION}


def refuse_extensions(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse user SQL that installs, loads or updates a DuckDB extension, before any of it runs."""
    try:
        kinds = [statement.type for statement in con.extract_statements(sql)]
    except ValueError:  # a statement type the Python API has no name for: UPDATE EXTENSIONS
        kinds = [None]
    except duckdb.Error:
        return  # SQL that does not parse: running it says why
    if any(kind is None or kind in _EXTENSION_STATEMENTS for kind in kinds):
        raise ReportError("queries may not install, load or update DuckDB extensions, --allow-files or not "
                          "(--allow-files lets SQL read and write files, nothing else)")


def query_report(con: duckdb.DuckDBPyConnection, sql: str) -> list[Section]:
    """Run user SQL on the read-only connection."""
    refuse_extensions(con, sql)
    cursor = con.execute(sql)
    if cursor.description is None:
        return [Section("query", [], [])]
    return [Section("query", [d[0] for d in cursor.description], cursor.fetchall(), title="query")]


QUERY_ROWS_PER_FETCH = 10_000


def query_batches(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], Iterator[list[tuple]]]:
    """Run user SQL on the read-only connection; its columns and its rows, fetched a batch at a
    time (for output that is written as it comes: `query --format csv`)."""
    refuse_extensions(con, sql)
    cursor = con.execute(sql)
    if cursor.description is None:
        return [], iter(())
    return [d[0] for d in cursor.description], iter(lambda: cursor.fetchmany(QUERY_ROWS_PER_FETCH), [])
