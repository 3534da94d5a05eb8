"""Scores for `opinions evaluate`, `opinions train` and the training scripts."""

from __future__ import annotations

from collections.abc import Sequence


def classification_scores(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> dict[str, float]:
    """Macro recall (TweetEval's metric), macro F1, accuracy; unlabelled predictions count as wrong."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    pred = [p if p is not None else "<none>" for p in predicted]
    labels = list(labels)
    return {
        "macro_recall": round(100 * recall_score(gold, pred, labels=labels, average="macro", zero_division=0), 2),
        "macro_f1": round(100 * f1_score(gold, pred, labels=labels, average="macro", zero_division=0), 2),
        "accuracy": round(100 * accuracy_score(gold, pred), 2),
        "n": len(gold),
    }


def per_class_scores(gold: Sequence[str], predicted: Sequence[str | None],
                     labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 (percent) and support of each label; unlabelled predictions count as wrong."""
    from sklearn.metrics import precision_recall_fscore_support

    pred = [p if p is not None else "<none>" for p in predicted]
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=list(labels), average=None,
                                                                     zero_division=0)
    return {label: {"precision": round(100 * float(p), 2), "recall": round(100 * float(r), 2),
                    "f1": round(100 * float(f), 2), "support": int(n)}
            for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)}


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float | dict]:
    """Strict entity-level precision/recall/F1 (seqeval, IOB2 strict mode), overall and per type."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    report = classification_report(gold, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    per_type = {
        name: {"precision": round(100 * v["precision"], 2), "recall": round(100 * v["recall"], 2),
               "f1": round(100 * v["f1-score"], 2), "support": int(v["support"])}
        for name, v in report.items()
        if not name.endswith("avg")
    }
    micro = report["micro avg"]
    return {
        "f1": round(100 * micro["f1-score"], 2),
        "precision": round(100 * micro["precision"], 2),
        "recall": round(100 * micro["recall"], 2),
        "per_type": per_type,
    }
