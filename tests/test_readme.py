"""README's example outputs are what the commands print today (`scripts/readme_examples.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_readme_example_block_names_a_command_and_has_output():
    from scripts.readme_examples import MARKER

    blocks = list(MARKER.finditer((ROOT / "README.md").read_text(encoding="utf-8")))
    assert len(blocks) >= 5
    assert all(block["command"].startswith("opinions ") and block["body"].strip() for block in blocks)


@pytest.mark.timeout(1800)
def test_readme_examples_have_not_drifted():
    # ingests sample_data with the embedded models (fp32), then runs each example's command
    done = subprocess.run([sys.executable, "-m", "scripts.readme_examples", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def _command_paths(command: object, prefix: list[str]) -> list[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [" ".join(prefix)]
    return [path for name, sub in subcommands.items() for path in _command_paths(sub, [*prefix, name])]


def test_every_command_and_report_is_documented_in_the_readme():
    """As sqlite-utils' test_docs: a command (or a report declared in the catalog) added without a
    word in the README fails here."""
    import typer.main

    from analyzer.cli import app

    readme = (ROOT / "README.md").read_text()
    paths = _command_paths(typer.main.get_command(app), ["opinions"])
    assert "opinions report alerts" in paths and "opinions config show" in paths
    assert [path for path in paths if path not in readme] == []


def test_the_performance_table_is_rendered_from_the_recorded_bench_results(monkeypatch, tmp_path):
    from bench import results

    assert results.main(["--check"]) == 0, "run python -m bench.results"
    recorded = results.load()
    if not recorded:
        pytest.skip("bench/results.json holds no measurement yet")
    changed = {**recorded, "x": results.Result("x", "a new row", 2.0, "×", "≥ 3", "d", "c", "m")}
    assert results.rendered_readme((ROOT / "README.md").read_text(), changed) != (ROOT / "README.md").read_text()


def test_a_result_meets_its_goal_by_its_direction():
    from bench.results import Result

    def met(value: float, goal: str) -> bool:
        return Result("k", "w", value, "×", goal, "", "", "").met

    assert met(3.1, "≥ 3") and not met(2.9, "≥ 3")
    assert met(1.2, "≤ 1.5") and not met(1.6, "≤ 1.5")


def test_the_python_example_runs_as_written(tmp_path, monkeypatch):
    """README's "Python" block once passed a connection where `ingest` needs a `Store`; it now runs
    here as written, from a folder that holds the sample data as the repository root does."""
    import re

    block = re.search(r"^## Python\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S | re.M)
    assert block, "README.md has no python block under ## Python"
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    done = subprocess.run([sys.executable, "-c", block.group(1)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"43 new comments, 43 texts analysed", lines[0]), lines
    assert len(lines) == 6 and lines[1].startswith("spotify 7 ")
    assert (tmp_path / "my.duckdb").is_file()
