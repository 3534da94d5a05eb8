"""Export: a table, view or report section to a Parquet or CSV file the user names.

This is the common case `COPY` served, without giving SQL the file system: the database is
read on the same sandboxed connection as reports (`store.open_readonly`), Arrow batches
stream out of DuckDB, and Python writes them (pyarrow), so memory stays flat whatever the
table's size. The file appears whole or not at all: it is written beside its final name and
renamed into place, and an existing file is replaced only when asked.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analyzer.errors import OpinionsError
from analyzer.reports.render import Section
from analyzer.text.safe_output import csv_column, for_csv

EXPORT_FORMATS = ("parquet", "csv")
_SUFFIX_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
BATCH_ROWS = 100_000


class ExportError(OpinionsError, ValueError):
    """An export that cannot be done as asked (unknown table, format, existing file)."""


@dataclass
class ExportResult:
    path: Path
    fmt: str
    rows: int


def export_format(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name ends with."""
    if fmt:
        if fmt not in EXPORT_FORMATS:
            raise ExportError(f"--format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
        return fmt
    by_suffix = _SUFFIX_FORMATS.get(path.suffix.lower())
    if by_suffix is None:
        raise ExportError(f"cannot tell the format from {path.name!r}: name it .parquet or .csv, or pass --format")
    return by_suffix


def exportable_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables and views of the database, by name."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                       "ORDER BY table_name").fetchall()
    return [name for (name,) in rows]


def export_table(con: duckdb.DuckDBPyConnection, name: str, path: Path, fmt: str | None = None,
                 overwrite: bool = False, raw_cells: bool = False) -> ExportResult:
    """Every row of table or view `name`, streamed to `path` (CSV: formula-like cells neutralised
    unless `raw_cells`, see `analyzer.text.safe_output`)."""
    names = exportable_tables(con)
    if name not in names:
        raise ExportError(f"no table or view named {name!r}; choose one of: {', '.join(names)}")
    chosen = export_format(path, fmt)
    _check_target(path, overwrite)
    reader = con.table(name).to_arrow_reader(BATCH_ROWS)  # by name through DuckDB's API: never SQL text
    try:
        return _write(reader.schema, reader, path, chosen, overwrite, raw_cells)
    finally:
        reader.close()  # an open reader keeps the database open after its connection is closed


def export_section(section: Section, path: Path, fmt: str | None = None, overwrite: bool = False,
                   raw_cells: bool = False) -> ExportResult:
    """One report section (a bounded list of rows) to `path`."""
    import pyarrow as pa

    chosen = export_format(path, fmt)
    _check_target(path, overwrite)
    table = pa.table({column: [row[i] for row in section.rows] for i, column in enumerate(section.columns)})
    return _write(table.schema, table.to_batches(), path, chosen, overwrite, raw_cells)


def _check_target(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise ExportError(f"{path} is a folder: name a file")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} exists: pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")


def _write(schema: Any, batches: Any, path: Path, fmt: str, overwrite: bool, raw_cells: bool = False) -> ExportResult:
    # pyarrow is imported here, not at the top: the CLI imports this module's error on every command
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    _check_target(path, overwrite)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    rows = 0
    try:
        if fmt == "parquet":
            writer = pq.ParquetWriter(partial, schema)
        else:
            writer = pa_csv.CSVWriter(partial, _flat_schema(schema, raw_cells))
        with writer:
            for batch in batches:
                writer.write_batch(batch if fmt == "parquet" else _flat_batch(batch, raw_cells))
                rows += batch.num_rows
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return ExportResult(path, fmt, rows)


def _flat_schema(schema: Any, raw_cells: bool = True) -> Any:
    """CSV has no lists or structs (`runs.sources`): those columns become JSON text. A column name
    that looks like a formula is neutralised too (the header row is a row of cells)."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name if raw_cells else for_csv(f.name), pa.string() if pa.types.is_nested(f.type)
                               else f.type) for f in schema])


def _flat_batch(batch: Any, raw_cells: bool = True) -> Any:
    import pyarrow as pa

    columns = [pa.array([None if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in col.to_pylist()],
                        pa.string()) if pa.types.is_nested(col.type) else col for col in batch.columns]
    if not raw_cells:  # text cells only: numbers (a negative score) stay numbers
        columns = [csv_column(col) for col in columns]
    return pa.record_batch(columns, schema=_flat_schema(batch.schema, raw_cells))
