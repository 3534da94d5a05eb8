"""The emotion task's model run: a sentence classifier (analyzer.tasks.classifier)."""

from __future__ import annotations

from typing import ClassVar

from analyzer.tasks.classifier import SentenceClassifier
from analyzer.tasks.emotion import ABOUT


class EmotionTask(SentenceClassifier):
    about = ABOUT
    aliases: ClassVar[dict[str, str]] = {
        "angry": "anger", "disgusted": "disgust", "fearful": "fear", "scared": "fear", "happy": "joy",
        "happiness": "joy", "sad": "sadness", "surprised": "surprise", "none": "neutral", "no emotion": "neutral",
        "others": "neutral"}


TASK = EmotionTask
