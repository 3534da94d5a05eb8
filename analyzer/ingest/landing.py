"""Landing: records → canonical columns → the store, one chunk per transaction.

Both engines use these: the local engine in its reader thread, the Ray engine in its
workers (`map_records`) and its driver (`land_mapped`). Each chunk is mapped by one SQL
statement (in an in-memory DuckDB) and landed in one transaction together with the run's
counters, so the database never holds half a chunk and `runs` always matches what was stored:

    rows_read = rows_new + rows_duplicate + rows_rejected + rows_skipped
"""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from analyzer import queries
from analyzer.ingest import typed
from analyzer.ingest.options import IngestOptions
from analyzer.ingest.progress import RunSummary, SourceCounts
from analyzer.sources import columns, dates, presets
from analyzer.sources.reader import RecordBatch, Source, SourceError
from analyzer.store.database import run_sql, transaction
from analyzer.tasks.analysis import add_counters

if TYPE_CHECKING:
    import pyarrow as pa


def source_mapping_params(source: Source, first: RecordBatch, options: IngestOptions,
                          summary: RunSummary) -> dict[str, Any]:
    """The mapping parameters for one source: its preset (forced or detected from the first
    batch) with the --*-field overrides, and the order of its numeric dates (`analyzer.sources.dates`);
    records the preset in the summary. Raises SourceError for dates no value disambiguates."""
    table = first.columns is not None and bool(first.records)  # a CSV or TSV with rows: its header says it
    if options.preset:
        preset = presets.get_preset(options.preset)
    elif table:
        preset = columns.choose_preset(first.columns)
    else:
        preset = presets.detect_preset(first.sample(50))
    preset = presets.with_overrides(preset, options.text_field, options.id_field, options.time_field,
                                    options.author_field, options.topic_field, topic_literal=options.topic,
                                    author_literal=options.author, time_format=options.time_format)
    if table:
        preset = _table_columns(source, first, preset, options, summary)
    if first.authors_unknown and not (options.author or options.author_field):
        warning = "no account.js beside this Twitter archive: its tweets' author is unknown (--author NAME names it)"
        first.notes.append(f"{source.name}: warning: {warning}")
        summary.warnings[source.name] = warning
    summary.presets[source.name] = preset.name
    params = presets.mapping_params(preset, source.name, source.stem)
    plan = typed.plan(params, first.sample(typed.SAMPLE_RECORDS))
    # numbers are never numeric dates: a first block the typed reader takes with numeric times needs no look
    if not preset.time_format and preset.time and not (first.block and plan and typed.numeric_times(first.block, plan)):
        counts = _mapper().execute_with_frame(records_frame(first), queries.load("ingest/date_order"),
                                              {"time_paths": preset.time})
        params = presets.mapping_params(preset, source.name, source.stem,
                                        dates.numeric_date_formats(source.name, *counts))
    params = {**params, TYPED_PLAN: plan}
    time_column = summary.source_counts[source.name].columns.get("time") if table else None
    if time_column and not preset.time_format:
        _check_dates(source, first, params, time_column)
    return params


def _check_dates(source: Source, first: RecordBatch, params: dict[str, Any], column: str) -> None:
    """Refuse a table whose date column reads in none of its first rows (each row would be rejected
    alone), naming the values seen and --time-format."""
    sample = first.sample(50)
    mapped = map_records(pl.DataFrame({"line_no": range(1, len(sample) + 1), "record": sample},
                                      schema={"line_no": pl.Int64, "record": pl.String}), params)
    outcomes = mapped.column("outcome").to_pylist()
    unread = [reason for reason in mapped.column("reason").to_pylist() if (reason or "").startswith("unparseable timestamp")]
    if not unread or "ok" in outcomes:
        return
    values = list(dict.fromkeys(json.loads(record).get(column) for record in sample))[:3]
    raise SourceError(source.name, f"column {column!r} holds dates opinions cannot read ({', '.join(map(repr, values))}): "
                                   "pass their strptime format with --time-format (e.g. --time-format '%d %b %Y %H:%M')")


def _table_columns(source: Source, first: RecordBatch, preset: presets.Preset, options: IngestOptions,
                   summary: RunSummary) -> presets.Preset:
    """A table's preset with its text column found by shape where no column has a text name, and a note
    on `first` of the column each role is read from. Raises SourceError when no column holds text."""
    names = first.columns or []
    found = columns.resolve(preset, names)
    shaped = None
    if "text" not in found and not options.text_field:
        shaped = columns.text_by_shape(first.sample(200), names)
        if shaped is None:
            raise SourceError(source.name, columns.no_text_message(preset, names))
        preset = presets.with_overrides(preset, text=shaped)
        found = columns.resolve(preset, names)
    first.notes.append(f"{source.name}: {columns.describe(preset, found, names, shaped)}")
    summary.source_counts.setdefault(source.name, SourceCounts()).columns = {
        role: column for role, column in found.items() if role in {"time", "author", "topic"}}
    return preset


def record_source_failure(con: duckdb.DuckDBPyConnection, run_id: int, error: SourceError) -> None:
    """A source that could not be read: one `rejects` row with the reason (its rows are not counted)."""
    con.execute("INSERT INTO rejects VALUES ($run_id, $source, NULL, $reason, NULL)",
                {"run_id": run_id, "source": error.source, "reason": f"file not readable: {error.reason}"})


# DuckDB maps a vector (2,048 rows) at a time and its JSON functions each parse their own copy of a record, so
# the mapper's memory grows with the bytes per vector, not the rows: a 16 MiB chunk of 20k-character comments
# needed ~600 MiB. Mapping at most this many record bytes at a time bounds it whatever the row sizes.
MAP_SLICE_BYTES = 2**20
VECTOR_ROWS = 2048
TYPED_PLAN = "typed_plan"  # the key of the mapping parameters that holds the source's typed plan (not an SQL parameter)

_MAPPER = threading.local()


class _MapperConnection:
    """A per-thread in-memory DuckDB that runs SQL over one registered batch."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")

    def execute_with_frame(self, frame: pl.DataFrame | pa.Table, sql: str, params: dict[str, Any]) -> tuple:
        self.con.register("batch", frame)
        try:
            return self.con.execute(sql, params).fetchall()[0]
        finally:
            self.con.unregister("batch")

    def arrow_with_frame(self, frame: pl.DataFrame | pa.Table, sql: str, params: dict[str, Any]) -> pa.Table:
        self.con.register("batch", frame)
        try:
            return self.con.sql(sql, params=params).to_arrow_table()
        finally:
            self.con.unregister("batch")


def _mapper() -> _MapperConnection:
    mapper = getattr(_MAPPER, "mapper", None)
    if mapper is None:
        mapper = _MAPPER.mapper = _MapperConnection()
    return mapper


def map_batch(batch: RecordBatch, params: dict[str, Any]) -> pa.Table:
    """`map_records` for one batch as read: a LineBlock is parsed whole (`typed.map_block`) where it can be."""
    plan, sql_params = params.get(TYPED_PLAN), _sql_params(params)
    if batch.block is not None and plan is not None:
        typed_result = typed.map_block(_mapper().con, batch.block, plan, sql_params)
        if typed_result is not None:
            fast, left = typed_result
            return _with_first_of_id([fast, *_sql_mapped(left, sql_params, mapped_any=True)])
        # the reader refused the block whole: its records go to the typed path in pieces straight away
        return map_records(batch_frame(batch), params, whole=False)
    return map_records(batch_frame(batch), params)


def map_records(frame: pl.DataFrame | pa.Table, params: dict[str, Any], whole: bool = True) -> pa.Table:
    """Map raw records (line_no, record) onto canonical columns: an Arrow table with outcome
    and reason per row. Runs in an in-memory DuckDB, so it needs no database file and can
    run in any thread or Ray worker. Plain records take the typed fast path (`analyzer.ingest.typed`,
    where `params` holds a plan; `whole`: as `typed.map_typed`); the others are mapped by SQL, long ones
    in slices (`byte_slices`)."""
    plan = params.get(TYPED_PLAN)
    params = _sql_params(params)
    if not isinstance(frame, pl.DataFrame):
        frame = pl.DataFrame(pl.from_arrow(frame))
    mapped = []
    if plan is not None and frame.height:
        fast, frame = typed.map_typed(_mapper().con, frame, plan, params, whole)
        if fast is not None:
            mapped.append(fast)
    return _with_first_of_id(mapped + _sql_mapped(frame, params, mapped_any=bool(mapped)))


def _sql_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if name != TYPED_PLAN}


def _sql_mapped(frame: pl.DataFrame, params: dict[str, Any], mapped_any: bool) -> list[pa.Table]:
    """`frame` mapped by map_batch.sql, long records in slices; an empty frame maps to nothing unless
    nothing else was mapped (an empty mapping still has its columns)."""
    if not frame.height and mapped_any:
        return []
    sql, mapper = queries.load("ingest/map_batch"), _mapper()
    return [mapper.arrow_with_frame(part, sql, params) for part in byte_slices(frame, MAP_SLICE_BYTES)]


def concat_mapped(tables: list[pa.Table]) -> pa.Table:
    """Mapped tables as one: the typed path's strings are string views (Polars' own, never copied), the SQL
    path's plain strings, which pyarrow does not join (nor sort or filter): Polars does."""
    if len(tables) == 1:
        return tables[0]
    return pl.concat([pl.DataFrame(pl.from_arrow(table)) for table in tables], how="vertical_relaxed").to_arrow(
        compat_level=pl.CompatLevel.newest())


def _with_first_of_id(mapped: list[pa.Table]) -> pa.Table:
    table = checked_languages(concat_mapped(mapped))
    # `row`: a key of the chunk's rows (container records share their line's number)
    return (table.append_column("first_of_id", first_of_id(table))
            .append_column("row", pl.int_range(0, table.num_rows, eager=True).to_arrow()))


def checked_languages(mapped: pa.Table) -> pa.Table:
    """`lang` where the dump gave a hint (`lang_is_hint`: an account's language) checked against each text
    (`langid.check_hints`), in the mapping thread or Ray worker; the `lang_is_hint` column dropped."""
    if "lang_is_hint" not in mapped.column_names:
        return mapped
    hinted = mapped.column("lang_is_hint").to_pylist()
    at = mapped.column_names.index("lang_is_hint")
    if any(hinted):
        import pyarrow as pa

        from analyzer.text.langid import check_hints

        langs, texts = mapped.column("lang").to_pylist(), mapped.column("text").to_pylist()
        rows = [i for i, hint in enumerate(hinted) if hint and texts[i]]
        for i, lang in zip(rows, check_hints([texts[i] for i in rows], [langs[i] for i in rows]), strict=True):
            langs[i] = lang
        mapped = mapped.set_column(mapped.column_names.index("lang"), "lang", pa.array(langs, pa.string()))
    return mapped.remove_column(at)


def first_of_id(mapped: pa.Table) -> pa.Array:
    """True on the first 'ok' row (by line number) of each (platform, id) of a mapped chunk: the one landing
    keeps. Worked out in the mapping thread (or Ray worker), where it costs the writer nothing (in SQL, a
    window over the chunk's rows, ~0.3 s per 50k rows of the writer's time)."""
    keys = pl.DataFrame(pl.from_arrow(mapped.select(["line_no", "outcome", "platform", "id"]))).with_row_index("row")
    if not keys.get_column("line_no").is_sorted():  # typed rows, then the ones SQL mapped
        keys = keys.sort("line_no", maintain_order=True)
    # a chunk is one source's, so mostly of one platform: the id alone is then the key, and half the work
    key = pl.col("id") if keys.get_column("platform").n_unique() <= 1 else pl.struct("platform", "id")
    ok = pl.col("outcome") == "ok"
    firsts = keys.filter(ok & key.is_first_distinct().over(ok)).get_column("row")
    return pl.zeros(keys.height, dtype=pl.Boolean, eager=True).scatter(firsts, True).to_arrow()


def byte_slices(frame: pl.DataFrame, limit: int) -> list[pl.DataFrame]:
    """`frame` cut into consecutive row slices of about `limit` record bytes (a slice passes it only by the
    record that crosses it; a longer record is a slice of its own). Zero-copy views, in order."""
    ends = frame.get_column("record").str.len_bytes().fill_null(0).cast(pl.Int64).cum_sum()
    # DuckDB's own 2,048-row vectors already bound short records; each extra query costs ~0.1 s of planning
    if frame.height == 0 or ends[-1] <= limit or ends[-1] / frame.height * VECTOR_ROWS <= limit:
        return [frame]
    bucket = (ends - 1) // limit
    starts = [0, *(bucket.diff().fill_null(0) != 0).arg_true().to_list(), frame.height]
    return [frame.slice(a, b - a) for a, b in itertools.pairwise(starts) if b > a]


def records_frame(batch: RecordBatch) -> pl.DataFrame:
    """The batch's records as (line_no, record), leaving a LineBlock unsplit: for one look at all of them."""
    line_no, record = batch.block.records() if batch.block else (batch.line_no, batch.record)
    return pl.DataFrame({"line_no": line_no, "record": record}, schema={"line_no": pl.Int64, "record": pl.String})


def batch_frame(batch: RecordBatch) -> pl.DataFrame:
    return records_frame(batch.split())


def land_mapped(con: duckdb.DuckDBPyConnection, mapped: pa.Table, batch: RecordBatch, summary: RunSummary,
                keyword_topics: list[str], keyword_regexes: list[str], want_texts: bool = True,
                before_insert: Callable[[], None] | None = None) -> pl.DataFrame:
    """Land one mapped chunk in one transaction: comments, topics, rejects and the run's counters.
    `before_insert` runs once the new rows are known, before they are written (HeldConnection.drop_cache)."""
    con.register("mapped", mapped)
    try:
        with transaction(con):
            if batch.rejects:
                con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                                [(summary.run_id, batch.source.name, line, reason, raw)
                                 for line, reason, raw in batch.rejects])
            run_sql(con, "ingest/new_rows", {"run_id": summary.run_id})
            if before_insert:
                before_insert()
            run_sql(con, "ingest/land_batch", {"run_id": summary.run_id, "keyword_topics": keyword_topics,
                                                "keyword_patterns": keyword_regexes,
                                                "max_topics": presets.MAX_TOPICS_PER_COMMENT})
            ok, rejected, skipped, new, capped = con.execute(
                "SELECT count(*) FILTER (outcome = 'ok'), count(*) FILTER (outcome = 'reject'), "
                "count(*) FILTER (outcome = 'skip'), (SELECT count(*) FROM new_rows), "
                "(SELECT count(*) FROM mapped SEMI JOIN new_rows USING (row) WHERE len(topics) > $max_topics) "
                "FROM mapped", {"max_topics": presets.MAX_TOPICS_PER_COMMENT}
            ).fetchone()
            # a source that is one rejected record is explained (RunSummary.conclude_sources): keep that record
            first_reject = None
            if batch.rows_read == 1 and rejected + len(batch.rejects) == 1:
                first_reject = ((batch.rejects[0][2], batch.rejects[0][1]) if batch.rejects else
                                con.execute("SELECT record, reason FROM mapped WHERE outcome = 'reject'").fetchone())
            rejected += len(batch.rejects)
            filled = dict(zip(("rows", "time", "author", "topic"), con.execute(
                "SELECT count(*), count(created_at), count(nullif(trim(author), '')), count(nullif(trim(topic), '')) "
                "FROM mapped WHERE outcome = 'ok'"
            ).fetchone(), strict=True))
            delta = {"rows_read": batch.rows_read, "rows_new": new, "rows_duplicate": ok - new,
                     "rows_rejected": rejected, "rows_skipped": skipped}
            add_counters(con, summary.run_id, delta)
            new_texts = (con.sql("SELECT text_hash, text, lang FROM mapped SEMI JOIN new_rows USING (row) "
                                 "ORDER BY line_no, row").pl() if want_texts
                         else pl.DataFrame())
    finally:
        con.unregister("mapped")
    summary.rows_read += batch.rows_read
    summary.rows_new += new
    summary.rows_duplicate += ok - new
    summary.rows_rejected += rejected
    summary.rows_skipped += skipped
    summary.count_source(batch.source.name, batch.rows_read, rejected, first_reject, filled)
    summary.topics_capped += capped
    return new_texts


def release_freed_memory() -> None:
    """Hand memory freed by the last chunk back to the OS (glibc keeps it in per-thread arenas
    otherwise, and peak RSS creeps up with the dump's size: 2M/200k rows 1.35 → 1.32 at 50k-row
    chunks, 1.11 at 100k). A no-op off glibc."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None  # libc's malloc_trim, False off glibc, None: not looked up yet


