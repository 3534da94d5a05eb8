"""`opinions train`: fine-tune a task's model on a user's labelled comments.

One trainer per kind of model, not per task: text labels (`model_kind = "sequence"`:
sentiment, or any label set of the user's) and token tags (`"token"`: NER). A task picks
its trainer by its `model_kind` and names its labels with its own `canonical_labels`, so a
new task of either kind trains with no edit here.

The same loop as the embedded pack (`analyzer.finetune.loop`): it reads the labelled file
(the formats `opinions evaluate` reads), splits off a validation part that has every class
unless one is given, scores the base model first, trains with early stopping on the
validation metric (macro-F1 for text labels), scores again, and writes a self-contained
model folder with a model card.

Small and imbalanced label sets are the everyday case (a support team's own categories, a
few dozen examples of the rare ones), so by default: the loss is class-weighted, small data
sets get more epochs (early stopping ends them), a new head starts from the base head's rows
and the label names (`analyzer.finetune.heads`), and every class is reported with its counts,
precision, recall and F1, with a warning for classes with too few examples to trust.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shlex
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.labels.read import LabelledDataError, read_conll, read_labelled_texts
from analyzer.models.spec import ModelSpec, load_folder_or_id

MIN_TEXTS = 20
MIN_SENTENCES = 10
FEW_EXAMPLES = 30  # a class with fewer training examples gets a warning: its scores are noise
AUTO_MIN_STEPS = 400  # small data sets get enough epochs for about this many steps...
AUTO_MAX_EPOCHS = 10  # ...but no more than this (early stopping usually ends sooner)
MAX_CLASS_WEIGHT = 10.0  # one example of a 1-in-100 class must not outweigh a whole batch
# a label set past this is an id or a free-text column given as the label (500,000 distinct labels hung
# for minutes and allocated 8 GB, after printing every one)
MAX_CLASSES = 1000
BALANCE_CHOICES = ("weighted", "none")
HEAD_INIT_CHOICES = ("names", "random")


@dataclass
class TrainRequest:
    task: str
    file: Path
    base: ModelSpec
    out: Path
    eval_file: Path | None = None
    epochs: float | None = None  # None: auto_epochs()
    lr: float = 5e-5
    batch_size: int = 16
    max_length: int = 128
    seed: int = 13
    val_share: float = 0.15
    device: str = "auto"
    balance: str = "weighted"  # class-weighted loss, or "none"
    head_init: str = "names"  # a new head starts from the base head and label names, or "random"


@dataclass
class TrainReport:
    out: Path
    labels: list[str]
    new_head: bool
    n_train: int
    n_val: int
    before: dict[str, Any] | None
    after: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    epochs: float = 0.0
    train_counts: dict[str, int] = field(default_factory=dict)
    class_weights: dict[str, float] | None = None
    head: str = ""  # how the head started: kept, or what init_head did
    warnings: list[str] = field(default_factory=list)


def auto_epochs(n_train: int, batch_size: int) -> float:
    """3 epochs, or on a small data set enough for AUTO_MIN_STEPS steps (at most AUTO_MAX_EPOCHS):
    a few hundred examples need more passes, and early stopping on validation ends them in time."""
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    return float(min(AUTO_MAX_EPOCHS, max(3, math.ceil(AUTO_MIN_STEPS / steps_per_epoch))))


def balanced_class_weights(labels_of: list[str], order: list[str]) -> list[float]:
    """scikit-learn's 'balanced' weights (n / (classes * n_class)), capped at MAX_CLASS_WEIGHT."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    weights = compute_class_weight("balanced", classes=np.array(order), y=np.array(labels_of))
    return [round(min(MAX_CLASS_WEIGHT, float(w)), 3) for w in weights]


def few_examples_warning(counts: dict[str, int], minimum: int = FEW_EXAMPLES) -> str | None:
    """One line naming every class with fewer than `minimum` training examples, or None."""
    few = sorted((n, label) for label, n in counts.items() if n < minimum)
    if not few:
        return None
    named = ", ".join(f"{label} ({n})" for n, label in few)
    return (f"warning: {len(few)} class(es) with fewer than {minimum} training examples: {named}; "
            "their scores are unreliable and they may not be learned: add examples of them")


def _each_label(canonical: Callable[[list[str]], list[str]], labels: list[str]) -> list[str]:
    """Each data label spelled as the task spells it, one at a time (neg → negative): a rule about a
    whole head's label set (LABEL_0..2) must not fire on a file's labels."""
    names = {label: canonical([label])[0] for label in set(labels)}
    return [names[label] for label in labels]


def _split(n: int, labels_of: list[str], share: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded split that keeps every label in both parts when it can."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels_of):
        by_label.setdefault(label, []).append(i)
    train, val = [], []
    for indices in by_label.values():
        rng.shuffle(indices)
        k = max(1, round(len(indices) * share)) if len(indices) >= 2 else 0
        val.extend(indices[:k])
        train.extend(indices[k:])
    rng.shuffle(train)
    return sorted(train), sorted(val)


def train(request: TrainRequest, log: Callable[[str], None] = print) -> TrainReport:
    from analyzer.tasks import task_class

    task = task_class(request.task)  # an unknown name: UnknownTask, naming the tasks there are
    return TRAINERS[task.model_kind](request, task.canonical_labels, log)


def _device(requested: str) -> str:
    from analyzer.models.runtime import choose_runtime

    return choose_runtime(requested).device


def _load(request: TrainRequest, kind: str, labels: list[str], canonical: Callable[[list[str]], list[str]],
          log: Callable[[str], None]) -> tuple[Any, Any, str, list[str]]:
    """Base tokenizer + model, and how its head starts: "kept" when the base head has exactly
    the user's labels; otherwise a new head (for text labels started by `analyzer.finetune.heads`)."""
    import transformers

    from analyzer.finetune.loop import load_tokenizer_for_training, new_head_model
    from analyzer.models.runtime import quiet_transformers

    quiet_transformers()
    source = load_folder_or_id(request.base)
    tokenizer = load_tokenizer_for_training(source)
    config = transformers.AutoConfig.from_pretrained(source)
    classes = {"sequence": transformers.AutoModelForSequenceClassification,
               "token": transformers.AutoModelForTokenClassification}
    base_labels = canonical([str(config.id2label[i]) for i in range(config.num_labels)]) if config.id2label else []
    if sorted(base_labels) == sorted(labels) and base_labels:
        model = classes[kind].from_pretrained(source, use_safetensors=True)
        model.config.id2label = dict(enumerate(base_labels))
        model.config.label2id = {label: i for i, label in enumerate(base_labels)}
        log(f"base head kept: labels {base_labels}")
        return tokenizer, model, "kept", base_labels
    if kind == "sequence":
        from analyzer.finetune.heads import final_linear, init_head
        from analyzer.text.normalise import model_normalisation, normaliser

        model = classes[kind].from_pretrained(source, use_safetensors=True)
        if final_linear(model) is not None:
            done = init_head(model, tokenizer, labels, base_labels, request.head_init == "names", request.seed,
                             normaliser(model_normalisation(model.config)))
            how = done.describe() if done.copied or done.from_names else "random"
            log(f"new head: the base has labels {base_labels or 'none'}, your data has {labels}; rows start: {how}"
                + (" (--head-init random: all random)" if request.head_init == "names" else ""))
            return tokenizer, model, how, labels
        log(f"{type(model).__name__} has no plain Linear head: the new head starts random")
    model = new_head_model(kind, source, labels)
    log(f"new head: the base has labels {base_labels or 'none'}, your data has {labels}")
    return tokenizer, model, "random", labels


def _train_text_labels(request: TrainRequest, canonical: Callable[[list[str]], list[str]],
                       log: Callable[[str], None]) -> TrainReport:
    """One label per text (TSV or JSONL), any label set; the loss class-weighted unless --balance none."""
    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import classification_scores, per_class_scores
    from analyzer.labels.read import require_single_labels
    from analyzer.text.normalise import model_normalisation, normaliser

    data = read_labelled_texts(request.file)
    require_single_labels(data, request.file)
    check_label_set(data.labels, data.line_numbers, request.file)
    labels_raw = _each_label(canonical, data.labels)
    counts = Counter(labels_raw)
    if len(data.texts) < MIN_TEXTS:
        raise LabelledDataError(f"{request.file}: {len(data.texts)} examples; at least {MIN_TEXTS} are needed")
    if len(counts) < 2:
        raise LabelledDataError(f"{request.file}: only one label ({next(iter(counts))}); at least two are needed")
    if request.eval_file:
        val_data = read_labelled_texts(request.eval_file)
        require_single_labels(val_data, request.eval_file)
        train_idx, val_texts = list(range(len(data.texts))), val_data.texts
        val_labels = _each_label(canonical, val_data.labels)
        missing = sorted(set(counts) - set(val_labels))
        if missing:
            raise LabelledDataError(
                f"{request.eval_file}: no validation example of {', '.join(missing)}; every class needs some, "
                "or its score is never measured (add examples, or leave out --eval for a seeded split)")
    else:
        single = sorted(label for label, n in counts.items() if n < 2)
        if single:
            where = ", ".join(f"{label} (line {data.line_numbers[labels_raw.index(label)]})" for label in single)
            raise LabelledDataError(
                f"{request.file}: one example only of {where}; each class needs at least 2, one to learn from and "
                "one to validate on (add examples, or drop the class)")
        train_idx, val_idx = _split(len(data.texts), labels_raw, request.val_share, request.seed)
        val_texts, val_labels = [data.texts[i] for i in val_idx], [labels_raw[i] for i in val_idx]
    labels = sorted(counts)
    train_labels = [labels_raw[i] for i in train_idx]
    train_counts = Counter(train_labels)
    warnings = [w for w in [few_examples_warning(dict(train_counts))] if w]
    for warning in warnings:
        log(warning)
    tokenizer, model, head, order = _load(request, "sequence", labels, canonical, log)
    label2id = {label: i for i, label in enumerate(order)}
    unknown = sorted(set(val_labels) - set(label2id))
    if unknown:
        raise LabelledDataError(f"validation labels {unknown} do not occur in the training data")
    class_weights = None
    if request.balance == "weighted":
        class_weights = dict(zip(order, balanced_class_weights(train_labels, order), strict=True))
        log("imbalance: class-weighted loss (scikit-learn 'balanced', capped at "
            f"{MAX_CLASS_WEIGHT:g}): " + ", ".join(f"{k} {v:g}" for k, v in class_weights.items())
            + "; --balance none for a plain loss")
    else:
        log("imbalance: not handled (--balance none): classes have "
            + ", ".join(f"{k} {train_counts[k]}" for k in order) + " training examples")
    device = _device(request.device)
    model.to(device)
    # trained on text normalised as the base was; the config keeps its name, so inference normalises alike
    normalise = normaliser(model_normalisation(model.config))
    features = encode_texts(tokenizer, [data.texts[i] for i in train_idx], request.max_length,
                            [label2id[label] for label in train_labels], normalise)
    val_features = encode_texts(tokenizer, val_texts, request.max_length, normalise=normalise)

    def evaluate(m: Any) -> dict[str, Any]:
        predicted = [order[int(x.argmax())] for x in predict_logits(m, val_features, tokenizer.pad_token_id)]
        scored = sorted(set(val_labels) | set(order))
        return {**classification_scores(val_labels, predicted, scored),
                "per_class": per_class_scores(val_labels, predicted, scored),
                "confusion": confusion_counts(val_labels, predicted, order)}

    report = TrainReport(request.out, order, head != "kept", len(train_idx), len(val_texts), None, {},
                         train_counts={k: train_counts[k] for k in order}, class_weights=class_weights, head=head,
                         warnings=warnings)
    return _fit_and_save(request, tokenizer, model, features, evaluate, "macro_f1", report, device, log)


def check_label_set(labels: list[str], line_numbers: list[int], path: Path) -> None:
    """Refuse, before any model work, a label set that cannot be a set of classes: more than MAX_CLASSES
    labels, or labels holding control characters (they end up in the model's config, printed by every
    report: an ESC sequence there would drive the reader's terminal)."""
    from analyzer.text.safe_output import has_controls

    bad = [n for label, n in zip(labels, line_numbers, strict=True) if has_controls(label)]
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise LabelledDataError(f"{path}: labels with control characters (escape sequences, line breaks) on line "
                                f"{shown}: a label is a class name; clean those rows")
    distinct = len(set(labels))
    if distinct > MAX_CLASSES:
        raise LabelledDataError(f"{path}: {distinct:,} distinct labels; at most {MAX_CLASSES:,} classes can be "
                                "trained (is the label column an id or free text?)")


def confusion_counts(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    """The validation confusion (rows: the data's label, columns: the model's) as reports read it to correct
    their shares (`analyzer.labels.shares`; kept in the model folder's opinions.json)."""
    from analyzer.labels.shares import confusion_matrix

    return {"labels": list(labels), "counts": {"validation": confusion_matrix(gold, predicted, labels)},
            "weighting": "each set equally"}


def _train_token_tags(request: TrainRequest, canonical: Callable[[list[str]], list[str]],
                      log: Callable[[str], None]) -> TrainReport:
    """BIO tags per word (CoNLL); the tag transitions of the training data are learned for decoding."""
    from analyzer.finetune.loop import encode_tagged, predict_logits, word_tags
    from analyzer.labels.metrics import entity_scores
    from analyzer.tasks.ner import bio

    data = read_conll(request.file)
    if len(data.tokens) < MIN_SENTENCES:
        raise LabelledDataError(f"{request.file}: {len(data.tokens)} sentences; at least {MIN_SENTENCES} are needed")
    types = sorted({tag[2:] for tags in data.tags for tag in tags if tag != "O"})
    if not types:
        raise LabelledDataError(f"{request.file}: no entity tags at all (only O)")
    tags = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    if request.eval_file:
        val = read_conll(request.eval_file)
        train_tokens, train_tags, val_tokens, val_tags = data.tokens, data.tags, val.tokens, val.tags
    else:
        first_type = [next((t[2:] for t in sent if t != "O"), "O") for sent in data.tags]
        train_idx, val_idx = _split(len(data.tokens), first_type, request.val_share, request.seed)
        train_tokens, train_tags = [data.tokens[i] for i in train_idx], [data.tags[i] for i in train_idx]
        val_tokens, val_tags = [data.tokens[i] for i in val_idx], [data.tags[i] for i in val_idx]
    tokenizer, model, head, order = _load(request, "token", tags, canonical, log)
    tag2id = {t: i for i, t in enumerate(order)}
    device = _device(request.device)
    model.to(device)
    from analyzer.text.casing import uses_case_types

    cased = uses_case_types(model.config)  # a model trained with letter case keeps getting it
    features, _ = encode_tagged(tokenizer, train_tokens, request.max_length, train_tags, tag2id, case_types=cased)
    val_features, val_word_ids = encode_tagged(tokenizer, val_tokens, request.max_length, case_types=cased)
    # tag transitions of the user's own training data, saved in the config and used when decoding
    setattr(model.config, bio.CONFIG_KEY, bio.learned_transitions(train_tags, order, bio.DEFAULT_TRANSITION_WEIGHT))
    learned = bio.transition_scores(model.config, order)

    def evaluate(m: Any) -> dict[str, Any]:
        logits = predict_logits(m, val_features, tokenizer.pad_token_id)
        predicted = [word_tags(lg, wids, len(sent), order, learned)
                     for lg, wids, sent in zip(logits, val_word_ids, val_tokens, strict=True)]
        scores = entity_scores(val_tags, predicted)
        return {"f1": scores["f1"], "precision": scores["precision"], "recall": scores["recall"],
                "per_type": {k: v["f1"] for k, v in scores["per_type"].items()}}

    report = TrainReport(request.out, order, head != "kept", len(train_tokens), len(val_tokens), None, {}, head=head)
    return _fit_and_save(request, tokenizer, model, features, evaluate, "f1", report, device, log)


# one trainer per kind of model (Task.model_kind); every registered task's kind has one (a test checks)
TRAINERS: dict[str, Callable[[TrainRequest, Callable[[list[str]], list[str]], Callable[[str], None]], TrainReport]] = {
    "sequence": _train_text_labels, "token": _train_token_tags}


def _fit_and_save(request: TrainRequest, tokenizer: Any, model: Any, features: list[dict[str, Any]],
                  evaluate: Callable[[Any], dict[str, Any]], metric: str, report: TrainReport, device: str,
                  log: Callable[[str], None]) -> TrainReport:
    """Score the base (or a head started from label names), train with early stopping on
    `metric`, score again, write the folder."""
    import time

    from analyzer.finetune.loop import TrainConfig, fit

    def summary(m: Any) -> dict[str, Any]:  # per-epoch lines stay short: the per-class detail is before/after
        return summary_of(evaluate(m))

    report.before = None if report.head == "random" else evaluate(model)
    log(f"before: {summary_of(report.before) if report.before else 'n/a (new random head)'}")
    report.epochs = request.epochs if request.epochs is not None else auto_epochs(len(features), request.batch_size)
    if request.epochs is None:
        log(f"epochs: up to {report.epochs:g} for {len(features)} training examples (early stopping on {metric}, "
            "patience 2; --epochs to choose)")
    weights = list(report.class_weights.values()) if report.class_weights else None
    config = TrainConfig(epochs=report.epochs, lr=request.lr, batch_size=request.batch_size,
                         max_length=request.max_length, frozen_layers=0, seed=request.seed,
                         select_metric=metric, patience=2, log_every=50, class_weights=weights)
    started = time.perf_counter()
    result = fit(model, features, config, tokenizer.pad_token_id, evaluate=summary, log=log, device=device)
    report.after = evaluate(model)
    log(f"after: {summary_of(report.after)}")
    report.history, report.seconds = result.history, time.perf_counter() - started
    _save(request, tokenizer, model, report)
    return report


def summary_of(scores: dict[str, Any]) -> dict[str, Any]:
    """The overall numbers of a scores dict, without the per-class or per-type detail."""
    return {k: v for k, v in scores.items() if not isinstance(v, dict)}


def per_class_rows(report: TrainReport) -> list[tuple[Any, ...]]:
    """(class, train examples, validation examples, P/R/F1 before, P/R/F1 after) per class."""
    after = report.after.get("per_class", {})
    before = (report.before or {}).get("per_class", {})
    rows = []
    for label in sorted(after, key=lambda k: (k not in report.labels, k)):
        a, b = after[label], before.get(label, {})
        rows.append((label, report.train_counts.get(label, 0), a["support"], b.get("precision"), b.get("recall"),
                     b.get("f1"), a["precision"], a["recall"], a["f1"]))
    return rows


PER_CLASS_COLUMNS = ["class", "train", "val", "precision_before", "recall_before", "f1_before", "precision", "recall",
                     "f1"]


def _save(request: TrainRequest, tokenizer: Any, model: Any, report: TrainReport) -> None:
    out = request.out
    out.mkdir(parents=True, exist_ok=True)
    model.cpu()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "opinions.json").write_text(json.dumps({
        "task": request.task, "languages": ["en"], "labels": report.labels, "base": request.base.source,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "train_examples": report.n_train,
        "val_examples": report.n_val, "train_counts": report.train_counts, "class_weights": report.class_weights,
        "head": report.head, "epochs": report.epochs, "before": report.before,
        "after": {k: v for k, v in report.after.items() if k != "confusion"},
        # reports correct class shares with the validation confusion (analyzer.labels.shares)
        **({"confusion": report.after["confusion"]} if "confusion" in report.after else {}),
    }, indent=2, default=str))
    balance = (f"class-weighted loss ({', '.join(f'{k} {v:g}' for k, v in report.class_weights.items())})"
               if report.class_weights else "plain loss")
    card = [
        f"# {out.name}: {request.task} model fine-tuned with `opinions train`",
        "",
        f"- Base: `{request.base.source}` ({'base head kept' if report.head == 'kept' else 'new head: ' + report.head})",
        f"- Labels: {', '.join(report.labels)}",
        f"- Data: `{request.file}` — {report.n_train} training and {report.n_val} validation examples"
        + (f" (validation from `{request.eval_file}`)" if request.eval_file else " (seeded split)"),
        f"- Training: {report.epochs:g} epochs max, lr {request.lr:g}, batch {request.batch_size}, seed "
        f"{request.seed}, early stopping on the validation metric; {report.seconds:.0f} s"
        + (f"; {balance}" if report.train_counts else ""),
        f"- Command: `{shlex.join(['opinions', *sys.argv[1:]])}`",
        *[f"- **{w[0].upper() + w[1:]}**" for w in report.warnings],
        "",
        "| metric | before | after |",
        "|---|---:|---:|",
    ]
    for key, value in report.after.items():
        if isinstance(value, (int, float)):
            previous = (report.before or {}).get(key, "n/a")
            card.append(f"| {key} | {previous} | {value} |")
    rows = per_class_rows(report)
    if rows:
        card += ["", "Per class on the validation examples (before: the base, or the head started from label names):",
                 "", "| " + " | ".join(PER_CLASS_COLUMNS) + " |", "|---|" + "---:|" * (len(PER_CLASS_COLUMNS) - 1)]
        card += ["| " + " | ".join("n/a" if v is None else str(v) for v in row) + " |" for row in rows]
    card += ["", f"Use it: `opinions ingest ... --{request.task}-model {out}`, `opinions analyze --model {out}`, `opinions evaluate --model {out}`."]
    (out / "MODEL_CARD.md").write_text("\n".join(card) + "\n")
