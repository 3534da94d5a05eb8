"""Measure `analyzer.text.langid.detect_languages` on the xlm-t validation tweets.

    python -m training.eval_langid

Reads `../shared/datasets/xlmt-sentiment/<language>/val_text.txt` (or `$OPINIONS_DATASETS`),
prints accuracy per language, overall and without Hindi (the xlm-t Hindi split is romanised
Hindi/English code-mix, which no identifier labels "hi"), the share of None answers and texts/s.
Exits 0 with "skipped: ..." on stderr when the datasets are absent.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from training.datasets import datasets_root

XLMT_LANGUAGES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}


def load_xlmt_val(root: Path) -> tuple[list[str], list[str]]:
    texts, gold = [], []
    for folder, code in XLMT_LANGUAGES.items():
        lines = (root / "xlmt-sentiment" / folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
        texts.extend(lines)
        gold.extend([code] * len(lines))
    return texts, gold


def main() -> int:
    root = datasets_root(required=False)
    if not (root / "xlmt-sentiment").is_dir():
        print(f"skipped: datasets not found at {root / 'xlmt-sentiment'} (set OPINIONS_DATASETS)", file=sys.stderr)
        return 0
    from analyzer.text.langid import detect_languages

    texts, gold = load_xlmt_val(root)
    detect_languages(["warm-up: load the identifier before timing"])
    start = time.perf_counter()
    predicted = detect_languages(texts)
    seconds = time.perf_counter() - start

    print(f"{'language':12s} {'n':>5s} {'accuracy':>9s} {'None':>5s} {'as en':>6s}")
    for folder, code in XLMT_LANGUAGES.items():
        pairs = [(p, g) for p, g in zip(predicted, gold, strict=True) if g == code]
        right = sum(p == g for p, g in pairs)
        none = sum(p is None for p, _ in pairs)
        as_en = sum(p == "en" for p, _ in pairs) if code != "en" else 0
        print(f"{folder:12s} {len(pairs):5d} {right / len(pairs):9.1%} {none:5d} {as_en:6d}")
    right_all = sum(p == g for p, g in zip(predicted, gold, strict=True))
    no_hi = [(p, g) for p, g in zip(predicted, gold, strict=True) if g != "hi"]
    print(f"{'overall':12s} {len(gold):5d} {right_all / len(gold):9.1%} {predicted.count(None):5d}")
    print(f"{'without hi':12s} {len(no_hi):5d} {sum(p == g for p, g in no_hi) / len(no_hi):9.1%}")
    print(f"speed: {len(texts) / seconds:,.0f} texts/s ({len(texts)} texts in {seconds:.2f}s, one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
