"""The typed fast path of the mapping (analyzer.ingest.typed) gives exactly what the SQL path gives.

Plain records are parsed by a strict typed reader; a piece it refuses, and every row it cannot
decide, is mapped by map_batch.sql. Whichever path maps a record, the stored row, the reject
and its reason are the same.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer.cli import app
from analyzer.ingest import landing, typed
from analyzer.sources import presets
from tests.helpers import reddit, sql, write_jsonl

TEXTS = ["plain words about phones", "émoji 😀 and 漢字 and עברית", "tab\tand \"quotes\" and \\ backslash",
         "combining e\u0301 and zero\u200bwidth", "  padded  ", "a" * 300]


def _value(rng: random.Random, choices: list[Any]) -> Any:
    return rng.choice(choices)


def generated_records(seed: int, rows: int, preset: str) -> list[str]:
    """Records that mostly keep one type per field (so the typed reader takes most pieces) with every
    kind of value both paths must judge alike: nulls, blanks, deleted, out-of-range and millisecond
    dates, NaN, nested extras, unicode; and, rarely, what the reader refuses (numbers as strings, dates
    as text, a field of another type, a line that is not a record) or leaves to SQL (`_opinions`)."""
    rng = random.Random(seed)
    lines = []
    for i in range(rows):
        text = _value(rng, TEXTS * 6 + [None, "", "   ", "[deleted]", "[removed]", "nul \u0000 inside", "x" * 100_001])
        when = _value(rng, [1_700_000_000 + i, 1_700_000_000.25 + i, 1_700_000_000_123, None, 4_102_444_800, -5,
                            float("nan"), 1e300])
        score = _value(rng, [i % 13, -3, 2.5, None, 1e19, float("nan")])
        ident = _value(rng, [f"k{i}", f"t1_k{i}", "", None, f"  k{i} ", "k1"])
        record: dict[str, Any]
        if preset == "reddit":
            record = {"id": ident, "body": text, "author": _value(rng, [f"user{i % 5}", None]),
                      "subreddit": _value(rng, ["AskReddit", "", None]), "created_utc": when, "score": score,
                      "parent_id": _value(rng, ["t3_p", None]), "link_id": _value(rng, ["t3_p", None]),
                      "extra": {"a": [1, {"b": None}], "c": "x"}}
            if rng.random() < 0.05:
                record.update(title="A title", selftext=_value(rng, ["self text", ""]))
        elif preset == "youtube":
            record = {"cid": ident, "text": text, "time_parsed": when, "author": _value(rng, ["@someone", None]),
                      "votes": score, "video_id": "v1", "heart": False}
        else:
            record = {"comment_id": ident, "content": text, "timestamp": when, "user_name": _value(rng, ["ann", None]),
                      "likes": score, "language": _value(rng, ["en", "EN", "und", None]),
                      "category": _value(rng, ["cars", "Cars", None]), "nested": {"deep": {"deeper": [None, 1.5, "s"]}}}
        time_key, score_key = {"reddit": ("created_utc", "score"), "youtube": ("time_parsed", "votes")}.get(
            preset, ("timestamp", "likes"))
        rare = rng.random()
        if rare < 0.01:  # numbers as strings, dates as text
            record[_value(rng, [time_key, score_key])] = _value(rng, ["1700000000", "12", "1.2K", "2024-01-02T03:04:05Z",
                                                                     "", "not a date"])
        elif rare < 0.015:
            record[next(iter(record))] = 12345  # an id or a text that is a number
        line = json.dumps(record, ensure_ascii=rng.random() < 0.5)
        if 0.015 <= rare < 0.025:
            line = _value(rng, [line.replace('"', "'", 2), "[1, 2]", "null", '"text"', line + line, "\ufeff" + line,
                                json.dumps({**record, "_opinions": {"skip": "edited"}})])
        lines.append(line)
    return lines


def mapped_both_ways(records: list[str], preset: presets.Preset) -> tuple[list[dict], list[dict], dict[str, Any]]:
    frame = pl.DataFrame({"line_no": range(1, len(records) + 1), "record": records},
                         schema={"line_no": pl.Int64, "record": pl.String})
    params = presets.mapping_params(preset, "dump.jsonl", "dump")
    plan = typed.plan(params, records)
    assert plan is not None
    fast = _rows(landing.map_records(frame, {**params, landing.TYPED_PLAN: plan}))
    slow = _rows(landing.map_records(frame, params))
    return fast, slow, {"params": params, "plan": plan, "frame": frame}


def _rows(mapped) -> list[dict]:
    """Mapped rows in line order, without `row` (a position in the chunk, not an outcome of the mapping)."""
    return pl.DataFrame(pl.from_arrow(mapped)).drop("row").sort("line_no", maintain_order=True).to_dicts()


@pytest.mark.parametrize("preset", ["reddit", "youtube", "generic"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_typed_and_sql_paths_map_every_record_alike(preset, seed, monkeypatch):
    monkeypatch.setattr(typed, "PIECE_ROWS", 16)  # small pieces: refused pieces and typed ones side by side
    records = generated_records(seed, 1500, preset)
    fast, slow, used = mapped_both_ways(records, presets.get_preset(preset))
    assert len(fast) == len(slow) == len(records)
    for typed_row, sql_row in zip(fast, slow, strict=True):
        assert typed_row == sql_row, records[typed_row["line_no"] - 1]
    # both paths really ran: the typed one mapped many rows, SQL the ones it left
    mapped, left = typed.map_typed(landing._mapper().con, used["frame"], used["plan"],
                                   used["params"])
    assert mapped is not None and mapped.num_rows > len(records) // 5  # about half the records are not ok
    assert 0 < left.height < len(records)
    assert set(mapped.column("outcome").to_pylist()) == {"ok"}


@pytest.mark.parametrize("preset", ["reddit", "generic"])
def test_line_blocks_parsed_whole_map_like_the_sql_path(preset, monkeypatch):
    """A LineBlock (the reader's unsplit lines) is parsed in one call; a block the reader refuses, and each row
    the typed columns leave (an id-less record: its id is the md5 of its line), are mapped by SQL."""
    from analyzer.sources.reader import LineBlock, RecordBatch, Source

    records = [r for r in generated_records(5, 1600, preset) if r.startswith("{")]
    records += [json.dumps({"body": "no id at all", "subreddit": "x", "content": "no id at all"})] * 3
    params = presets.mapping_params(presets.get_preset(preset), "dump.jsonl", "dump")
    plan = typed.plan(params, records)
    whole = []
    map_block = typed.map_block

    def counted(*args):
        result = map_block(*args)
        whole.append(result is not None)
        return result

    monkeypatch.setattr(typed, "map_block", counted)
    fast, slow = [], []
    for start in range(0, len(records), 8):
        lines = records[start:start + 8]
        data = "\n".join(lines).encode()
        batch = RecordBatch(Source("dump.jsonl", None), block=LineBlock(start + 1))
        batch.block.add(data, len(lines), max(len(line.encode()) for line in lines))
        fast += _rows(landing.map_batch(batch, {**params, landing.TYPED_PLAN: plan}))
        frame = pl.DataFrame({"line_no": range(start + 1, start + len(lines) + 1), "record": lines},
                             schema={"line_no": pl.Int64, "record": pl.String})
        slow += _rows(landing.map_records(frame, params))
    # a block's typed rows carry no record (nothing split it out): landing keeps a record only with a reject
    assert fast == [{**row, "record": None} if row["outcome"] == "ok" and fast[i]["record"] is None else row
                    for i, row in enumerate(slow)]
    assert 10 < sum(whole) < len(whole)  # blocks were parsed whole, and some were refused
    assert any(row["id"].startswith("h") and row["outcome"] == "ok" for row in fast)


def test_a_block_the_reader_refuses_is_parsed_again_only_in_pieces(monkeypatch):
    """One line of another type fails the whole block's parse; its records then go to the typed path piece by
    piece, not through that same failing parse a second time."""
    from analyzer.sources.reader import LineBlock, RecordBatch, Source

    monkeypatch.setattr(typed, "PIECE_ROWS", 100)
    records = [json.dumps(reddit(i)) for i in range(1, 501)]
    records[321] = json.dumps(reddit(322) | {"score": "high"})  # a score given as text: the reader refuses it
    params = presets.mapping_params(presets.REDDIT, "rc.jsonl", "rc")
    plan = typed.plan(params, records)
    parses = []
    read_json = typed._read_json

    def counted(data, *args):
        parses.append(data.count(b"\n") + 1)
        return read_json(data, *args)

    monkeypatch.setattr(typed, "_read_json", counted)
    batch = RecordBatch(Source("rc.jsonl", None), block=LineBlock(1))
    batch.block.add("\n".join(records).encode(), len(records), max(map(len, records)))
    mapped = landing.map_batch(batch, {**params, landing.TYPED_PLAN: plan})
    assert parses == [500, 100, 100, 100, 100, 100]  # the block once, then its five pieces
    assert mapped.num_rows == 500 and set(mapped.column("outcome").to_pylist()) == {"ok"}
    scores = dict(zip(mapped.column("line_no").to_pylist(), mapped.column("score").to_pylist(), strict=True))
    assert scores[321] == 321 % 11 and scores[322] is None  # map_batch.sql's answer for a score given as text


def test_one_bad_line_lands_every_good_line_and_rejects_only_it_with_the_sql_reason(runner, db, tmp_path):
    records = [json.dumps(reddit(i)) for i in range(1, 3001)]
    records[1233] = '{"id": "c1234", "body": "cut off'  # line 1234: malformed
    records[2499] = json.dumps(reddit(2500, body=None) | {"body": 42})  # line 2500: a type the reader refuses
    dump = write_jsonl(tmp_path / "rc.jsonl", records)
    result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--json"])
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT count(*) FROM comments") == [(2998,)]
    assert sql(db, "SELECT line_no, reason FROM rejects ORDER BY line_no") == [
        (1234, "malformed JSON"), (2500, "text field is a number, not a string")]
    frame = pl.DataFrame({"line_no": [1234, 2500], "record": [records[1233], records[2499]]})
    by_sql = landing.map_records(frame, presets.mapping_params(presets.REDDIT, str(dump), "rc"))
    assert by_sql.column("reason").to_pylist() == ["malformed JSON", "text field is a number, not a string"]


def _stored(db: Path) -> dict[str, list[tuple]]:
    return {
        "comments": sql(db, "SELECT * EXCLUDE (run_id) FROM comments ORDER BY platform, id"),
        "topics": sql(db, "SELECT * FROM comment_topics ORDER BY ALL"),
        "rejects": sql(db, "SELECT source, line_no, reason, raw FROM rejects ORDER BY line_no, reason"),
        "runs": sql(db, "SELECT rows_read, rows_new, rows_duplicate, rows_rejected, rows_skipped FROM runs"),
    }


@pytest.mark.parametrize("preset", ["reddit", "generic"])
def test_typed_and_sql_paths_store_the_same_rows(runner, tmp_path, monkeypatch, preset):
    records = generated_records(11, 2500, preset)
    records += records[:300]  # duplicates, within the run
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(records) + "\n", encoding="utf-8")
    monkeypatch.setattr(typed, "PIECE_ROWS", 16)
    typed_rows = []
    map_typed = typed.map_typed

    def counted(*args):
        mapped, left = map_typed(*args)
        typed_rows.append(0 if mapped is None else mapped.num_rows)
        return mapped, left

    monkeypatch.setattr(typed, "map_typed", counted)
    stored = {}
    for name in ("typed", "sql"):
        if name == "sql":
            monkeypatch.setattr(typed, "plan", lambda params, sample: None)
        db = tmp_path / f"{name}.duckdb"
        result = runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none", "--preset", preset])
        assert result.exit_code == 0, result.output
        stored[name] = _stored(db)
    assert sum(typed_rows) > 500 and stored["typed"]["runs"][0][1] > 0
    for table in stored["typed"]:
        assert stored["typed"][table] == stored["sql"][table], table


def test_no_plan_where_the_typed_reader_cannot_give_the_same_answer():
    params = presets.mapping_params(presets.TWITTER, "t.jsonl", "t")  # hashtags and referenced tweets: SQL only
    assert typed.plan(params, ['{"id_str": "1", "text": "hi"}']) is None
    nested = presets.with_overrides(presets.GENERIC, text="post.body")
    assert typed.plan(presets.mapping_params(nested, "g.jsonl", "g"), ['{"post": {"body": "hi"}}']) is None
    # a field whose values are objects or booleans cannot be read as one typed column
    assert typed.plan(presets.mapping_params(presets.GENERIC, "g.jsonl", "g"), ['{"text": "hi", "user": {"id": 1}}']) is None
    plain = typed.plan(presets.mapping_params(presets.GENERIC, "g.jsonl", "g"), ['{"text": "hi", "id": 7, "likes": 3}'])
    assert plain is not None and plain.type_of("id") == "int64" and plain.type_of("likes") == "float64"


def test_a_record_with_opinions_fields_escaped_or_not_is_left_to_sql():
    """map_batch.sql reads `_opinions` (what analyzer.sources.containers adds); the typed reader refuses any record that
    has one, its key spelt plainly or escaped, so such a record is mapped as the SQL path maps it."""
    records = [json.dumps(reddit(i)) for i in range(1, 40)]
    records[9] = records[9][:-1] + ', "_opinions": {"skip": "edited"}}'
    records[19] = records[19][:-1] + ', "\\u005fopinions": {"skip": "edited"}}'
    fast, slow, used = mapped_both_ways(records, presets.REDDIT)
    assert fast == slow
    assert [row["outcome"] for row in fast if row["line_no"] in (10, 20)] == ["skip", "skip"]
    assert typed._read_json("\n".join(records[:9]).encode(), used["plan"], 1000) is not None
    assert typed._read_json(records[19].encode(), used["plan"], 1000) is None
