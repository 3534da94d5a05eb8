"""Ingest: sources → presets → store → analysis, one chunk at a time.

    options   IngestOptions (one value: CLI, local engine, Ray engine), IngestError
    progress  RunSummary, Progress callbacks, GracefulStop (signals)
    landing   map records, land a chunk, record a failed source (both engines)
    local     the local engine: read, land, analyse, overlapped
    ray       the Ray engine: map in tasks, analyse on an actor pool
    run       lock, `runs` row, choose the engine, finish the run
"""

from __future__ import annotations

from analyzer.ingest.options import IngestError, IngestOptions, RayOptions
from analyzer.ingest.progress import Progress, RunSummary
from analyzer.ingest.run import Interrupted, RunFailed, ingest

__all__ = ["IngestError", "IngestOptions", "Interrupted", "Progress", "RayOptions", "RunFailed", "RunSummary",
           "ingest"]
