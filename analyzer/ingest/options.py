"""What one ingest run is asked to do: the one options value the CLI builds and both engines read.

Every default lives here once; `analyzer.cli` passes what the user gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.errors import OpinionsError
from analyzer.sources.reader import BATCH_ROWS, ReadLimits

if TYPE_CHECKING:
    from analyzer.tasks.analysis import AnalysisSettings

ENGINES = ("local", "ray")


class IngestError(OpinionsError, RuntimeError):
    """Nothing could be ingested (every input failed), or the inputs were unusable."""


@dataclass
class RayOptions:
    """The Ray engine's settings (`--engine ray`)."""

    address: str | None = None  # None: a private loopback cluster for this run
    workers: int | None = None  # None: from the cluster's CPUs
    gpus_per_worker: float = 0.0
    object_store_mb: int = 512
    batch_rows: int = 512  # texts per block sent to a predictor actor (results never depend on it)


@dataclass
class IngestOptions:
    # how records map onto comments (presets.with_overrides)
    preset: str | None = None  # None: detected per source
    text_field: str | None = None
    id_field: str | None = None
    time_field: str | None = None
    author_field: str | None = None
    topic_field: str | None = None
    topic: str | None = None  # --topic: one topic for every record
    author: str | None = None  # --author: for records that name none
    time_format: str | None = None  # --time-format: strptime format of the time field
    delimiter: str | None = None  # --delimiter: CSV delimiter (default: sniffed)
    no_header: bool = False  # --no-header: a CSV's first line is a row; columns are named by position
    # what runs on new texts, and the config file's settings (keyword topics)
    analysis: AnalysisSettings | None = None  # None: --tasks none
    config: dict[str, Any] = field(default_factory=dict)
    # how sources are read
    batch_rows: int = BATCH_ROWS
    limits: ReadLimits = field(default_factory=ReadLimits)  # line cap, chunk bytes, read size
    # where the work runs
    engine: str = "local"  # one of ENGINES
    ray: RayOptions = field(default_factory=RayOptions)

    def check(self) -> None:
        """Refuse unusable options before anything is opened."""
        from analyzer.sources import presets
        if self.preset:
            presets.get_preset(self.preset)  # fail fast on an unknown name
        if self.engine not in ENGINES:
            raise IngestError(f"unknown engine {self.engine!r}: choose local or ray")
        check_flags(self)
        if self.analysis:  # the models' thread count, checked before rows are stored (not when a model loads)
            from analyzer.settings import cpu_threads

            cpu_threads()


def check_flags(options: IngestOptions) -> None:
    """The field names and the time format, checked before a run is recorded (IngestError naming the flag)."""
    from analyzer.sources.dates import TimeFormatError, check_time_format
    from analyzer.sources.presets import PresetError, field_path

    fields = {"--text-field": options.text_field, "--id-field": options.id_field, "--time-field": options.time_field,
              "--author-field": options.author_field,
              "--topic-field": None if options.topic_field == "@file" else options.topic_field}
    for flag, value in fields.items():
        if value is not None:
            try:
                field_path(value)
            except PresetError as exc:
                raise IngestError(f"{flag}: {exc}") from None
    if options.time_format is not None:
        try:
            check_time_format(options.time_format)
        except TimeFormatError as exc:
            raise IngestError(f"--time-format: {exc}") from None


def parse_delimiter(delimiter: str | None) -> str | None:
    """--delimiter: one character; `tab` or `\\t` name the tab."""
    if delimiter is None:
        return None
    if delimiter.lower() in {"tab", "\\t"}:
        return "\t"
    if len(delimiter) != 1:
        raise IngestError(f"--delimiter {delimiter!r}: give one character (',' ';' '|'), or tab")
    return delimiter
