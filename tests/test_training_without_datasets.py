"""Training and evaluation scripts on a machine without ../shared/datasets (a user's fresh clone, CI):
each says it skipped and why, exits 0, and leaves the shipped pack untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [
    ["training.train_sentiment", "--no-save"],
    ["training.train_ner", "--no-save"],
    ["training.train_classifier", "offensive", "--no-save"],
    ["training.train_classifier", "emotion", "--no-save"],
    ["training.eval_langid"],
    ["training.eval_summaries"],
    ["training.eval_topics"],
    ["training.shared_trunk"],
    ["training.val_overlap"],
    ["training.measure_new_labels"],
    ["training.pack_check", "ner"],
    ["training.pack_check", "emotion"],
    ["training.ner_transitions", "analyzer/pack/ner"],
]


def _pack_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "analyzer" / "pack").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("command", SCRIPTS, ids=lambda command: command[0])
def test_a_training_script_without_the_datasets_skips_with_a_reason(command, tmp_path):
    before = _pack_digest()
    env = {**os.environ, "OPINIONS_DATASETS": str(tmp_path / "absent")}
    result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr + result.stdout
    assert "OPINIONS_DATASETS" in result.stderr + result.stdout  # says how to point it at the data
    assert _pack_digest() == before
