"""Settings: one table, one precedence rule (flag > env > config file > profile), shown with their origin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import analyzer
from analyzer.cli import app
from analyzer.models.spec import resolve
from analyzer.settings import SETTINGS, effective, lookup
from analyzer.tasks import NAMES


def test_a_flag_beats_the_environment_which_beats_the_config_file_which_beats_the_default():
    config = {"models": {"profile": "hub"}}
    env = {"OPINIONS_PROFILE": "hub-multilingual"}
    assert effective("profile", None, None, {}).value == "embedded"
    assert effective("profile", None, config, {}).origin == "config file [models] profile"
    assert effective("profile", None, config, env).value == "hub-multilingual"
    assert effective("profile", "embedded", config, env).origin == "flag"


def test_a_model_left_to_the_profile_is_the_profiles_model(monkeypatch):
    monkeypatch.delenv("OPINIONS_NER_MODEL", raising=False)
    monkeypatch.setenv("OPINIONS_PROFILE", "hub")
    assert resolve("ner", None, {"models": {"profile": "embedded"}}).source == "dslim/bert-base-NER"
    monkeypatch.setenv("OPINIONS_NER_MODEL", "some/ner")
    assert resolve("ner", None, {"models": {"ner": "other/ner"}}).source == "some/ner"
    assert resolve("ner", "flag/ner", {"models": {"ner": "other/ner"}}).source == "flag/ner"


def test_every_setting_has_a_variable_and_help_and_a_unique_name():
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    assert all(s.env and s.env.startswith("OPINIONS_") and s.help for s in SETTINGS)


def test_config_show_prints_each_settings_value_and_where_it_came_from(runner, tmp_path, monkeypatch):
    model_settings = {f"{task}_model" for task in (*NAMES, "summary")}
    for name in [s.name for s in SETTINGS] + sorted(model_settings):
        monkeypatch.delenv(lookup(name).env, raising=False)
    monkeypatch.setenv("OPINIONS_DB", str(tmp_path / "env.duckdb"))
    config = tmp_path / "opinions.toml"
    config.write_text('[models]\nprofile = "hub"\nsentiment = "my/sentiment"\n')
    result = runner.invoke(app, ["config", "show", "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = {row["setting"]: (row["value"], row["from"]) for row in json.loads(result.stdout)}
    assert set(shown) == {s.name for s in SETTINGS} | model_settings  # every task's model, from the registry
    assert shown["db"] == (str(tmp_path / "env.duckdb"), "env OPINIONS_DB")
    assert shown["profile"] == ("hub", "config file [models] profile")
    assert shown["sentiment_model"] == ("my/sentiment", "config file [models] sentiment")
    assert shown["ner_model"] == ("dslim/bert-base-NER", "profile hub")
    assert shown["emotion_model"] == ("j-hartmann/emotion-english-distilroberta-base", "profile hub")
    flagged = runner.invoke(app, ["config", "show", "--config", str(config), "--db", "x.duckdb", "--profile",
                                  "embedded", "--format", "json"])
    rows = {row["setting"]: (row["value"], row["from"]) for row in json.loads(flagged.stdout)}
    assert rows["db"] == ("x.duckdb", "flag") and rows["ner_model"] == ("embedded", "profile embedded")


def test_the_cache_default_follows_xdg_cache_home_and_the_variable_beats_it():
    assert effective("cache", env={"XDG_CACHE_HOME": "/x/cache"}).value == "/x/cache/opinions"
    assert effective("cache", env={"XDG_CACHE_HOME": "/x/cache", "OPINIONS_CACHE": "/mine"}).value == "/mine"


def test_a_malformed_number_setting_is_a_clear_error(monkeypatch):
    from analyzer.settings import SettingError, int_value

    monkeypatch.setenv("OPINIONS_THREADS", "two")
    with pytest.raises(SettingError, match="OPINIONS_THREADS='two': expected a whole number"):
        int_value("threads")
    monkeypatch.setenv("OPINIONS_THREADS", "3")
    assert int_value("threads") == 3


def test_the_code_reads_opinions_variables_only_through_the_settings_table():
    """One table, one rule: a module that read `os.environ["OPINIONS_..."]` itself would have its own
    default and skip `config show`."""
    package = Path(analyzer.__file__).parent
    known = {s.env for s in SETTINGS}
    reads = re.compile(r"""(?:environ\.get\(|getenv\(|environ\[)\s*["'](OPINIONS_[A-Z_]+)["']\s*[,)\]](?!\s*=[^=])""")
    named = re.compile(r"OPINIONS_[A-Z_]+")
    direct, unknown = [], set()
    for path in package.rglob("*.py"):
        source = path.read_text()
        if path.name != "settings.py":
            direct += [f"{path.relative_to(package)}: {m.group(1)}" for m in reads.finditer(source)]
        unknown |= {name for name in named.findall(source) if name not in known and not name.endswith("_")}
    assert direct == []
    assert unknown == set()


@pytest.mark.parametrize("threads", ["-1", "0", "1000000000"])
def test_an_unusable_thread_count_stops_ingest_before_anything_is_stored(runner, tmp_path, threads):
    """OPINIONS_THREADS=1000000000 aborted inside libgomp (no summary, the run left `running`) and -1 failed
    after rows were stored (issue 35, point 29): it is checked with the other options, before the run."""
    from tests.helpers import reddit, write_jsonl

    db = tmp_path / "t.duckdb"
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(db),
                                 "--tasks", "sentiment"], env={"OPINIONS_THREADS": threads})
    assert result.exit_code == 1, result.output
    assert f"OPINIONS_THREADS={threads}: give a whole number from 1 to 1024" in " ".join(result.stderr.split())
    assert not db.exists()  # no run recorded, no row stored


@pytest.mark.parametrize("value", ['["a", "b"]', '"/dev/zero"', '"{empty}"', '"no such/folder/here"', "3"])
def test_a_model_setting_of_the_wrong_type_or_target_stops_ingest_before_anything_is_stored(runner, tmp_path,
                                                                                            monkeypatch, value):
    """These failed after rows were stored, with a transformers message about repo ids (issue 35, point 27)."""
    from tests.helpers import reddit, write_jsonl

    monkeypatch.delenv("OPINIONS_SENTIMENT_MODEL", raising=False)
    empty = tmp_path / "empty-model"
    empty.mkdir()
    config = tmp_path / "o.toml"
    config.write_text("[models]\nsentiment = " + value.format(empty=empty) + "\n")
    db = tmp_path / "t.duckdb"
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(db),
                                 "--tasks", "sentiment", "--config", str(config)])
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    assert "sentiment" in message and str(config) in message, message
    assert "repo id" not in message and "Traceback" not in result.output
    assert not db.exists()  # no run recorded, no row stored


def test_a_model_flag_of_the_wrong_target_is_named_with_its_flag(tmp_path):
    from analyzer.models.spec import ModelConfigError

    with pytest.raises(ModelConfigError, match="from flag"):
        resolve("sentiment", "/dev/zero", {})
    assert resolve("sentiment", "cardiffnlp/twitter-roberta-base-sentiment-latest", {}).source.startswith("cardiff")
