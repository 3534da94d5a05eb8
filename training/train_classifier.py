"""Train a sentence-classification pack entry from a recipe: `python -m training.train_classifier TASK`.

Recipes (`RECIPES`): `offensive` (TweetEval offensive / OLID tweets: not-offensive, offensive) and `emotion`
(GoEmotions Ekman comments, single-label rows: anger disgust fear joy neutral sadness surprise; optionally TweetEval
emotion tweets mapped onto them). Each recipe names its training data, its labels, its validation set (never
trained on), its cross-domain check (another source: the gap between the two is what the model card shows) and its
defaults. The loop is `analyzer.finetune.loop.fit`; the entry is written and scored as stored by `training.pack_check`,
and `training.calibrate --task TASK` fits its temperature.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training import pack_check
from training.datasets import (
    EMOTION_LABELS,
    OFFENSIVE_LABELS,
    DatasetsMissing,
    goemotions_ekman,
    tweeteval_emotion_ekman,
    tweeteval_offensive,
)

Loader = Callable[[], tuple[list[str], list[str]]]


@dataclass(frozen=True)
class DevSet:
    """A labelled set scored each epoch. `labels`: the classes its macro-F1 averages over (default: the task's);
    `rates_of`: not scored against gold, but the share of each gold group that the model calls this label
    (a proxy where no set with the task's labels exists in another domain)."""

    name: str
    load: Loader
    labels: list[str] | None = None
    rates_of: str | None = None


@dataclass(frozen=True)
class Recipe:
    task: str
    labels: list[str]
    train: Loader
    validation: DevSet
    cross: DevSet
    sources: list[str]
    extra_train: dict[str, Loader] = field(default_factory=dict)  # --mix NAME adds these rows
    defaults: dict[str, Any] = field(default_factory=dict)

    def dev_sets(self) -> list[DevSet]:
        return [self.validation, self.cross]

    def metrics(self) -> list[str]:
        """The headline scores: `pack_check` measures the reduced precisions' drops on these."""
        return [metric_key(s) for s in self.dev_sets() if s.rates_of is None]


def metric_key(dev: DevSet) -> str:
    return f"{dev.name}_macro_f1"


GOEMOTIONS_SOURCE = ("GoEmotions (Demszky et al., ACL 2020; Reddit comments; Apache-2.0), Ekman grouping via "
                     "github.com/monologg/GoEmotions-pytorch `data/ekman/`")
RECIPES = {
    "offensive": Recipe(
        task="offensive", labels=OFFENSIVE_LABELS, train=lambda: tweeteval_offensive("train"),
        validation=DevSet("tweeteval_val", lambda: tweeteval_offensive("val")),
        # no offensive-labelled text of another domain is reachable here: the share of GoEmotions dev comments called
        # offensive, per emotion, shows whether the model carries over to Reddit at all
        cross=DevSet("goemotions_dev", lambda: goemotions_ekman("dev"), rates_of="offensive"),
        sources=["TweetEval offensive (github.com/cardiffnlp/tweeteval), i.e. OffensEval 2019 / OLID: Zampieri et al., "
                 "'Predicting the Type and Target of Offensive Posts in Social Media', NAACL 2019; train split, "
                 "evaluated on its validation split. Twitter terms apply.",
                 f"Cross-domain proxy (no labels of this task): {GOEMOTIONS_SOURCE}, dev split."],
        defaults={"epochs": 2.0, "lr": 5e-5, "max_length": 96},
    ),
    "emotion": Recipe(
        task="emotion", labels=EMOTION_LABELS, train=lambda: goemotions_ekman("train"),
        validation=DevSet("goemotions_dev", lambda: goemotions_ekman("dev")),
        cross=DevSet("tweeteval_emotion_val", lambda: tweeteval_emotion_ekman("val"), labels=["anger", "joy", "sadness"]),
        sources=[f"{GOEMOTIONS_SOURCE}: train comments with exactly one label (rows with several labels are left "
                 "out); evaluated on the dev split's single-label comments.",
                 "TweetEval emotion (github.com/cardiffnlp/tweeteval; Mohammad et al., SemEval-2018 Task 1): anger, "
                 "joy, optimism (as joy) and sadness tweets; the validation split is the cross-domain check, and the "
                 "train split is mixed in only where the entry's command says `--mix tweeteval_emotion`."],
        extra_train={"tweeteval_emotion": lambda: tweeteval_emotion_ekman("train")},
        defaults={"epochs": 1.0, "lr": 6e-5, "max_length": 64},
    ),
}


def class_weights(labels: list[str], names: list[str], power: float) -> list[float] | None:
    """(n / (k * count))**power per label, normalised to mean 1 over the rows: 0 = none, 0.5 = sqrt, 1 = balanced."""
    if not power:
        return None
    counts = Counter(labels)
    raw = [(len(labels) / (len(names) * max(counts[n], 1))) ** power for n in names]
    mean = sum(raw[names.index(label)] for label in labels) / len(labels)
    return [round(w / mean, 4) for w in raw]


def cap_classes(texts: list[str], labels: list[str], cap: int, seed: int) -> tuple[list[str], list[str]]:
    """At most `cap` seeded random rows of each label (0: all)."""
    if not cap:
        return texts, labels
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    keep = sorted(i for rows in by_label.values() for i in (rng.sample(rows, cap) if len(rows) > cap else rows))
    return [texts[i] for i in keep], [labels[i] for i in keep]


def dev_evaluator(recipe: Recipe, tokenizer: Any, max_length: int, normalise: Callable[[str], str]) -> Callable:
    """evaluate(model) -> per dev set macro-F1 (and per-class F1), the validation - cross-domain gap, or rates."""
    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import classification_scores, per_class_scores

    sets = [(dev, *dev.load()) for dev in recipe.dev_sets()]
    encoded = [encode_texts(tokenizer, texts, max_length, normalise=normalise) for _, texts, _ in sets]

    def evaluate(model: Any, with_outputs: bool = False) -> dict:
        scores: dict[str, Any] = {}
        outputs: list[str] = []
        for (dev, _, gold), features in zip(sets, encoded, strict=True):
            predicted = [recipe.labels[int(x.argmax())] for x in predict_logits(model, features, tokenizer.pad_token_id)]
            outputs += predicted
            if dev.rates_of:
                for group in sorted(set(gold)):
                    calls = [p for g, p in zip(gold, predicted, strict=True) if g == group]
                    scores[f"{dev.name}_{dev.rates_of}_rate_{group}"] = round(100 * calls.count(dev.rates_of) / len(calls), 2)
                continue
            labels = dev.labels or recipe.labels
            scores[metric_key(dev)] = classification_scores(gold, predicted, labels)["macro_f1"]
            scores |= {f"{dev.name}_f1_{label}": v["f1"] for label, v in per_class_scores(gold, predicted, labels).items()}
        if recipe.cross.rates_of is None:
            scores["validation_cross_gap"] = round(scores[metric_key(recipe.validation)] - scores[metric_key(recipe.cross)], 2)
        return {**scores, "outputs": outputs} if with_outputs else scores

    return evaluate


def training_rows(recipe: Recipe, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    texts, labels = recipe.train()
    texts, labels = cap_classes(texts, labels, args.cap, args.seed)
    for name in args.mix:
        more_texts, more_labels = recipe.extra_train[name]()
        texts, labels = texts + more_texts, labels + more_labels
    if args.limit:
        pick = random.Random(args.seed).sample(range(len(texts)), min(args.limit, len(texts)))
        texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
    return texts, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=float, help="default: the recipe's")
    parser.add_argument("--lr", type=float, help="default: the recipe's")
    parser.add_argument("--max-length", type=int, help="default: the recipe's")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--frozen-layers", type=int, default=1,
                        help="lowest encoder layers kept frozen (1 keeps an entry under ~9.5 MB; 0 is ~11 MB)")
    parser.add_argument("--average-last", type=int, default=1)
    parser.add_argument("--class-weight-power", type=float, default=0.0,
                        help="loss weight per class (n / (k * count))**P: 0 none, 0.5 sqrt, 1 balanced")
    parser.add_argument("--cap", type=int, default=0, help="at most N training rows per class (seeded; 0: all)")
    parser.add_argument("--mix", nargs="*", default=[], help="extra training sets of the recipe (emotion: tweeteval_emotion)")
    parser.add_argument("--select", action="store_true", help="keep the epoch best on validation macro-F1, not the last")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="train on N randomly chosen rows only (smoke runs)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast in the forward pass (CPUs with AMX)")
    parser.add_argument("--out", type=Path, help="default analyzer/pack/TASK")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    recipe = RECIPES[args.task]
    for key, value in recipe.defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    unknown = set(args.mix) - set(recipe.extra_train)
    if unknown:
        parser.error(f"--mix: {args.task} has no {', '.join(sorted(unknown))} (known: {', '.join(recipe.extra_train)})")
    try:
        texts, labels = training_rows(recipe, args)
        evaluate_sets = [dev.load() for dev in recipe.dev_sets()]  # fails early, before the model loads
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    print(f"training rows: {len(texts)} {dict(sorted(Counter(labels).items()))}; "
          + "; ".join(f"{dev.name} {len(s[0])}" for dev, s in zip(recipe.dev_sets(), evaluate_sets, strict=True)), flush=True)

    import torch

    from analyzer.finetune.loop import (
        TrainConfig,
        encode_texts,
        fit,
        load_tokenizer_for_training,
        new_head_model,
        trainable_state,
    )
    from analyzer.models import pack as modelpack
    from analyzer.text.normalise import PACK_NORMALISATION, normalise_for_sentiment

    torch.set_num_threads(args.threads)
    base = modelpack.base_dir()
    tokenizer = load_tokenizer_for_training(str(base))
    model = new_head_model("sequence", str(base), recipe.labels)
    model.config.opinions_normalisation = PACK_NORMALISATION  # inference normalises as training did
    label2id = {name: i for i, name in enumerate(recipe.labels)}
    features = encode_texts(tokenizer, texts, args.max_length, [label2id[label] for label in labels], normalise_for_sentiment)
    evaluate = dev_evaluator(recipe, tokenizer, args.max_length, normalise_for_sentiment)
    config = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                         label_smoothing=args.label_smoothing, frozen_layers=args.frozen_layers, bf16=args.bf16,
                         average_last=args.average_last, seed=args.seed, threads=args.threads,
                         class_weights=class_weights(labels, recipe.labels, args.class_weight_power),
                         select_metric=metric_key(recipe.validation) if args.select else None)
    started = time.time()
    result = fit(model, features, config, tokenizer.pad_token_id, evaluate=evaluate)
    print(json.dumps(result.history, indent=1))
    if args.no_save:
        return 0
    model.config.architectures = ["BertForSequenceClassification"]
    out = args.out or pack_check.PACK / args.task
    pack_check.store_and_check(args.task, out, trainable_state(model), model.config.to_dict(), {
        **pack_check.trained_fields(args.task, "training.train_classifier", result.history, time.time() - started),
        "head": "sequence", "normalisation": PACK_NORMALISATION, "max_length": args.max_length, "labels": recipe.labels,
        "validation": recipe.validation.name, "cross_domain": recipe.cross.name,
        "train_rows": len(texts), "train_label_counts": dict(sorted(Counter(labels).items())), "config": vars(config),
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
