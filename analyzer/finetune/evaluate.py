"""`opinions evaluate`: score any configured model on a user's labelled file.

Each task scores itself (`Task.evaluate`: its labelled format, its metrics); this runs it
with the settings the task asks for (`Task.evaluation_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer.models.spec import ModelSpec


def evaluate_file(path: Path, task: str, spec: ModelSpec, device: str = "auto", quantize: str = "auto") -> dict[str, Any]:
    from analyzer.tasks import task_class
    from analyzer.tasks.analysis import AnalysisSettings, Predictor

    scorer = task_class(task)
    predictor = Predictor(AnalysisSettings([task], {task: spec}, device=device, quantize=quantize,
                                           **scorer.evaluation_settings))
    return scorer.evaluate(path, predictor, spec)
