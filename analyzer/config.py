"""The config file: `--config PATH`, else `./opinions.toml` when present.

    [models]
    profile = "embedded"          # or "hub"
    sentiment = "cardiffnlp/twitter-roberta-base-sentiment-latest"   # hub id or folder
    ner = "embedded"

    [topics]                      # keyword topics, case-insensitive, whole words
    iphone = ["iphone", "ios 18"]
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from analyzer.errors import OpinionsError

DEFAULT_CONFIG = Path("opinions.toml")


class ConfigError(OpinionsError, ValueError):
    """A config file that cannot be read or has a wrong shape."""


class Config(dict):
    """A config file's tables, and `path`, the file they were read from (None: no file), for messages that name it."""

    path: Path | None = None


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    target = Path(path) if path else DEFAULT_CONFIG
    if not target.exists():
        if path:
            raise ConfigError(f"config file {target} does not exist")
        return Config()
    try:
        config = Config(tomllib.loads(target.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {target} is not valid TOML: {exc}") from exc
    config.path = target
    models = config.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{target}: [models] must be a table of names and models (sentiment = \"embedded\")")
    for key, chosen in models.items():
        # a list or a number was read as its Python text ("['a', 'b']") and failed after rows were stored
        if not isinstance(chosen, str) or not chosen.strip():
            raise ConfigError(f"{target}: [models] {key} = {chosen!r}: give one model as a string: \"embedded\", a "
                              "Hugging Face id (\"namespace/name\") or a folder")
    topics = config.get("topics", {})
    if not isinstance(topics, dict) or not all(
        isinstance(v, list) and all(isinstance(k, str) and k.strip() for k in v) for v in topics.values()
    ):
        raise ConfigError(f"{target}: [topics] must map each topic to a list of keywords")
    return config


def keyword_patterns(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(topics, regex patterns) for `[topics]`: case-insensitive, on word boundaries."""
    names, patterns = [], []
    for topic, keywords in sorted(config.get("topics", {}).items()):
        alternatives = "|".join(re.escape(k.strip()).replace(r"\ ", r"\s+") for k in keywords)
        names.append(topic)
        patterns.append(rf"(?i)(^|[^\w])({alternatives})($|[^\w])")
    return names, patterns
