"""Would correcting shares with the sentiment entry's dev confusion make reports more accurate?

    python -m training.shares_check [--folder analyzer/pack/sentiment]

Reads the `dev_confusion` that `training.pack_check` records (the entry's labels against the
humans' on TweetEval val and GoEmotions dev, both held out of training) and, for each set, compares
its true class shares with: the shares as the model counts them (raw), and the shares corrected
(`analyzer.labels.shares`) with the *other* set's confusion and with both sets' confusion. A confusion is
applied by reports only as a manifest's `confusion`, and only one that passes this kind of check
earns that: a correction that makes another domain's shares worse would move a monitor's numbers
the wrong way. Needs no dataset (the counts are in the manifest).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analyzer.labels import shares

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack"


def errors(truth: list[float], estimate: dict[str, float], labels: list[str]) -> list[float]:
    """Absolute share errors in points, per class."""
    return [abs(estimate[label] - t) * 100 for label, t in zip(labels, truth, strict=True)]


def check(manifest: dict) -> list[tuple[str, str, float, float]]:
    """(set, method, mean error, worst error) for each dev set and each way of computing its shares."""
    measured = manifest["dev_confusion"]
    labels, counts = list(measured["labels"]), measured["counts"]
    rows = []
    for name, matrix in counts.items():
        total = sum(map(sum, matrix))
        truth = [sum(row) / total for row in matrix]
        predicted = {labels[j]: sum(row[j] for row in matrix) for j in range(len(labels))}
        others = {k: v for k, v in counts.items() if k != name}
        methods = {"raw (as counted)": shares.raw(tuple(labels)),
                   f"corrected with {' + '.join(others)}": shares.from_confusion(labels, others),
                   "corrected with both sets": shares.from_confusion(labels, counts)}
        for method, adjustment in methods.items():
            err = errors(truth, adjustment.shares(predicted), labels)
            rows.append((name, method, sum(err) / len(err), max(err)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=PACK / "sentiment", help="a sentiment pack entry")
    args = parser.parse_args(argv)
    manifest = json.loads((args.folder / "manifest.json").read_text())
    if "dev_confusion" not in manifest:
        print(f"{args.folder}: no dev_confusion; run python -m training.pack_check sentiment --folder {args.folder}")
        return 1
    print(f"{'dev set':16} {'shares':40} {'mean error':>10} {'worst':>6}")
    for name, method, mean, worst in check(manifest):
        print(f"{name:16} {method:40} {mean:10.1f} {worst:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
