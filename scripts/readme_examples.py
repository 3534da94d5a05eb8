"""Regenerate the example outputs in README.md from the bundled sample data, or check them.

    python -m scripts.readme_examples          # rewrite README.md's example blocks
    python -m scripts.readme_examples --check  # exit 1, with a diff, when README.md has drifted

An example block in README.md is a marker line naming the command, then the output:

    <!-- example: opinions report topic spotify --limit 5 -->
    ```
    ...what that command prints at 80 columns...
    ```

The database is `sample_data/` ingested once with the embedded models at fp32
(`--quantize none`: the same labels on every CPU, where `auto` picks bf16 or int8 by CPU).
Output is taken at 80 columns without colour. `tests/test_readme.py` runs `--check`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- example: (?P<command>opinions .+?) -->\n(?P<fence>```[a-z]*)\n(?P<body>.*?)^```$",
                    re.MULTILINE | re.DOTALL)
INGEST = ["ingest", "sample_data", "--quantize", "none", "--device", "cpu", "--quiet"]


def cli(args: list[str], db: Path) -> str:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "analyzer.cli", *args, "--db", str(db)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode not in (0, 3):  # 3: alerts --fail-on-alert found some
        raise SystemExit(f"opinions {shlex.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def build_db(folder: Path, commands: list[list[str]]) -> Path:
    db = folder / "readme.duckdb"
    cli(INGEST, db)
    for args in commands:  # commands that write (summarize) run before the reports that show them
        if args[0] == "summarize":
            cli(args, db)
    return db


def regenerate(text: str, db: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        args = shlex.split(match["command"])[1:]
        output = cli(args, db).rstrip("\n")
        output = "\n".join(line.rstrip() for line in output.splitlines())
        return f"<!-- example: {match['command']} -->\n{match['fence']}\n{output}\n```"

    return MARKER.sub(replace, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="Do not write; exit 1 when README.md differs.")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    commands = [shlex.split(m["command"])[1:] for m in MARKER.finditer(text)]
    if not commands:
        raise SystemExit("README.md has no example blocks")
    with tempfile.TemporaryDirectory(prefix="opinions-readme-") as folder:
        fresh = regenerate(text, build_db(Path(folder), commands))
    if not args.check:
        README.write_text(fresh, encoding="utf-8")
        print(f"README.md: {len(commands)} examples regenerated")
        return 0
    if fresh == text:
        print(f"README.md: {len(commands)} examples up to date")
        return 0
    sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), fresh.splitlines(True), "README.md",
                                               "README.md (regenerated)"))
    print("README.md has drifted from what the commands print: run python -m scripts.readme_examples", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
