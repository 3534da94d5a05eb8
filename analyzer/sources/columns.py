"""Columns: which column of a table (a CSV or TSV) is read for what, and saying so.

A CSV row has no nesting to tell a platform by. Sentiment140's header (`target,ids,date,flag,
user,text`) has a `text` and a `user`, as a tweet does, so the key votes that pick a preset for
JSON records (`presets.detect_preset`) took it for Twitter, whose fields then found no id, no
author and no date in it, and the run said nothing. A table's preset is instead the one whose
fields find the most of its columns (`choose_preset`); a text column with another name is found
by name (the generic preset's list) or by shape (`text_by_shape`: the longest free-text column);
and the choice is one line (`describe`) on stderr and in the run's notes.
"""

from __future__ import annotations

import json
import re

from analyzer.sources.presets import BY_NAME, PRESETS, Preset

ROLES = ("text", "id", "time", "author", "topic")
_PART = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([^.\[]+))|\[(\d+)\]')
# a free-text column: most of its values have MIN_WORDS words, they average MIN_TEXT_CHARS, and they mostly differ
# (a name like `Virgin America` repeats and is short; a label is one word)
MIN_TEXT_CHARS = 20
MIN_WORDS = 3


def column_of(path: str, columns: set[str]) -> str | None:
    """The column a preset path reads in a flat row: a top-level key that is one of `columns`. A nested
    path (`$.user.screen_name`) reads none: a CSV cell is a string, never an object."""
    parts = list(_PART.finditer(path[1:])) if path.startswith("$") else []
    if len(parts) != 1 or parts[0].group(3) is not None or parts[0].end() != len(path) - 1:
        return None
    quoted, plain = parts[0].group(1), parts[0].group(2)
    key = json.loads(f'"{quoted}"') if quoted is not None else plain
    return key if key in columns else None


def resolve(preset: Preset, columns: list[str]) -> dict[str, str]:
    """Role → the column the preset reads it from (the first of its candidate paths a column answers)."""
    present = set(columns)
    found: dict[str, str] = {}
    for role in ROLES:
        paths = [*getattr(preset, role), *(preset.compose if role == "text" else [])]
        for path in paths:
            column = column_of(path, present)
            if column is not None:
                found[role] = column
                break
    return found


def choose_preset(columns: list[str]) -> Preset:
    """The preset that reads the most of a table's roles from its columns, one that finds a text column
    first; a tie goes to generic, which says what it took (PRESETS order between platforms)."""
    def score(name: str) -> tuple[bool, int, bool, int]:
        found = resolve(BY_NAME[name], columns)
        return "text" in found, len(found), name == "generic", -PRESETS.index(name)

    return BY_NAME[max(PRESETS, key=score)]


def text_by_shape(records: list[str], columns: list[str]) -> str | None:
    """The column that looks most like free text in the sampled rows: mostly words, not numbers or dates,
    with the longest values on average (at least MIN_TEXT_CHARS); None when no column does."""
    lengths: dict[str, list[int]] = {column: [] for column in columns}
    distinct: dict[str, set[str]] = {column: set() for column in columns}
    for record in records:
        try:
            row = json.loads(record)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        for column in columns:
            value = row.get(column)
            if isinstance(value, str) and value.strip():
                wordy = len(value.split()) >= MIN_WORDS and not _numeric(value)
                lengths[column].append(len(value) if wordy else 0)
                distinct[column].add(value)
    best, best_mean = None, float(MIN_TEXT_CHARS)
    for column, seen in lengths.items():
        if not seen or sum(1 for n in seen if n) * 2 < len(seen):  # free text in at most half its rows
            continue
        if len(seen) >= 5 and len(distinct[column]) * 2 < len(seen):  # the same few values: a category
            continue
        mean = sum(seen) / len(seen)
        if mean >= best_mean:
            best, best_mean = column, mean
    return best


def _numeric(value: str) -> bool:
    """A number, a date or a time (`2015-02-24 11:35:52 -0800`, `Mon Apr 06 22:19:45 PDT 2009`): digits make
    at least 40% of it."""
    chars = [ch for ch in value if not ch.isspace()]
    return sum(ch.isdigit() for ch in chars) * 5 >= len(chars) * 2


def describe(preset: Preset, found: dict[str, str], columns: list[str], shaped: str | None = None) -> str:
    """One line: the preset, the column each role was read from, and the columns left unread."""
    taken = [f"{role} ← {found[role]}" + (" (the longest free-text column)" if role == "text" and shaped else "")
             for role in ROLES if role in found]
    missing = [role for role in ROLES if role not in found and not _literal(preset, role)]
    unused = [column for column in columns if column not in found.values()]
    line = f"columns read as preset {preset.name}: " + ", ".join(taken)
    if missing:
        line += f"; no column for {', '.join(missing)}"
    if unused:
        line += f"; not read: {', '.join(unused)}"
    return line + " (--text-field, --id-field, --time-field, --author-field, --topic-field choose others)"


def _literal(preset: Preset, role: str) -> bool:
    """Whether the role gets a value that is no column: --topic, --author, the file name as the topic."""
    if role == "topic":
        return preset.topic_literal is not None or preset.topic_from_source
    return role == "author" and preset.author_literal is not None


def no_text_message(preset: Preset, columns: list[str]) -> str:
    """Why a table has no text column: the names looked for, the columns it has, and the flag."""
    wanted = [key for path in [*preset.text, *preset.compose] if (key := _plain_key(path))]
    return (f"no text column: none of {', '.join(wanted)} is a column, and no column holds free text; the "
            f"columns are {', '.join(columns)}: name the text with --text-field COLUMN")


def _plain_key(path: str) -> str | None:
    match = _PART.fullmatch(path[1:]) if path.startswith("$") else None
    if not match or match.group(3) is not None:
        return None
    key = json.loads(f'"{match.group(1)}"') if match.group(1) is not None else match.group(2)
    return None if key.startswith("_opinions") else key
