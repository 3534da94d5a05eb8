"""README's example outputs are what the commands print today (`scripts/readme_examples.py`)."""

from __future__ import annotations

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
