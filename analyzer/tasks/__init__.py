"""Analysis tasks, registered by name: `NAMES` is the only list of them.

A task is one folder, `analyzer/tasks/<name>/`:

    __init__.py   ABOUT (`analyzer.tasks.declaration`): labels, result table, the model each profile runs,
                  the pack entry's floors and its training recipe. Imports nothing heavy.
    task.py       TASK: the class that runs the model (preprocess → forward → postprocess) and
                  shapes its rows for the store, `opinions analyze` and the Ray engine
    table.sql     its result table; the store creates it, and re-creates it when the file changes
    land.sql      how one chunk of its rows lands (frame `task_rows`)

Everything else (ingest's `--tasks`, `opinions analyze`, `evaluate`, `train`, `models`, the Ray
engine, the store, `config show`) loops over `NAMES`, so adding a task is its folder, its name
below and, for the offline profile, its pack entry (`analyzer/pack/<name>/`).

Importing this package is cheap: a task's class (and torch) is imported when it is asked for.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.errors import OpinionsError

if TYPE_CHECKING:
    from analyzer.tasks.declaration import About

NAMES: tuple[str, ...] = ("sentiment", "ner", "offensive", "emotion")

FOLDER = Path(__file__).resolve().parent


class UnknownTask(OpinionsError, ValueError):
    """A task name that is not one of `NAMES`."""


def _known(name: str) -> str:
    if name not in NAMES:
        raise UnknownTask(f"unknown task {name!r}: choose one of {', '.join(NAMES)}")
    return name


def about(name: str) -> About:
    """What task `name` is, without importing its model code."""
    return importlib.import_module(f"analyzer.tasks.{_known(name)}").ABOUT


def task_class(name: str) -> type:
    """The class of task `name` (an `analyzer.tasks.base.Task`; its module is imported on first use)."""
    return importlib.import_module(f"analyzer.tasks.{_known(name)}.task").TASK


@cache
def sql(name: str, part: str) -> str:
    """The text of a task's `table.sql` or `land.sql`."""
    return (FOLDER / _known(name) / f"{part}.sql").read_text(encoding="utf-8")


def table_digest(name: str) -> str:
    """A digest of the task's table definition, comments and spacing left out: the store re-creates
    the table when it changes (a comment edit does not)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql(name, "table").splitlines())
    return hashlib.sha256(" ".join(code.split()).encode()).hexdigest()[:16]


def default_ingest_tasks() -> list[str]:
    """`opinions ingest`'s `--tasks all`: the tasks whose `About` says so, in registry order."""
    return [name for name in NAMES if about(name).in_default_ingest]


def model_defaults(name: str) -> dict[str, str]:
    """The model each profile runs for task `name`: the pack entry offline, hub ids otherwise."""
    return {"embedded": "embedded", **about(name).profiles}

