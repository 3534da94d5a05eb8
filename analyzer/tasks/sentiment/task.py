"""The sentiment task's model run: a sentence classifier (analyzer.tasks.classifier) whose labels
other models spell neg / neu / pos, or number."""

from __future__ import annotations

from typing import ClassVar

from analyzer.tasks.classifier import HEAD_SHARE, SentenceClassifier
from analyzer.tasks.sentiment import ABOUT

__all__ = ["HEAD_SHARE", "SentimentTask"]


class SentimentTask(SentenceClassifier):
    about = ABOUT
    aliases: ClassVar[dict[str, str]] = {"neg": "negative", "pos": "positive", "neu": "neutral"}

    @classmethod
    def canonical_labels(cls, raw: list[str]) -> list[str]:
        """As any classifier's, and a two-label head numbered label_0, label_1 is negative, positive."""
        if len(raw) == 2 and all(r.lower().startswith("label_") for r in raw):
            return ["negative", "positive"]
        return super().canonical_labels(raw)


TASK = SentimentTask
