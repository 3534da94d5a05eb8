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


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    target = Path(path) if path else DEFAULT_CONFIG
    if not target.exists():
        if path:
            raise ConfigError(f"config file {target} does not exist")
        return {}
    try:
        config = tomllib.loads(target.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {target} is not valid TOML: {exc}") from exc
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
