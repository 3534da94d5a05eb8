"""Bad input of every kind: each row accounted for, no bad row stops a run, unreadable files reported.

Includes hypothesis fuzzing over the readers and presets.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.ingest import IngestOptions, ingest
from analyzer.store import Store
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
