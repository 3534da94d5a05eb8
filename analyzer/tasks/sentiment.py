"""Sentiment: one label (negative / neutral / positive) and its probabilities per text.

Long texts keep their head and tail (`HEAD_SHARE`); the text is normalised the way the
model was trained (its config's `opinions_normalisation`). Results land in `sentiment`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from analyzer.tasks.base import Encoded, Prediction, Task, TaskOptions
from analyzer.text.normalise import model_normalisation, normaliser

SENTIMENT_LABELS = ("negative", "neutral", "positive")
HEAD_SHARE = 0.25  # long texts keep the first quarter and the last three quarters of the budget
NUMERIC_SENTIMENT = {"0": "negative", "1": "neutral", "2": "positive"}  # TweetEval's convention


def canonical_sentiment_labels(raw: list[str]) -> list[str]:
    """Map a model's label names onto negative/neutral/positive where they mean that."""
    lowered = [r.lower() for r in raw]
    aliases = {"neg": "negative", "pos": "positive", "neu": "neutral"}
    lowered = [aliases.get(r, r) for r in lowered]
    if all(r.startswith("label_") for r in lowered) and len(raw) in (2, 3):
        return ["negative", "positive"] if len(raw) == 2 else list(SENTIMENT_LABELS)
    return lowered


class SentimentTask(Task):
    name = "sentiment"
    model_kind = "sequence"
    row_schema: ClassVar[dict[str, Any]] = {
        "text_hash": pl.String, "model": pl.String, "label": pl.String, "score": pl.Float64,
        "p_negative": pl.Float64, "p_neutral": pl.Float64, "p_positive": pl.Float64, "reason": pl.String}
    metric_tables: ClassVar[dict[str, tuple[str, list[str]]]] = {
        "per_label": ("per label", ["label", "recall", "f1", "support"])}
    canonical_labels = staticmethod(canonical_sentiment_labels)
    speed_path_names: ClassVar[tuple[str, ...]] = ("[CLS]-only last layer",)

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        super().__init__(spec, runtime, options)
        raw = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        self.labels = canonical_sentiment_labels(raw)
        # the text is normalised the way the model was trained (config `opinions_normalisation`); unknown: refused
        self.normalise = normaliser(model_normalisation(self.model.config))

    def prepare(self, model: Any) -> Any:
        """The head reads [CLS] only: the last layer runs for that row alone (analyzer.models.cls_only, same logits)."""
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
                 "p_negative": scores.get("negative"), "p_neutral": scores.get("neutral"),
                 "p_positive": scores.get("positive"),
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
        if set(gold) <= set(NUMERIC_SENTIMENT) and set(SENTIMENT_LABELS) <= model_labels:
            gold = [NUMERIC_SENTIMENT[g] for g in gold]
        gold = [g.lower() if g.lower() in model_labels else g for g in gold]
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


TASK = SentimentTask
