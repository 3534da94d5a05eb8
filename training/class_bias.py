"""Fit a per-class logit offset for the sentiment entry on the dev sets: `python -m training.class_bias`.

Why: on later tweets the model under-predicts neutral (a decision bias, not only missing knowledge). Adding a
constant to a class's logit moves every decision boundary with it at no cost at inference: the offsets are baked
into the classifier's bias, so every inference path (eager, traced, Ray, any precision) uses them with no code of
its own. Run it before `training.calibrate` (a temperature divides the biased logits alike).

The offsets (neutral and negative; positive stays 0) are fitted on TweetEval val + GoEmotions dev only, by a grid
search maximising the mean of val macro recall and GoEmotions dev macro-F1, the dev counterpart of `select`. The
test-like split (SemEval 2016, held out of training) is scored before and after, never fitted on. `--offsets`
applies given offsets instead of fitting; without `--write` nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training import pack_check
from training.datasets import SENTIMENT_LABELS, DatasetsMissing, goemotions, semeval_testlike, tweeteval_val

GRID = [round(-1.0 + 0.05 * i, 2) for i in range(61)]  # -1.0 .. 2.0


def biased_labels(logits: object, offsets: list[float]) -> list[str]:
    """Labels of `logits` (n × 3 tensor) after adding `offsets` (one per class)."""
    import torch

    shifted = logits + torch.tensor(offsets, dtype=logits.dtype)
    return [SENTIMENT_LABELS[i] for i in shifted.argmax(dim=-1).tolist()]


def macro_scores(logits: object, gold: object, offsets: list[float]) -> tuple[float, float]:
    """(macro recall, macro-F1) in percent of `logits` (n × 3) with `offsets` added, against label ids `gold`."""
    import torch

    predicted = (logits + torch.tensor(offsets, dtype=logits.dtype)).argmax(dim=-1)
    matrix = torch.bincount(gold * 3 + predicted, minlength=9).reshape(3, 3).double()
    true_positive = matrix.diagonal()
    recall = true_positive / matrix.sum(dim=1).clamp(min=1)
    precision = true_positive / matrix.sum(dim=0).clamp(min=1)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    return 100 * float(recall.mean()), 100 * float(f1.mean())


def label_ids(gold: list[str]) -> object:
    import torch

    return torch.tensor([SENTIMENT_LABELS.index(label) for label in gold])


def fit_offsets(val: tuple[object, list[str]], ge: tuple[object, list[str]],
                grid: list[float] = GRID) -> list[float]:
    """The (negative, neutral, 0) offsets on `grid` maximising the mean of TweetEval val macro recall and
    GoEmotions dev macro-F1; ties keep the smallest move."""
    val_gold, ge_gold = label_ids(val[1]), label_ids(ge[1])
    best: tuple[float, float, list[float]] | None = None
    for neutral in grid:
        for negative in grid:
            offsets = [negative, neutral, 0.0]
            value = (macro_scores(val[0], val_gold, offsets)[0] + macro_scores(ge[0], ge_gold, offsets)[1]) / 2
            move = abs(neutral) + abs(negative)
            if best is None or value > best[0] + 1e-9 or (abs(value - best[0]) <= 1e-9 and move < best[1]):
                best = (value, move, offsets)
    assert best is not None
    return best[2]


def scores(sets: dict[str, tuple[object, list[str]]], offsets: list[float]) -> dict[str, float]:
    """Macro recall (TweetEval val, test-like), macro-F1 (GoEmotions dev) and per-class recall with `offsets`."""
    from analyzer.labels.metrics import classification_scores, per_class_scores

    out: dict[str, float] = {}
    for name, (logits, gold) in sets.items():
        predicted = biased_labels(logits, offsets)
        overall = classification_scores(gold, predicted, SENTIMENT_LABELS)
        out[f"{name}_macro_recall"] = overall["macro_recall"]
        out[f"{name}_macro_f1"] = overall["macro_f1"]
        for label, value in per_class_scores(gold, predicted, SENTIMENT_LABELS).items():
            out[f"{name}_recall_{label}"] = value["recall"]
    return out


def dev_logits(model: object, tokenizer: object, max_length: int,
               testlike_rows: int = 4000, seed: int = 13) -> dict[str, tuple[object, list[str]]]:
    """The model's logits on TweetEval val, GoEmotions dev and the test-like split, with the gold labels."""
    import torch

    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.text.normalise import model_normalisation, normaliser

    normalise = normaliser(model_normalisation(model.config))  # type: ignore[attr-defined]
    sets = {"val": tweeteval_val(), "goemotions": goemotions("dev"), "testlike": semeval_testlike(testlike_rows, seed)}
    out = {}
    for name, (texts, gold) in sets.items():
        features = encode_texts(tokenizer, texts, max_length, normalise=normalise)
        out[name] = (torch.stack(predict_logits(model, features, tokenizer.pad_token_id)), gold)  # type: ignore[attr-defined]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=pack_check.PACK / "sentiment")
    parser.add_argument("--offsets", type=float, nargs=3, metavar=("NEG", "NEU", "POS"),
                        help="apply these offsets instead of fitting them")
    parser.add_argument("--write", action="store_true", help="bake the offsets into the entry's classifier bias")
    parser.add_argument("--cache", type=Path,
                        help="a folder for the logits, keyed by the weights' sha256: a second call on the same weights "
                             "skips the model")
    args = parser.parse_args(argv)
    try:
        model, tokenizer, manifest = pack_check.load_stored("sentiment", args.folder)
        if manifest.get("class_bias") and args.write:
            raise SystemExit(f"{args.folder} already has class offsets {manifest['class_bias']['offsets']}")
        if manifest.get("calibration") and args.write:
            raise SystemExit(f"{args.folder} is calibrated: add offsets before training.calibrate")
        cached = args.cache / f"{manifest['sha256']}.pt" if args.cache else None
        if cached and cached.is_file():
            import torch

            sets = torch.load(cached)
        else:
            sets = dev_logits(model, tokenizer, int(manifest.get("max_length", 128)))
            if cached:
                import torch

                cached.parent.mkdir(parents=True, exist_ok=True)
                torch.save(sets, cached)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    offsets = list(args.offsets) if args.offsets else fit_offsets(sets["val"], sets["goemotions"])
    before, after = scores(sets, [0.0, 0.0, 0.0]), scores(sets, offsets)
    print(f"offsets (negative, neutral, positive): {offsets}"
          + (" (given)" if args.offsets else " (fitted on tweeteval val + goemotions dev)"))
    print(f"{'':34}{'before':>10}{'after':>10}")
    for key in before:
        print(f"{key:34}{before[key]:10.2f}{after[key]:10.2f}")
    if not args.write:
        return 0
    from safetensors.torch import load_file, save_file

    from analyzer.models import pack as modelpack
    weights = args.folder / "weights.safetensors"
    stored = load_file(str(weights))
    import torch

    stored["classifier.bias"] = (stored["classifier.bias"].float() + torch.tensor(offsets)).half()
    save_file(stored, str(weights), metadata={"format": "pt"})
    manifest.update(sha256=modelpack.sha256_file(weights), bytes=weights.stat().st_size, class_bias={
        "offsets": dict(zip(SENTIMENT_LABELS, offsets, strict=True)),
        "fitted_on": "given" if args.offsets else "tweeteval val + goemotions dev (mean of val macro recall and "
                                                   "goemotions dev macro-F1)",
        "before": before, "after": after})
    (args.folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    print(f"wrote the offsets into {weights}; re-score it with python -m training.pack_check sentiment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
