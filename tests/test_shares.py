"""Class shares corrected for a model's measured confusion, with intervals (analyzer.labels.shares), and the
reports that show them. The confusions here are written by hand; the embedded pack ships none yet
(its dev confusion is recorded as `dev_confusion`, not applied: see analyzer/labels/shares.py)."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from analyzer.cli import app
from analyzer.labels import shares
from tests.test_reports import filled_db, report  # noqa: F401 (a fixture)

LABELS = ["negative", "neutral", "positive"]
# a model that calls a third of neutral texts positive or negative, as the sentiment pack does on unseen tweets
CONFUSION = {"held-out": [[860, 100, 40], [180, 600, 220], [30, 90, 880]]}


def _sample(mix: dict[str, float], n: int, seed: int) -> dict[str, int]:
    """The model's labels on `n` texts whose true mix is `mix`: each text's label drawn from its class's row."""
    rng = random.Random(seed)
    rows = {label: [v / sum(row) for v in row] for label, row in zip(LABELS, CONFUSION["held-out"], strict=True)}
    counts = dict.fromkeys(LABELS, 0)
    for _ in range(n):
        truth = rng.choices(LABELS, weights=[mix[label] for label in LABELS])[0]
        counts[rng.choices(LABELS, weights=rows[truth])[0]] += 1
    return counts


def test_the_adjustment_recovers_planted_shares_within_its_interval():
    adjustment = shares.from_confusion(LABELS, CONFUSION)
    mix = {"negative": 0.30, "neutral": 0.50, "positive": 0.20}
    for seed in range(5):
        counts = _sample(mix, 2000, seed)
        counted = {label: counts[label] / 2000 for label in LABELS}
        assert counted["neutral"] < 0.40  # as counted, neutral is under-reported by ten points
        adjusted, bounds = adjustment.shares(counts), adjustment.intervals(counts)
        for label in LABELS:
            assert bounds[label][0] <= mix[label] <= bounds[label][1], (seed, label, adjusted, bounds)
            assert abs(adjusted[label] - mix[label]) < abs(counted[label] - mix[label]) or label == "positive"
        assert sum(adjusted.values()) == pytest.approx(1.0)


def test_the_expected_counts_give_back_the_mix_exactly():
    adjustment = shares.from_confusion(LABELS, CONFUSION)
    rates = [[v / sum(row) for v in row] for row in CONFUSION["held-out"]]
    mix = [0.1, 0.6, 0.3]
    counts = {LABELS[j]: round(100_000 * sum(mix[i] * rates[i][j] for i in range(3))) for j in range(3)}
    got = adjustment.shares(counts)
    assert [round(got[label], 3) for label in LABELS] == mix


def test_a_small_topic_gets_a_wider_interval_than_a_large_one():
    adjustment = shares.from_confusion(LABELS, CONFUSION)
    small = adjustment.intervals({"negative": 5, "neutral": 0, "positive": 0})
    large = adjustment.intervals({"negative": 500, "neutral": 0, "positive": 0})
    width = {name: b["negative"][1] - b["negative"][0] for name, b in (("small", small), ("large", large))}
    assert width["small"] > 3 * width["large"] and width["small"] > 0.3  # 5 comments: no confident 100%
    assert adjustment.intervals({"negative": 0, "neutral": 0, "positive": 0}) is None


def test_raw_shares_are_the_counted_ones():
    counts = {"negative": 3, "neutral": 1, "positive": 6}
    assert shares.raw(tuple(LABELS)).shares(counts) == {"negative": 0.3, "neutral": 0.1, "positive": 0.6}


def test_a_confusion_that_cannot_correct_anything_is_refused():
    with pytest.raises(shares.ConfusionError, match="singular"):
        shares.from_confusion(LABELS, {"x": [[1, 1, 0], [1, 1, 0], [0, 0, 5]]})
    with pytest.raises(shares.ConfusionError, match="no held-out example of 'neutral'"):
        shares.from_confusion(LABELS, {"x": [[5, 0, 0], [0, 0, 0], [0, 0, 5]]})


def _store_confusion(db, value: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('confusion.sentiment', $v)", {"v": value})


def test_the_topics_report_corrects_shares_with_the_stored_confusion(runner, filled_db):  # noqa: F811
    raw_rows = report(runner, filled_db, "topics", "--raw")
    _store_confusion(filled_db, json.dumps({"labels": LABELS, "counts": CONFUSION}))
    rows = report(runner, filled_db, "topics")
    adjustment = shares.from_confusion(LABELS, CONFUSION)
    assert len(rows) == len(raw_rows) >= 2
    for row, raw_row in zip(rows, raw_rows, strict=True):
        counts = {label: row[f"n_{label}"] for label in LABELS}  # the counts stay in the row
        assert counts == {label: raw_row[f"n_{label}"] for label in LABELS}
        assert raw_row["negative"] == pytest.approx(counts["negative"] / sum(counts.values()))
        expected = adjustment.shares(counts)
        for label in LABELS:
            assert row[label] == pytest.approx(expected[label])
            assert row[f"{label}_low"] <= row[label] <= row[f"{label}_high"]
        assert row["net_sentiment"] == pytest.approx(expected["positive"] - expected["negative"])
    table = runner.invoke(app, ["report", "topics", "--db", str(filled_db)])
    assert "corrected for the model's measured errors" in " ".join(table.stdout.split())
    raw_table = runner.invoke(app, ["report", "topics", "--db", str(filled_db), "--raw"])
    assert "count them (--raw)" in " ".join(raw_table.stdout.split())


def test_without_a_measured_confusion_the_report_says_shares_are_counted(runner, filled_db):  # noqa: F811
    table = runner.invoke(app, ["report", "topics", "--db", str(filled_db)])
    assert table.exit_code == 0, table.output
    assert "no confusion measured on held-out data for" in " ".join(table.stdout.split())
    _store_confusion(filled_db, '{"labels": ["a", "b"], "counts": {"x": [[1, 0], [0, 1]]}}')
    table = runner.invoke(app, ["report", "topics", "--db", str(filled_db)])
    assert "not negative, neutral, positive" in " ".join(table.stdout.split())


def test_shares_check_tells_a_confusion_that_transfers_from_one_that_does_not():
    """training.shares_check decides whether a pack's dev confusion may correct reports: with two sets
    whose errors are alike, correcting one with the other's confusion removes its error; with unlike
    errors it does not (the embedded pack's case)."""
    from training.shares_check import check

    alike = [[880, 90, 30], [200, 560, 240], [20, 100, 880]]
    same_errors = {"dev_confusion": {"labels": LABELS, "counts": {
        "a": alike, "b": [[v * 3 for v in row] for row in alike[:1]] + alike[1:]}}}
    results = {(name, method): mean for name, method, mean, _ in check(same_errors)}
    assert results[("a", "raw (as counted)")] > 5
    assert results[("a", "corrected with b")] < 0.01  # b's rates are a's: the correction is exact
    unlike = {"dev_confusion": {"labels": LABELS, "counts": {"a": alike, "b": [[900, 50, 50], [50, 900, 50],
                                                                              [300, 300, 400]]}}}
    results = {(name, method): mean for name, method, mean, _ in check(unlike)}
    assert results[("a", "corrected with b")] > results[("a", "raw (as counted)")]


def test_shares_check_applies_a_testlike_confusion_only_where_it_corrects_every_dev_set(tmp_path):
    """`--apply` makes the test-like confusion the manifest's `confusion` when it lowers the mean and worst share
    error of every dev set, and removes any `confusion` when it does not."""
    from training.shares_check import check, main, testlike_transfers

    alike = [[880, 90, 30], [200, 560, 240], [20, 100, 880]]
    dev = {"labels": LABELS, "counts": {"a": alike, "b": [[v * 2 for v in row] for row in alike]}}
    good = {"dev_confusion": dev, "testlike_confusion": {"labels": LABELS, "counts": {"later": alike}}}
    bad = {"dev_confusion": dev, "testlike_confusion": {"labels": LABELS, "counts": {
        "later": [[900, 50, 50], [50, 900, 50], [300, 300, 400]]}}, "confusion": {"stale": True}}
    assert testlike_transfers(good) and not testlike_transfers(bad)
    assert not testlike_transfers({"dev_confusion": dev})
    rows = {(name, method) for name, method, _, _ in check(good)}
    assert ("a", "corrected with later") in rows and ("later", "corrected with both dev sets") in rows
    for manifest, applied in ((good, True), (bad, False)):
        (tmp_path / "manifest.json").write_text(json.dumps(manifest))
        assert main(["--folder", str(tmp_path), "--apply"]) == 0
        written = json.loads((tmp_path / "manifest.json").read_text())
        assert written.get("confusion") == (manifest["testlike_confusion"] if applied else None)


def test_trend_and_entities_use_the_same_corrected_shares(runner, filled_db):  # noqa: F811
    _store_confusion(filled_db, json.dumps({"labels": LABELS, "counts": CONFUSION}))
    adjustment = shares.from_confusion(LABELS, CONFUSION)
    for name in ("trend", "entities"):
        rows = report(runner, filled_db, name)
        assert rows, name
        for row in rows:
            counts = {label: row[f"n_{label}"] for label in LABELS}
            if not sum(counts.values()):
                assert row["negative"] is None
                continue
            expected = adjustment.shares(counts)
            assert row["negative"] == pytest.approx(expected["negative"])
            assert row["net_sentiment"] == pytest.approx(expected["positive"] - expected["negative"])
