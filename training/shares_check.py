"""Would correcting shares with the sentiment entry's dev confusion make reports more accurate?

    python -m training.shares_check [--folder analyzer/pack/sentiment]

Reads the `dev_confusion` that `training.pack_check` records (the entry's labels against the
humans' on TweetEval val and GoEmotions dev, both held out of training) and, for each set, compares
its true class shares with: the shares as the model counts them (raw), and the shares corrected
(`analyzer.labels.shares`) with the *other* set's confusion and with both sets' confusion. A confusion is
applied by reports only as a manifest's `confusion`, and only one that passes this kind of check
earns that: a correction that makes another domain's shares worse would move a monitor's numbers
the wrong way. With the entry's `testlike_confusion` (SemEval 2016 test + devtest, never trained on), each dev set is
also corrected with it; `--apply` makes it the entry's `confusion` only where that lowers both the mean and the
worst share error of every dev set against the shares as counted. Needs no dataset (the counts are in the manifest).
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
    """(set, method, mean error, worst error) for each dev set and each way of computing its shares; with a
    `testlike_confusion` (SemEval 2016, held out of training) also each dev set corrected with it, and the
    test-like split corrected with both dev sets."""
    measured = manifest["dev_confusion"]
    labels, counts = list(measured["labels"]), measured["counts"]
    testlike = (manifest.get("testlike_confusion") or {}).get("counts", {})
    rows = []
    for name, matrix in {**counts, **testlike}.items():
        truth, predicted = _truth_and_counted(matrix, labels)
        others = {k: v for k, v in counts.items() if k != name}
        methods = {"raw (as counted)": shares.raw(tuple(labels))}
        if name in counts:
            methods |= {f"corrected with {' + '.join(others)}": shares.from_confusion(labels, others),
                        "corrected with both sets": shares.from_confusion(labels, counts)}
            if testlike:
                methods[f"corrected with {' + '.join(testlike)}"] = shares.from_confusion(labels, testlike)
        else:
            methods["corrected with both dev sets"] = shares.from_confusion(labels, counts)
        for method, adjustment in methods.items():
            err = errors(truth, adjustment.shares(predicted), labels)
            rows.append((name, method, sum(err) / len(err), max(err)))
    return rows


def _truth_and_counted(matrix: list[list[int]], labels: list[str]) -> tuple[list[float], dict[str, int]]:
    total = sum(map(sum, matrix))
    return [sum(row) / total for row in matrix], {labels[j]: sum(row[j] for row in matrix) for j in range(len(labels))}


def testlike_transfers(manifest: dict) -> bool:
    """Whether the test-like confusion corrects every dev set's shares: lower mean and lower worst error than
    the shares as counted, on each of them (the condition for `--apply` to make it the entry's `confusion`)."""
    testlike = (manifest.get("testlike_confusion") or {}).get("counts", {})
    if not testlike:
        return False
    results = {(name, method): (mean, worst) for name, method, mean, worst in check(manifest)}
    corrected = f"corrected with {' + '.join(testlike)}"
    return all(results[(name, corrected)][0] < results[(name, "raw (as counted)")][0]
               and results[(name, corrected)][1] < results[(name, "raw (as counted)")][1]
               for name in manifest["dev_confusion"]["counts"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=PACK / "sentiment", help="a sentiment pack entry")
    parser.add_argument("--apply", action="store_true",
                        help="make the test-like confusion the entry's `confusion` (applied by reports) if it corrects "
                             "every dev set's shares, else remove any `confusion`")
    args = parser.parse_args(argv)
    path = args.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    if "dev_confusion" not in manifest:
        print(f"{args.folder}: no dev_confusion; run python -m training.pack_check sentiment --folder {args.folder}")
        return 1
    print(f"{'set':24} {'shares':48} {'mean error':>10} {'worst':>6}")
    for name, method, mean, worst in check(manifest):
        print(f"{name:24} {method:48} {mean:10.1f} {worst:6.1f}")
    if args.apply:
        if testlike_transfers(manifest):
            manifest["confusion"] = manifest["testlike_confusion"]
            print("applied: the test-like confusion corrects every dev set's shares; reports now use it")
        else:
            manifest.pop("confusion", None)
            print("not applied: the test-like confusion does not correct every dev set's shares")
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
