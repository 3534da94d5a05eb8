"""Analysis tasks, registered by name: `NAMES` is the only list of them.

Each task is one module here (`analyzer/tasks/<name>.py`, exporting `TASK`) plus the SQL
that lands its rows (`queries/tasks/<name>.sql`). Everything else (ingest's `--tasks`,
`opinions analyze`, `evaluate`, `train`, `models`, the Ray engine, the store writes) loops
over `NAMES`, so adding a task (emotion, toxicity) is that module, its SQL and its name below.

Importing this package is cheap: a task's module (and torch) is imported when it is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from analyzer.errors import OpinionsError

if TYPE_CHECKING:
    from analyzer.tasks.base import Task

NAMES: tuple[str, ...] = ("sentiment", "ner")


class UnknownTask(OpinionsError, ValueError):
    """A task name that is not one of `NAMES`."""


def task_class(name: str) -> type[Task]:
    """The class of task `name` (its module is imported on first use)."""
    if name not in NAMES:
        raise UnknownTask(f"unknown task {name!r}: choose one of {', '.join(NAMES)}")
    return importlib.import_module(f"analyzer.tasks.{name}").TASK
