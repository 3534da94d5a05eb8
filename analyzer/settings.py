"""Every setting a user can give, in one table, and the one rule that picks its value:

    flag  >  environment variable  >  config file  >  profile / default

`opinions config show` prints each setting's effective value and where it came from.
Imports nothing heavy: the CLI reads it to resolve the database path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from analyzer.errors import OpinionsError

# what `--profile` chooses from; each task's folder says which model a profile runs (analyzer.tasks.declaration),
# and the summary model's are in analyzer.topics. Settings sit below the tasks: they know no task's name.
PROFILE_NAMES = ("embedded", "hub", "hub-multilingual")


class SettingError(OpinionsError, ValueError):
    """A setting name that is not in the table, or a value that cannot be used."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # None: decided by the profile (models) or at run time (threads)
    env: str | None
    config_key: tuple[str, ...] | None  # where it sits in the config file ([models] profile = ...)
    help: str
    # a default that depends on the environment (the cache follows $XDG_CACHE_HOME)
    computed_default: Callable[[Mapping[str, str]], str] | None = None


def _cache_default(env: Mapping[str, str]) -> str:
    return os.path.join(env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "opinions")


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "opinions.duckdb", "OPINIONS_DB", None, "The DuckDB database file (--db)."),
    Setting("profile", "embedded", "OPINIONS_PROFILE", ("models", "profile"),
            f"Model profile: {', '.join(PROFILE_NAMES)} (--profile; embedded is offline)."),
    Setting("cache", None, "OPINIONS_CACHE", None,
            "Where the materialised model pack and traces live (default: $XDG_CACHE_HOME/opinions, else "
            "~/.cache/opinions).", _cache_default),
    Setting("threads", None, "OPINIONS_THREADS", None, "CPU threads for models (default: every core)."),
    Setting("trace", "1", "OPINIONS_TRACE", None, "0: never trace local models (analyzer.models.traced)."),
    Setting("debug", None, "OPINIONS_DEBUG", None,
            "1: full tracebacks instead of one-line errors, and source locations in log lines."),
)
BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Effective:
    name: str
    value: str | None
    origin: str  # "flag", "env OPINIONS_DB", "config file [models] profile", "default", "profile hub"


def model_setting(task: str) -> Setting:
    """The setting that picks task `task`'s model (`--<task>-model`, OPINIONS_<TASK>_MODEL, [models] <task>)."""
    return Setting(f"{task}_model", None, f"OPINIONS_{task.upper()}_MODEL", ("models", task),
                   f"The {task} model: embedded, a hub id, or a folder (default: the profile's).")


def lookup(name: str) -> Setting:
    if name in BY_NAME:
        return BY_NAME[name]
    if name.endswith("_model") and name.removesuffix("_model").isidentifier():
        return model_setting(name.removesuffix("_model"))  # the caller knows whether that task exists
    raise SettingError(f"unknown setting {name!r}: choose one of {', '.join(BY_NAME)}, or <task>_model")


def effective(name: str, flag: str | None = None, config: Mapping[str, Any] | None = None,
              env: Mapping[str, str] | None = None) -> Effective:
    """The value of setting `name` by the one rule: flag > env > config file > default.
    An empty environment variable counts as unset."""
    setting = lookup(name)
    env = os.environ if env is None else env
    if flag:
        return Effective(name, str(flag), "flag")
    if setting.env and env.get(setting.env):
        return Effective(name, env[setting.env], f"env {setting.env}")
    if setting.config_key and config:
        section: Any = config
        for key in setting.config_key:
            section = section.get(key) if isinstance(section, Mapping) else None
        if section:
            return Effective(name, str(section), f"config file [{'] '.join(setting.config_key)}")
    if setting.computed_default:
        return Effective(name, setting.computed_default(env), "default")
    return Effective(name, setting.default, "default")


def value(name: str) -> str | None:
    """The value of a setting that has no flag or config key here (cache, threads, trace, debug):
    every reader goes through this, so the table's default is the only default."""
    return effective(name).value


def int_value(name: str) -> int | None:
    """A numeric setting; an unset one is None and a malformed one a clear error."""
    raw = value(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{lookup(name).env}={raw!r}: expected a whole number") from None


MAX_THREADS = 1024  # libgomp aborts the process (no summary, the run left `running`) on a count far past this


def cpu_threads() -> int | None:
    """OPINIONS_THREADS checked: None (every core) or a whole number from 1 to MAX_THREADS."""
    threads = int_value("threads")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise SettingError(f"{lookup('threads').env}={threads}: give a whole number from 1 to {MAX_THREADS} "
                           f"(this machine has {os.cpu_count() or 1} cores), or leave it unset for every core")
    return threads


def show(model_defaults: Mapping[str, Mapping[str, str]], config: Mapping[str, Any] | None = None,
         flags: Mapping[str, str | None] | None = None, env: Mapping[str, str] | None = None) -> list[Effective]:
    """Every setting's effective value, then each task's model (`model_defaults`: task → profile → model);
    a model left to the profile names the profile's choice."""
    flags = flags or {}
    values = [effective(s.name, flags.get(s.name), config, env) for s in SETTINGS]
    profile = next(v.value for v in values if v.name == "profile") or "embedded"
    for task, defaults in model_defaults.items():
        chosen = effective(f"{task}_model", flags.get(f"{task}_model"), config, env)
        if chosen.origin == "default" and profile in defaults:
            chosen = Effective(chosen.name, defaults[profile], f"profile {profile}")
        values.append(chosen)
    return values
