"""The typed fast path of the mapping: plain records parsed by a strict typed reader, the rest by SQL.

map_batch.sql judges each record through DuckDB's JSON functions, which parse it several times
(~13 µs a row, four fifths of `ingest --tasks none`). Most records of a dump are plain: an object
whose preset fields are top-level values of one JSON type each. `plan` reads those types off the
first records of a source; `map_typed` parses a chunk with pyarrow's JSON reader against exactly
that schema, which is strict (a value of another type, a malformed line or a repeated field fails
the whole parse), and maps it with map_typed.sql. A chunk that fails is parsed again in pieces of
PIECE_ROWS rows; a piece that fails, and every row the typed columns cannot decide (no text, a date
given as text, a record that is not an object), is mapped by map_batch.sql as before, so every
reject keeps its exact reason and line number and the stored rows are the same whichever path
mapped them (tests/test_typed_mapping.py).

Presets with hashtag or referenced-tweet arrays (twitter, mastodon) and fields below the top level
(`--text-field user.text`) have no plan: their records all take the SQL path.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from analyzer import queries
from analyzer.presets import NO_LANGUAGE_CODES, NONE_PATH

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

PIECE_ROWS = 2048  # a chunk the reader refuses is parsed again in pieces of this many rows
SAMPLE_RECORDS = 200
# what a record must not hold to be mapped here: the fields analyzer.containers sets (`_opinions`, maybe escaped),
# and a byte order mark, which the typed reader skips where DuckDB refuses the line
UNTYPED_MARKS = ["_opinions", "\\u005f", "\\u005F", "\ufeff"]
_KEY = re.compile(r'^\$\.(?:([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*"))$')
# the roles of mapping_params, and what a JSON value of each kind means there
_STRING_ROLES = ("text", "lang")  # anything but a string is a reject or an odd case: SQL
_NAME_ROLES = ("id", "topic", "parent", "thread", "retweet_of", "quote_of")  # strings and integers, as text
_NUMBER_ROLES = ("time", "score")  # numbers; a string takes the SQL path row by row
_ROLES = (*_STRING_ROLES, *_NAME_ROLES, *_NUMBER_ROLES, "author")


@dataclass(frozen=True)
class TypedPlan:
    """The typed schema of one source's preset fields: (key, arrow type name) and each role's keys in order."""

    types: tuple[tuple[str, str], ...]
    roles: tuple[tuple[str, tuple[str, ...]], ...]

    def keys(self, role: str) -> tuple[str, ...]:
        return dict(self.roles)[role]

    def type_of(self, key: str) -> str:
        return dict(self.types)[key]


def plan(params: dict[str, Any], sample: list[str]) -> TypedPlan | None:
    """The typed plan for a source mapped with `params` (from `presets.mapping_params`), its types read off
    `sample` (the first records); None where the fast path cannot give exactly what map_batch.sql gives."""
    if params["tag_array_path"] != NONE_PATH or params["references_path"] != NONE_PATH:
        return None
    paths: list[str] = params["all_paths"]
    roles: dict[str, tuple[str, ...]] = {}
    for role in _ROLES:
        keys = []
        for path in paths[params[f"{role}_lo"] - 1: params[f"{role}_hi"]]:
            if path == NONE_PATH:
                continue
            match = _KEY.match(path)
            if not match:
                return None  # a nested path or an array index
            keys.append(match.group(1) or json.loads(match.group(2)))
        roles[role] = tuple(keys)
    seen = _json_kinds(sample, {key for keys in roles.values() for key in keys})
    types: dict[str, str] = {}
    for role, keys in roles.items():
        for key in keys:
            kind = seen.get(key)
            if kind in {"bool", "object"}:
                return None
            wanted = _arrow_type(role, kind)
            if wanted is None or types.setdefault(key, wanted) != wanted:
                return None
    return TypedPlan(tuple(types.items()), tuple(roles.items()))


def _arrow_type(role: str, kind: str | None) -> str | None:
    """The arrow type a key of `role` is read as, given the JSON kind of its first sampled value (None: unseen)."""
    if role in _NUMBER_ROLES:
        return "string" if kind == "str" else "float64"
    if role in _STRING_ROLES:
        return "string" if kind in {None, "str"} else None
    if role in _NAME_ROLES:
        return {None: "string", "str": "string", "int": "int64"}.get(kind)  # a fraction is a reject: SQL
    return {None: "string", "str": "string", "int": "int64", "float": "float64"}[kind]  # author: strings only count


def _json_kinds(sample: list[str], keys: set[str]) -> dict[str, str]:
    """The most common JSON kind of each key's non-null values in `sample` (a stray value does not decide)."""
    counts: dict[str, Counter[str]] = {key: Counter() for key in keys}
    for record in sample[:SAMPLE_RECORDS]:
        try:
            doc = json.loads(record)
        except (ValueError, RecursionError):
            continue
        if not isinstance(doc, dict):
            continue
        for key in keys:
            value = doc.get(key)
            if value is not None:
                counts[key][_kind(value)] += 1
    return {key: seen.most_common(1)[0][0] for key, seen in counts.items() if seen}


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    return {str: "str", int: "int", float: "float"}.get(type(value), "object")


def map_typed(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, plan: TypedPlan,
              params: dict[str, Any]) -> tuple[pa.Table | None, pl.DataFrame]:
    """Map what of `frame` (line_no, record) the typed path decides: (mapped rows, all 'ok'; the rows left for
    map_batch.sql). Runs on `con`, an in-memory DuckDB."""
    records = frame.get_column("record")
    shaped = records.str.strip_chars(" \t\r")
    candidate = (shaped.str.starts_with("{") & shaped.str.ends_with("}")
                 & ~records.str.contains_any(UNTYPED_MARKS)).fill_null(False)
    typed_rows = frame.filter(candidate)
    left = [frame.filter(~candidate)]
    parsed = _parsed(typed_rows, plan)
    if parsed is None:  # the reader refused the chunk: parse it in pieces, and leave the pieces it refuses
        pieces = []
        for start in range(0, typed_rows.height, PIECE_ROWS):
            piece = typed_rows.slice(start, PIECE_ROWS)
            table = _parsed(piece, plan)
            if table is None:
                left.append(piece)
            else:
                pieces.append(table)
        parsed = pl.concat(pieces) if pieces else None
    if parsed is None or parsed.height == 0:
        return None, pl.concat(left)
    con.register("typed", parsed)
    try:
        mapped = con.sql(queries.load("ingest/map_typed"), params=_sql_params(params)).to_arrow_table()
    finally:
        con.unregister("typed")
    fast = pl.Series(mapped.column("fast"))
    left.append(parsed.select("line_no", "record").filter(~fast))
    return mapped.filter(fast.to_arrow()).drop_columns(["fast"]), pl.concat(left).sort("line_no")


_TYPED_PARAMS = ("platform", "source", "reddit_ids", "lower_topics", "source_topic", "author_literal", "max_chars",
                 "min_time", "max_time", "deleted_texts")


def _sql_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in _TYPED_PARAMS}


def _parsed(rows: pl.DataFrame, plan: TypedPlan) -> pl.DataFrame | None:
    """`rows` parsed against the plan's schema and reduced to one column per role; None where the reader refuses them."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if rows.height == 0:
        return None
    if pa.default_memory_pool().backend_name != "system":
        # glibc's heap, which landing.release_freed_memory trims after each chunk; mimalloc (the default)
        # keeps what it freed: peak RSS of 2M over 200k rows 1.32 with it, 1.28 without (bench.ingest)
        pa.set_memory_pool(pa.system_memory_pool())
    schema = pa.schema([(key, getattr(pa, kind)()) for key, kind in plan.types])
    data = "\n".join(rows.get_column("record").to_list()).encode("utf-8")
    longest = int(rows.get_column("record").str.len_bytes().max() or 0)  # type: ignore[arg-type]
    try:
        table = pa_json.read_json(
            pa.py_buffer(data),
            read_options=pa_json.ReadOptions(block_size=max(1 << 20, 2 * longest + 2)),
            parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore",
                                               newlines_in_values=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if table.num_rows != rows.height:  # two objects on one line: DuckDB refuses the line
        return None
    return _role_columns(pl.DataFrame(pl.from_arrow(table)), rows, plan)


def _role_columns(values: pl.DataFrame, rows: pl.DataFrame, plan: TypedPlan) -> pl.DataFrame:
    """map_typed.sql's input: each role's value as map_batch.sql picks it (first non-null candidate), and
    `undecided` where that value is one the typed path leaves to SQL (a date or a score given as text)."""

    def first(keys: tuple[str, ...], kinds: tuple[str, ...] = ("String", "Int64")) -> pl.Expr:
        chosen = [pl.col(key).cast(pl.String) for key in keys if str(values.schema[key]) in kinds]
        return pl.coalesce(chosen) if chosen else pl.lit(None, dtype=pl.String)

    def number(keys: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr]:
        """The first non-null candidate when it is a number, and whether it is text (undecided) instead."""
        value: pl.Expr = pl.lit(None, dtype=pl.Float64)
        text: pl.Expr = pl.lit(False)
        for key in reversed(keys):
            present = pl.col(key).is_not_null()
            if values.schema[key] == pl.String:
                value, text = pl.when(present).then(None).otherwise(value), pl.when(present).then(True).otherwise(text)
            else:
                value, text = pl.when(present).then(pl.col(key)).otherwise(value), pl.when(present).then(False).otherwise(text)
        return value, text

    lang: pl.Expr = pl.lit(None, dtype=pl.String)
    for key in reversed(plan.keys("lang")):  # the first candidate not in the excluded list
        lang = pl.when(pl.col(key).is_not_null() & ~pl.col(key).is_in(NO_LANGUAGE_CODES)).then(pl.col(key)).otherwise(lang)
    time_num, time_text = number(plan.keys("time"))
    score_num, score_text = number(plan.keys("score"))
    return values.select(
        line_no=rows.get_column("line_no"), record=rows.get_column("record"),
        text_v=first(plan.keys("text"), ("String",)), id_v=first(plan.keys("id")), time_num=time_num,
        author_v=first(plan.keys("author"), ("String",)), topic_v=first(plan.keys("topic")),
        parent_v=first(plan.keys("parent")), thread_v=first(plan.keys("thread")),
        retweet_v=first(plan.keys("retweet_of")), quote_v=first(plan.keys("quote_of")), score_num=score_num,
        lang_v=lang, undecided=time_text | score_text,
    )
