"""Self-contained HTML reports: tables plus inline SVG charts, no scripts, no CDN.

Charts are chosen from the columns a section has, so any SQL report gets them:
- a `period` column → a line chart of each numeric series over time (volume, net sentiment);
- `positive`/`neutral`/`negative` share columns → a stacked sentiment bar per row.

A page fits any window: each table sits in its own box that scrolls sideways when it is
wider than the page (long texts wrap first), and charts scale with the page's width.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2328;
background:#fff;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.table-box{max-width:100%;overflow-x:auto;margin:.5rem 0 1rem;border:1px solid #eaeef2;border-radius:4px}
table{border-collapse:collapse;font-size:.9rem;min-width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
td{max-width:40rem;overflow-wrap:anywhere}td.num,th{white-space:nowrap}
svg.chart{display:block;width:100%;max-width:720px;height:auto}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}
.neg{color:#cf222e}.pos{color:#1a7f37}.note{color:#57606a;font-size:.85rem}
.bar{display:flex;width:160px;min-width:160px;height:12px;border-radius:3px;overflow:hidden;background:#eaeef2}
.bar span{display:block;height:100%}.b-pos{background:#2da44e}.b-neu{background:#afb8c1}.b-neg{background:#cf222e}
svg text{font-size:11px;fill:#57606a}
"""
SHARES = ("positive", "neutral", "negative")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


def _fmt(column: str, value: Any) -> str:
    from analyzer.reports.render import _cell

    return html.escape(_cell(column, value))


def _bar(row: dict[str, Any]) -> str:
    parts = []
    for name, css in zip(SHARES, ("b-pos", "b-neu", "b-neg"), strict=True):
        share = _number(row.get(name)) or 0.0
        parts.append(f'<span class="{css}" style="width:{share * 100:.1f}%" title="{name} {share * 100:.1f}%"></span>')
    return '<div class="bar">' + "".join(parts) + "</div>"


def _line_chart(title: str, periods: list[str], series: dict[str, list[float | None]]) -> str:
    width, height, pad = 720, 180, 36
    colours = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a"]
    charts = []
    for index, (name, values) in enumerate(series.items()):
        numbers = [v for v in values if v is not None]
        if len(numbers) < 2:
            continue
        low, high = min([*numbers, 0.0]), max(numbers)
        span = (high - low) or 1.0
        step = (width - 2 * pad) / max(1, len(values) - 1)
        points = " ".join(
            f"{pad + i * step:.1f},{height - pad - (v - low) / span * (height - 2 * pad):.1f}"
            for i, v in enumerate(values) if v is not None
        )
        colour = colours[index % len(colours)]
        zero = height - pad - (0 - low) / span * (height - 2 * pad)
        charts.append(
            f'<svg class="chart" role="img" aria-label="{html.escape(title)}: {html.escape(name)}" '
            f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet"><title>{html.escape(name)}</title>'
            f'<line x1="{pad}" y1="{zero:.1f}" x2="{width - pad}" y2="{zero:.1f}" stroke="#d0d7de"/>'
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            f'<text x="{pad}" y="14">{html.escape(name)} (max {high:,.2f}, min {low:,.2f})</text>'
            f'<text x="{pad}" y="{height - 8}">{html.escape(periods[0])}</text>'
            f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{html.escape(periods[-1])}</text></svg>'
        )
    return "".join(charts)


def render_html(sections: list[Any], title: str = "opinions report") -> str:
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="note">generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by opinions</p>']
    for section in sections:
        records = section.records()
        body.append(f"<h2>{html.escape(section.title or section.name)}</h2>")
        if "period" in section.columns and records:
            group = "topic" if "topic" in section.columns else None
            groups: dict[str, list[dict[str, Any]]] = {}
            for row in records:
                groups.setdefault(str(row[group]) if group else "", []).append(row)
            for name, rows in groups.items():
                periods = [str(r["period"]) for r in rows]
                series = {f"{name} {c}".strip(): [_number(r.get(c)) for r in rows]
                          for c in ("comments", "net_sentiment") if c in section.columns}
                body.append(_line_chart(section.title or section.name, periods, series))
        has_shares = all(c in section.columns for c in SHARES)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in section.columns)
        if has_shares:
            head += "<th>sentiment</th>"
        rows_html = []
        for raw, row in zip(section.rows, records, strict=True):
            cells = []
            for column, value in zip(section.columns, raw, strict=True):
                css = "num" if _number(value) is not None else ""
                if column in ("net_sentiment", "net_change") and _number(value) is not None:
                    css += " pos" if value > 0 else " neg" if value < 0 else ""
                if value == "negative":
                    css += " neg"
                elif value == "positive":
                    css += " pos"
                cells.append(f'<td class="{css.strip()}">{_fmt(column, value)}</td>')
            if has_shares:
                cells.append(f"<td>{_bar(row)}</td>")
            rows_html.append("<tr>" + "".join(cells) + "</tr>")
        if rows_html:
            body.append(f'<div class="table-box"><table><thead><tr>{head}</tr></thead>'
                        f"<tbody>{''.join(rows_html)}</tbody></table></div>")
        else:
            body.append('<p class="note">no rows</p>')
        for note in [*section.notes, section.shown_of_total()]:
            if note:
                body.append(f'<p class="note">{html.escape(note)}</p>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · opinions</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f'<body>{"".join(body)}</body></html>\n')
