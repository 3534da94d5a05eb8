"""Hostile records in the readers and the mapping (issue 21, items 1, 2, 14, 15): one bad line
is one reject with its reason, never a failed run, and nothing is lost or merged silently."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer.ingest import IngestOptions, ingest
from analyzer.store.database import Store
from tests.helpers import sql, write_jsonl


def run(db: Path, *paths: Path | str, **options):
    return ingest(Store(db, wait_seconds=5), [str(p) for p in paths], IngestOptions(**options))


def accounted(summary) -> bool:
    return summary.rows_read == summary.rows_new + summary.rows_duplicate + summary.rows_rejected + summary.rows_skipped


def test_deeply_nested_first_line_is_one_reject_and_later_files_are_read(tmp_path, db):
    deep = "[" * 1500 + "]" * 1500
    poison = write_jsonl(tmp_path / "a.jsonl", ['{"id": "x", "text": ' + deep + "}", {"id": "1", "text": "fine"}])
    later = write_jsonl(tmp_path / "b.jsonl", [{"id": "2", "text": "also fine"}])
    summary = run(db, poison, later)
    assert summary.status == "completed" and not summary.failed_sources and accounted(summary)
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (3, 2, 1)


def test_deeply_nested_json_array_is_refused_before_it_is_parsed(tmp_path, db):
    # 30k levels took 2.3 GB in the parser; the guard stops the document at the deep run
    path = tmp_path / "deep.json"
    path.write_text('[{"id": "1", "text": "fine"}, {"id": "2", "text": ' + "[" * 30_000 + "]" * 30_000 + "}]")
    later = write_jsonl(tmp_path / "later.jsonl", [{"id": "3", "text": "later file"}])
    summary = run(db, path, later)
    assert summary.rows_new == 2 and summary.rows_rejected == 1 and accounted(summary)
    assert "nested deeper than 200 levels" in sql(db, "SELECT reason FROM rejects")[0][0]


def test_invalid_utf8_byte_in_a_csv_rejects_only_its_row(tmp_path, db):
    lines = [b"id,text"] + [f"{i},comment {i}".encode() for i in range(10_000)]
    lines[5_001] = b"5000,caf\xe9 au lait"
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = run(db, path)
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (10_000, 9_999, 1)
    assert sql(db, "SELECT line_no, reason FROM rejects") == [(5_002, "invalid UTF-8")]


def test_empty_ids_are_no_ids(tmp_path, db):
    records = [{"id": "", "text": f"distinct comment {i}"} for i in range(3)]
    summary = run(db, write_jsonl(tmp_path / "e.jsonl", records))
    assert (summary.rows_new, summary.rows_duplicate) == (3, 0)
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("id,text\n,one\n,two\n,three\n")
    summary = run(db, csv_path)
    assert (summary.rows_new, summary.rows_duplicate) == (3, 0)


def test_byte_order_marks_are_not_data(tmp_path, db):
    array = tmp_path / "bom.json"
    array.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"id": "a1", "text": "one"}, {"id": "a2", "text": "two"}]).encode())
    table = tmp_path / "bom.csv"
    table.write_bytes(b"\xef\xbb\xbfid,text\nc1,three\n")
    summary = run(db, array, table)
    assert summary.rows_new == 3 and summary.rows_rejected == 0
    assert sorted(r[0] for r in sql(db, "SELECT id FROM comments")) == ["a1", "a2", "c1"]


def test_lone_surrogate_is_rejected_in_arrays_as_in_json_lines(tmp_path, db):
    array = tmp_path / "s.json"
    array.write_text('[{"id": "1", "text": "bad \\ud800 here"}, {"id": "2", "text": "good"}, '
                     '{"id": "5", "text": "emoji \\ud83d\\ude00 pair"}]')
    lines = write_jsonl(tmp_path / "s.jsonl", ['{"id": "3", "text": "bad \\ud800 here"}', {"id": "4", "text": "good"}])
    summary = run(db, array, lines)
    assert (summary.rows_new, summary.rows_rejected) == (3, 2)
    assert {r[0] for r in sql(db, "SELECT text FROM comments")} == {"good", "emoji \U0001F600 pair"}
    assert {r[0].split(" (")[0] for r in sql(db, "SELECT reason FROM rejects")} == {"malformed JSON"}


def test_duplicate_csv_header_keeps_both_columns_and_says_so(tmp_path, db):
    path = tmp_path / "dup.csv"
    path.write_text("id,text,Text\n1,first column,second column\n")
    summary = run(db, path)
    assert sql(db, "SELECT text FROM comments") == [("first column",)]
    assert any("repeats column 'Text'" in note and "text_2" in note for note in summary.notes)
    summary = run(tmp_path / "second.duckdb", path, text_field="text_2")
    assert sql(tmp_path / "second.duckdb", "SELECT text FROM comments") == [("second column",)]


def test_year_9999_epoch_seconds_is_reported_as_year_9999(tmp_path, db):
    summary = run(db, write_jsonl(tmp_path / "t.jsonl", [{"id": "1", "text": "x", "created_at": 253402300799}]))
    assert summary.rows_rejected == 1
    reason = sql(db, "SELECT reason FROM rejects")[0][0]
    assert "9999" in reason and "1978" not in reason
