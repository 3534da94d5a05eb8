"""Render report sections (columns + rows from a SQL file) as table, json, csv or markdown.

A column's name decides its look: `*_share`-style fraction columns (positive, neutral,
negative, share, *_pct) print as percentages; net sentiment is coloured; numbers are
right-aligned. Machine formats keep raw values and stable column names.
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

FORMATS = ("table", "json", "csv", "markdown", "html")
SHARE_COLUMNS = {"positive", "neutral", "negative", "share", "negative_share", "positive_share", "unsupported"}
SIGNED_COLUMNS = {"net_sentiment", "net", "change", "net_change", "volume_change"}
SPARK = "▁▂▃▄▅▆▇█"
# Shorter headers for the terminal table only (machine formats keep the real names).
TABLE_HEADERS = {"comments": "n", "net_sentiment": "net", "volume_change": "Δn", "net_change": "Δnet",
                 "analysed": "scored", "positive": "pos", "neutral": "neu", "negative": "neg"}


@dataclass
class Section:
    name: str
    columns: list[str]
    rows: list[tuple]
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    table_columns: list[str] | None = None  # the terminal table shows only these (machine formats show all)

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


def render(sections: list[Section], fmt: str = "table", single: bool | None = None) -> str:
    """Text of the report. json: an array for one section, else {section: array}."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    single = len(sections) == 1 if single is None else single
    if fmt == "json":
        payload: Any = sections[0].records() if single else {s.name: s.records() for s in sections}
        return json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        for index, section in enumerate(sections):
            if not single:
                out.write(("" if index == 0 else "\n") + f"# {section.name}\n")
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(section.columns)
            writer.writerows([[_plain(v) for v in row] for row in section.rows])
        return out.getvalue()
    if fmt == "markdown":
        return "\n".join(_markdown(section, single) for section in sections)
    if fmt == "html":
        from reports.html import render_html

        return render_html(sections, title=sections[0].title if single else "opinions report")
    return _rich_tables(sections)


def write_csv(columns: list[str], row_batches: Iterable[list[tuple]], out: IO[str]) -> int:
    """CSV of rows that arrive in batches, written as they come (`render`'s csv, streamed): an
    answer of millions of rows is never held whole. Returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    written = 0
    for rows in row_batches:
        writer.writerows([[_plain(v) for v in row] for row in rows])
        written += len(rows)
    return written


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if column in SHARE_COLUMNS and isinstance(value, (int, float, Decimal)):
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
    text = str(value).replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "…"


def _markdown(section: Section, single: bool) -> str:
    lines = [] if single else [f"### {section.title or section.name}", ""]
    lines.append("| " + " | ".join(section.columns) + " |")
    lines.append("|" + "|".join("---:" if _numeric(section, i) else "---" for i in range(len(section.columns))) + "|")
    for row in section.rows:
        lines.append("| " + " | ".join(_cell(c, v).replace("|", "\\|") for c, v in zip(section.columns, row, strict=True)) + " |")
    return "\n".join(lines) + "\n"


def _numeric(section: Section, index: int) -> bool:
    values = [row[index] for row in section.rows if row[index] is not None]
    return bool(values) and all(isinstance(v, (int, float, Decimal)) for v in values)


def _rich_tables(sections: list[Section]) -> str:
    import shutil

    from rich.console import Console
    from rich.table import Table

    color = os.environ.get("NO_COLOR") is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((80, 24)).columns
    console = Console(file=io.StringIO(), width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    for section in sections:
        table = Table(title=section.title or section.name, title_justify="left", expand=False)
        shown = [i for i, c in enumerate(section.columns) if section.table_columns is None or c in section.table_columns]
        for i in shown:
            numeric = _numeric(section, i)
            table.add_column(TABLE_HEADERS.get(section.columns[i], section.columns[i]),
                             justify="right" if numeric else "left", overflow="fold", max_width=None if numeric else 60)
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
            console.print(note)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
