"""`opinions analyze`, `opinions models`, `--help` and start-up promises (stand-in models where noted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from analyzer.cli import app


def test_analyze_sentiment_writes_one_json_line_per_input_in_order(runner, tiny_env):
    # stand-in model: checks the contract (shape, order, lang), not the labels
    texts = "I love it\nThis is terrible, worst service ever\nC'est vraiment nul et lent, je déteste cette application\n"
    result = runner.invoke(app, ["analyze", "-", "--task", "sentiment", "--device", "cpu"], input=texts)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["lang"] == "en" and lines[0]["label"] in {"negative", "neutral", "positive"}
    assert set(lines[0]["scores"]) == {"negative", "neutral", "positive"}
    assert lines[2]["lang"] == "fr" and lines[2]["label"] is None and "not supported" in lines[2]["reason"]


def test_analyze_ner_reads_jsonl_and_gives_offsets(runner, tiny_env, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"body": "Go #Packers with @bob"}) + "\n")
    result = runner.invoke(app, ["analyze", str(path), "--task", "ner", "--text-field", "body", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    social = [(e["label"], e["text"], e["start"], e["end"]) for e in line["entities"] if e["label"] in {"HASHTAG", "MENTION"}]
    assert social == [("HASHTAG", "#Packers", 3, 11), ("MENTION", "@bob", 17, 21)]


def test_models_lists_each_task_and_where_it_comes_from(runner, tiny_env):
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "sentiment" in result.stdout and "local folder" in result.stdout
    hub = runner.invoke(app, ["models", "--profile", "hub", "--format", "json"],
                        env={"OPINIONS_SENTIMENT_MODEL": "", "OPINIONS_NER_MODEL": ""})
    rows = {row["task"]: row for row in json.loads(hub.stdout)}
    assert rows["sentiment"]["model"] == "cardiffnlp/twitter-roberta-base-sentiment-latest"
    assert rows["sentiment"]["from"].startswith("Hugging Face Hub")
    assert rows["sentiment"]["on_cpu"] == "fp32"  # int8 only where the pack measured it safe
    assert rows["sentiment"]["speed_paths"] == "checked when a run loads it"  # nothing downloaded to check


def test_models_says_whether_each_speed_path_is_on(runner, tiny_env):
    """A speed path that falls back must be visible: the stand-in BERT classifier gets the [CLS]-only trim."""
    result = runner.invoke(app, ["models", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["task"]: row for row in json.loads(result.stdout)}
    assert rows["sentiment"]["speed_paths"] == "[CLS]-only last layer: on"
    assert rows["ner"]["speed_paths"] == ""  # NER has none


def test_models_path_of_a_local_folder(runner, tiny_env):
    result = runner.invoke(app, ["models", "path", "sentiment"])
    assert result.exit_code == 0 and result.stdout.strip() == str(tiny_env["sentiment"].resolve())


def test_help_starts_fast_without_torch():
    code = ("import sys, time; t = time.perf_counter(); from analyzer.cli import app; "
            "app(['--help'], standalone_mode=False); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ingest" in done.stdout


def test_unknown_device_is_a_clear_error(runner, tiny_env):
    result = runner.invoke(app, ["analyze", "-", "--device", "tpu"], input="hello\n")
    assert result.exit_code == 1 and "unknown device 'tpu'" in result.stderr


def test_a_reader_that_leaves_early_stops_opinions_quietly(tiny_env, tmp_path):
    # `opinions analyze dump | head -1`: no "Broken pipe" error line, the shell's SIGPIPE status
    path = tmp_path / "many.txt"
    path.write_text("I love this phone and the camera is great\n" * 3000)
    proc = subprocess.Popen([sys.executable, "-m", "analyzer.cli", "analyze", str(path), "--task", "sentiment",
                             "--device", "cpu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert json.loads(first)["label"] in {"negative", "neutral", "positive"}
    assert proc.wait(timeout=120) == 141
    assert "Broken pipe" not in stderr and "error" not in stderr


def test_the_run_summary_keeps_each_count_line_whole_on_a_narrow_stderr(tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text("".join(json.dumps({"id": f"x{i}", "body": f"comment number {i}"}) + "\n" for i in range(3)))
    done = subprocess.run([sys.executable, "-m", "analyzer.cli", "ingest", str(dump), "--tasks", "none",
                           "--db", str(tmp_path / "n.duckdb")], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stderr.splitlines() if "rows read" in x]
    assert line.rstrip().endswith("skipped ([deleted]/[removed]) 0")
