"""`opinions train`: fine-tune a sentiment or NER model on a user's labelled comments.

The same loop as the embedded pack (`analyzer.finetune`): it reads the labelled file
(the formats `opinions evaluate` reads), splits off a validation part unless one is given,
scores the base model first, trains with early stopping on the validation metric, scores
again, and writes a self-contained model folder with a model card. A label set that the
base head does not have gets a new head, and the run says so.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shlex
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.labelled import LabelledDataError, read_conll, read_labelled_texts
from analyzer.models import ModelSpec, load_folder_or_id

MIN_TEXTS = 20
MIN_SENTENCES = 10


@dataclass
class TrainRequest:
    task: str
    file: Path
    base: ModelSpec
    out: Path
    eval_file: Path | None = None
    epochs: float = 3.0
    lr: float = 5e-5
    batch_size: int = 16
    max_length: int = 128
    seed: int = 13
    val_share: float = 0.15
    device: str = "auto"


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
    if request.task not in {"sentiment", "ner"}:
        raise LabelledDataError(f"--task {request.task!r}: choose sentiment or ner")
    if request.task == "sentiment":
        return _train_sentiment(request, log)
    return _train_ner(request, log)


def _device(requested: str) -> str:
    from analyzer.runtime import choose_runtime

    return choose_runtime(requested).device


def _load(request: TrainRequest, kind: str, labels: list[str], canonical: Callable[[list[str]], list[str]],
          log: Callable[[str], None]) -> tuple[Any, Any, bool, list[str]]:
    """Base tokenizer + model; the base head is kept when it has exactly the user's labels."""
    import transformers

    from analyzer.runtime import quiet_transformers

    quiet_transformers()
    source = load_folder_or_id(request.base)
    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    config = transformers.AutoConfig.from_pretrained(source)
    classes = {"sequence": transformers.AutoModelForSequenceClassification,
               "token": transformers.AutoModelForTokenClassification}
    base_labels = canonical([str(config.id2label[i]) for i in range(config.num_labels)]) if config.id2label else []
    if sorted(base_labels) == sorted(labels) and base_labels:
        model = classes[kind].from_pretrained(source, use_safetensors=True)
        model.config.id2label = dict(enumerate(base_labels))
        model.config.label2id = {label: i for i, label in enumerate(base_labels)}
        log(f"base head kept: labels {base_labels}")
        return tokenizer, model, False, base_labels
    model = classes[kind].from_pretrained(
        source, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)}, ignore_mismatched_sizes=True, use_safetensors=True)
    log(f"new head: the base has labels {base_labels or 'none'}, your data has {labels}")
    return tokenizer, model, True, labels


def _train_sentiment(request: TrainRequest, log: Callable[[str], None]) -> TrainReport:
    from analyzer.finetune import encode_texts, predict_logits
    from analyzer.metrics import classification_scores
    from analyzer.tasks import canonical_sentiment_labels
    from analyzer.textnorm import model_normalisation, normaliser

    data = read_labelled_texts(request.file)
    labels_raw = [canonical_sentiment_labels([label])[0] if label.lower() in {"neg", "pos", "neu"} else label.lower()
                  for label in data.labels]
    counts = Counter(labels_raw)
    if len(data.texts) < MIN_TEXTS:
        raise LabelledDataError(f"{request.file}: {len(data.texts)} examples; at least {MIN_TEXTS} are needed")
    if len(counts) < 2:
        raise LabelledDataError(f"{request.file}: only one label ({next(iter(counts))}); at least two are needed")
    if request.eval_file:
        val_data = read_labelled_texts(request.eval_file)
        train_idx, val_texts = list(range(len(data.texts))), val_data.texts
        val_labels = [label.lower() for label in val_data.labels]
    else:
        train_idx, val_idx = _split(len(data.texts), labels_raw, request.val_share, request.seed)
        val_texts, val_labels = [data.texts[i] for i in val_idx], [labels_raw[i] for i in val_idx]
    labels = sorted(counts)
    tokenizer, model, new_head, order = _load(request, "sequence", labels, canonical_sentiment_labels, log)
    label2id = {label: i for i, label in enumerate(order)}
    unknown = sorted(set(val_labels) - set(label2id))
    if unknown:
        raise LabelledDataError(f"validation labels {unknown} do not occur in the training data")
    device = _device(request.device)
    model.to(device)
    # trained on text normalised as the base was; the config keeps its name, so inference normalises alike
    normalise = normaliser(model_normalisation(model.config))
    features = encode_texts(tokenizer, [data.texts[i] for i in train_idx], request.max_length,
                            [label2id[labels_raw[i]] for i in train_idx], normalise)
    val_features = encode_texts(tokenizer, val_texts, request.max_length, normalise=normalise)

    def evaluate(m: Any) -> dict[str, Any]:
        predicted = [order[int(x.argmax())] for x in predict_logits(m, val_features, tokenizer.pad_token_id)]
        return classification_scores(val_labels, predicted, sorted(set(val_labels) | set(order)))

    return _fit_and_save(request, tokenizer, model, features, evaluate, "macro_f1", order, new_head,
                         (len(train_idx), len(val_texts)), device, log)


def _train_ner(request: TrainRequest, log: Callable[[str], None]) -> TrainReport:
    from analyzer import bio
    from analyzer.finetune import encode_tagged, predict_logits, word_tags
    from analyzer.metrics import entity_scores

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
    tokenizer, model, new_head, order = _load(request, "token", tags, lambda names: names, log)
    tag2id = {t: i for i, t in enumerate(order)}
    device = _device(request.device)
    model.to(device)
    from analyzer.casing import uses_case_types

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

    return _fit_and_save(request, tokenizer, model, features, evaluate, "f1", order, new_head,
                         (len(train_tokens), len(val_tokens)), device, log)


def _fit_and_save(request: TrainRequest, tokenizer: Any, model: Any, features: list[dict[str, Any]],
                  evaluate: Callable[[Any], dict[str, Any]], metric: str, labels: list[str], new_head: bool,
                  sizes: tuple[int, int], device: str, log: Callable[[str], None]) -> TrainReport:
    """Score the base, train with early stopping on `metric`, score again, write the folder."""
    import time

    from analyzer.finetune import TrainConfig, fit

    before = None if new_head else evaluate(model)
    log(f"before: {before if before else 'n/a (new head)'}")
    config = TrainConfig(epochs=request.epochs, lr=request.lr, batch_size=request.batch_size,
                         max_length=request.max_length, frozen_layers=0, seed=request.seed,
                         select_metric=metric, patience=2, log_every=50)
    started = time.perf_counter()
    result = fit(model, features, config, tokenizer.pad_token_id, evaluate=evaluate, log=log, device=device)
    after = evaluate(model)
    log(f"after: {after}")
    report = TrainReport(request.out, labels, new_head, sizes[0], sizes[1], before, after, result.history,
                         time.perf_counter() - started)
    _save(request, tokenizer, model, report)
    return report


def _save(request: TrainRequest, tokenizer: Any, model: Any, report: TrainReport) -> None:
    out = request.out
    out.mkdir(parents=True, exist_ok=True)
    model.cpu()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "opinions.json").write_text(json.dumps({
        "task": request.task, "languages": ["en"], "labels": report.labels, "base": request.base.source,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "train_examples": report.n_train,
        "val_examples": report.n_val, "before": report.before, "after": report.after,
    }, indent=2, default=str))
    card = [
        f"# {out.name}: {request.task} model fine-tuned with `opinions train`",
        "",
        f"- Base: `{request.base.source}` ({'new head' if report.new_head else 'base head kept'})",
        f"- Labels: {', '.join(report.labels)}",
        f"- Data: `{request.file}` — {report.n_train} training and {report.n_val} validation examples"
        + (f" (validation from `{request.eval_file}`)" if request.eval_file else " (seeded split)"),
        f"- Training: {request.epochs:g} epochs max, lr {request.lr:g}, batch {request.batch_size}, seed "
        f"{request.seed}, early stopping on the validation metric; {report.seconds:.0f} s",
        f"- Command: `{shlex.join(['opinions', *sys.argv[1:]])}`",
        "",
        "| metric | before | after |",
        "|---|---:|---:|",
    ]
    for key, value in report.after.items():
        if isinstance(value, (int, float)):
            previous = (report.before or {}).get(key, "n/a")
            card.append(f"| {key} | {previous} | {value} |")
    card += ["", "Use it: `opinions ingest ... --" + ("sentiment" if request.task == "sentiment" else "ner")
             + f"-model {out}`, `opinions analyze --model {out}`, `opinions evaluate --model {out}`."]
    (out / "MODEL_CARD.md").write_text("\n".join(card) + "\n")
