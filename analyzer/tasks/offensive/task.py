"""The offensive task's model run: a sentence classifier (analyzer.tasks.classifier)."""

from __future__ import annotations

from typing import ClassVar

from analyzer.tasks.classifier import SentenceClassifier
from analyzer.tasks.offensive import ABOUT


class OffensiveTask(SentenceClassifier):
    about = ABOUT
    prob_labels: ClassVar[tuple[str, ...]] = ("offensive",)  # p_not_offensive would be 1 - p_offensive
    # OffensEval's OFF/NOT, toxicity models' toxic/neutral, and the usual spellings
    aliases: ClassVar[dict[str, str]] = {
        "off": "offensive", "toxic": "offensive", "toxicity": "offensive", "abusive": "offensive", "hate": "offensive",
        "not": "not-offensive", "non-offensive": "not-offensive", "not_offensive": "not-offensive",
        "non-toxic": "not-offensive", "not-toxic": "not-offensive", "neutral": "not-offensive",
        "normal": "not-offensive"}


TASK = OffensiveTask
