"""Long records are mapped in bounded slices: the mapper's memory follows bytes, not rows (issue 21, item 7).

DuckDB maps a vector of 2,048 rows at a time and each JSON function parses its own copy of a record, so a 16 MiB
chunk of 20k-character comments took ~600 MiB in the mapper. `bench/ingest.py --long` measures the whole run.
"""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.cli import app
from analyzer.ingest.landing import byte_slices
from tests.helpers import reddit, sql, write_jsonl


def frame(sizes: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"line_no": list(range(len(sizes))), "record": ["x" * n for n in sizes]},
                        schema={"line_no": pl.Int64, "record": pl.String})


@pytest.mark.parametrize("sizes", [[10] * 50, [300, 5, 5, 5, 400, 90, 90, 90, 1000, 1], [1], [250, 250, 250]])
def test_slices_keep_every_row_in_order_and_stay_near_the_byte_limit(sizes):
    whole = frame(sizes)
    parts = byte_slices(whole, 256)
    assert pl.concat(parts).equals(whole)
    for part in parts:
        sizes_in_part = part.get_column("record").str.len_bytes().to_list()
        # a slice may pass the limit only by the record that crosses it, or be one record longer than it
        assert sum(sizes_in_part[1:]) <= 256 or part.height == 1


def test_short_records_are_mapped_in_one_piece_because_duckdb_vectors_already_bound_them():
    assert len(byte_slices(frame([10] * 20), 1 << 20)) == 1  # below the limit
    # 50 kB in all, over a 40 kB limit, but a 2,048-row vector of 10-byte records is only 20 kB: no extra queries
    assert len(byte_slices(frame([10] * 5000), 40_000)) == 1


def test_sliced_mapping_lands_exactly_what_one_piece_lands(runner, tmp_path, monkeypatch):
    records = [reddit(i, body=("long words " * (50 + 40 * (i % 7))).strip()) for i in range(60)]
    records[7] = "{not json"
    records[20] = reddit(20, body="")
    dump = write_jsonl(tmp_path / "long.jsonl", records)
    landed = {}
    for name, limit in (("sliced", 2_000), ("whole", 1 << 30)):
        monkeypatch.setattr("analyzer.ingest.landing.MAP_SLICE_BYTES", limit)
        db = tmp_path / f"{name}.duckdb"
        result = runner.invoke(app, ["ingest", str(dump), "--tasks", "none", "--db", str(db)])
        assert result.exit_code == 0, result.output
        landed[name] = (sql(db, "SELECT id, text, created_at, author, topic FROM comments ORDER BY id"),
                        sql(db, "SELECT line_no, reason FROM rejects ORDER BY line_no"))
    assert landed["sliced"] == landed["whole"]
    assert len(landed["whole"][0]) == 58 and len(landed["whole"][1]) == 2
