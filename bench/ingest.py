"""bench/ingest: `opinions ingest --tasks none` against a bare Polars → DuckDB load, and memory flatness.

    python -m bench.ingest [--rows 1000000] [--repeats 3]

1. Throughput: the same generated 1M-row Reddit dump, loaded by (a) `opinions ingest
   --tasks none` (validation, presets, dedup, rejects, accounting) and (b) the bare
   `pl.scan_ndjson(...).collect()` → DuckDB `CREATE TABLE AS` from Arrow. Goal: ours ≥ 0.7× of bare.
   Ours maps these records on the typed fast path (analyzer/ingest/typed.py: pyarrow's strict
   JSON reader, then queries/ingest/map_typed.sql); map_batch.sql's per-record JSON checks run
   only for what that path leaves. It also lands them in 122,880-row chunks, each its own
   transaction and checkpoint, with a 30 ms window for readers between two: the bare load writes
   once. Wall times depend on the machine's load; compare the ratio, and look at CPU seconds too
   (`/usr/bin/time`) on a shared machine.
   A third load, (c) the schema floor, is the bare one into opinions' own `comments` table: the
   same columns ours fills (md5 text_hash, prefixed ids, timestamps), with no checks, no dedup, no
   accounting and every row in memory at once. What (c) loses against (b) is the schema's cost;
   what ours loses against (c) is the pipeline's (chunks, checks, dedup, bounded memory).
2. Memory: peak RSS on a 2M-row dump divided by peak RSS on a 200k-row dump. Goal ≤ 1.3.
3. Long rows: peak RSS ingesting --long-bytes (default 1 GB) of ~20k-character comments. Goal ≤ 1.5 GB.
Medians of --repeats runs, each measured side by side in this one process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from analyzer.store.database import Store
from bench.common import long_comment_dump, median, peak_rss_of, reddit_dump
from bench.results import record

BARE = """
import sys, duckdb, polars as pl
frame = pl.scan_ndjson(sys.argv[1]).collect()
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE comments AS SELECT * FROM frame")
con.close()
"""
# (c): argv[2] already holds opinions' schema (made before the clock starts, as CREATE TABLE AS needs none)
SCHEMA_FLOOR = """
import sys, duckdb, polars as pl
frame = pl.scan_ndjson(sys.argv[1]).collect()
con = duckdb.connect(sys.argv[2])
con.execute("SET TimeZone = 'UTC'")
con.execute(\"\"\"INSERT INTO comments (platform, id, source, created_at, author, topic, parent_id, thread_id, score,
                                    lang, text, text_hash, run_id)
SELECT 'reddit', 't1_' || id, 'dump.jsonl', to_timestamp(created_utc), author, lower(subreddit), parent_id, link_id,
       score, NULL, body, md5(body), 1 FROM frame\"\"\")
con.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-bytes", type=int, default=1_000_000_000, help="size of the long-comment dump; 0 skips")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "opinions-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    opinions = [sys.executable, "-m", "analyzer.cli"]
    dump = reddit_dump(args.workdir / f"reddit-{args.rows}.jsonl", args.rows)
    ours, bare, floor = [], [], []
    for attempt in range(args.repeats):
        for label, command, bucket in (
            ("opinions", [*opinions, "ingest", str(dump), "--tasks", "none", "--quiet"], ours),
            ("bare", [sys.executable, "-c", BARE, str(dump)], bare),
            ("floor", [sys.executable, "-c", SCHEMA_FLOOR, str(dump)], floor),
        ):
            db = args.workdir / f"{label}.duckdb"
            db.unlink(missing_ok=True)
            if label == "floor":
                with Store(db).connect():  # opinions' schema, made before the clock starts
                    pass
            cmd = [*command, "--db", str(db)] if label == "opinions" else [*command, str(db)]
            started = time.perf_counter()
            peak_rss_of(cmd)
            seconds = time.perf_counter() - started
            bucket.append(seconds)
            print(f"run {attempt + 1}: {label:8s} {args.rows / seconds:>10,.0f} rows/s ({seconds:.1f} s)", flush=True)
    ratio, floor_ratio = median(bare) / median(ours), median(bare) / median(floor)
    print(f"\nmedian rows/s: opinions {args.rows / median(ours):,.0f}, bare polars→duckdb {args.rows / median(bare):,.0f}, "
          f"schema floor {args.rows / median(floor):,.0f}")
    print(f"ratio opinions/bare = {ratio:.2f}  (goal ≥ 0.70); schema floor/bare = {floor_ratio:.2f}")
    record("ingest_none", f"`ingest --tasks none` against bare Polars→DuckDB, {args.rows:,} Reddit rows", ratio, "×",
           "≥ 0.7", f"{args.rows / median(ours):,.0f} vs {args.rows / median(bare):,.0f} rows/s, medians of "
           f"{args.repeats}; the bare load into opinions' schema, unchecked and all in memory: {floor_ratio:.2f}×",
           f"python -m bench.ingest --rows {args.rows}")

    small = reddit_dump(args.workdir / "reddit-200000.jsonl", 200_000)
    large = reddit_dump(args.workdir / "reddit-2000000.jsonl", 2_000_000)
    peaks = {}
    for name, path in (("200k", small), ("2M", large)):
        values = []
        for _ in range(max(1, args.repeats - 1)):
            db = args.workdir / f"rss-{name}.duckdb"
            db.unlink(missing_ok=True)
            values.append(peak_rss_of([*opinions, "ingest", str(path), "--tasks", "none", "--quiet", "--db", str(db)]))
        peaks[name] = median(values)
        print(f"peak RSS {name}: {peaks[name] / 2**20:,.0f} MiB", flush=True)
    print(f"peak RSS ratio 2M/200k = {peaks['2M'] / peaks['200k']:.2f}  (goal ≤ 1.30)")
    record("ingest_memory", "Peak RSS, 2M rows against 200k rows (`--tasks none`)", peaks["2M"] / peaks["200k"], "×",
           "≤ 1.3", f"{peaks['2M'] / 2**20:,.0f} vs {peaks['200k'] / 2**20:,.0f} MiB", "python -m bench.ingest")
    if args.long_bytes:
        long_dump = long_comment_dump(args.workdir / f"long-{args.long_bytes}.jsonl", args.long_bytes)
        db = args.workdir / "rss-long.duckdb"
        db.unlink(missing_ok=True)
        peak = peak_rss_of([*opinions, "ingest", str(long_dump), "--tasks", "none", "--quiet", "--db", str(db)])
        print(f"peak RSS, {args.long_bytes / 1e9:.1f} GB of ~20k-character comments: {peak / 1e9:.2f} GB  (goal ≤ 1.5)")
        record("ingest_long_rows", f"Peak RSS ingesting {args.long_bytes / 1e9:.1f} GB of ~20k-character comments",
               peak / 1e9, " GB", "≤ 1.5", "`--tasks none`", f"python -m bench.ingest --long-bytes {args.long_bytes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
