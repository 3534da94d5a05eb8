"""SQL as data: every statement `opinions` runs lives in a .sql file here.

Statements take DuckDB named parameters (`$topic`); user values are always bound,
never formatted into the text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of `queries/<name>.sql` (name may contain a sub-folder: `reports/topics`)."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}")
    return path.read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file here."""
    return split(load(name))


def split(text: str) -> list[str]:
    """Split SQL text on `;` at line ends (our files never put `;` in strings)."""
    return [block.strip() for block in text.split(";\n") if _has_code(block)]


def _has_code(block: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in block.splitlines())
