"""Bench results: each bench records what it measured in `bench/results.json`, and README's
performance table is rendered from that file, never typed by hand.

    python -m bench.results          # rewrite README's table from bench/results.json
    python -m bench.results --check  # exit 1 when README's table differs (tests/test_readme.py runs this)

A bench calls `record(...)` at its end with its median ratio (or value), the goal and the
command that reproduces it; the machine and its load average are noted with it, because
these shared machines are noisy and a number without its conditions misleads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")
README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- bench-table:begin (python -m bench.results) -->", "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Result:
    key: str  # one row per key: a newer measurement replaces the older one
    what: str
    value: float
    unit: str  # "×" for ratios, "s", "GB", "NMI"
    goal: str  # "≥ 3" / "≤ 1.5": compared with `value`
    detail: str  # what the value is made of (ours vs baseline, medians)
    command: str
    measured: str  # date, CPU, cores, load average

    @property
    def met(self) -> bool:
        op, bound = self.goal.split()
        return self.value >= float(bound) if op == "≥" else self.value <= float(bound)


def machine() -> str:
    """Where and when: the CPU model, its cores and the 1-minute load average."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{dt.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores, load {load:.1f}"


def load() -> dict[str, Result]:
    if not RESULTS.exists():
        return {}
    return {key: Result(**row) for key, row in json.loads(RESULTS.read_text()).items()}


def record(key: str, what: str, value: float, unit: str, goal: str, detail: str, command: str) -> Result:
    """Store one measurement (replacing the key's previous one) and return it."""
    result = Result(key, what, round(value, 3), unit, goal, detail, command, machine())
    results = load()
    results[key] = result
    RESULTS.write_text(json.dumps({k: asdict(v) for k, v in sorted(results.items())}, indent=1,
                                  ensure_ascii=False) + "\n")
    print(f"recorded {key}: {value:.3g}{unit} (goal {goal}{unit}) in {RESULTS.name}", file=sys.stderr)
    return result


def table(results: dict[str, Result]) -> str:
    rows = ["| what | measured | goal | met | how | measured on |", "|---|---:|---:|:-:|---|---|"]
    for r in results.values():
        rows.append(f"| {r.what} | **{r.value:g}{r.unit}** ({r.detail}) | {r.goal}{r.unit} | "
                    f"{'yes' if r.met else 'no'} | `{r.command}` | {r.measured} |")
    return "\n".join(rows)


def rendered_readme(readme: str, results: dict[str, Result]) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + table(results) + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only check that README's table is up to date.")
    args = parser.parse_args(argv)
    readme = README.read_text()
    fresh = rendered_readme(readme, load())
    if args.check:
        if fresh != readme:
            print("README's performance table differs from bench/results.json: run python -m bench.results",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
