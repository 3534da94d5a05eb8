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
from analyzer.sources.containers import OURS
from analyzer.sources.presets import NO_LANGUAGE_CODES, NONE_PATH

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from analyzer.sources.reader import LineBlock

PIECE_ROWS = 2048  # a chunk the reader refuses is parsed again in pieces of this many rows
SAMPLE_RECORDS = 200
# what a record must not hold to be mapped here: a byte order mark, which the typed reader skips where DuckDB
# refuses the line. (The fields analyzer.sources.containers sets, `_opinions`, are refused by the reader itself: _read_json)
UNTYPED_MARKS = ["\ufeff"]
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
    paths: list[str] = params["all_paths"]
    if params["tag_array_path"] != NONE_PATH or params["references_path"] != NONE_PATH:
        return None
    if any(path != NONE_PATH for path in paths[params["lang_hint_lo"] - 1: params["lang_hint_hi"]]):
        return None  # a language hint is checked against the text after map_batch.sql
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
              params: dict[str, Any], whole: bool = True) -> tuple[pa.Table | None, pl.DataFrame]:
    """Map what of `frame` (line_no, record) the typed path decides: (mapped rows, all 'ok'; the rows left for
    map_batch.sql). Runs on `con`, an in-memory DuckDB. `whole`: try the chunk in one parse before pieces
    (False where the reader already refused these lines as a LineBlock: the same parse would fail again)."""
    records = frame.get_column("record")
    shaped = records.str.strip_chars(" \t\r")
    candidate = (shaped.str.starts_with("{") & shaped.str.ends_with("}")
                 & ~records.str.contains_any(UNTYPED_MARKS)).fill_null(False)
    typed_rows = frame.filter(candidate)
    left = [frame.filter(~candidate)]
    parsed = _parsed(typed_rows, plan) if whole else None
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
    mapped, fast = _mapped(con, parsed, params)
    left.append(parsed.select("line_no", "record").filter(~fast))
    return _arrow(mapped, fast), pl.concat(left).sort("line_no")


def _mapped(con: duckdb.DuckDBPyConnection, parsed: pl.DataFrame, params: dict[str, Any]) -> tuple[pl.DataFrame, pl.Series]:
    """`parsed` (one column per role) mapped onto map_batch.sql's columns, and `fast`, where they are final:
    map_typed.sql computes what needs computing, the rest is taken from `parsed` as it is (no copy)."""
    # Arrow string views: Polars' own strings, so neither DuckDB's scan nor the writer's insert copies them
    con.register("typed", parsed.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        computed = con.sql(queries.load("ingest/map_typed"), params=_sql_params(params)).pl()
    finally:
        con.unregister("typed")
    topic = pl.col("topic")
    mapped = pl.concat([parsed, computed], how="horizontal").select(
        "line_no", "record", outcome=pl.lit("ok"), reason=pl.lit(None, dtype=pl.String),
        platform=pl.lit(params["platform"], dtype=pl.String), id="id",
        source=pl.lit(params["source"], dtype=pl.String), created_at="created_at",
        author=pl.coalesce("author_v", pl.lit(params["author_literal"], dtype=pl.String)), topic=topic,
        topics=pl.when(topic.fill_null("") == "").then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.concat_list(topic)),
        parent_id="parent_v", thread_id="thread_v", score="score", lang="lang", lang_is_hint=pl.lit(False),
        text="text_v", text_hash="text_hash",
        is_retweet=pl.col("retweet_v").is_not_null(), retweet_of="retweet_v", quote_of="quote_v", fast="fast")
    return mapped, mapped.get_column("fast")


def _arrow(mapped: pl.DataFrame, keep: pl.Series | None = None) -> pa.Table:
    """The `keep` rows of `_mapped`'s frame, without `fast`, as Arrow with string views: no string is copied."""
    return (mapped if keep is None else mapped.filter(keep)).drop("fast").to_arrow(compat_level=pl.CompatLevel.newest())


_TYPED_PARAMS = ("reddit_ids", "lower_topics", "source_topic", "max_chars", "min_time", "max_time", "deleted_texts")


def _sql_params(params: dict[str, Any]) -> dict[str, Any]:
    return {**{name: params[name] for name in _TYPED_PARAMS},
            "deleted_bytes": max((len(text.encode("utf-8")) for text in params["deleted_texts"]), default=0)}


def map_block(con: duckdb.DuckDBPyConnection, block: LineBlock, plan: TypedPlan,
              params: dict[str, Any]) -> tuple[pa.Table, pl.DataFrame] | None:
    """`map_typed` for a LineBlock, parsed whole from the bytes read (no record is split out unless the typed
    columns leave it to SQL): (mapped rows, the rows left for map_batch.sql), or None where the reader
    refuses the block (a line of another shape or type: it is then split and mapped record by record)."""
    table = parsed_block(block, plan)
    if table is None:
        return None
    block.parsed = None  # read once more only if mapped again
    data, first = block.data(), block.first_line
    rows = pl.DataFrame({"line_no": pl.int_range(first, first + block.lines, eager=True),
                         "record": pl.repeat(None, block.lines, dtype=pl.String, eager=True)})
    mapped, fast = _mapped(con, _role_columns(pl.DataFrame(pl.from_arrow(table)), rows, plan), params)
    if fast.all():
        return _arrow(mapped), _lines(data, first, pl.Series(dtype=pl.UInt32))
    return _arrow(mapped, fast), _lines(data, first, fast.not_().arg_true())


def parsed_block(block: LineBlock, plan: TypedPlan) -> pa.Table | None:
    """The block read against the plan, or None where the reader refuses it; kept on the block, as the first
    block of a source is read once for its dates (`numeric_times`) and once to be mapped."""
    if block.parsed is None:
        table = _read_json(block.data(), plan, block.longest)
        # two objects on a line make more rows than lines: DuckDB refuses the line
        block.parsed = table if table is not None and table.num_rows == block.lines else False
    return block.parsed or None


def numeric_times(block: LineBlock, plan: TypedPlan) -> bool:
    """Whether every time value in the block is a number (or null): the plan reads the time fields as numbers
    and the reader takes the block. Numbers are never numeric dates (`2/24/2015`) that need an order."""
    return all(plan.type_of(key) == "float64" for key in plan.keys("time")) and parsed_block(block, plan) is not None


def _lines(data: bytes, first_line: int, indexes: pl.Series) -> pl.DataFrame:
    """(line_no, record) of the lines at `indexes` (0: the first line of `data`, line `first_line`)."""
    import numpy as np

    wanted = indexes.to_numpy()
    if not wanted.size:
        return pl.DataFrame(schema={"line_no": pl.Int64, "record": pl.String})
    ends = np.concatenate((np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n")), [len(data)]))
    starts = np.concatenate(([0], ends[:-1] + 1))
    records = [data[starts[i]:ends[i]].decode("utf-8") for i in wanted]
    return pl.DataFrame({"line_no": wanted.astype(np.int64) + first_line, "record": records},
                        schema={"line_no": pl.Int64, "record": pl.String})


def _parsed(rows: pl.DataFrame, plan: TypedPlan) -> pl.DataFrame | None:
    """`rows` parsed against the plan's schema and reduced to one column per role; None where the reader refuses them."""
    if rows.height == 0:
        return None
    data = rows.get_column("record").str.join("\n").item().encode("utf-8")
    longest = int(rows.get_column("record").str.len_bytes().max() or 0)  # type: ignore[arg-type]
    table = _read_json(data, plan, longest)
    if table is None or table.num_rows != rows.height:  # two objects on one line: DuckDB refuses the line
        return None
    return _role_columns(pl.DataFrame(pl.from_arrow(table)), rows, plan)


def _read_json(data: bytes, plan: TypedPlan, longest: int) -> pa.Table | None:
    """`data` (JSON lines) read against the plan's schema by pyarrow's strict reader; None where it refuses it,
    and where a record has an `_opinions` value (its key escaped or not), which only map_batch.sql reads."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if pa.default_memory_pool().backend_name != "system":
        # glibc's heap, which landing.release_freed_memory trims after each chunk; mimalloc (the default)
        # keeps what it freed: peak RSS of 2M over 200k rows 1.32 with it, 1.28 without (bench.ingest)
        pa.set_memory_pool(pa.system_memory_pool())
    fields = [(key, getattr(pa, kind)()) for key, kind in plan.types]
    fields.append((OURS, pa.null()))  # any value but null fails the parse: "changed from null to ..."
    try:
        return pa_json.read_json(
            pa.py_buffer(data),
            read_options=pa_json.ReadOptions(block_size=max(1 << 20, 2 * longest + 2)),
            parse_options=pa_json.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore",
                                               newlines_in_values=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None


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
