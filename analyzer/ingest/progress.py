"""What a run tells its caller: the summary it builds as chunks land, the progress callbacks,
and the signals that ask it to stop. Shared by both engines and `run`."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any


@dataclass
class SourceCounts:
    """What one source gave so far, for what is said about it once the run ends (RunSummary.conclude_sources)."""

    rows: int = 0
    rejected: int = 0
    first_reject: tuple[str | None, str] | None = None  # (record, reason) while it is the only row read
    columns: dict[str, str] = field(default_factory=dict)  # a table's role → column (analyzer.sources.columns)
    filled: dict[str, int] = field(default_factory=dict)  # role → stored rows that got a value for it


@dataclass
class RunSummary:
    run_id: int
    status: str = "running"
    rows_read: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    texts_analysed: int = 0
    texts_cached: int = 0
    texts_unsupported: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0  # time the model was computing: its busy share of `seconds` shows the overlap
    device: str | None = None
    presets: dict[str, str] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    # what a source that was read lacks (an archive's authors): in `notes`, and with the run (`report runs`)
    warnings: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # why a failed run stopped (its committed chunks are kept)
    # a source read as one record that was rejected: what it holds (presets.unread_hint), for the user to act on
    unread: dict[str, str] = field(default_factory=dict)
    source_counts: dict[str, SourceCounts] = field(default_factory=dict, repr=False)
    topics_capped: int = 0  # new comments that had more topics than MAX_TOPICS_PER_COMMENT (said in `notes`)

    @property
    def rows_landed(self) -> int:
        """Rows that are in the database now (new, or stored before) or deliberately not stored (skipped)."""
        return self.rows_new + self.rows_duplicate + self.rows_skipped

    def failure(self) -> str:
        """Why nothing was ingested, in one line."""
        parts = [f"{k}: {v}" for k, v in self.failed_sources.items()]
        if self.rows_read:
            parts.append(f"all {self.rows_read:,} rows read were rejected (see `opinions report rejects "
                         f"--run {self.run_id}`)")
        parts += [f"{source}: {hint}" for source, hint in self.unread.items()]
        return "nothing was ingested: " + "; ".join(parts)

    def count_source(self, source: str, rows_read: int, rejected: int, first_reject: tuple[str | None, str] | None,
                     filled: dict[str, int]) -> None:
        """Add a landed chunk's counts to its source's; the first reject is kept while it is all the source read."""
        counts = self.source_counts.setdefault(source, SourceCounts())
        counts.first_reject = first_reject if counts.rows == 0 else None
        counts.rows += rows_read
        counts.rejected += rejected
        for role, n in filled.items():
            counts.filled[role] = counts.filled.get(role, 0) + n

    def conclude_sources(self) -> list[str]:
        """The notes on sources to log once the run ends: each source read as one record, rejected, explained
        (`unread`); each table column taken for a role but empty in every stored row, a warning."""
        from analyzer.sources.presets import unread_hint

        notes = []
        for source, counts in self.source_counts.items():
            if counts.rows == 1 and counts.rejected == 1 and counts.first_reject is not None:
                self.unread[source] = unread_hint(*counts.first_reject)
                notes.append(f"{source}: {self.unread[source]}")
            stored = counts.filled.get("rows", 0)
            empty = [f"{column} ({role})" for role, column in counts.columns.items()
                     if role in counts.filled and stored and not counts.filled[role]]
            if empty:
                notes.append(f"{source}: warning: column{'s' if len(empty) > 1 else ''} {', '.join(empty)} "
                             f"{'are' if len(empty) > 1 else 'is'} empty in every stored row")
        return notes

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source_counts")
        del data["topics_capped"]  # said in `notes`; the summary's keys are a documented interface
        del data["warnings"]  # said in `notes` too
        data["seconds"] = round(self.seconds, 3)
        data["model_seconds"] = round(self.model_seconds, 3)
        return data


@dataclass
class Progress:
    """Callbacks the CLI wires to a progress bar; all optional."""

    on_rows: Callable[[int], None] | None = None
    on_texts: Callable[[float], None] | None = None  # fractions: it moves per model batch
    on_texts_total: Callable[[int], None] | None = None
    on_log: Callable[[str], None] | None = None
    on_input_total: Callable[[int], None] | None = None  # bytes of the regular files to read
    on_input: Callable[[int], None] | None = None  # bytes of them read since the last call

    def log(self, message: str) -> None:
        if self.on_log:
            # a log line names files and quotes notes: no ESC/BEL/CR from a file name may forge or hide lines
            from analyzer.text.safe_output import for_terminal

            self.on_log(for_terminal(message))


class InputMeter:
    """The rows bar of either engine: rows as each batch lands, and each source's bytes up to the
    batch's `input_position`, so the bar has a total and an ETA from the start (compressed files
    included: the position is in the file's own bytes)."""

    def __init__(self, progress: Progress, sizes: list[int | None]) -> None:
        self.progress, self.sizes, self.shown = progress, sizes, [0] * len(sizes)
        if progress.on_input_total and any(size is not None for size in sizes):
            progress.on_input_total(sum(size or 0 for size in sizes))

    def landed(self, source_index: int, rows_read: int, input_position: int | None) -> None:
        if self.progress.on_rows:
            self.progress.on_rows(rows_read)
        size = self.sizes[source_index]
        if size and input_position is not None:
            self._advance(source_index, min(input_position, size))

    def finished(self, source_index: int) -> None:
        """The source was read to its end (or given up): all of it counts."""
        self._advance(source_index, self.sizes[source_index] or 0)

    def _advance(self, source_index: int, position: int) -> None:
        if self.progress.on_input and position > self.shown[source_index]:
            self.progress.on_input(position - self.shown[source_index])
            self.shown[source_index] = position


class GracefulStop:
    """SIGTERM / SIGINT / SIGHUP ask the run to stop after the current model batch; a second one stops at once."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}  # signal handlers to restore

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            # SIGHUP: the terminal or ssh session went away; by default it killed the run, left `running`
            for sig in (signal.SIGTERM, signal.SIGINT, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        # said at once, not when the batch ends: an operator must know the signal arrived
        again = "Ctrl-C" if signum == signal.SIGINT else "signal"
        os.write(2, f"opinions: {self.requested}: stopping after the current batch; what is committed stays "
                    f"(send {again} again to stop now)\n".encode())

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
