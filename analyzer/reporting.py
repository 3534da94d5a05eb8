"""Reports: which SQL files make up each report, with their bound parameters.

Each report is a list of sections; each section is one `queries/reports/*.sql` run on a
read-only connection. Rendering is `reports.render`'s job. No torch here.
"""

from __future__ import annotations

import datetime as dt
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
    return [
        trend,
        _section(con, "entities", "reports/topic_entities", {**base, "limit": 10}, title=f"{topic}: top entities"),
        _section(con, "most_positive", "reports/topic_comments", {**base, "label": "positive", "limit": limit},
                 title=f"{topic}: most positive comments"),
        _section(con, "most_negative", "reports/topic_comments", {**base, "label": "negative", "limit": limit},
                 title=f"{topic}: most negative comments"),
        _section(con, "summary", "reports/topic_summary", {"topic": topic}, title=f"{topic}: latest summary"),
    ]


def runs_report(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[Section]:
    return [_section(con, "runs", "reports/runs", {"limit": limit}, title="Ingest runs")]


def query_report(con: duckdb.DuckDBPyConnection, sql: str) -> list[Section]:
    """Run user SQL on the read-only connection."""
    cursor = con.execute(sql)
    if cursor.description is None:
        return [Section("query", [], [])]
    return [Section("query", [d[0] for d in cursor.description], cursor.fetchall(), title="query")]
