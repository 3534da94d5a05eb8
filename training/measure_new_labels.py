"""Measure `opinions train` on a new, imbalanced label set and on domain adaptation.

    OPINIONS_THREADS=1 python -m training.measure_new_labels [--setups emotion,goemotions4,domain]
                                                             [--variants today,weighted,names,both]

The goal set of issue 22 (1,500 Reddit comments with 7 Ekman emotions, scored on 1,500
others) is GoEmotions' held-back test split, so this measures faithful proxies on
../shared/datasets, read in place:

- `emotion`: TweetEval emotion (anger / joy / optimism / sadness, optimism rare): 1,500
  training tweets sampled from train, scored on the 374 val tweets plus 1,126 other train
  tweets (1,500 held out, none in training);
- `goemotions4`: GoEmotions sentiment groups with the rare `ambiguous` class (a label set
  the base only partly has): 1,500 single-label train comments, scored on 1,500 dev comments;
- `domain`: GoEmotions negative / neutral / positive (the base's own labels: domain
  adaptation), 1,500 train comments, scored on 1,500 dev comments.

Variants: `today` is a plain fine-tune as before issue 22 (3 epochs, plain loss, random new
head); `weighted` adds only the class-weighted loss and `names` only the head started from
label names, each with the small-data epochs; `both` is the new default. Every run goes
through `analyzer.train.train` exactly as `opinions train FILE` does (its seeded 15%
validation split included); the files it trains on are written to a temporary folder.
Prints macro-F1 and per-class F1 on the held-out texts, and a markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from training.datasets import DatasetsMissing, datasets_root

VARIANTS: dict[str, dict[str, Any]] = {
    "today": {"epochs": 3.0, "balance": "none", "head_init": "random"},
    "weighted": {"epochs": None, "balance": "weighted", "head_init": "random"},
    "names": {"epochs": None, "balance": "none", "head_init": "names"},
    "both": {"epochs": None, "balance": "weighted", "head_init": "names"},
}
GOEMOTIONS_GROUPS = ["ambiguous", "negative", "neutral", "positive"]
N_TRAIN = 1500
N_HELD_OUT = 1500


def _goemotions(split: str, keep: set[str]) -> tuple[list[str], list[str]]:
    """Single-label GoEmotions rows whose group is in `keep` (multi-label rows are left out, as train refuses them)."""
    texts, labels = [], []
    for line in (datasets_root() / "goemotions-sentiment" / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or "," in parts[1] or GOEMOTIONS_GROUPS[int(parts[1])] not in keep:
            continue
        texts.append(parts[0].replace("\t", " "))
        labels.append(GOEMOTIONS_GROUPS[int(parts[1])])
    return texts, labels


def _tweeteval_emotion(split: str) -> tuple[list[str], list[str]]:
    root = datasets_root() / "tweeteval-emotion"
    names = [line.split("\t")[1].strip() for line in (root / "mapping.txt").read_text().splitlines() if "\t" in line]
    texts = [t.strip().replace("\t", " ") for t in (root / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()]
    return texts, [names[int(x)] for x in (root / f"{split}_labels.txt").read_text().split()]


def setup(name: str, seed: int) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """(training texts and labels, held-out texts and labels) of one setup."""
    rng = random.Random(seed)
    if name == "emotion":
        texts, labels = _tweeteval_emotion("train")
        order = list(range(len(texts)))
        rng.shuffle(order)
        train = order[:N_TRAIN]
        rest = order[N_TRAIN:]
        val_texts, val_labels = _tweeteval_emotion("val")
        held = [texts[i] for i in rest[: N_HELD_OUT - len(val_texts)]] + val_texts
        held_labels = [labels[i] for i in rest[: N_HELD_OUT - len(val_texts)]] + val_labels
        return ([texts[i] for i in train], [labels[i] for i in train]), (held, held_labels)
    keep = set(GOEMOTIONS_GROUPS) if name == "goemotions4" else {"negative", "neutral", "positive"}
    texts, labels = _goemotions("train", keep)
    dev_texts, dev_labels = _goemotions("dev", keep)
    train = rng.sample(range(len(texts)), N_TRAIN)
    held = rng.sample(range(len(dev_texts)), N_HELD_OUT)
    return (([texts[i] for i in train], [labels[i] for i in train]),
            ([dev_texts[i] for i in held], [dev_labels[i] for i in held]))


def score_folder(folder: Path, texts: list[str], gold: list[str]) -> dict[str, Any]:
    """Macro-F1 and per-class F1 of a trained folder on held-out texts (normalised as inference does)."""
    import transformers

    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import classification_scores, per_class_scores
    from analyzer.text.normalise import model_normalisation, normaliser

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    order = [model.config.id2label[i] for i in range(model.config.num_labels)]
    features = encode_texts(tokenizer, texts, 128, normalise=normaliser(model_normalisation(model.config)))
    predicted = [order[int(x.argmax())] for x in predict_logits(model, features, tokenizer.pad_token_id)]
    labels = sorted(set(gold))
    return {**classification_scores(gold, predicted, labels),
            "f1": {k: v["f1"] for k, v in per_class_scores(gold, predicted, labels).items()}}


def run(name: str, variant: str, seed: int, work: Path) -> dict[str, Any]:
    from analyzer.finetune.train import TrainRequest, train
    from analyzer.models.spec import ModelSpec

    (texts, labels), (held, held_labels) = setup(name, seed)
    data = work / f"{name}.tsv"
    data.write_text("".join(f"{t}\t{label}\n" for t, label in zip(texts, labels, strict=True)), encoding="utf-8")
    out = work / f"{name}-{variant}"
    started = time.perf_counter()
    report = train(TrainRequest(task="sentiment", file=data, base=ModelSpec("sentiment", "embedded"), out=out,
                                device="cpu", seed=seed, **VARIANTS[variant]),
                   log=lambda message: print(f"  [{name}/{variant}] {message}", flush=True))
    held_out = score_folder(out, held, held_labels)
    base = score_folder_base(held, held_labels) if name == "domain" else None
    result = {"setup": name, "variant": variant, "held_out": held_out, "base_held_out": base,
              "epochs_run": sum(1 for h in report.history if isinstance(h.get("epoch"), int)),
              "train_counts": report.train_counts, "seconds": round(time.perf_counter() - started)}
    print(json.dumps(result), flush=True)
    return result


def score_folder_base(texts: list[str], gold: list[str]) -> dict[str, Any]:
    """The embedded model as it ships, on the same held-out texts (the domain setup's starting point)."""
    from analyzer.models import pack as modelpack
    return score_folder(modelpack.materialise("sentiment"), texts, gold)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="emotion,goemotions4,domain")
    parser.add_argument("--variants", default="today,weighted,names,both")
    parser.add_argument("--runs", default="", help="setup:variant pairs in this order (instead of all combinations)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=None, help="also append each result to this JSONL file")
    args = parser.parse_args(argv)
    try:
        datasets_root()
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="measure-new-labels-") as tmp:
        pairs = ([tuple(pair.split(":")) for pair in args.runs.split(",")] if args.runs else
                 [(name, variant) for name in args.setups.split(",") for variant in args.variants.split(",")])
        for name, variant in pairs:
            result = run(name, variant, args.seed, Path(tmp))
            results.append(result)
            if args.json:
                with args.json.open("a") as fh:
                    fh.write(json.dumps(result) + "\n")
    print("\n| setup | variant | macro-F1 | per-class F1 | epochs run | s |\n|---|---|---:|---|---:|---:|")
    for r in results:
        per_class = ", ".join(f"{k} {v}" for k, v in r["held_out"]["f1"].items())
        print(f"| {r['setup']} | {r['variant']} | {r['held_out']['macro_f1']} | {per_class} | {r['epochs_run']} "
              f"| {r['seconds']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
