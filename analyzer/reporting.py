"""Reports: which SQL files make up each report, with their bound parameters.

Each report is a list of sections; each section is one `queries/reports/*.sql` run on a
read-only connection. Rendering is `reports.render`'s job. No torch here.

A report is bounded twice: its parameters have ranges (`--history` at most `MAX_HISTORY`
periods, `--limit` at most `MAX_LIMIT` rows), and its SQL is stopped at a time limit
(`--timeout`, default `DEFAULT_TIMEOUT_SECONDS`), so a report never holds the database for
long and an ingest waiting to write its next chunk gets in.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from analyzer.errors import OpinionsError
from analyzer.store import run_sql
from reports.render import Section, sparkline

PERIODS = ("day", "week", "month")
DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_HISTORY = 400  # periods an alert compares with: over a year of days, nearly eight years of weeks
ALERT_MIN_HISTORY = {"day": 7, "week": 4}  # periods a name needs before it is scored
MAX_LIMIT = 100_000  # rows a report section shows; `opinions export` is for whole tables


class ReportError(OpinionsError, ValueError):
    """A report parameter that cannot be used."""


def check_range(flag: str, value: int, low: int, high: int) -> int:
    """`value` of option `--flag`, refused (with the range) outside [low, high]."""
    if not low <= value <= high:
        raise ReportError(f"--{flag} {value}: must be between {low:,} and {high:,}")
    return value


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float | None) -> Iterator[None]:
    """Interrupt the statements run on `con` inside the block after `seconds` (None or 0: no limit)."""
    if seconds is not None and seconds < 0:
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


def parse_when(value: str | None, name: str) -> dt.datetime | None:
    """ISO date or datetime, taken as UTC when it has no zone."""
    if value is None or value == "":
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"--{name} {value!r} is not a date: use YYYY-MM-DD or an ISO datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _section(con: duckdb.DuckDBPyConnection, name: str, query: str, params: dict[str, Any],
             title: str | None = None) -> Section:
    cursor = run_sql(con, query, params)
    columns = [d[0] for d in cursor.description]
    return Section(name, columns, cursor.fetchall(), title=title)


def topics_report(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None, until: dt.datetime | None = None,
                  limit: int = 50, no_retweets: bool = False) -> list[Section]:
    check_range("limit", limit, 1, MAX_LIMIT)
    section = _section(con, "topics", "reports/topics",
                       {"since": since, "until": until, "limit": limit, "no_retweets": no_retweets},
                       title="Topics by volume")
    if no_retweets:
        section.notes.append(_retweets_note(con, since, until, None))
    return [section]


def _retweets_note(con: duckdb.DuckDBPyConnection, since: dt.datetime | None, until: dt.datetime | None,
                   topic: str | None) -> str:
    left_out = run_sql(con, "reports/retweets_left_out", {"since": since, "until": until, "topic": topic}).fetchone()[0]
    return f"--no-retweets: {left_out:,} retweets counted in the volume, left out of the sentiment shares"


def topic_report(con: duckdb.DuckDBPyConnection, topic: str, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, by: str = "day", limit: int = 5,
                 no_retweets: bool = False) -> list[Section]:
    if by not in PERIODS:
        raise ReportError(f"--by {by!r}: choose one of {', '.join(PERIODS)}")
    exists = con.execute("SELECT count(*) FROM comment_topics WHERE topic = $topic", {"topic": topic}).fetchone()[0]
    if not exists:
        raise ReportError(f"no topic named {topic!r}: `opinions report topic` lists the topics")
    base = {"topic": topic, "since": since, "until": until}
    trend = _section(con, "trend", "reports/topic_trend", {**base, "by": by, "no_retweets": no_retweets},
                     title=f"{topic}: volume and sentiment by {by}")
    if no_retweets:
        trend.notes.append(_retweets_note(con, since, until, topic))
    volumes = [row[trend.columns.index("comments")] for row in trend.rows]
    nets = [row[trend.columns.index("net_sentiment")] for row in trend.rows]
    if trend.rows:
        trend.notes.append(f"volume {sparkline(volumes)}   net sentiment {sparkline(nets)}")
    strongest = [
        _section(con, name, "reports/topic_comments", {**base, "label": label, "limit": limit},
                 title=f"{topic}: most {label} comments")
        for name, label in (("most_positive", "positive"), ("most_negative", "negative"))
    ]
    summary = _section(con, "summary", "reports/topic_summary", {"topic": topic}, title=f"{topic}: latest summary")
    for section in strongest:
        section.table_columns = ["engagement", "confidence", "text"]
    summary.table_columns = ["summary", "n_comments"]
    return [
        trend,
        _section(con, "entities", "reports/topic_entities", {**base, "limit": 10}, title=f"{topic}: top entities"),
        *strongest,
        summary,
    ]


def runs_report(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[Section]:
    check_range("limit", limit, 1, MAX_LIMIT)
    return [_section(con, "runs", "reports/runs", {"limit": limit}, title="Ingest runs")]


def query_report(con: duckdb.DuckDBPyConnection, sql: str) -> list[Section]:
    """Run user SQL on the read-only connection."""
    cursor = con.execute(sql)
    if cursor.description is None:
        return [Section("query", [], [])]
    return [Section("query", [d[0] for d in cursor.description], cursor.fetchall(), title="query")]


QUERY_ROWS_PER_FETCH = 10_000


def query_batches(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], Iterator[list[tuple]]]:
    """Run user SQL on the read-only connection; its columns and its rows, fetched a batch at a
    time (for output that is written as it comes: `query --format csv`)."""
    cursor = con.execute(sql)
    if cursor.description is None:
        return [], iter(())
    return [d[0] for d in cursor.description], iter(lambda: cursor.fetchmany(QUERY_ROWS_PER_FETCH), [])


def entities_report(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None, until: dt.datetime | None = None,
                    label: str | None = None, topic: str | None = None, limit: int = 30) -> list[Section]:
    check_range("limit", limit, 1, MAX_LIMIT)
    section = _section(con, "entities", "reports/entities",
                       {"since": since, "until": until, "label": label, "topic": topic, "limit": limit},
                       title="Entities by mentions")
    section.table_columns = ["entity", "label", "mentions", "positive", "negative", "net_sentiment", "topics"]
    return [section]


def trend_report(con: duckdb.DuckDBPyConnection, topics: list[str] | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, by: str = "day") -> list[Section]:
    if by not in PERIODS:
        raise ReportError(f"--by {by!r}: choose one of {', '.join(PERIODS)}")
    section = _section(con, "trend", "reports/trend", {"since": since, "until": until, "by": by, "topics": topics or []},
                       title=f"Volume and net sentiment by {by}")
    by_topic: dict[str, list[tuple]] = {}
    for row in section.rows:
        by_topic.setdefault(row[1], []).append(row)
    for name, rows in by_topic.items():
        section.notes.append(f"{name}: volume {sparkline([r[2] for r in rows])}   net {sparkline([r[5] for r in rows])}")
    return [section]


def alerts_report(con: duckdb.DuckDBPyConnection, period: str = "day", until: dt.datetime | None = None,
                  history: int | None = None, min_volume: int = 10, threshold: float = 3.5,
                  min_history: int | None = None) -> list[Section]:
    """Two sections: `alerts` (names whose latest period is anomalous against their own history) and `new`
    (names with fewer than `min_history` periods since they first appeared: nothing to compare with yet)."""
    if period not in {"day", "week"}:
        raise ReportError(f"--period {period!r}: choose day or week")
    if min_volume < 1 or threshold <= 0:
        raise ReportError("--min-volume must be ≥ 1 and --threshold > 0")
    history = check_range("history", history, 1, MAX_HISTORY) if history is not None else (14 if period == "day" else 8)
    if min_history is None:
        min_history = min(history, ALERT_MIN_HISTORY[period])
    check_range("min-history", min_history, 1, history)
    rows = run_sql(con, "reports/alerts", {"period": period, "until": until, "history": history,
                                           "min_history": min_history, "min_volume": min_volume,
                                           "threshold": threshold})
    columns = [d[0] for d in rows.description]
    found = rows.fetchall()
    status = columns.index("status")
    kept = [c for c in columns if c != "status"]
    split = {name: [tuple(v for i, v in enumerate(r) if i != status) for r in found if r[status] == name]
             for name in ("alert", "new")}
    if until is None:
        end = "up to its newest comment"
    else:
        end = "before " + (until.date().isoformat() if until.time() == dt.time(0) else until.isoformat(" ", "minutes"))
    alerts = Section("alerts", kept, split["alert"],
                     title=f"Alerts: each name's latest {period} {end}, against up to {history} {period}s before it")
    alerts.table_columns = ["kind", "name", "period", "reasons"]
    new = Section("new", kept, split["new"],
                  title=f"New: fewer than {min_history} {period}s of history, not scored")
    new.table_columns = ["kind", "name", "period", "first_seen", "volume"]
    return [alerts, new]


def rejects_report(con: duckdb.DuckDBPyConnection, run_id: int | None = None, limit: int = 50) -> list[Section]:
    check_range("limit", limit, 1, MAX_LIMIT)
    rows = _section(con, "rejects", "reports/rejects", {"run_id": run_id, "limit": limit}, title="Rejected rows")
    rows.table_columns = ["run_id", "source", "line_no", "reason"]
    return [_section(con, "reasons", "reports/reject_reasons", {"run_id": run_id}, title="Rejected rows by reason"), rows]
