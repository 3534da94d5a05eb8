"""The test-like split (SemEval's latest period) is kept out of every sentiment training run and scored
beside validation (training.datasets, training.train_sentiment). Small hand-written SemEval-shaped files."""

from __future__ import annotations

import pytest

from training import datasets
from training.train_sentiment import kept_scores, selection_scores, side_by_side


@pytest.fixture()
def semeval(tmp_path, monkeypatch):
    folder = tmp_path / "semeval-sentiment"
    folder.mkdir()
    (folder / "twitter-2013train-A.tsv").write_text(
        "1\tpositive\tloving the new phone\n2\tneutral\tthe store opens at 9\n"
        "3\tnegative\tworst update ever \\u2019\n")  # the last one reappears, escaped otherwise, in 2016
    (folder / "twitter-2016test-A.tsv").write_text(
        "4\tnegative\tWorst update ever ’\n5\tneutral\tgame starts at 8 tonight\n6\tpositive\tgreat show\n")
    (folder / "twitter-2016devtest-A.tsv").write_text("7\tneutral\tmeeting moved to Monday\n")
    monkeypatch.setenv("OPINIONS_DATASETS", str(tmp_path))
    return folder


def test_no_tweet_of_the_test_like_period_is_trained_on(semeval):
    texts, labels = datasets.semeval_train(exclude=set())
    assert sorted(zip(texts, labels, strict=True)) == [("loving the new phone", "positive"),
                                                       ("the store opens at 9", "neutral")]  # its 2016 twin too
    kept, _ = datasets.semeval_train(exclude=set(), keep_testlike=True)
    assert len(kept) == 6  # measurement only: the same tweet twice is one


def test_the_test_like_split_is_a_seeded_sample_of_the_latest_period(semeval):
    everything = datasets.semeval_testlike(rows=0)
    assert sorted(everything[0]) == ["Worst update ever ’", "game starts at 8 tonight", "great show",
                                     "meeting moved to Monday"]
    assert datasets.semeval_testlike(rows=2, seed=1) == datasets.semeval_testlike(rows=2, seed=1)
    assert len(datasets.semeval_testlike(rows=2)[0]) == 2


def test_runs_are_compared_on_the_test_like_split_not_on_validation():
    better_on_val = selection_scores(val_recall=80.0, testlike_recall=66.0, goemotions_f1=68.0)
    better_on_test = selection_scores(val_recall=76.0, testlike_recall=70.0, goemotions_f1=68.0)
    assert better_on_test["select"] > better_on_val["select"]
    assert better_on_val["val_testlike_gap"] == 14.0
    scores = {"tweeteval_val_macro_recall": 75.7, "testlike_macro_recall": 68.9,
              **{f"val_recall_{k}": v for k, v in (("negative", 80), ("neutral", 70), ("positive", 77))},
              **{f"testlike_recall_{k}": v for k, v in (("negative", 86.3), ("neutral", 41.0), ("positive", 79.3))}}
    table = side_by_side(scores)
    assert "recall neutral" in table and "+29.00" in table and "+6.80" in table


def test_the_side_by_side_table_is_of_the_epoch_that_was_kept():
    history = [{"epoch": 1, "tweeteval_val_macro_recall": 70.0, "select": 60.0},
               {"epoch": 2, "tweeteval_val_macro_recall": 74.0, "select": 58.0},
               {"epoch": "best (1)", "select": 60.0}]
    assert kept_scores(history)["tweeteval_val_macro_recall"] == 70.0
    assert kept_scores(history[:2])["tweeteval_val_macro_recall"] == 74.0
