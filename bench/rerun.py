"""bench/rerun: a cron re-run that finds nothing new costs about what `--tasks none` costs.

    python -m bench.rerun [--rows 2000] [--repeats 3]

A generated Reddit dump is ingested once with the default tasks (models run). Then the same dump is ingested
again, alternately with the default tasks (nothing new: no model should load) and with `--tasks none`, each a
whole `opinions` process. Goal (issue 17): median default / median none ≤ 1.5.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import median, reddit_dump
from bench.results import record


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "opinions-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    dump = reddit_dump(args.workdir / f"reddit-{args.rows}.jsonl", args.rows)
    db = args.workdir / "rerun.duckdb"
    db.unlink(missing_ok=True)
    opinions = [sys.executable, "-m", "analyzer.cli", "ingest", str(dump), "--quiet", "--db", str(db)]
    print(f"first run (models analyse {args.rows:,} rows): {timed(opinions):.1f} s", flush=True)
    default, none = [], []
    for attempt in range(args.repeats):
        default.append(timed(opinions))
        none.append(timed([*opinions, "--tasks", "none"]))
        print(f"run {attempt + 1}: nothing new {default[-1]:.2f} s, --tasks none {none[-1]:.2f} s", flush=True)
    ratio = median(default) / median(none)
    print(f"\nmedian: nothing new {median(default):.2f} s, --tasks none {median(none):.2f} s")
    print(f"ratio nothing-new / --tasks none = {ratio:.2f}  (goal ≤ 1.50)")
    record("rerun", "A re-run that finds nothing new, against `--tasks none`", ratio, "×", "≤ 1.5",
           f"{median(default):.2f} s vs {median(none):.2f} s, medians of {args.repeats}",
           f"python -m bench.rerun --rows {args.rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
