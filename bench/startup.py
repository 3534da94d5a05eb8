"""bench/startup: wall time of `opinions --help` and `opinions report topic` on a 1M-comment database.

    python -m bench.startup [--rows 1000000] [--repeats 5]

Goal: ≤ 1 s each. Also asserts that neither command imported torch or transformers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import reddit_dump
from bench.results import record

CHECK = ("import sys, runpy; sys.argv = ['opinions', *sys.argv[1:]]\n"
         "try:\n    runpy.run_module('analyzer.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
         "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
         "assert not heavy, f'imported {heavy}'\n")


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHECK, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "opinions-bench"
    work.mkdir(exist_ok=True)
    db = work / f"startup-{args.rows}.duckdb"
    if not db.exists():
        dump = reddit_dump(work / f"reddit-{args.rows}.jsonl", args.rows)
        subprocess.run([sys.executable, "-m", "analyzer.cli", "ingest", str(dump), "--db", str(db), "--tasks", "none",
                        "--quiet"], check=True)
    for key, name, command in (
            ("startup_help", "opinions --help", ["--help"]),
            ("startup_report", "opinions report topic", ["report", "topic", "--db", str(db), "--format", "json"])):
        walls = [timed(command) for _ in range(args.repeats)]
        print(f"{name:32s} median {statistics.median(walls):.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)}); "
              f"torch not imported")
        record(key, f"`{name}`" + (f" on {args.rows:,} comments" if "report" in name else ""),
               statistics.median(walls), " s", "≤ 1", f"median of {args.repeats}; torch not imported",
               f"python -m bench.startup --rows {args.rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
