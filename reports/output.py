"""Where a rendered report goes: stdout, or the file of `-o FILE`; CSV one section per file.

CSV has no place for a section's name, so a report of several sections is one section
(`--section NAME`) on stdout, or one file per section with `-o`: `-o topic.csv` writes
`topic-trend.csv`, `topic-entities.csv`, ... Rows left out by `--limit` are said on stderr
in the machine formats, whose stdout is only data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from analyzer.reports.catalog import ReportError
from analyzer.reports.render import MACHINE_FORMATS, Section, format_name, render


def choose_section(sections: list[Section], section: str | None, report: str) -> list[Section]:
    """The one section named by --section (all of them without it)."""
    if section is None:
        return sections
    by_name = {s.name: s for s in sections}
    if section not in by_name:
        raise ReportError(f"report {report!r} has no section {section!r}; choose one of {', '.join(by_name)}")
    return [by_name[section]]


def write_report(sections: list[Section], fmt: str, output: Path | None = None, title: str | None = None,
                 wide: bool = False, report: str = "report", single: bool | None = None,
                 raw_cells: bool = False) -> list[Path]:
    """Render `sections` as `fmt` to stdout or to `output`; the files written (`raw_cells`: CSV cells
    that look like formulas are written as they are)."""
    fmt = format_name(fmt)
    if fmt == "csv" and len(sections) > 1:
        names = ", ".join(s.name for s in sections)
        if output is None:
            raise ReportError(f"report {report!r} has sections {names}: CSV holds one, so choose it with "
                              "--section NAME, or give -o FILE to write one file per section")
        return [_write(render([s], fmt, raw_cells=raw_cells), output.with_name(f"{output.stem}-{s.name}{output.suffix or '.csv'}"))
                for s in sections]
    text = render(sections, fmt, single=single, title=title, wide=wide, raw_cells=raw_cells)
    if fmt in MACHINE_FORMATS:
        for s in sections:
            if s.shown_of_total():
                print(f"opinions: {s.name}: {s.shown_of_total()}", file=sys.stderr)
    if output is None:
        sys.stdout.write(text)
        return []
    return [_write(text, output)]


def _write(text: str, path: Path) -> Path:
    """The whole file or none: written beside its name, then renamed into place."""
    if path.is_dir():
        raise ReportError(f"-o {path}: is a folder, name a file")
    if not path.parent.is_dir():
        raise ReportError(f"-o {path}: folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
