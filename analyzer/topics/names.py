"""Topic names are case-insensitive: `Brexit`, `brexit` and `BREXIT` are one topic, shown in its most
common spelling (the `topic_names` view). A name a user types is looked up here before any SQL uses it."""

from __future__ import annotations

import duckdb

from analyzer.store.database import run_sql


def shown_names(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, str | None]:
    """Each of `names` → the spelling the database shows for it (None: no topic of that name)."""
    found = dict(run_sql(con, "topics/shown_names", {"keys": sorted({n.lower() for n in names})}).fetchall())
    return {name: found.get(name.lower()) for name in names}
