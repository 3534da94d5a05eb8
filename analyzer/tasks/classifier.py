"""A sentence classifier: one label, its probability and the whole distribution per text.

Sentiment, offensive and emotion are this class with their own `About` (labels, table) and
label aliases. Long texts keep their head and tail (`HEAD_SHARE`); the text is normalised the
way the model was trained (its config's `opinions_normalisation`); the head reads [CLS] only, so
the last layer runs for that row alone (`analyzer.models.cls_only`, same logits).

Rows: `label`, `score` (the label's probability), a `p_<label>` column per label the task's
reports count (`prob_labels`), and `reason` when the text was not analysed (its language).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from analyzer.tasks.base import Encoded, Prediction, Task, TaskOptions
from analyzer.tasks.declaration import About
from analyzer.text.normalise import model_normalisation, normaliser

HEAD_SHARE = 0.25  # long texts keep the first quarter and the last three quarters of the budget


def prob_column(label: str) -> str:
    """The store column of a label's probability: `p_negative`, `p_not_offensive`."""
    return "p_" + re.sub(r"\W", "_", label.lower())


def row_schema(prob_labels: tuple[str, ...]) -> dict[str, Any]:
    return {"text_hash": pl.String, "model": pl.String, "label": pl.String, "score": pl.Float64,
            **{prob_column(label): pl.Float64 for label in prob_labels}, "reason": pl.String}


class SentenceClassifier(Task):
    about: ClassVar[About]
    model_kind = "sequence"
    prob_labels: ClassVar[tuple[str, ...]]  # the labels with a p_ column (default: every label of `about`)
    # what other models call our labels (lower-cased name → ours); "label_i" names of a head with as many
    # labels as ours are taken to be ours in order
    aliases: ClassVar[dict[str, str]] = {}
    metric_tables: ClassVar[dict[str, tuple[str, list[str]]]] = {
        "per_label": ("per label", ["label", "recall", "f1", "support"])}
    speed_path_names: ClassVar[tuple[str, ...]] = ("[CLS]-only last layer",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "about" in cls.__dict__:
            cls.name = cls.about.name
            cls.prob_labels = cls.__dict__.get("prob_labels", cls.about.labels)
            cls.row_schema = row_schema(cls.prob_labels)

    @classmethod
    def canonical_labels(cls, raw: list[str]) -> list[str]:
        """A model's or a labelled file's label names as this task spells them."""
        lowered = [cls.aliases.get(r.lower(), r.lower()) for r in raw]
        if all(r.startswith("label_") for r in lowered) and len(raw) == len(cls.about.labels):
            return list(cls.about.labels)
        return lowered

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        super().__init__(spec, runtime, options)
        raw = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        self.labels = self.canonical_labels(raw)
        # the text is normalised the way the model was trained (config `opinions_normalisation`); unknown: refused
        self.normalise = normaliser(model_normalisation(self.model.config))

    def prepare(self, model: Any) -> Any:
        from analyzer.models import cls_only
        model, state = cls_only.trim(model)
        self.speed_paths[self.speed_path_names[0]] = "on" if state.active else f"off ({state.reason})"
        return model

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        body = self.max_length - 2
        head = int(body * HEAD_SHARE)
        encoded = self.tokenizer([self.normalise(t) for t in texts], add_special_tokens=False,
                                 truncation=False, verbose=False)["input_ids"]
        return [self._wrap(ids if len(ids) <= body else ids[:head] + ids[len(ids) - (body - head):]) for ids in encoded]

    def preprocess(self, texts: list[str]) -> Encoded:
        return Encoded(self.tokenize(texts))

    def postprocess(self, texts: list[str], encoded: Encoded, outputs: list[Any]) -> list[Prediction]:
        import torch

        predictions = []
        for logits in outputs:
            probs = torch.softmax(logits, dim=-1).tolist()
            best = max(range(len(probs)), key=probs.__getitem__)
            predictions.append({"label": self.labels[best], "score": probs[best],
                                "scores": dict(zip(self.labels, probs, strict=True))})
        return predictions

    @classmethod
    def rows(cls, text_hash: str, model: str, prediction: Prediction | None, lang: str | None) -> list[dict[str, Any]]:
        scores = (prediction or {}).get("scores", {})
        return [{"text_hash": text_hash, "model": model,
                 "label": prediction["label"] if prediction else None,
                 "score": prediction["score"] if prediction else None,
                 **{prob_column(label): scores.get(label) for label in cls.prob_labels},
                 "reason": None if prediction else f"unsupported language: {lang}"}]

    @classmethod
    def json_line(cls, prediction: Prediction | None, lang: str | None) -> dict[str, Any]:
        if prediction is None:
            return {"lang": lang, "label": None, "reason": f"language {lang!r} is not supported by the {cls.name} model"}
        return {"lang": lang, "label": prediction["label"], "score": round(prediction["score"], 4),
                "scores": {k: round(v, 4) for k, v in prediction["scores"].items()}}

    @classmethod
    def to_columns(cls, predictions: list[Prediction | None]) -> dict[str, list[Any]]:
        return {"label": [p["label"] if p else None for p in predictions],
                "score": [p["score"] if p else None for p in predictions],
                "scores": [json.dumps(p["scores"]) if p else None for p in predictions]}

    @classmethod
    def from_columns(cls, columns: dict[str, list[Any]]) -> list[Prediction | None]:
        return [None if label is None else {"label": label, "score": score, "scores": json.loads(scores)}
                for label, score, scores in zip(columns["label"], columns["score"], columns["scores"], strict=True)]

    @classmethod
    def evaluate(cls, path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
        from sklearn.metrics import f1_score, recall_score

        from analyzer.labels.metrics import classification_scores
        from analyzer.labels.read import read_labelled_texts, require_single_labels

        data = read_labelled_texts(path)
        require_single_labels(data, path)
        gold = data.labels
        model_labels = set(predictor.tasks[cls.name].labels)
        numbered = {str(i): label for i, label in enumerate(cls.about.labels)}  # TweetEval's 0, 1, 2 convention
        if set(gold) <= set(numbered) and set(cls.about.labels) <= model_labels:
            gold = [numbered[g] for g in gold]
        ours = (cls.aliases.get(g.lower(), g.lower()) for g in gold)
        gold = [c if c in model_labels else g for c, g in zip(ours, gold, strict=True)]
        started = time.perf_counter()
        result = predictor({"text_hash": [str(i) for i in range(len(data.texts))], "text": data.texts})
        seconds = time.perf_counter() - started
        predicted = [p["label"] if p else None for p in result[cls.name]]
        labels = sorted(set(gold))
        scores = classification_scores(gold, predicted, labels)
        pred = [p or "<none>" for p in predicted]
        recalls = recall_score(gold, pred, labels=labels, average=None, zero_division=0)
        f1s = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
        per_label = {label: {"recall": round(100 * r, 2), "f1": round(100 * f, 2), "support": gold.count(label)}
                     for label, r, f in zip(labels, recalls, f1s, strict=True)}
        unlabelled = sum(1 for p in predicted if p is None)
        return {"file": str(path), "model": spec.source, **scores, "unsupported_language": unlabelled,
                "texts_per_second": round(len(data.texts) / max(seconds, 1e-9), 1), "per_label": per_label}
