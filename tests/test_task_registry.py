"""The task registry is the one list of task names, and each task carries its own results
through the store, `opinions analyze` and the Ray engine's flat columns."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analyzer import tasks
from analyzer.ingest.ray import from_result_columns, result_columns
from analyzer.tasks import NAMES, UnknownTask, task_class

SAMPLES = {
    "sentiment": [{"label": "positive", "score": 0.9, "scores": {"negative": 0.05, "neutral": 0.05, "positive": 0.9}},
                  None],
    "ner": [[{"text": "Apple", "label": "ORG", "start": 0, "end": 5, "score": 0.8}], [], None],
    "offensive": [{"label": "offensive", "score": 0.7, "scores": {"not-offensive": 0.3, "offensive": 0.7}}, None],
    "emotion": [{"label": "joy", "score": 0.6, "scores": {"anger": 0.05, "disgust": 0.05, "fear": 0.05, "joy": 0.6,
                                                          "neutral": 0.15, "sadness": 0.05, "surprise": 0.05}}, None],
}


def test_every_registered_task_has_a_module_and_an_example_here():
    assert set(NAMES) == set(SAMPLES)
    for name in NAMES:
        assert task_class(name).name == name


def test_an_unknown_task_name_is_refused_with_the_names_there_are():
    with pytest.raises(UnknownTask, match="sentiment, ner, offensive, emotion"):
        task_class("toxicity")


@pytest.mark.parametrize("name", NAMES)
def test_predictions_survive_the_ray_engines_flat_columns(name):
    predictions = SAMPLES[name]
    statuses = ["ok" if p is not None else "unsupported" for p in predictions]
    result = {"text_hash": [f"h{i}" for i in range(len(predictions))], "lang": ["en"] * len(predictions),
              name: predictions, f"{name}_status": statuses}
    back = from_result_columns(result_columns(result, [name]), [name])
    assert back == result


@pytest.mark.parametrize("name", NAMES)
def test_each_store_row_fits_the_tasks_row_schema(name):
    import polars as pl

    cls = task_class(name)
    rows = [row for i, p in enumerate(SAMPLES[name]) for row in cls.rows(f"h{i}", "m", p, "xx")]
    frame = pl.DataFrame(rows, schema=cls.row_schema)
    assert frame.height == len(rows) and set(frame.columns) == set(cls.row_schema)


def test_an_unsupported_text_says_why_in_every_tasks_analyze_line():
    for name in NAMES:
        line = task_class(name).json_line(None, "xx")
        assert line["lang"] == "xx" and "not supported" in line["reason"]


def test_the_registry_and_the_error_base_import_nothing_heavy():
    code = ("import sys, analyzer.tasks, analyzer.errors; "
            "print(sorted(m for m in sys.modules if m.startswith('analyzer') or m in ('torch', 'polars')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['analyzer', 'analyzer.errors', 'analyzer.tasks']"


@pytest.mark.parametrize("module", ["analyzer.ingest.options", "analyzer.ingest.progress", "analyzer.ingest.landing",
                                    "analyzer.ingest.local", "analyzer.ingest.ray", "analyzer.ingest.run",
                                    "analyzer.tasks.sentiment.task", "analyzer.tasks.ner.task", "analyzer.models.spec"])
def test_each_module_imports_first_on_its_own(module):
    """An import cycle shows up as a module that cannot be the first one imported."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True)


INTERNAL = {"JsonTooDeep", "ReadStopped", "WideDecodeError"}  # control flow inside sources, never shown to a user


def test_every_user_error_is_an_opinions_error():
    import inspect

    import analyzer.config
    import analyzer.ingest.options
    import analyzer.ingest.ray
    import analyzer.labels.read
    import analyzer.models.pack
    import analyzer.models.runtime
    import analyzer.models.spec
    import analyzer.reports.catalog
    import analyzer.sources.presets
    import analyzer.sources.reader
    import analyzer.store.database
    import analyzer.store.export
    import analyzer.store.locking
    import analyzer.text.normalise
    from analyzer.errors import OpinionsError

    modules = [analyzer.config, analyzer.store.export, analyzer.ingest.options, analyzer.ingest.ray, analyzer.labels.read,
               analyzer.store.locking, analyzer.models.pack, analyzer.models.spec, analyzer.sources.presets, analyzer.reports.catalog,
               analyzer.models.runtime, analyzer.sources.reader, analyzer.store.database, analyzer.text.normalise, tasks]
    own = [cls for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
           if issubclass(cls, Exception) and cls.__module__ == module.__name__ and cls.__name__ not in INTERNAL]
    assert len(own) >= 15
    assert [cls.__name__ for cls in own if not issubclass(cls, OpinionsError)] == []


def test_every_task_trains_with_the_trainer_of_its_model_kind_and_names_labels_its_way():
    from analyzer.finetune.train import TRAINERS

    assert all(task_class(name).model_kind in TRAINERS for name in NAMES)
    assert task_class("sentiment").canonical_labels(["NEG", "Neu", "pos", "Billing"]) == [
        "negative", "neutral", "positive", "billing"]
    assert task_class("ner").canonical_labels(["B-PER", "O"]) == ["B-PER", "O"]
    # OffensEval's NOT/OFF, a toxicity model's neutral/toxic, a numbered head: all ours
    offensive = task_class("offensive").canonical_labels
    assert offensive(["NOT", "OFF"]) == offensive(["neutral", "toxic"]) == offensive(["LABEL_0", "LABEL_1"]) == [
        "not-offensive", "offensive"]
    assert task_class("emotion").canonical_labels(["Happiness", "SAD", "anger"]) == ["joy", "sadness", "anger"]


def test_a_new_task_gets_its_model_option_on_ingest_without_an_edit_in_the_cli(monkeypatch):
    """with_model_options reads the registry: a task added to NAMES gets --<task>-model, and the
    value arrives in the `models` dict the library takes."""
    from typer.testing import CliRunner

    import analyzer.cli as cli

    monkeypatch.setattr(cli, "TASK_NAMES", (*NAMES, "sarcasm"))
    seen = {}

    @cli.with_model_options
    def command(profile: str | None = None, models: dict | None = None) -> None:
        seen.update(models or {})

    import typer

    app = typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, ["--sarcasm-model", "my/sarcasm", "--ner-model", "x"])
    assert result.exit_code == 0, result.output
    assert seen == {"sentiment": None, "ner": "x", "offensive": None, "emotion": None, "sarcasm": "my/sarcasm"}


@pytest.mark.parametrize("name", NAMES)
def test_each_embedded_entry_meets_the_floors_its_task_folder_sets(name):
    """A task's ABOUT.pack_floors are the dev scores its shipped entry must keep (training.pack_check wrote them
    into the manifest when it scored the entry as stored): a retrained entry that drops below one fails here."""
    from analyzer.models.pack import pack_entry

    floors = tasks.about(name).pack_floors
    scores = pack_entry(name).manifest["scores"]
    assert floors, f"{name}: no floors"
    assert {key: scores.get(key) for key in floors if scores.get(key) is None or scores[key] < floors[key]} == {}
