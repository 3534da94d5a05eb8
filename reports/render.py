"""Render report sections (columns + rows from a SQL file) as table, json, jsonl, csv, markdown or html.

A column's name decides its look: fraction columns (`is_fraction`: positive, neutral,
negative, share, `*_share`, `usual_negative`, ...) print as percentages in the human formats
(table, markdown, html) and stay fractions in the machine formats (json, jsonl, csv); net
sentiment is coloured; numbers are right-aligned and never split across lines. Machine
formats keep raw values and stable column names. Nothing is cut in any format but the
terminal table's long texts (comments, raw rows), and never a summary or an alert's reasons.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from analyzer.text.safe_output import for_csv, for_markdown, for_terminal

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "html")
MACHINE_FORMATS = ("json", "jsonl", "csv")
SHARE_COLUMNS = {"positive", "neutral", "negative", "share", "unsupported", "offensive",
                 "anger", "disgust", "fear", "joy", "sadness", "surprise"}
# a task's column that is empty in every row when that task has not run: the terminal table leaves it out
HIDDEN_WHEN_EMPTY = {"offensive", "top_emotion"}
WHOLE_COLUMNS = {"summary", "reasons"}  # never cut, in any format
CUT_AT = 200  # characters of other long texts (a comment, a raw row) in the human formats
SIGNED_COLUMNS = {"net_sentiment", "net", "change", "net_change", "volume_change"}
SPARK = "▁▂▃▄▅▆▇█"
# Shorter headers for the terminal table only (machine formats keep the real names).
TABLE_HEADERS = {"comments": "n", "net_sentiment": "net", "negative_margin": "±neg", "volume_change": "Δn", "net_change": "Δnet",
                 "analysed": "scored", "positive": "pos", "neutral": "neu", "negative": "neg",
                 "run_id": "run", "started_at": "started", "rows_read": "read", "rows_rejected": "rejected",
                 "texts_analysed": "analysed", "rows_new": "new", "usual_volume": "usual", "engagement": "likes",
                 "offensive": "off", "top_emotion": "top emotion"}


@dataclass
class Section:
    name: str
    columns: list[str]
    rows: list[tuple]
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    table_columns: list[str] | None = None  # the terminal table shows only these unless wide (machine formats: all)
    total: int | None = None  # rows there were before --limit (None: all are here)

    def shown_of_total(self) -> str | None:
        """"showing N of M rows" when --limit left rows out."""
        if self.total is None or self.total <= len(self.rows):
            return None
        return f"showing {len(self.rows):,} of {self.total:,} rows (raise --limit to see more)"

    def records(self) -> list[dict[str, Any]]:
        return [{c: _plain(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def sparkline(values: list[float | None]) -> str:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    return "".join(" " if v is None else SPARK[int((v - low) / span * (len(SPARK) - 1))] for v in values)


def format_name(fmt: str) -> str:
    """A --format value, any case (`-f JSON`), checked."""
    name = fmt.strip().lower()
    if name not in FORMATS:
        from analyzer.reports.catalog import ReportError

        raise ReportError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return name


def is_fraction(column: str) -> bool:
    """A share in [0, 1]: shown as a percentage by the human formats."""
    return (column in SHARE_COLUMNS or column.endswith("_share") or column.removeprefix("usual_") in SHARE_COLUMNS
            or column.removesuffix("_low").removesuffix("_high") in SHARE_COLUMNS)


def render(sections: list[Section], fmt: str = "table", single: bool | None = None, title: str | None = None,
           wide: bool = False, raw_cells: bool = False) -> str:
    """Text of the report. json: an array for one section, else {section: array}; jsonl: one object
    a line (with its `section` when there are several); csv: one section (see `reports.output`), its
    formula-like cells neutralised unless `raw_cells` (`analyzer.text.safe_output`). The human formats
    show no control character and markdown no HTML or link syntax from the data."""
    fmt = format_name(fmt)
    single = len(sections) == 1 if single is None else single
    if fmt == "json":
        payload: Any = sections[0].records() if single else {s.name: s.records() for s in sections}
        return json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "jsonl":
        lines = [json.dumps(record if single else {"section": s.name, **record}, ensure_ascii=False, default=str)
                 for s in sections for record in s.records()]
        return "".join(line + "\n" for line in lines)
    if fmt == "csv":
        if len(sections) != 1:
            raise ValueError("CSV holds one section: choose it with --section, or -o FILE writes one file per section")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(sections[0].columns if raw_cells else [for_csv(c) for c in sections[0].columns])
        cell = _plain if raw_cells else _csv_cell
        writer.writerows([[cell(v) for v in row] for row in sections[0].rows])
        return out.getvalue()
    if fmt == "markdown":
        return "\n".join(_markdown(section, single) for section in sections)
    if fmt == "html":
        from analyzer.reports.html import render_html

        return render_html(sections, title=title or (sections[0].title if single else None) or "opinions report")
    return _rich_tables(sections, wide)


def write_csv(columns: list[str], row_batches: Iterable[list[tuple]], out: IO[str], raw_cells: bool = False) -> int:
    """CSV of rows that arrive in batches, written as they come (`render`'s csv, streamed): an
    answer of millions of rows is never held whole. Returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns if raw_cells else [for_csv(c) for c in columns])
    cell = _plain if raw_cells else _csv_cell
    written = 0
    for rows in row_batches:
        writer.writerows([[cell(v) for v in row] for row in rows])
        written += len(rows)
    return written


def _csv_cell(value: Any) -> Any:
    return for_csv(_plain(value))


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if column.endswith("_margin") and isinstance(value, (int, float, Decimal)):  # half an interval, in points
        return f"±{float(value) * 100:.1f}"
    if is_fraction(column) and isinstance(value, (int, float, Decimal)):
        return f"{float(value) * 100:.1f}%"
    if column in SIGNED_COLUMNS and isinstance(value, int):
        return f"{value:+,d}"
    if column in SIGNED_COLUMNS and isinstance(value, (float, Decimal)):
        return f"{float(value):+.2f}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = for_terminal(str(value).replace("\n", " "))  # data from the internet: no control character reaches a reader
    return text if len(text) <= CUT_AT or column in WHOLE_COLUMNS else text[: CUT_AT - 1] + "…"


def _markdown(section: Section, single: bool) -> str:
    lines = [] if single else [f"### {for_markdown(section.title or section.name)}", ""]
    lines.append("| " + " | ".join(map(for_markdown, section.columns)) + " |")
    lines.append("|" + "|".join("---:" if _numeric(section, i) else "---" for i in range(len(section.columns))) + "|")
    for row in section.rows:
        lines.append("| " + " | ".join(for_markdown(_cell(c, v)) for c, v in zip(section.columns, row, strict=True)) + " |")
    lines.extend(["", *map(for_markdown, section.notes)] if section.notes else [])
    shown = section.shown_of_total()
    lines.extend(["", shown] if shown else [])
    return "\n".join(lines) + "\n"


def _first(section: Section, index: int) -> Any:
    return next((row[index] for row in section.rows if row[index] is not None), None)


def _numeric(section: Section, index: int) -> bool:
    values = [row[index] for row in section.rows if row[index] is not None]
    return bool(values) and all(isinstance(v, (int, float, Decimal)) for v in values)


def _rich_tables(sections: list[Section], wide: bool = False) -> str:
    import shutil

    from rich.console import Console
    from rich.table import Table

    color = os.environ.get("NO_COLOR") is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((80, 24)).columns
    console = Console(file=io.StringIO(), width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    for section in sections:
        table = Table(title=_escape(for_terminal(section.title or section.name)), title_justify="left", expand=False)
        shown = [i for i, c in enumerate(section.columns)
                 if (wide or section.table_columns is None or c in section.table_columns)
                 and not (c in HIDDEN_WHEN_EMPTY and section.rows and all(row[i] is None for row in section.rows))]
        for i in shown:
            column = section.columns[i]
            name = for_terminal(TABLE_HEADERS.get(column, column))  # PIVOT makes column names from data
            cells = [_cell(column, row[i]) for row in section.rows]
            widest = max([len(name), *map(len, cells)])
            whole = _numeric(section, i) or isinstance(_first(section, i), (dt.date, dt.datetime))
            # numbers and dates are never split across lines (their column keeps its width); texts fold to fit
            table.add_column(_escape(name), justify="right" if _numeric(section, i) else "left", overflow="fold",
                             no_wrap=whole, min_width=widest if whole else min(widest, 9),
                             max_width=None if whole else 60)
        for full_row in section.rows:
            cells = []
            for column, value in [(section.columns[i], full_row[i]) for i in shown]:
                text = _cell(column, value)
                style = None
                if (column in {"negative", "label", "sentiment"} and value == "negative") or column == "negative":
                    style = "red"
                elif column in {"positive"} or value == "positive":
                    style = "green"
                if column in SIGNED_COLUMNS and isinstance(value, (int, float)):
                    style = "green" if value > 0 else "red" if value < 0 else None
                cells.append(f"[{style}]{_escape(text)}[/{style}]" if style and color else _escape(text))
            table.add_row(*cells)
        if not section.rows:
            table.caption = "no rows"
        console.print(table)
        for note in section.notes:
            console.print(for_terminal(note, layout=True), markup=False, highlight=False)
        if section.shown_of_total():
            console.print(section.shown_of_total(), markup=False, highlight=False)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
