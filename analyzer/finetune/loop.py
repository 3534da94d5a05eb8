"""Fine-tuning: the one training loop behind `training/` and `opinions train`.

Sentence classification (sentiment, or any user label set) and token classification
(NER, BIO tags) share the loop: length-bucketed batches, AdamW with linear warm-up and
decay, optional label smoothing and class weights, per-epoch evaluation, and averaging of the last epochs'
weights (a cheap, measured gain). Lower layers can be frozen so that only the upper ones
need to be stored.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class TrainConfig:
    epochs: float = 3.0
    lr: float = 5e-5
    batch_size: int = 32
    max_length: int = 128
    warmup: float = 0.06
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    frozen_layers: int = 1  # encoder layers kept frozen
    freeze_embeddings: bool = True  # word embeddings (half the base's parameters) kept frozen
    average_last: int = 1  # average the weights at the end of the last N epochs
    seed: int = 13
    log_every: int = 200
    threads: int | None = None
    select_metric: str | None = None  # keep the epoch with the best value of this evaluate() key
    patience: int = 1  # with select_metric: stop after this many epochs without improvement
    # partial labels: label id num_labels + k means "any of label_groups[k]" (a corpus that never
    # annotated a type marks its O tokens this way, so it does not teach that type away)
    label_groups: list[list[int]] = field(default_factory=list)
    # with a "teacher" probability vector in the features: weight of the distillation term
    distill_weight: float = 0.5
    # bf16 autocast for the forward pass (fp32 master weights and optimizer state): on a CPU
    # with AMX a training step runs several times faster (see training/README.md)
    bf16: bool = False
    # loss weight per label id (None: all 1): a rare class's errors cost as much in total as a
    # common one's, so the model cannot get a low loss by never predicting it
    class_weights: list[float] | None = None


@dataclass
class TrainResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def load_tokenizer_for_training(source: str) -> Any:
    """The tokenizer of the model folder or hub id `source`, as every trainer here loads it."""
    import transformers

    from analyzer.models.runtime import quiet_transformers

    quiet_transformers()
    return transformers.AutoTokenizer.from_pretrained(source)


def new_head_model(kind: str, source: str, labels: Sequence[str], **config: Any) -> nn.Module:
    """The encoder of `source` with a new, randomly initialised head for exactly `labels`
    (`kind`: "sequence" or "token"); `config` overrides the base's settings (num_hidden_layers)."""
    import transformers

    classes = {"sequence": transformers.AutoModelForSequenceClassification,
               "token": transformers.AutoModelForTokenClassification}
    return classes[kind].from_pretrained(
        source, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)}, ignore_mismatched_sizes=True, use_safetensors=True,
        **config)


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def freeze_lower(model: nn.Module, frozen_layers: int, freeze_embeddings: bool = True) -> None:
    """Freeze the lowest `frozen_layers` encoder layers, and the word embeddings unless told not to."""
    encoder_model = model.base_model
    encoder_model.embeddings.word_embeddings.weight.requires_grad_(not freeze_embeddings)
    for layer in encoder_model.encoder.layer[:frozen_layers]:
        for param in layer.parameters():
            param.requires_grad_(False)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors training changed: what the pack stores."""
    names = {name for name, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in names}


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within windows of 50 batches, cut, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def pad_batch(features: list[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(f["input_ids"]) for f in features)
    out: dict[str, torch.Tensor] = {}
    for key in features[0]:
        if key == "teacher":  # a fixed-size probability vector per example: nothing to pad
            out[key] = torch.tensor([f[key] for f in features])
            continue
        fill = pad_id if key == "input_ids" else (-100 if key == "labels" and isinstance(features[0][key], list) else 0)
        if isinstance(features[0][key], list):
            out[key] = torch.tensor([f[key] + [fill] * (width - len(f[key])) for f in features])
        else:
            out[key] = torch.tensor([f[key] for f in features])
    return out


def fit(
    model: nn.Module,
    features: list[dict[str, Any]],
    config: TrainConfig,
    pad_id: int,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    log: Callable[[str], None] | None = None,
    device: str = "cpu",
) -> TrainResult:
    """Train `model` in place on pre-tokenised `features` and return the history: epochs of length-bucketed
    batches, each scored by `evaluate`; then the best epoch kept (`select_metric`) or the last ones averaged."""
    log = log or (lambda message: print(message, flush=True))
    set_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    freeze_lower(model, config.frozen_layers, config.freeze_embeddings)
    model.to(device)
    total_steps = max(1, int(math.ceil(len(features) / config.batch_size) * config.epochs))
    step = _Stepper(model, config, total_steps, device)
    batches = _Batches(features, config, pad_id)
    result, snapshots, keeper = TrainResult(), [], _BestEpoch(config, log)
    started = time.perf_counter()
    epoch = 0
    while step.done < total_steps:
        epoch += 1
        model.train()
        running = 0.0
        for batch in batches.epoch():
            if step.done >= total_steps:
                break
            running += step(batch)
            if step.done % config.log_every == 0:
                rate = step.done / (time.perf_counter() - started)
                log(f"epoch {epoch} step {step.done}/{total_steps} loss {running / config.log_every:.4f} "
                    f"({rate:.2f} steps/s)")
                running = 0.0
        snapshots.append(trainable_state(model))
        entry: dict[str, Any] = {"epoch": epoch, "step": step.done, "seconds": round(time.perf_counter() - started, 1)}
        entry.update(_scores(model, evaluate))
        result.history.append(entry)
        log(f"epoch {epoch} done: {entry}")
        if keeper.stop_after(entry, snapshots[-1], can_stop=step.done < total_steps):
            break
    if keeper.best is not None:
        result.history.append(keeper.restore(model))
    elif config.average_last > 1 and len(snapshots) > 1:
        last = snapshots[-config.average_last :]
        model.load_state_dict({k: sum(s[k] for s in last) / len(last) for k in last[0]}, strict=False)
        entry = {"epoch": f"avg last {len(last)}", "step": step.done, **_scores(model, evaluate)}
        result.history.append(entry)
        log(f"averaged: {entry}")
    result.seconds = time.perf_counter() - started
    return result


def _scores(model: nn.Module, evaluate: Callable[[nn.Module], dict[str, float]] | None) -> dict[str, float]:
    if evaluate is None:
        return {}
    model.eval()
    return evaluate(model)


class _Batches:
    """Each epoch's length-bucketed, padded batches of `features` (one seeded order for the whole run)."""

    def __init__(self, features: list[dict[str, Any]], config: TrainConfig, pad_id: int) -> None:
        self.features, self.config, self.pad_id = features, config, pad_id
        self.lengths = [len(f["input_ids"]) for f in features]
        self.rng = random.Random(config.seed)

    def epoch(self) -> Iterator[dict[str, torch.Tensor]]:
        for batch_ids in length_bucketed_batches(self.lengths, self.config.batch_size, self.rng):
            yield pad_batch([self.features[i] for i in batch_ids], self.pad_id)


class _Stepper:
    """One optimisation step: AdamW (no decay on biases and norms), linear warm-up then decay, the task's loss
    (label-smoothed cross-entropy, class-weighted or over label sets) plus distillation where a teacher is given."""

    def __init__(self, model: nn.Module, config: TrainConfig, total_steps: int, device: str) -> None:
        self.model, self.config, self.device = model, config, device
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [{"params": [p for p in self.params if p.ndim >= 2], "weight_decay": config.weight_decay},
             {"params": [p for p in self.params if p.ndim < 2], "weight_decay": 0.0}], lr=config.lr)
        warmup = max(1, int(total_steps * config.warmup))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: step / warmup if step < warmup
            else max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
        self.loss_fn = _loss_function(model, config, device)
        self.done = 0

    def __call__(self, batch: dict[str, torch.Tensor]) -> float:
        labels = batch.pop("labels").to(self.device)
        teacher = batch.pop("teacher").to(self.device) if "teacher" in batch else None
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16, enabled=self.config.bf16):
            logits = self.model(**batch).logits
        logits = logits.float()
        loss = self.loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        if teacher is not None:
            weight = self.config.distill_weight
            loss = (1 - weight) * loss + weight * distillation_loss(logits, teacher)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.done += 1
        return loss.item()


def _loss_function(model: nn.Module, config: TrainConfig, device: str) -> nn.Module:
    if config.class_weights is not None and config.label_groups:
        raise ValueError("class_weights and label_groups cannot be combined")
    if config.label_groups:
        return PartialLabelLoss(config.label_groups, model.config.num_labels, config.label_smoothing).to(device)
    weight = torch.tensor(config.class_weights, dtype=torch.float32, device=device) if config.class_weights else None
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing, ignore_index=-100)


class _BestEpoch:
    """Early stopping on `config.select_metric`: remembers the best epoch's weights, says when to stop."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None]) -> None:
        self.config, self.log = config, log
        self.best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self.stale = 0

    def stop_after(self, entry: dict[str, Any], weights: dict[str, torch.Tensor], can_stop: bool) -> bool:
        metric = self.config.select_metric
        if not metric or metric not in entry:
            return False
        value = float(entry[metric])
        if self.best is None or value > self.best[0]:
            self.best, self.stale = (value, int(entry["epoch"]), weights), 0
            return False
        self.stale += 1
        if self.stale >= self.config.patience and can_stop:
            self.log(f"early stop: {metric} has not improved for {self.stale} epoch(s)")
            return True
        return False

    def restore(self, model: nn.Module) -> dict[str, Any]:
        assert self.best is not None
        value, epoch, weights = self.best
        model.load_state_dict(weights, strict=False)
        self.log(f"kept epoch {epoch}: {self.config.select_metric} = {value}")
        return {"epoch": f"best ({epoch})", self.config.select_metric: value}


def distillation_loss(logits: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) per example: the student learns the teacher's whole distribution,
    not just its argmax (how an ensemble's knowledge moves into one small model)."""
    return nn.functional.kl_div(torch.log_softmax(logits.float(), dim=-1), teacher.float(), reduction="batchmean")


class PartialLabelLoss(nn.Module):
    """Cross-entropy where a label may be a set: -log of the probability mass on the allowed labels."""

    def __init__(self, groups: list[list[int]], num_labels: int, label_smoothing: float = 0.0) -> None:
        super().__init__()
        allowed = torch.cat([torch.eye(num_labels), torch.zeros(len(groups), num_labels)])
        for k, members in enumerate(groups):
            allowed[num_labels + k, members] = 1.0
        self.register_buffer("log_allowed", torch.log(allowed))  # 0 where allowed, -inf elsewhere
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        keep = labels != -100
        logp = torch.log_softmax(logits[keep].float(), dim=-1)
        nll = -torch.logsumexp(logp + self.log_allowed[labels[keep]], dim=-1)
        if self.label_smoothing:
            nll = (1 - self.label_smoothing) * nll - self.label_smoothing * logp.mean(dim=-1)
        return nll.mean()


@torch.inference_mode()
def predict_logits(model: nn.Module, features: list[dict[str, Any]], pad_id: int, batch_size: int = 64) -> list[torch.Tensor]:
    """Logits per feature, in input order (length-sorted internally for speed)."""
    model.eval()
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    out: list[torch.Tensor | None] = [None] * len(features)
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        ids = order[start : start + batch_size]
        batch = pad_batch([{k: v for k, v in features[i].items() if k != "labels"} for i in ids], pad_id)
        logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu()
        for row, i in enumerate(ids):
            out[i] = logits[row]
    return out  # type: ignore[return-value]


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int, labels: Sequence[int] | None = None,
                 normalise: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """Features for sentence classification (normalised the way inference normalises)."""
    prepared = [normalise(t) for t in texts] if normalise else list(texts)
    enc = tokenizer(prepared, truncation=True, max_length=max_length)
    features = [{"input_ids": ids, "attention_mask": mask}
                for ids, mask in zip(enc["input_ids"], enc["attention_mask"], strict=True)]
    if labels is not None:
        for feature, label in zip(features, labels, strict=True):
            feature["labels"] = label
    return features


def encode_tagged(tokenizer: Any, sentences: Sequence[list[str]], max_length: int,
                  tags: Sequence[list[str]] | None = None, tag2id: dict[str, int] | None = None,
                  label_subwords: str = "all", case_types: bool = False) -> tuple[list[dict[str, Any]], list[list[int | None]]]:
    """Features for token classification. `label_subwords="all"` labels continuations too
    (I-X); `"first"` labels only each word's first subword, the one inference reads a word's
    tag from. `case_types` adds each subword's letter case as token type ids (analyzer.text.casing).
    Returns features and word ids per sentence."""
    from analyzer.text.casing import NONE, case_type

    enc = tokenizer(list(sentences), is_split_into_words=True, truncation=True, max_length=max_length,
                    return_offsets_mapping=case_types)
    features, word_ids_all = [], []
    for i in range(len(sentences)):
        word_ids = enc.word_ids(i)
        feature: dict[str, Any] = {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]}
        if case_types:  # offsets of a pre-split word are within that word
            feature["token_type_ids"] = [NONE if wid is None else case_type(sentences[i][wid], start, end)
                                         for wid, (start, end) in zip(word_ids, enc["offset_mapping"][i], strict=True)]
        if tags is not None and tag2id is not None:
            labels, previous = [], None
            for wid in word_ids:
                if wid is None or (wid == previous and label_subwords == "first"):
                    labels.append(-100)
                else:
                    tag = tags[i][wid]
                    if wid == previous and tag != "O":
                        tag = "I-" + tag[2:]
                    labels.append(tag2id[tag])
                previous = wid
            feature["labels"] = labels
        features.append(feature)
        word_ids_all.append(word_ids)
    return features, word_ids_all


def word_tags(logits: torch.Tensor, word_ids: list[int | None], n_words: int, id2tag: Sequence[str],
              learned: tuple[Any, Any] | None = None) -> list[str]:
    """Word-level BIO tags from token logits: each word is scored by its first subword, and the
    sequence is the most probable valid one (`analyzer.tasks.ner.bio`, with the model's `learned`
    transitions), exactly as inference decodes."""
    from analyzer.tasks.ner import bio
    probs = torch.softmax(logits.float(), dim=-1).numpy()
    tags = ["O"] * n_words  # words cut off by truncation stay O
    for wid, _, index in bio.decode_words(probs, word_ids, id2tag, learned):
        tags[wid] = id2tag[index]
    return tags
