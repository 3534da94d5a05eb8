"""Text written by anyone on the internet, shown to a person: what a terminal, a markdown viewer or a
spreadsheet receives from opinions.

A comment's text, author or topic (and a file's name) is data, never a command to whatever displays it:

- `for_terminal`: control characters are shown as visible escapes (`\\x1b`, `\\u202e`) instead of being
  sent: C0 (ESC starts the sequences that retitle a window, move the cursor up and erase the line to
  hide rows, or open OSC 8 links; BEL, BS and CR overwrite), DEL, C1 (8-bit CSI, OSC and DCS) and the
  bidi overrides and isolates U+202A–U+202E, U+2066–U+2069 (text that reads backwards). Line breaks
  and tabs are kept only where the output is laid out in lines (log lines, notes), never in a cell.
- `for_markdown`: the same, then HTML (`<script>`) and link syntax (`[x](javascript:…)`) escaped so that
  a markdown viewer shows them as text.
- `for_csv` / `csv_column`: a string cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading
  `'` (OWASP's advice against formula injection), so a spreadsheet shows it instead of running it.
  Numbers stay numbers (a negative net sentiment is no formula).

What is stored is never changed: only what is shown.
"""

from __future__ import annotations

import re
from typing import Any

# one character class each: a single linear pass over the text
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_BUT_LAYOUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN_SPECIAL = re.compile(r"[\\\[\]|<>&]")
_MARKDOWN_ESCAPES = {"\\": "\\\\", "[": "\\[", "]": "\\]", "|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_controls(text: str) -> bool:
    """Whether `text` holds a character `for_terminal` would escape (for input that must not hold one)."""
    return _CONTROLS.search(text) is not None


def for_terminal(text: str, layout: bool = False) -> str:
    """`text` with its control characters shown as escapes; `layout` keeps line breaks and tabs."""
    return (_CONTROLS_BUT_LAYOUT if layout else _CONTROLS).sub(_visible, text)


def for_markdown(text: str) -> str:
    """One markdown table cell, title or note: `for_terminal`, then `\\ [ ] |` backslash-escaped (no link,
    image or reference syntax, no cell break) and `< > &` as entities (no HTML, no autolink)."""
    return _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN_ESCAPES[m.group(0)], for_terminal(text))


def for_csv(value: Any) -> Any:
    """A CSV cell: a string that a spreadsheet would read as a formula gets a leading `'`; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_column(column: Any) -> Any:
    """`for_csv` over a pyarrow column (export's batches): string columns neutralised, others as they are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.match_substring_regex(column, "^[=+\\-@\\t\\r]")
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", column.type), column, ""), column)
