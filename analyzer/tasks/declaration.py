"""What the house may know about a task without running it: `About`, one per task folder.

A task folder's `__init__.py` holds its `ABOUT` and imports nothing heavy, so the CLI's help,
`opinions config show`, the store (which creates the task's table) and the reports read it
without torch. Everything that runs a model is in the folder's `task.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class About:
    name: str
    summary: str  # one line: `--tasks` help, `opinions models`
    table: str  # the result table its `table.sql` creates and its `land.sql` fills
    labels: tuple[str, ...]  # what the embedded model predicts, in its head's order
    # the model each hub profile runs (the embedded profile runs the pack entry `analyzer/pack/<name>/`)
    profiles: Mapping[str, str] = field(default_factory=dict)
    # part of `opinions ingest`'s default `--tasks` (the README's table of measured costs says why or why not)
    in_default_ingest: bool = True
    # the floors `training.pack_check` holds the embedded entry's dev scores to: {score name: minimum}
    pack_floors: Mapping[str, float] = field(default_factory=dict)
    # how the embedded entry was trained: the command, run from the repository root
    recipe: str = ""
