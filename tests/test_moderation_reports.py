"""The reports of the offensive and emotion tasks: `report flagged` (the moderation queue), `report emotions`,
the offensive share in `report topics`/`entities`, and alerts on an offensive-share or anger spike.

The labels are written directly into the task tables (as a model would land them), so that each test plants
an exact mix; the models themselves are tested on real outputs in tests/test_pack_tasks.py.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.store.database import open_store, set_meta
from tests.helpers import reddit, write_jsonl

DAY = 86_400
START = 1_759_276_800  # 2025-10-01 00:00 UTC
EMOTIONS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")


def _land(db, offensive: dict[str, float], emotion: dict[str, str]) -> None:
    """Offensive probabilities and emotion labels per comment id, landed as the tasks' rows would be."""
    con = open_store(db)
    hashes = {cid.removeprefix("t1_"): h for cid, h in con.execute("SELECT id, text_hash FROM comments").fetchall()}
    for cid, p in offensive.items():
        con.execute("INSERT OR IGNORE INTO offensive VALUES ($h, 'm-off', $label, $score, $p, NULL)",
                    {"h": hashes[cid], "label": "offensive" if p >= 0.5 else "not-offensive",
                     "score": max(p, 1 - p), "p": p})
    for cid, label in emotion.items():
        probs = [0.9 if e == label else 0.1 / 6 for e in EMOTIONS]
        con.execute("INSERT OR IGNORE INTO emotion VALUES ($h, 'm-emo', $label, 0.9, $p1, $p2, $p3, $p4, $p5, $p6, "
                    "$p7, NULL)", {"h": hashes[cid], "label": label, **{f"p{i + 1}": p for i, p in enumerate(probs)}})
    set_meta(con, "model.offensive", "m-off")
    set_meta(con, "model.emotion", "m-emo")
    con.close()


def _ingest(tmp_path, records) -> str:
    db = str(tmp_path / "mod.duckdb")
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(tmp_path / "c.jsonl", records)), "--db", db,
                                      "--tasks", "none", "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def _report(*args: str) -> list[dict]:
    result = CliRunner().invoke(app, ["report", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture()
def queue_db(tmp_path):
    """Six comments in two subreddits, their offensive probabilities planted."""
    records = [reddit(i, body=f"comment {i}", sub="games" if i % 2 else "news", t=START + i * 3600) for i in range(6)]
    db = _ingest(tmp_path, records)
    _land(db, {"c0": 0.1, "c1": 0.95, "c2": 0.55, "c3": 0.49, "c4": 0.8, "c5": 0.2},
          {"c0": "joy", "c1": "anger", "c2": "anger", "c3": "neutral", "c4": "disgust", "c5": "joy"})
    return db


def test_the_moderation_queue_lists_comments_over_the_threshold_newest_first_with_source_and_line(queue_db):
    rows = _report("flagged", "--db", queue_db)
    assert [r["id"] for r in rows] == ["t1_c4", "t1_c2", "t1_c1"]  # 0.8, 0.55, 0.95: newest first, 0.49 left out
    assert rows[0]["score"] == 0.8 and rows[0]["author"] == "user4" and rows[0]["topic"] == "news"
    assert rows[0]["source"].endswith("c.jsonl") and rows[0]["line"] == 5  # line 5 of the dump: a moderator can find it
    lower = _report("flagged", "--db", queue_db, "--threshold", "0.3", "--topic", "games")
    assert [r["id"] for r in lower] == ["t1_c3", "t1_c1"]


def test_the_moderation_queue_exports_as_csv_with_every_column(queue_db):
    result = CliRunner().invoke(app, ["report", "flagged", "--db", queue_db, "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in table] == ["t1_c4", "t1_c2", "t1_c1"]
    assert {"created_at", "score", "topic", "author", "platform", "source", "line", "text"} <= set(table[0])


def test_the_emotion_mix_of_each_topic_adds_up_and_names_its_top_emotion_besides_neutral(queue_db):
    topics = {r["name"]: r for r in _report("emotions", "--db", queue_db, "--section", "topics")}
    games, news = topics["games"], topics["news"]  # games: anger, neutral, joy; news: joy, anger, disgust
    assert games["analysed"] == 3 and games["anger"] == pytest.approx(1 / 3) and games["neutral"] == pytest.approx(1 / 3)
    assert sum(games[e] for e in EMOTIONS) == pytest.approx(1.0)
    assert games["top_emotion"] == "anger" and news["top_emotion"] == "anger"  # ties: anger before disgust and joy


def test_topics_and_entities_show_the_offensive_share_where_the_task_ran(queue_db, tmp_path):
    topics = {r["topic"]: r for r in _report("topics", "--db", queue_db)}
    assert topics["games"]["offensive"] == pytest.approx(1 / 3)  # c1 0.95; c3 0.49 and c5 0.2 are not
    assert topics["news"]["offensive"] == pytest.approx(2 / 3)  # c2 0.55, c4 0.8
    (tmp_path / "plain").mkdir()
    untouched = _ingest(tmp_path / "plain", [reddit(i, sub="news") for i in range(3)])
    assert _report("topics", "--db", untouched)[0]["offensive"] is None  # the task never ran: no number at all
    table = CliRunner().invoke(app, ["report", "topics", "--db", untouched])
    assert table.exit_code == 0 and "off" not in table.stdout.split("\n")[2]  # and no empty column in the table


@pytest.mark.parametrize("task", ["offensive", "emotion"])
def test_an_offensive_or_anger_spike_on_the_latest_day_raises_an_alert(tmp_path, task):
    """20 days of 30 comments a day in two topics; on the last day a fifth of 'forum' turns offensive (or angry)
    where it used to be none, with the volume and everything else as usual."""
    records, offensive, emotion = [], {}, {}
    i = 0
    for day in range(20):
        for topic in ("forum", "steady"):
            for k in range(30):
                cid = f"c{i}"
                records.append(reddit(i, body=f"text {i}", sub=topic, t=START + day * DAY + k * 600 - i * 60))
                spiking = topic == "forum" and day == 19 and k < 6
                offensive[cid] = 0.9 if spiking and task == "offensive" else 0.05
                emotion[cid] = "anger" if spiking and task == "emotion" else ("joy" if k % 2 else "neutral")
                i += 1
    db = _ingest(tmp_path, records)
    _land(db, offensive, emotion)
    alerts = _report("alerts", "--db", db, "--section", "alerts")
    assert [(a["kind"], a["name"]) for a in alerts] == [("topic", "forum")]
    word = "offensive" if task == "offensive" else "anger"
    assert alerts[0]["reasons"].startswith(f"{word} 20% vs usual 0%")
    assert alerts[0][f"{word}_share"] == pytest.approx(0.2) and alerts[0][f"usual_{word}"] == 0
