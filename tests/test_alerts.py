"""`report alerts`: a name is compared with its own history since it began, on its own latest period.

The planted-spike tests run the embedded sentiment pack (real model output, offline); the
false-alarm test writes labelled rows directly, so that it can afford hundreds of series.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from analyzer.cli import app
from tests.helpers import reddit, write_jsonl

DAY = 86_400
START = 1_759_276_800  # 2025-10-01 00:00 UTC

NEGATIVE = ["This airline lost my bag and nobody helps, terrible service", "Worst flight ever, delayed five hours",
            "Rude staff and a broken seat, never again", "Cancelled again with no refund, awful",
            "I hate this company, they ruined my trip", "Disgusting food and dirty cabin, horrible experience",
            "Stuck at the gate for hours, the worst airline", "Customer service hung up on me, pathetic"]
NEUTRAL = ["The flight leaves at 9 from gate 12", "Boarding starts thirty minutes before departure",
           "Flight 443 goes from Denver to Boston", "Checked bags go to carousel four",
           "The plane is an Airbus A320", "They announced the gate change at noon"]
POSITIVE = ["Great crew, friendly and helpful, loved the flight", "Amazing service, thank you so much",
            "Smooth flight and early arrival, wonderful", "Best airline I have flown, excellent seats",
            "The staff were lovely and kind, great trip", "Fantastic legroom and tasty snacks, happy customer"]


def _normal_day(rng: random.Random, n: int) -> list[str]:
    """A day's normal mix: about a quarter negative."""
    return [rng.choice(rng.choices([NEGATIVE, NEUTRAL, POSITIVE], weights=[1, 2, 1])[0]) for _ in range(n)]


@pytest.fixture(scope="module")
def spike_db(tmp_path_factory):
    """30 days of two topics with 40 comments a day: 'steady' is a normal mix every day; 'airline' is a
    normal mix, then all negative on days 27-29 (the last three). Sentiment by the embedded pack."""
    from typer.testing import CliRunner

    rng = random.Random(19)
    folder = tmp_path_factory.mktemp("spike")
    records, i = [], 0
    for day in range(30):
        for topic in ("steady", "airline"):
            texts = [rng.choice(NEGATIVE) for _ in range(40)] if topic == "airline" and day >= 27 else \
                _normal_day(rng, 40)
            for k, text in enumerate(texts):
                records.append(reddit(i, body=text, sub=topic, t=START + day * DAY + k * 600 - i * 60))
                i += 1
    db = folder / "spike.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(folder / "s.jsonl", records)), "--db", str(db),
                                      "--tasks", "sentiment", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def _alerts(runner, db, *args) -> dict:
    result = runner.invoke(app, ["report", "alerts", "--db", str(db), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_planted_negative_spike_is_found_and_steady_topic_is_not(runner, spike_db):
    from tests.helpers import sql

    shares = dict(sql(spike_db, """
        SELECT c.topic, count(*) FILTER (s.label = 'negative') / count(*) FROM comments c JOIN sentiment s USING (text_hash)
        WHERE c.created_at >= TIMESTAMPTZ '2025-10-28' GROUP BY 1"""))
    assert shares["airline"] > 0.8 > 0.5 > shares["steady"]  # the model sees the spike for what it is
    report = _alerts(runner, spike_db)
    topics = {a["name"]: a for a in report["alerts"] if a["kind"] == "topic"}
    assert "airline" in topics and "steady" not in topics
    assert topics["airline"]["period"] == "2025-10-30"
    assert "negative" in topics["airline"]["reasons"] and topics["airline"]["negative_z"] >= 3.5
    assert report["new"] == []


@pytest.mark.parametrize("until", ["2025-10-29", "2025-10-30", "2025-10-30T12:00:00"])
def test_spike_is_found_with_until_on_each_of_its_days(runner, spike_db, until):
    report = _alerts(runner, spike_db, "--until", until)
    topics = {a["name"]: a for a in report["alerts"] if a["kind"] == "topic"}
    assert set(topics) == {"airline"}
    latest = (dt.date.fromisoformat(until[:10]) - dt.timedelta(days=0 if "T" in until else 1)).isoformat()
    assert topics["airline"]["period"] == latest


def test_steady_weeks_never_alert(runner, spike_db):
    report = _alerts(runner, spike_db, "--period", "week", "--until", "2025-10-27")
    assert [a["name"] for a in report["alerts"] if a["kind"] == "topic"] == []


def _volume_db(tmp_path, runner, series: dict[str, list[tuple[int, int]]]):
    """Topics with (day offset from START, comments that day); no models."""
    records, i = [], 0
    for topic, days in series.items():
        for day, count in days:
            for k in range(count):
                records.append(reddit(i, body=f"{topic} note {k}", sub=topic, t=START + day * DAY + k * 60 - i * 60))
                i += 1
    db = tmp_path / "v.duckdb"
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "v.jsonl", records)), "--db", str(db),
                                 "--tasks", "none"])
    assert result.exit_code == 0, result.output
    return db


def test_a_name_younger_than_its_history_is_new_not_an_alert(runner, tmp_path):
    db = _volume_db(tmp_path, runner, {"old": [(d, 12) for d in range(20)],
                                        "launch": [(17, 30), (18, 200), (19, 700)]})
    for args in ((), ("--until", "2025-10-19")):
        report = _alerts(runner, db, *args)
        assert [a["name"] for a in report["alerts"]] == []
        [new] = [n for n in report["new"] if n["name"] == "launch"]
        assert new["first_seen"] == "2025-10-18" and new["history_periods"] == (2 if not args else 0)
        assert new["volume_z"] is None and "new: first seen 2025-10-18" in new["reasons"]


def test_history_starts_at_the_first_comment_not_before(runner, tmp_path):
    """A topic 8 days old with a steady 30 a day is scored on its 7 days, not on 14 with 7 zeros."""
    db = _volume_db(tmp_path, runner, {"young": [(d, 30) for d in range(12, 20)] + [(20, 40)]})
    report = _alerts(runner, db, "--until", "2025-10-21", "--threshold", "3")
    assert report["alerts"] == [] and report["new"] == []
    late = _alerts(runner, db, "--threshold", "3")  # 40 vs a usual 30 with no spread: a Poisson-sized jump
    assert late["alerts"] == []


def test_each_name_is_judged_on_its_own_latest_period(runner, tmp_path):
    """Data from 2015 and from 2025 in one database: the 2015 topic's storm is still found, on its own date."""
    db = _volume_db(tmp_path, runner, {"now": [(d, 10) for d in range(15)],
                                        "then": [(d - 3650, 10) for d in range(14)] + [(-3650 + 14, 150)]})
    report = _alerts(runner, db)
    [then] = [a for a in report["alerts"] if a["name"] == "then"]
    assert then["period"] == "2015-10-18" and then["volume"] == 150 and then["usual_volume"] == 10
    assert "now" not in {a["name"] for a in report["alerts"]}
    table = runner.invoke(app, ["report", "alerts", "--db", str(db), "--until", "2025-10-10"])
    assert "before 2025-10-10," in table.stdout


def test_false_alarm_rate_on_random_steady_series_is_at_most_half_a_percent(tmp_path):
    """Property: series whose volume is Poisson and whose negative share is binomial around a fixed rate,
    with random levels, never change; at the default threshold (3.5) at most 0.5% of them may alert (0 of 400 measured; 1-1.5% before the Poisson and binomial scale floors)."""
    import numpy as np
    import polars as pl

    from analyzer.reports.run import run_report
    from analyzer.store.database import open_store, set_meta

    rng = np.random.default_rng(19)
    n_series, n_days = 400, 15
    frames = []
    for s in range(n_series):
        level, p_negative = rng.uniform(10, 60), rng.uniform(0.02, 0.7)
        volumes = rng.poisson(level, n_days)
        days = np.repeat(np.arange(n_days), volumes)
        frames.append(pl.DataFrame({"topic": f"t{s}", "day": days, "negative": rng.random(len(days)) < p_negative}))
    rows = pl.concat(frames).with_row_index("n").with_columns(
        pl.format("c{}", pl.col("n")).alias("id"),
        (pl.datetime(2025, 10, 1, time_zone="UTC") + pl.duration(days=pl.col("day"), hours=pl.col("n") % 24))
        .alias("created_at"),
        pl.when(pl.col("negative")).then(pl.lit("negative")).otherwise(pl.lit("neutral")).alias("label"))
    db = tmp_path / "steady.duckdb"
    con = open_store(db)
    try:
        set_meta(con, "model.sentiment", "m")
        con.register("steady_rows", rows.to_arrow())
        con.execute("""INSERT INTO comments (platform, id, created_at, topic, text, text_hash)
                       SELECT 'test', id, created_at, topic, id, id FROM steady_rows""")
        con.execute("INSERT INTO sentiment (text_hash, model, label) SELECT id, 'm', label FROM steady_rows")
        alerts, new = run_report(con, "alerts", {"min_volume": 1})
        scored = con.execute("SELECT count(DISTINCT topic) FROM steady_rows WHERE day = $last",
                             {"last": n_days - 1}).fetchone()[0]
    finally:
        con.close()
    assert new.rows == [] and scored > 0.95 * n_series
    rate = len(alerts.rows) / scored
    assert rate <= 0.005, (rate, alerts.rows[:5])


def test_negative_shares_are_corrected_like_the_other_reports(runner, spike_db, tmp_path):
    """With a measured confusion in the database, alerts score the corrected negative share (the same
    correction as `report topics`, applied in SQL), and say so; --raw scores the share as counted."""
    import shutil
    import statistics

    import duckdb

    from analyzer.labels import shares
    from tests.helpers import sql

    db = tmp_path / "c.duckdb"
    shutil.copy(spike_db, db)
    labels = ["negative", "neutral", "positive"]
    confusion = {"labels": labels, "counts": {"x": [[80, 15, 5], [15, 75, 10], [5, 10, 85]]}}
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('confusion.sentiment', $v)", {"v": json.dumps(confusion)})
    adjustment = shares.from_confusion(labels, confusion["counts"])
    params = adjustment.linear_params()
    days = sql(db, """
        SELECT count(*) FILTER (s.label = 'negative'), count(*) FILTER (s.label = 'neutral'),
               count(*) FILTER (s.label = 'positive')
        FROM comments c JOIN sentiment s USING (text_hash)
        WHERE c.topic = 'airline' AND c.created_at >= TIMESTAMPTZ '2025-10-16' AND c.created_at < TIMESTAMPTZ '2025-10-30'
        GROUP BY date_trunc('day', c.created_at)""")
    assert len(days) == 14  # the 14 days of history before the latest

    def corrected(day: tuple) -> float:
        return min(1.0, max(0.0, sum(params[f"adj_negative_{k}"] * v / sum(day) for k, v in zip(labels, day,
                                                                                                strict=True))))

    [airline] = [a for a in _alerts(runner, db)["alerts"] if a["name"] == "airline"]
    [raw] = [a for a in _alerts(runner, db, "--raw")["alerts"] if a["name"] == "airline"]
    assert raw["usual_negative"] == pytest.approx(statistics.median(d[0] / sum(d) for d in days))
    assert airline["usual_negative"] == pytest.approx(statistics.median(corrected(d) for d in days))
    assert abs(airline["usual_negative"] - raw["usual_negative"]) > 0.03  # the correction shows
    table = runner.invoke(app, ["report", "alerts", "--db", str(db)])
    assert "shares corrected for the model's measured errors" in " ".join(table.stdout.split())


def test_threshold_nan_is_refused_not_a_silent_bypass(runner, tmp_path):
    # nan compares false with every bound: `--threshold nan --fail-on-alert` exited 0 with no alerts
    for bad in ("nan", "inf", "-inf"):
        result = runner.invoke(app, ["report", "alerts", "--threshold", bad, "--fail-on-alert",
                                     "--db", str(tmp_path / "none.duckdb")])
        assert result.exit_code == 2, result.output
        assert "--threshold" in result.stderr and "finite" in result.stderr
    from analyzer.reports.catalog import REPORTS, ReportError, checked

    with pytest.raises(ReportError, match="finite"):  # the library refuses it too, for Python callers
        checked(REPORTS["alerts"], {"threshold": float("nan")})


def test_every_float_option_refuses_nan_and_inf(runner):
    import typing

    import typer

    def commands(group, path: list[str]):
        if hasattr(group, "commands"):
            for name, sub in group.commands.items():
                yield from commands(sub, [*path, name])
        else:
            yield path, group

    def is_float(param) -> bool:
        annotation = param.type_descriptor.annotation
        return annotation is float or float in typing.get_args(annotation)

    checked = 0
    for path, command in commands(typer.main.get_command(app), []):
        for param in command.params:
            if getattr(param, "opts", None) and param.opts[0].startswith("--") and is_float(param):
                for bad in ("nan", "inf"):
                    result = runner.invoke(app, [*path, param.opts[0], bad])
                    assert result.exit_code == 2 and "finite" in result.stderr, (path, param.opts, result.output)
                checked += 1
    assert checked >= 10  # --timeout of every report, query and export, --wait, --threshold, --lr, ...


def _hourly_db(tmp_path, runner, series: dict[str, list[list[int]]]):
    """Topics with, for each day from START, the hours of that day at which a comment was posted; no models."""
    records, i = [], 0
    for topic, days in series.items():
        for day, hours in enumerate(days):
            for k, hour in enumerate(hours):
                records.append(reddit(i, body=f"{topic} note {day} {k}", sub=topic,
                                      t=START + day * DAY + hour * 3600 + (k % 60) * 30 - i * 60))
                i += 1
    db = tmp_path / "h.duckdb"
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "h.jsonl", records)), "--db", str(db),
                                 "--tasks", "none"])
    assert result.exit_code == 0, result.output
    return db


def test_a_last_day_the_dump_ends_inside_is_compared_by_its_rate(runner, tmp_path):
    """Issue 32, point 13: a dump that stops at 09:00. 'steady' has its usual 9 comments by then (24 a day),
    'surge' 40 (a rate of ~107 a day against 24): counted against whole days, 40 vs 24 was z=3.3, no alert."""
    day = list(range(24))
    db = _hourly_db(tmp_path, runner, {"steady": [day] * 10 + [list(range(9))],
                                        "surge": [day] * 10 + [[h for h in range(9) for _ in range(4)] + [8] * 4]})
    report = _alerts(runner, db)
    alerts = {a["name"]: a for a in report["alerts"]}
    assert set(alerts) == {"surge"}
    assert alerts["surge"]["period_covered"] == 0.375 and alerts["surge"]["usual_volume"] == 9
    assert "volume 40 vs usual 9 by this time of a day" in alerts["surge"]["reasons"]
    table = " ".join(runner.invoke(app, ["report", "alerts", "--db", str(db)]).stdout.split())
    assert "the last day (2025-10-11) is partial: the data ends at 2025-10-11 08:" in table
    assert "a day usually holds 38% of its comments" in table
    # cut at 00:30, the last day holds too little to compare: it is left out, and the report says so
    (tmp_path / "early").mkdir()
    early = _hourly_db(tmp_path / "early", runner, {"steady": [day] * 10 + [[0]] * 1})
    table = " ".join(runner.invoke(app, ["report", "alerts", "--db", str(early), "--min-volume", "1"]).stdout.split())
    assert "the last day (2025-10-11) is left out" in table and "before 2025-10-11" in table


def test_a_dump_shorter_than_the_history_is_scored_on_what_it_has(runner, tmp_path):
    """Four days of data: every name used to be `new` (fewer than 7 days), so a storm on day four went unscored."""
    db = _volume_db(tmp_path, runner, {"calm": [(d, 20) for d in range(4)],
                                        "storm": [(d, 20) for d in range(3)] + [(3, 150)]})
    report = _alerts(runner, db)
    assert [a["name"] for a in report["alerts"]] == ["storm"] and report["new"] == []
    assert report["alerts"][0]["history_periods"] == 3
    table = " ".join(runner.invoke(app, ["report", "alerts", "--db", str(db)]).stdout.split())
    assert "the data holds 3 day(s) before its last: names are scored on that history, shorter than " \
           "--min-history 7" in table
