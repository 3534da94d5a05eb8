"""The errors a user can cause and fix: the CLI prints these as one line."""

from __future__ import annotations

from analyzer.config import ConfigError
from analyzer.export import ExportError
from analyzer.ingest import IngestError
from analyzer.labelled import LabelledDataError
from analyzer.locking import LockedError
from analyzer.modelpack import ModelIntegrityError, ModelNotFoundError
from analyzer.models import ModelConfigError
from analyzer.presets import PresetError
from analyzer.ray_engine import RayUnavailable
from analyzer.reports.catalog import ReportError
from analyzer.runtime import DeviceError
from analyzer.sources import SourceError
from analyzer.store import StoreError
from analyzer.textnorm import UnknownNormalisation

USER_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError, ExportError, IngestError, LockedError, LabelledDataError, ModelIntegrityError, ModelNotFoundError, ModelConfigError,
    PresetError, RayUnavailable, ReportError, SourceError, StoreError, DeviceError, UnknownNormalisation,
    FileNotFoundError, PermissionError,
)
