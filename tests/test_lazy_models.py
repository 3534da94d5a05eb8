"""A model loads only when a batch needs it: a cron run that finds nothing new loads none (issue 17, item 1).

Plumbing only: the tiny randomly initialised stand-in models (`tiny_env`), since what is pinned is when a model is
built, not what it answers.
"""

from __future__ import annotations

import json

from analyzer.cli import app
from analyzer.tasks import default_ingest_tasks
from analyzer.tasks.analysis import LoadedOnUse
from tests.helpers import reddit, write_jsonl


def ingest(runner, db, *args):
    result = runner.invoke(app, ["ingest", *args, "--db", str(db), "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_rerun_with_nothing_new_loads_no_model_and_new_text_loads_each_once(runner, db, tmp_path, tiny_env,
                                                                              monkeypatch):
    built: list[str] = []
    build = LoadedOnUse.__missing__

    def recording(self, name):
        built.append(name)
        return build(self, name)

    monkeypatch.setattr(LoadedOnUse, "__missing__", recording)
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i, body=f"phones and cameras number {i}") for i in range(30)])
    first = ingest(runner, db, str(dump))
    # each of the default tasks once, not per chunk
    assert first["texts_analysed"] == 30 and sorted(built) == sorted(default_ingest_tasks()) == [
        "ner", "offensive", "sentiment"]

    built.clear()
    again = ingest(runner, db, str(dump))
    assert (again["rows_read"], again["rows_new"], again["texts_analysed"]) == (30, 0, 0)
    assert built == []

    one_new = write_jsonl(tmp_path / "b.jsonl", [reddit(99, body="a brand new comment")])
    assert ingest(runner, db, str(one_new), "--tasks", "sentiment")["texts_analysed"] == 1
    assert built == ["sentiment"]
