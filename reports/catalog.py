"""Every report, declared once: its name, SQL files, parameters with defaults, sections and layout.

`opinions report NAME` is built from these declarations (`analyzer.cli`), `reports.run` runs
them and `reports.render` draws them: a new report is one SQL file and one `Report` here.
This module imports nothing heavy, so `opinions --help` stays fast.

Every report also takes the options of `OUTPUT_OPTIONS` (format, output file, section, limit,
wide, timeout, database); those are the CLI's, not the report's.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from analyzer.errors import OpinionsError

PERIODS = ("day", "week", "month")
DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_HISTORY = 400  # periods an alert compares with: over a year of days, nearly eight years of weeks
MAX_LIMIT = 100_000  # rows a report section shows; `opinions export` is for whole tables


class ReportError(OpinionsError, ValueError):
    """A report parameter that cannot be used, or a name the database does not know."""


@dataclass(frozen=True)
class Param:
    """One parameter of a report: the SQL's `$name`, the CLI's `--name` (or an argument)."""

    name: str
    help: str
    default: Any = None
    kind: str = "str"  # str | int | float | bool | date | list (a list is only ever an argument)
    flag: str | None = None  # the CLI spelling when it is not --name-with-dashes
    argument: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None  # inclusive range of a number
    high: float | None = None
    above: float | None = None  # exclusive lower bound of a number
    names: str | None = None  # "topic" | "label": each value must be one the database knows
    default_by: tuple[str, dict[str, Any]] | None = None  # a default that depends on another parameter's value

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class SectionSpec:
    """One section: a SQL file run with the report's values (plus `bind`), and how it is laid out."""

    name: str
    query: str  # queries/<query>.sql
    title: str  # str.format()-ed with the report's values
    table_columns: tuple[str, ...] | None = None  # the terminal table shows these unless --wide
    bind: dict[str, Any] = field(default_factory=dict)  # fixed values of this section's SQL parameters
    limit: int | None = None  # this section's rows when --limit is not given (None: the report's)
    # "counts": the SQL counts sentiment labels and `analyzer.labels.shares.apply` fills the share columns;
    # "linear": the SQL corrects shares itself with `$adj_*` (`Adjustment.linear_params`); None: no shares
    shares: str | None = None


@dataclass(frozen=True)
class Report:
    name: str
    help: str
    sections: tuple[SectionSpec, ...]
    params: tuple[Param, ...] = ()
    limit: int | None = 50  # default --limit (rows per section)
    page_title: str = ""  # the HTML page's title, str.format()-ed with the values; default: the first section's
    without_argument: str | None = None  # the report this one is when its argument is not given
    fail_flag: str | None = None  # a bool parameter: exit 3 when it is set and the first section has rows
    example: str = ""

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


SINCE = Param("since", "Only comments at or after this date (YYYY-MM-DD).", kind="date")
UNTIL = Param("until", "Only comments before this date (YYYY-MM-DD).", kind="date")
TOPIC_FILTER = Param("topic", "Only comments of this topic.", names="topic")
BY = Param("by", "Period: day | week | month.", "day", choices=PERIODS)
RAW = Param("raw", "Shares as the model's labels count them, not corrected for its measured errors.", False,
            kind="bool")
NO_RETWEETS = Param("no_retweets", "Leave retweets and boosts out of the sentiment shares (they still count in the "
                                   "volume).", False, kind="bool")

TOPICS = Report(
    "topics",
    "Every topic: volume, sentiment shares, net sentiment, change against the previous period.",
    (SectionSpec("topics", "reports/topics", "Topics by volume",
                 table_columns=("topic", "comments", "positive", "neutral", "negative", "negative_margin",
                                "net_sentiment", "volume_change", "net_change", "offensive"), shares="counts"),),
    (SINCE, UNTIL, NO_RETWEETS, RAW),
    limit=50,
)

TOPIC = Report(
    "topic",
    "One topic in depth (trend, entities, strongest comments, summary), or all topics.\n\n"
    "Comments without a topic are the `(no topic)` row.",
    (
        SectionSpec("trend", "reports/topic_trend", "{topic}: volume and sentiment by {by}", limit=MAX_LIMIT,
                    table_columns=("period", "comments", "analysed", "positive", "neutral", "negative",
                                   "negative_margin", "net_sentiment"), shares="counts"),
        SectionSpec("entities", "reports/topic_entities", "{topic}: top entities", limit=10,
                    table_columns=("entity", "type", "mentions", "positive", "negative", "net_sentiment"),
                    shares="counts"),
        SectionSpec("most_positive", "reports/topic_comments", "{topic}: most positive comments",
                    table_columns=("engagement", "confidence", "text"), bind={"label": "positive"}, limit=5),
        SectionSpec("most_negative", "reports/topic_comments", "{topic}: most negative comments",
                    table_columns=("engagement", "confidence", "text"), bind={"label": "negative"}, limit=5),
        SectionSpec("summary", "reports/topic_summary", "{topic}: latest summary",
                    table_columns=("summary", "n_comments")),
    ),
    (Param("topic", "A topic; without it, all topics by volume.", argument=True, names="topic"),
     SINCE, UNTIL, BY, NO_RETWEETS, RAW),
    limit=None,
    page_title="Topic {topic}: trend, entities, strongest comments and summary",
    without_argument="topics",
)

RUNS = Report(
    "runs",
    "Ingest runs with their row accounting, newest first (--wide: every column).",
    (SectionSpec("runs", "reports/runs", "Ingest runs",
                 table_columns=("run_id", "started_at", "status", "rows_read", "rows_rejected", "texts_analysed")),),
    limit=20,
)

ENTITIES = Report(
    "entities",
    "Entity-level sentiment: mentions, sentiment split, net sentiment and topics of each entity.\n\n"
    "An entity is its lower-cased text under the type the model gives it most often, so a name the model "
    "sometimes calls an ORG and sometimes a PRODUCT stays one row. Its topics are listed by mentions, most first.",
    (SectionSpec("entities", "reports/entities", "Entities by mentions",
                 table_columns=("entity", "label", "mentions", "positive", "negative", "net_sentiment", "offensive",
                                "topics"), shares="counts"),),
    (SINCE, UNTIL, RAW,
     Param("label", "Only this label: PER ORG LOC PRODUCT WORK HASHTAG MENTION CASHTAG.", names="label"),
     TOPIC_FILTER),
    limit=30,
)

TREND = Report(
    "trend",
    "Volume and net sentiment over time, for all comments or per chosen topic (--limit: the latest periods).",
    (SectionSpec("trend", "reports/trend", "Volume and net sentiment by {by}",
                 table_columns=("period", "topic", "comments", "analysed", "negative", "negative_margin",
                                "net_sentiment"), shares="counts"),),
    (Param("topics", "Topics to chart (default: all comments).", [], kind="list", argument=True, names="topic"),
     SINCE, UNTIL, BY, RAW),
    limit=1000,
)

ALERTS = Report(
    "alerts",
    "Topics and entities whose volume, negative share, offensive share or anger share just jumped (robust z-score "
    "against their history; offensive and anger where those tasks ran).",
    (SectionSpec("alerts", "reports/alerts",
                 "Alerts: each name's latest {period} {until_or_newest}, against up to {history} {period}s before it",
                 table_columns=("kind", "name", "period", "reasons"), bind={"status": "alert"}, shares="linear"),
     SectionSpec("new", "reports/alerts", "New: fewer than {min_history} {period}s of history, not scored",
                 table_columns=("kind", "name", "period", "first_seen", "volume"), bind={"status": "new"},
                 shares="linear")),
    (UNTIL, RAW,
     Param("period", "day | week: the latest one is compared with those before it.", "day", choices=("day", "week")),
     Param("history", "Preceding periods to compare with (default 14 days / 8 weeks; at most 400).", kind="int",
           low=1, high=MAX_HISTORY, default_by=("period", {"day": 14, "week": 8})),
     Param("min_history", "Periods since a name first appeared before it is scored; younger names are listed as "
           "new (default 7 days / 4 weeks).", kind="int", low=1, high=MAX_HISTORY,
           default_by=("period", {"day": 7, "week": 4})),
     Param("min_volume", "Ignore topics/entities with fewer comments in the latest period.", 10, kind="int", low=1),
     Param("threshold", "Robust z-score that counts as anomalous.", 3.5, kind="float", above=0),
     Param("fail_on_alert", "Exit 3 when there is any alert (for cron).", False, kind="bool")),
    limit=100,
    fail_flag="fail_on_alert",
)

FLAGGED = Report(
    "flagged",
    "The moderation queue: comments the offensive model scores at or over --threshold, newest first, with author, "
    "comment id, source file and line, and topic (--format csv or jsonl to hand it on).\n\n"
    "Needs the offensive task: `opinions ingest --tasks all` (or add offensive to --tasks).",
    (SectionSpec("flagged", "reports/flagged", "Flagged: offensive score ≥ {threshold}",
                 table_columns=("created_at", "score", "topic", "author", "source", "line", "text")),),
    (Param("threshold", "The offensive probability (calibrated) from which a comment is queued.", 0.5, kind="float",
           low=0.0, high=1.0),
     SINCE, UNTIL, TOPIC_FILTER),
    limit=100,
)

EMOTIONS = Report(
    "emotions",
    "The emotion mix of each topic and entity: the share of its comments the emotion model gives each of anger, "
    "disgust, fear, joy, neutral, sadness and surprise, and its most common emotion besides neutral.\n\n"
    "Needs the emotion task: `opinions ingest --tasks all` (or add emotion to --tasks).",
    (SectionSpec("topics", "reports/emotions", "Emotions by topic", bind={"of": "topic"},
                 table_columns=("name", "comments", "anger", "disgust", "fear", "joy", "neutral", "sadness",
                                "surprise", "top_emotion")),
     SectionSpec("entities", "reports/emotions", "Emotions by entity", bind={"of": "entity"}, limit=20,
                 table_columns=("name", "comments", "anger", "disgust", "fear", "joy", "neutral", "sadness",
                                "surprise", "top_emotion"))),
    (SINCE, UNTIL, TOPIC_FILTER),
    limit=30,
)

REJECTS = Report(
    "rejects",
    "Rejected rows by reason, and the rows themselves with source and line number.",
    (SectionSpec("reasons", "reports/reject_reasons", "Rejected rows by reason"),
     SectionSpec("rejects", "reports/rejects", "Rejected rows", table_columns=("run_id", "source", "line_no", "reason"))),
    (Param("run_id", "Only this run id.", kind="int", flag="--run"),),
    limit=50,
)

REPORTS: dict[str, Report] = {r.name: r for r in (TOPIC, TOPICS, ENTITIES, EMOTIONS, FLAGGED, TREND, ALERTS, RUNS,
                                                   REJECTS)}


def report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}") from None


def check_range(flag: str, value: float, low: float | None, high: float | None) -> None:
    """Refuse `value` of option `flag` (with the range) outside [low, high]."""
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            raise ReportError(f"{flag} {value}: must be between {low:,} and {high:,}")
        raise ReportError(f"{flag} {value}: must be ≥ {low:,}" if low is not None else f"{flag} {value}: must be ≤ {high:,}")


def checked(spec: Report, given: dict[str, Any]) -> dict[str, Any]:
    """The report's values: the defaults, overridden by `given`, each checked against its declaration
    (choices, ranges, dates). Names are checked against the database later, by `reports.run`."""
    values: dict[str, Any] = {}
    for param in spec.params:
        value = given.get(param.name, param.default)
        if value is None and param.default_by:
            other, table = param.default_by
            value = table[given.get(other) or spec.param(other).default]
        if value is None or (param.kind == "list" and not value):
            values[param.name] = [] if param.kind == "list" else None
            continue
        if param.choices and value not in param.choices:
            raise ReportError(f"{param.option} {value!r}: choose one of {', '.join(param.choices)}")
        if param.kind in {"int", "float"}:
            # nan compares false with every bound, so `--threshold nan` would pass every check and alert on nothing
            if isinstance(value, float) and not math.isfinite(value):
                raise ReportError(f"{param.option} {value}: give a finite number")
            check_range(param.option, value, param.low, param.high)
            if param.above is not None and value <= param.above:
                raise ReportError(f"{param.option} {value}: must be > {param.above:g}")
        if param.kind == "date":
            value = parse_when(value, param.name)
        values[param.name] = value
    unknown = set(given) - {p.name for p in spec.params} - {"limit"}
    if unknown:
        raise ReportError(f"report {spec.name!r} takes no {', '.join(sorted(unknown))}")
    limit = given.get("limit")
    if limit is not None:
        check_range("--limit", limit, 1, MAX_LIMIT)
    values["limit"] = limit
    return values


def parse_when(value: str | None, name: str) -> dt.datetime | None:
    """ISO date or datetime, taken as UTC when it has no zone."""
    if value is None or value == "":
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"--{name} {value!r} is not a date: use YYYY-MM-DD or an ISO datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
