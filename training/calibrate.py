"""Temperature-scale a sentence-classification pack entry so `score` means probability:
`python -m training.calibrate [--task sentiment|offensive|emotion] [--folder F]`.

One temperature T is fitted on the held-out dev splits (sentiment: TweetEval val + GoEmotions dev; the
`training.train_classifier` tasks: their validation and cross-domain sets), normalised the way inference
normalises for this entry, by minimising the negative log-likelihood, and baked into the classifier
(`W / T`, `b / T`): every inference path (eager, traced, Ray, any precision) then reports calibrated scores with no
code of its own, and no label changes because argmax is unchanged by a positive scale. The expected calibration
error (ECE, 15 equal-width confidence bins) before and after is written to the manifest as `calibration`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training import pack_check
from training.datasets import SENTIMENT_LABELS, DatasetsMissing, goemotions, tweeteval_val

BINS = 15


def expected_calibration_error(probs: list[list[float]], gold: list[int], bins: int = BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size (in percent)."""
    total = len(gold)
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, p in enumerate(probs) if low < max(p) <= high]
        if not members:
            continue
        confidence = sum(max(probs[i]) for i in members) / len(members)
        accuracy = sum(probs[i].index(max(probs[i])) == gold[i] for i in members) / len(members)
        error += len(members) / total * abs(accuracy - confidence)
    return round(100 * error, 2)


def fit_temperature(logits: object, gold: object) -> float:
    """The T > 0 minimising NLL of softmax(logits / T) (LBFGS on log T, as Guo et al. 2017)."""
    import torch

    log_t = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), gold)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.detach().exp())


def calibration_sets(task: str) -> tuple[list[str], dict[str, tuple[list[str], list[str]]], str]:
    """(labels, {dev set: (texts, gold)}, what to call them): the held-out sets a task's temperature is fitted on.
    Sentiment: TweetEval val + GoEmotions dev; a `training.train_classifier` task: its validation and
    cross-domain sets (a proxy without the task's labels excepted)."""
    if task == "sentiment":
        return SENTIMENT_LABELS, {"tweeteval_val": tweeteval_val(), "goemotions_dev": goemotions("dev")}, \
            "tweeteval val + goemotions dev"
    from training.train_classifier import RECIPES

    recipe = RECIPES[task]
    sets = {dev.name: dev.load() for dev in recipe.dev_sets() if dev.rates_of is None}
    return recipe.labels, sets, " + ".join(name.replace("_", " ") for name in sets)


def calibrate(folder: Path, task: str = "sentiment") -> dict:
    import torch
    from safetensors.torch import load_file, save_file

    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import per_class_scores
    from analyzer.models import pack as modelpack
    from analyzer.text.normalise import model_normalisation, normaliser

    model, tokenizer, manifest = pack_check.load_stored(task, folder)
    if manifest.get("calibration"):
        raise SystemExit(f"{folder} is already calibrated (T={manifest['calibration']['temperature']}); "
                         "calibrate a freshly trained entry")
    normalise = normaliser(model_normalisation(model.config))
    names, sets, fitted_on = calibration_sets(task)
    texts = [text for set_texts, _ in sets.values() for text in set_texts]
    labels = [label for _, set_labels in sets.values() for label in set_labels]
    features = encode_texts(tokenizer, texts, int(manifest.get("max_length", 128)), normalise=normalise)
    logits = torch.stack(predict_logits(model, features, tokenizer.pad_token_id))
    gold = torch.tensor([names.index(x) for x in labels])
    temperature = fit_temperature(logits, gold)
    before = torch.softmax(logits, dim=-1).tolist()
    after = torch.softmax(logits / temperature, dim=-1).tolist()
    gold_list = gold.tolist()
    calibration = {
        "temperature": round(temperature, 4), "fitted_on": fitted_on, "bins": BINS,
        "ece_before": expected_calibration_error(before, gold_list),
        "ece_after": expected_calibration_error(after, gold_list),
        "nll_before": round(float(torch.nn.functional.cross_entropy(logits, gold)), 4),
        "nll_after": round(float(torch.nn.functional.cross_entropy(logits / temperature, gold)), 4),
    }
    predicted = [names[i] for i in logits.argmax(dim=-1).tolist()]
    per_class, start = {}, 0
    for name, (_, gold_part) in sets.items():
        pred_part = predicted[start:start + len(gold_part)]
        start += len(gold_part)
        per_class[name] = per_class_scores(gold_part, pred_part, [n for n in names if n in set(gold_part)])
        if task == "sentiment":
            negatives = [p for g, p in zip(gold_part, pred_part, strict=True) if g == "negative"]
            # the complaint failure mode: a negative text called neutral
            per_class[name]["negative_called_neutral"] = round(100 * negatives.count("neutral") / max(len(negatives), 1), 2)
    weights = folder / "weights.safetensors"
    stored = load_file(str(weights))
    for key in ("classifier.weight", "classifier.bias"):
        stored[key] = (stored[key].float() / temperature).half()
    save_file(stored, str(weights), metadata={"format": "pt"})
    manifest.update(calibration=calibration, per_class=per_class, sha256=modelpack.sha256_file(weights), bytes=weights.stat().st_size)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    print(json.dumps(calibration, indent=1), flush=True)
    return pack_check.check(task, folder)  # re-score as stored, as int8 and as bf16


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="sentiment", choices=["sentiment", *pack_check.classifier_recipes()])
    parser.add_argument("--folder", type=Path, help="default analyzer/pack/TASK")
    args = parser.parse_args(argv)
    try:
        manifest = calibrate(args.folder or pack_check.PACK / args.task, args.task)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    print(pack_check.summary(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
