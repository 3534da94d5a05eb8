"""Reports: which SQL files make up each report, with their bound parameters.

Each report is a list of sections; each section is one `queries/reports/*.sql` run on a
read-only connection. Rendering is `reports.render`'s job. No torch here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb

from analyzer.store import run_sql
from reports.render import Section, sparkline

PERIODS = ("day", "week", "month")


class ReportError(ValueError):
    """A report parameter that cannot be used."""


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
                  limit: int = 50) -> list[Section]:
    return [_section(con, "topics", "reports/topics", {"since": since, "until": until, "limit": limit},
                     title="Topics by volume")]


def topic_report(con: duckdb.DuckDBPyConnection, topic: str, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, by: str = "day", limit: int = 5) -> list[Section]:
    if by not in PERIODS:
        raise ReportError(f"--by {by!r}: choose one of {', '.join(PERIODS)}")
    exists = con.execute("SELECT count(*) FROM comment_topics WHERE topic = $topic", {"topic": topic}).fetchone()[0]
    if not exists:
        raise ReportError(f"no topic named {topic!r}: `opinions report topic` lists the topics")
    base = {"topic": topic, "since": since, "until": until}
    trend = _section(con, "trend", "reports/topic_trend", {**base, "by": by}, title=f"{topic}: volume and sentiment by {by}")
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
                  history: int | None = None, min_volume: int = 10, threshold: float = 3.5) -> list[Section]:
    if period not in {"day", "week"}:
        raise ReportError(f"--period {period!r}: choose day or week")
    if min_volume < 1 or threshold <= 0:
        raise ReportError("--min-volume must be ≥ 1 and --threshold > 0")
    history = history or (14 if period == "day" else 8)
    section = _section(con, "alerts", "reports/alerts",
                       {"period": period, "until": until, "history": history, "min_volume": min_volume,
                        "threshold": threshold}, title=f"Alerts: latest {period} against the {history} before it")
    section.table_columns = ["kind", "name", "period", "reasons"]
    return [section]


def rejects_report(con: duckdb.DuckDBPyConnection, run_id: int | None = None, limit: int = 50) -> list[Section]:
    rows = _section(con, "rejects", "reports/rejects", {"run_id": run_id, "limit": limit}, title="Rejected rows")
    rows.table_columns = ["run_id", "source", "line_no", "reason"]
    return [_section(con, "reasons", "reports/reject_reasons", {"run_id": run_id}, title="Rejected rows by reason"), rows]
