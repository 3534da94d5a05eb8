"""Measure `analyzer.topics.summarize.extractive_summary` on the FewSum opinion-summary sets.

    python -m training.eval_summaries [--max-words 60] [--split val|train|all] [--threads 2]

Reads `../shared/datasets/fewsum/{amazon,yelp}/{train,val}.csv` (or `$OPINIONS_DATASETS/fewsum`):
tab-separated, one product/business a row with eight reviews (rev1..rev8) and three human
summaries (summ1..summ3). The eight reviews stand for one topic's comments. Each summary is
scored with `rouge-score` (ROUGE-1/2/L F-measure, Porter stemmer) against the three references,
averaged over references and then over items. Prints the plain centroid+MMR baseline
(`SummaryConfig.baseline()`), the MMR method (`extractive_summary`) and the key points that
`opinions summarize` shows (`key_points`, their sentences joined) side by side.
Exits 0 with "skipped: ..." on stderr when the datasets are absent.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from training.datasets import datasets_root

if TYPE_CHECKING:
    from analyzer.topics.summarize import Encoder

DATASETS = ("amazon", "yelp")
SPLITS = ("train", "val")
REVIEWS = tuple(f"rev{i}" for i in range(1, 9))
REFERENCES = ("summ1", "summ2", "summ3")


def load_items(path: Path) -> list[tuple[list[str], list[str]]]:
    """(reviews, reference summaries) per row of one FewSum csv."""
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    items = []
    for row in rows:
        reviews = [row[k] for k in REVIEWS if (row.get(k) or "").strip()]
        references = [row[k] for k in REFERENCES if (row.get(k) or "").strip()]
        if reviews and references:
            items.append((reviews, references))
    return items


class CachedEncoder:
    """Memoises sentence embeddings so that several configurations share one encoding pass."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._rows: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if missing:
            rows = self._encoder.encode(missing, batch_size=batch_size)
            self._rows.update(zip(missing, rows, strict=True))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._rows[t] for t in texts])


def rouge(scorer: object, summary: str, references: list[str]) -> np.ndarray:
    """Mean over references of ROUGE-1/2/L F-measure, in percent."""
    total = np.zeros(3)
    for reference in references:
        scores = scorer.score(reference, summary)  # type: ignore[attr-defined]
        total += [scores["rouge1"].fmeasure, scores["rouge2"].fmeasure, scores["rougeL"].fmeasure]
    return 100 * total / len(references)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-words", type=int, default=60)
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OPINIONS_THREADS", "2") or 2))
    args = parser.parse_args(argv)

    root = datasets_root(required=False) / "fewsum"
    if not root.is_dir():
        print(f"skipped: datasets not found at {root} (set OPINIONS_DATASETS)", file=sys.stderr)
        return 0
    from rouge_score import rouge_scorer

    from analyzer.models.embeddings import SentenceEncoder
    from analyzer.topics.summarize import SummaryConfig, extractive_summary, key_points

    def points_summary(reviews: list[str], max_words: int, encoder: Encoder, config: SummaryConfig) -> str:
        return " ".join(p.sentence for p in key_points(reviews, max_words=max_words, encoder=encoder, config=config))

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    encoder = CachedEncoder(SentenceEncoder(threads=args.threads))
    systems = {"baseline": (extractive_summary, SummaryConfig.baseline()), "mmr": (extractive_summary, SummaryConfig()),
               "points": (points_summary, SummaryConfig())}
    splits = SPLITS if args.split == "all" else (args.split,)

    print(f"ROUGE F1 (%) at max {args.max_words} words, mean over 3 references then items")
    print(f"{'dataset':8s} {'split':6s} {'n':>3s} {'system':9s} {'R1':>6s} {'R2':>6s} {'RL':>6s} {'words':>6s}")
    start = time.perf_counter()
    for dataset in DATASETS:
        for split in splits:
            path = root / dataset / f"{split}.csv"
            if not path.exists():
                print(f"{dataset:8s} {split:6s} missing {path}", file=sys.stderr)
                continue
            items = load_items(path)
            for name, (summarise, config) in systems.items():
                scores, lengths = [], []
                for reviews, references in items:
                    summary = summarise(reviews, args.max_words, encoder=encoder, config=config)
                    scores.append(rouge(scorer, summary, references))
                    lengths.append(len(summary.split()))
                r1, r2, rl = np.mean(scores, axis=0)
                print(
                    f"{dataset:8s} {split:6s} {len(items):3d} {name:9s} {r1:6.2f} {r2:6.2f} {rl:6.2f} "
                    f"{np.mean(lengths):6.1f}",
                    flush=True,
                )
    print(f"({time.perf_counter() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
