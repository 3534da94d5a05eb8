"""Bad input of every kind: each row accounted for, no bad row stops a run, unreadable files reported.

Includes hypothesis fuzzing over the readers and presets.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.ingest import IngestOptions, ingest
from analyzer.store.database import Store
from tests.helpers import reddit, sql, write_jsonl


def run(db: Path, *paths: Path | str, **options):
    return ingest(Store(db, wait_seconds=5), [str(p) for p in paths], IngestOptions(**options))


def accounted(summary) -> bool:
    return summary.rows_read == summary.rows_new + summary.rows_duplicate + summary.rows_rejected + summary.rows_skipped


def test_truncated_gzip_keeps_what_was_read_and_reports_the_file(tmp_path, db):
    rows = 30_000  # about 6 MB: the damage is well past the first read
    whole = gzip.compress("".join(json.dumps(reddit(i)) + "\n" for i in range(rows)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    summary = run(db, path)
    assert "cut.jsonl.gz" in next(iter(summary.failed_sources)) and accounted(summary)
    assert rows // 4 < summary.rows_new < rows
    assert sql(db, "SELECT reason FROM rejects WHERE line_no IS NULL")[0][0].startswith("file not readable")


def test_truncated_zstd_is_reported(tmp_path, db):
    whole = zstandard.ZstdCompressor().compress("".join(json.dumps(reddit(i)) + "\n" for i in range(2000)).encode())
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(whole[: len(whole) // 2])
    summary = run(db, path)
    assert summary.failed_sources and accounted(summary)


def test_empty_file_reads_nothing_and_is_fine(tmp_path, db):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    summary = run(db, tmp_path / "empty.jsonl")
    assert summary.rows_read == 0 and summary.status == "completed"


def test_binary_file_is_reported_as_unreadable(tmp_path, db):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 64)
    summary = run(db, path, write_jsonl(tmp_path / "ok.jsonl", [reddit(1)]))
    assert summary.failed_sources[str(path)] == "not a text dump (binary content)"
    assert summary.rows_new == 1 and summary.status == "completed"


def test_ten_megabyte_comment_is_rejected_with_reason_not_crash(tmp_path, db):
    path = write_jsonl(tmp_path / "huge.jsonl", [reddit(1, body="x" * 10_000_000), reddit(2)])
    summary = run(db, path)
    assert (summary.rows_new, summary.rows_rejected) == (1, 1)
    assert sql(db, "SELECT reason, length(raw) FROM rejects") == [("text longer than 100000 characters", 65536)]


def test_folder_with_unreadable_entries_reports_them_and_ingests_the_rest(tmp_path, db):
    folder = tmp_path / "dumps"
    folder.mkdir()
    write_jsonl(folder / "good.jsonl", [reddit(1), reddit(2)])
    (folder / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")  # unreadable even for root
    (folder / "fifo-like.jsonl").mkdir()  # a folder with a dump's name
    summary = run(db, folder)
    assert summary.rows_new == 2
    assert any("dangling.jsonl" in name for name in summary.failed_sources)


def test_nothing_ingestable_is_a_failed_run(tmp_path, db):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(4096).replace(b"\n", b"\x00"))
    summary = run(db, blob)
    assert summary.status == "failed" and summary.rows_read == 0


def test_timestamps_far_future_and_negative_epochs_are_rejected(tmp_path, db):
    path = write_jsonl(tmp_path / "t.jsonl", [reddit(1, t=32_503_680_000), reddit(2, t=-86_400 * 365), reddit(3)])
    summary = run(db, path)
    assert (summary.rows_new, summary.rows_rejected) == (1, 2)
    reasons = [r[0] for r in sql(db, "SELECT reason FROM rejects ORDER BY line_no")]
    assert all(r.startswith("timestamp out of range") for r in reasons)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
RECORDS = st.fixed_dictionaries(
    {}, optional={"id": JSON_VALUES, "body": JSON_VALUES, "text": JSON_VALUES, "subreddit": JSON_VALUES,
                  "created_utc": JSON_VALUES, "created_at": JSON_VALUES, "score": JSON_VALUES, "author": JSON_VALUES,
                  "cid": JSON_VALUES, "full_text": JSON_VALUES, "entities": JSON_VALUES, "time_parsed": JSON_VALUES})
LINES = st.one_of(
    RECORDS.map(json.dumps),
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ").decode("latin-1")),
    st.text(max_size=60).map(lambda s: s.replace("\n", " ")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, min_size=1, max_size=25), preset=st.sampled_from([None, "reddit", "twitter", "youtube",
                                                                                "generic"]))
def test_fuzzed_jsonl_is_always_fully_accounted(tmp_path_factory, lines, preset):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "f.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass"))
    db = folder / "f.duckdb"
    summary = run(db, path, preset=preset)
    assert accounted(summary)
    stored_rows = sql(db, "SELECT count(*) FROM comments")[0][0]
    rejected = sql(db, "SELECT count(*) FROM rejects")[0][0]
    assert stored_rows == summary.rows_new and rejected == summary.rows_rejected
    again = run(db, path, preset=preset)
    assert again.rows_new == 0 and accounted(again)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12), min_size=1,
                              max_size=5), min_size=1, max_size=15))
def test_fuzzed_csv_is_always_fully_accounted(tmp_path_factory, rows):
    import csv
    import io

    folder = tmp_path_factory.mktemp("fuzzcsv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "text", "created_at"])
    writer.writerows(rows)
    path = folder / "f.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    summary = run(folder / "f.duckdb", path)
    assert accounted(summary)


def test_corrupt_zstd_keeps_the_rows_before_the_damage_and_the_run_goes_on(tmp_path, db):
    rows = 20_000  # ~500 KB compressed: today's 1 MiB input reads decoded all of it in one failing step
    whole = zstandard.ZstdCompressor().compress("".join(json.dumps(reddit(i)) + "\n" for i in range(rows)).encode())
    middle = len(whole) // 2
    damaged = tmp_path / "damaged.jsonl.zst"
    damaged.write_bytes(whole[:middle] + bytes(b ^ 0xFF for b in whole[middle : middle + 64]) + whole[middle + 64 :])
    after = write_jsonl(tmp_path / "after.jsonl", [reddit(rows + 1)])
    summary = run(db, damaged, after)
    assert summary.status == "completed" and accounted(summary)
    assert str(damaged) in summary.failed_sources and "corrupt" in summary.failed_sources[str(damaged)]
    from_damaged = sql(db, "SELECT count(*) FROM comments WHERE source = $s", {"s": str(damaged)})[0][0]
    assert rows * 0.4 < from_damaged < rows
    assert sql(db, "SELECT count(*) FROM comments WHERE source = $s", {"s": str(after)}) == [(1,)]


def test_concatenated_zstd_frames_are_all_read(tmp_path, db):
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "frames.jsonl.zst"
    path.write_bytes(b"".join(compressor.compress((json.dumps(reddit(i)) + "\n").encode()) for i in range(50)))
    summary = run(db, path)
    assert (summary.rows_new, summary.failed_sources) == (50, {})


def _parquet_with_awkward_columns(path: Path) -> Path:
    import decimal
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "uid": pa.array([uuid.UUID(int=1).bytes, uuid.UUID(int=2).bytes], pa.binary(16)),
        "body": pa.array([b"plain text stored as binary", "caf\u00e9 too".encode()], pa.binary()),
        "blob": pa.array([b"\xff\xfe", b"\x00"], pa.binary()),
        "amount": pa.array([decimal.Decimal("12345678901234567890123456789012345678.5"), None], pa.decimal256(40, 1)),
        "created_utc": pa.array([1_759_300_000, 1_759_300_060], pa.int64()),
    })
    pq.write_table(table, path)
    return path


def test_parquet_binary_fixed_size_binary_and_decimal256_columns_are_read_as_text(tmp_path, db):
    path = _parquet_with_awkward_columns(tmp_path / "awkward.parquet")
    after = write_jsonl(tmp_path / "after.jsonl", [reddit(1)])
    summary = run(db, path, after, text_field="body", id_field="uid")
    assert (summary.rows_new, summary.failed_sources, summary.status) == (3, {}, "completed")
    stored = sql(db, "SELECT id, text FROM comments WHERE source = $s ORDER BY id", {"s": str(path)})
    assert stored == [("00000000000000000000000000000001", "plain text stored as binary"),
                      ("00000000000000000000000000000002", "caf\u00e9 too")]


def test_parquet_file_a_reader_library_crashes_on_fails_alone(tmp_path, db):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # polars panics (a Rust panic, a BaseException) writing binary inside a struct as JSON
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"text": ["hello"], "meta": pa.array([{"raw": b"\xff"}],
                                                                 pa.struct([("raw", pa.binary())]))}), path)
    after = write_jsonl(tmp_path / "after.jsonl", [reddit(1)])
    summary = run(db, path, after)
    assert list(summary.failed_sources) == [str(path)]
    assert summary.rows_new == 1 and summary.status == "completed"


def test_file_name_that_is_not_utf8_is_ingested_under_a_printable_name(tmp_path, db):
    folder = tmp_path / "dumps"
    folder.mkdir()
    try:
        strange = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.jsonl"))
        write_jsonl(strange, [reddit(1)])
    except (OSError, UnicodeError) as exc:  # a file system that only takes UTF-8 names
        pytest.skip(f"cannot create a non-UTF-8 file name here: {exc}")
    write_jsonl(folder / "good.jsonl", [reddit(2)])
    summary = run(db, folder)
    assert (summary.rows_new, summary.failed_sources, summary.status) == (2, {}, "completed")
    printable = f"{folder}/caf\\xe9.jsonl"
    assert sql(db, "SELECT source FROM comments ORDER BY id") == [(printable,), (f"{folder}/good.jsonl",)]
    assert printable in sql(db, "SELECT sources FROM runs")[0][0]


def test_line_over_the_cap_is_one_counted_reject_and_the_rest_is_read(tmp_path, db):
    from analyzer.sources.reader import ReadLimits

    lines = [json.dumps(reddit(1)), json.dumps(reddit(2, body="x" * 20_000)), json.dumps(reddit(3)),
             "y" * 50_000]  # the last one has no newline: it runs to the end of the file
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join(lines))
    summary = run(db, path, limits=ReadLimits(line_bytes=10_000, read_bytes=4096))
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (4, 2, 2) and accounted(summary)
    cap = "line longer than 10,000 bytes (the line cap); not read"
    assert sql(db, "SELECT line_no, reason, length(raw) > 10_000 FROM rejects ORDER BY line_no") == [
        (2, cap, True), (4, cap, True)]  # raw: the line's start, as much as was held
    assert sql(db, "SELECT id FROM comments ORDER BY id") == [("t1_c1",), ("t1_c3",)]


def test_csv_line_over_the_cap_is_a_reject_too(tmp_path, db):
    from analyzer.sources.reader import ReadLimits

    path = tmp_path / "long.csv"
    path.write_text(f"id,text\n1,short\n2,{'x' * 5000}\n3,also short\n")
    summary = run(db, path, limits=ReadLimits(line_bytes=1000))
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (3, 2, 1) and accounted(summary)
    assert sql(db, "SELECT line_no, reason FROM rejects") == [(3, "line longer than 1,000 bytes (the line cap); not read")]


def test_chunks_close_at_the_byte_limit_as_well_as_the_row_limit(tmp_path):
    from analyzer.sources.reader import ReadLimits, Source, read_batches

    path = write_jsonl(tmp_path / "big_rows.jsonl", [reddit(i, body="z" * 20_000) for i in range(40)])
    limits = ReadLimits(chunk_bytes=100_000, read_bytes=16_384)  # a chunk closes at the read that fills it
    batches = list(read_batches(Source(str(path), path), batch_rows=100_000, limits=limits))
    assert sum(b.records for b in batches) == 40
    assert len(batches) >= 6 and all(b.bytes < 100_000 + 16_384 + 20_500 for b in batches)


def test_json_lines_chunks_hold_exactly_batch_rows_records_and_keep_rejects_with_their_lines(tmp_path):
    from analyzer.sources.reader import Source, read_batches

    lines = [json.dumps(reddit(i)) for i in range(1, 1001)]
    lines[499] = "{not json"  # a reject of the mapping, still a record here
    path = tmp_path / "rc.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n" + b'{"id": "last", "body": "x"}\n')
    batches = [batch.split() for batch in read_batches(Source(str(path), path), batch_rows=300)]
    assert [len(b.record) for b in batches] == [300, 300, 300, 101]  # one block of 1,002 lines, cut at 300
    assert [b.line_no[0] for b in batches] == [1, 301, 601, 901]
    assert [reject[0] for b in batches for reject in b.rejects] == [1001]
    assert batches[-1].rejects[0][1].startswith("invalid UTF-8") and batches[-1].line_no[-1] == 1002


@pytest.mark.parametrize("read_bytes", [97, 4096, 65_536])
def test_json_lines_read_whole_or_split_give_the_same_records_and_line_numbers(tmp_path, read_bytes):
    """Pieces of plain object lines stay unsplit (LineBlock) until mapped, cut at exact row counts; a piece
    with a blank, CRLF-only, non-object or invalid UTF-8 line is split as before. Either way every record
    keeps its line number and text."""
    from analyzer.sources.reader import ReadLimits, Source, read_batches

    rng = random.Random(read_bytes)
    lines: list[bytes] = []
    for i in range(3000):
        line = json.dumps(reddit(i, body="é" * rng.randrange(0, 40))).encode()
        odd = rng.random() if i > 2000 else 0.0  # the first 2,000 lines are plain: whole blocks
        if 0.960 < odd < 0.970:
            line = b""
        elif 0.970 <= odd < 0.980:
            line = b"[1, 2]"
        elif 0.980 <= odd < 0.990:
            line = b"\xff" + line
        elif odd >= 0.990:
            line = line + b"\r"
        lines.append(line)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    batches = list(read_batches(Source(str(path), path), batch_rows=250, limits=ReadLimits(read_bytes=read_bytes)))
    assert any(b.block is not None for b in batches)  # plain pieces were kept whole
    assert all(b.records <= 250 for b in batches) and sum(b.records == 250 for b in batches) >= len(batches) // 2
    got = [(n, r) for b in batches for n, r in zip(b.split().line_no, b.record, strict=True)]
    want = [(n, line.decode()) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith(b"\xff")]
    assert got == want
    rejects = sorted(r[0] for b in batches for r in b.rejects)
    assert rejects == [n for n, line in enumerate(lines, 1) if line.startswith(b"\xff")]


def test_parquet_chunks_are_sized_by_the_row_bytes(tmp_path):
    import polars as pl

    from analyzer.sources.reader import ReadLimits, Source, read_batches

    path = tmp_path / "big_rows.parquet"
    pl.DataFrame({"id": [str(i) for i in range(200)], "text": [f"{i} " + "w" * 20_000 for i in range(200)]}) \
        .write_parquet(path, compression="zstd")
    batches = list(read_batches(Source(str(path), path), batch_rows=100_000, limits=ReadLimits(chunk_bytes=400_000)))
    assert sum(b.records for b in batches) == 200 and len(batches) >= 10


# peak RSS from VmHWM: ru_maxrss would carry over the forking test process's own peak
BOMB_READER = """
import json, re, sys
from analyzer.sources.reader import ReadLimits, Source, read_batches
from pathlib import Path
path = Path(sys.argv[1])
batches = list(read_batches(Source(str(path), path), limits=ReadLimits(line_bytes=1 << 20)))
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"records": sum(b.records for b in batches), "rejects": [r[:2] for b in batches for r in b.rejects],
                  "peak_mib": peak_kib // 1024}))
"""


def test_zstd_bomb_without_newlines_is_one_reject_read_in_bounded_memory(tmp_path):
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc/self/status (Linux) to measure peak memory")
    # 1 GiB of one byte, no newline: ~32 KB compressed
    path = tmp_path / "bomb.jsonl.zst"
    with path.open("wb") as out, zstandard.ZstdCompressor().stream_writer(out) as writer:
        block = b"x" * (16 << 20)
        for _ in range(64):
            writer.write(block)
    assert path.stat().st_size < 1 << 20
    done = subprocess.run([sys.executable, "-c", BOMB_READER, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["records"] == 0
    assert result["rejects"] == [[1, "line longer than 1 MiB (the line cap); not read"]]
    print(f"peak RSS reading a 1 GiB zstd bomb: {result['peak_mib']} MiB")
    assert result["peak_mib"] < 100  # measured 20 MiB; before bounded zstd steps the whole GiB was held


@pytest.mark.parametrize("compress", ["bz2", "xz"])
def test_truncated_bz2_and_xz_keep_what_was_read_and_report_the_file(tmp_path, db, compress):
    import bz2
    import lzma

    rows = 30_000  # about 6 MB: several bzip2 blocks, so the damage is past the first ones
    data = "".join(json.dumps(reddit(i)) + "\n" for i in range(rows)).encode()
    whole = bz2.compress(data) if compress == "bz2" else lzma.compress(data)
    path = tmp_path / f"cut.jsonl.{compress}"
    path.write_bytes(whole[: len(whole) // 2])
    summary = run(db, path)
    assert "cut.jsonl" in next(iter(summary.failed_sources)) and accounted(summary)
    assert 0 < summary.rows_new < rows


@pytest.mark.parametrize("compress", ["bz2", "xz"])
def test_bz2_and_xz_bombs_are_read_in_bounded_memory(tmp_path, compress):
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc/self/status (Linux) to measure peak memory")
    import bz2
    import lzma

    # 256 MiB of one byte, no newline: a few hundred bytes (bzip2) or 39 KB (xz) compressed
    compressor = bz2.BZ2Compressor() if compress == "bz2" else lzma.LZMACompressor(preset=0)
    path = tmp_path / f"bomb.jsonl.{compress}"
    with path.open("wb") as out:
        block = b"x" * (16 << 20)
        for _ in range(16):
            out.write(compressor.compress(block))
        out.write(compressor.flush())
    assert path.stat().st_size < 1 << 20
    done = subprocess.run([sys.executable, "-c", BOMB_READER, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["records"] == 0
    assert result["rejects"] == [[1, "line longer than 1 MiB (the line cap); not read"]]
    assert result["peak_mib"] < 120  # the whole 256 MiB held would be over twice that
