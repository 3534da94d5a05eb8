"""Extractive summaries with the real embedded MiniLM encoder (local, no network, no ../shared)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from analyzer.models.embeddings import SentenceEncoder
from analyzer.topics import summarize
from analyzer.topics.summarize import (
    SummaryConfig,
    extractive_summary,
    select_sentences,
    split_sentences,
)
from tests.helpers import finishes_within

PHONE_COMMENTS = [
    "The battery life on this phone is amazing. I charged it on Monday and it lasted until Wednesday night.",
    "Battery life is amazing on this phone! The camera is sharp in daylight but struggles in low light.",
    "The battery life on this phone is amazing!! Screen is bright and easy to read outside.",
    "Camera quality is great for the price. My brother dropped his in the pool last summer.",
    "The screen is bright and colourful. Face unlock is fast and reliable.",
    "Low light photos are noisy and blurry. The battery easily lasts two days.",
    "Charging is slow with the included cable. Otherwise a solid phone for the money.",
    "It feels cheap and plasticky in the hand. Battery and screen are excellent though.",
]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(threads=2)


def input_sentences(comments: list[str]) -> list[str]:
    return [" ".join(s.split()) for c in comments for s in split_sentences(c)]


def as_input_sentences(summary: str, sentences: list[str]) -> list[str] | None:
    """Split `summary` into whole input sentences joined by spaces, or None if it cannot be."""
    if not summary:
        return []
    for sentence in sorted(set(sentences), key=len, reverse=True):
        if summary == sentence:
            return [sentence]
        if summary.startswith(sentence + " "):
            rest = as_input_sentences(summary[len(sentence) + 1 :], sentences)
            if rest is not None:
                return [sentence, *rest]
    return None


# ------------------------------------------------------------------------------------------ splitting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great fit. Runs small!! Would buy again", ["Great fit.", "Runs small!!", "Would buy again"]),
        ("pockets hold my sunglasses.I guess it's fine", ["pockets hold my sunglasses.", "I guess it's fine"]),
        (
            "Dr. Smith paid $3.50 for it, e.g. at lunch. Cheap!",
            ["Dr. Smith paid $3.50 for it, e.g. at lunch.", "Cheap!"],
        ),
        ("See www.example.com. Then decide.", ["See www.example.com.", "Then decide."]),
        ("so good... will order again... Really!", ["so good... will order again...", "Really!"]),
        ("Love it :) Would recommend", ["Love it :)", "Would recommend"]),
        ("- first point\n- second point\n\nthird", ["first point", "second point", "third"]),
        ("Made in the U.S. and it shows. ok?", ["Made in the U.S. and it shows.", "ok?"]),
        ("!!! ... ?", []),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# ------------------------------------------------------------------------------------------ encoder


def test_encoder_rows_are_normalised_and_in_input_order(encoder: SentenceEncoder) -> None:
    texts = ["a much longer sentence about battery life and screens and cameras", "short", "battery"]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert together.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_encoder_truncates_long_text_without_warning(encoder: SentenceEncoder, capfd: pytest.CaptureFixture) -> None:
    rows = encoder.encode(["battery " * 2000, "fine"])
    assert np.isfinite(rows).all()
    assert "sequence length" not in capfd.readouterr().err


def test_encoder_matches_sentence_transformers(encoder: SentenceEncoder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    from analyzer.models.pack import base_dir

    texts = ["The battery life is amazing.", "Camera struggles in low light."]
    reference = sentence_transformers.SentenceTransformer(str(base_dir()), device="cpu").encode(texts)
    np.testing.assert_allclose(encoder.encode(texts), reference, atol=1e-4)


# ------------------------------------------------------------------------------------------ summary


@pytest.mark.parametrize("max_words", [8, 20, 35, 60])
def test_summary_respects_word_budget_and_uses_input_sentences(encoder: SentenceEncoder, max_words: int) -> None:
    summary = extractive_summary(PHONE_COMMENTS, max_words=max_words, encoder=encoder)
    assert summary
    assert len(summary.split()) <= max_words
    assert as_input_sentences(summary, input_sentences(PHONE_COMMENTS)) is not None, summary


def test_summary_fills_most_of_the_budget(encoder: SentenceEncoder) -> None:
    summary = extractive_summary(PHONE_COMMENTS, max_words=60, encoder=encoder)
    assert 40 <= len(summary.split()) <= 60


def test_summary_never_picks_two_near_duplicates(encoder: SentenceEncoder) -> None:
    summary = extractive_summary(PHONE_COMMENTS, max_words=60, encoder=encoder)
    picked = as_input_sentences(summary, input_sentences(PHONE_COMMENTS))
    assert picked is not None
    battery_amazing = [s for s in picked if "battery life" in s.lower() and "amazing" in s.lower()]
    assert len(battery_amazing) == 1, picked  # the topic's main point, said three ways, shown once
    rows = encoder.encode(picked)
    similarity = rows @ rows.T
    np.fill_diagonal(similarity, 0)
    assert similarity.max() <= SummaryConfig().duplicate_threshold


def test_exact_repeats_are_shown_once_even_without_the_similarity_check(encoder: SentenceEncoder) -> None:
    comments = ["Great coffee and friendly staff."] * 5 + ["The pastries are fresh.", "Parking is hard to find."]
    config = SummaryConfig(duplicate_threshold=1.1)
    summary = extractive_summary(comments, max_words=60, encoder=encoder, config=config)
    assert summary.count("Great coffee and friendly staff.") == 1


@pytest.mark.parametrize("comments", [[], [""], ["   ", "\n"], ["!!!", "..."]])
def test_empty_input_gives_empty_summary(encoder: SentenceEncoder, comments: list[str]) -> None:
    assert extractive_summary(comments, encoder=encoder) == ""


def test_zero_budget_gives_empty_summary(encoder: SentenceEncoder) -> None:
    assert extractive_summary(PHONE_COMMENTS, max_words=0, encoder=encoder) == ""


def test_topical_sentence_beats_off_topic_one(encoder: SentenceEncoder) -> None:
    comments = [
        "The espresso here is rich and smooth.",
        "Best espresso in town, rich and never bitter.",
        "The baristas are friendly and the espresso is smooth.",
        "My cousin's truck broke down on the highway near Denver.",
        "Smooth espresso, friendly baristas, a little pricey.",
    ]
    summary = extractive_summary(comments, max_words=9, encoder=encoder)
    assert "espresso" in summary.lower()
    assert "truck" not in summary.lower()
    longer = extractive_summary(comments, max_words=30, encoder=encoder)
    assert "truck" not in longer.lower()


def test_first_person_anecdote_loses_to_a_general_statement(encoder: SentenceEncoder) -> None:
    comments = [
        "I bought these for my trip and I wore them every day of my holiday.",
        "These shoes are comfortable and well made.",
        "Comfortable shoes, they fit true to size.",
        "Very comfortable shoes for walking all day.",
    ]
    summary = extractive_summary(comments, max_words=8, encoder=encoder)
    assert summary in {"These shoes are comfortable and well made.", "Very comfortable shoes for walking all day."}


def test_oversized_single_sentence_is_cut_to_the_budget(encoder: SentenceEncoder) -> None:
    long_comment = "This charger " + "works well and " * 20 + "charges fast."
    summary = extractive_summary([long_comment], max_words=10, encoder=encoder)
    assert len(summary.split()) == 10
    assert summary.endswith("…")


def test_short_sentences_are_used_when_nothing_else_fits(encoder: SentenceEncoder) -> None:
    comments = ["Love it!", "The sound quality is superb for such a small speaker."]
    assert extractive_summary(comments, max_words=3, encoder=encoder) == "Love it!"


def test_selection_orders_by_relative_position_in_comments() -> None:
    sentences = ["first of A.", "last of A.", "first of B.", "middle of B.", "last of B."]
    comment_ids = [0, 0, 1, 1, 1]
    rows = np.random.default_rng(0).normal(size=(5, 16))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    config = SummaryConfig(min_sentence_words=1, duplicate_threshold=1.1)
    chosen = select_sentences(sentences, comment_ids, rows, max_words=100, config=config)
    assert chosen == [0, 2, 3, 1, 4]


# ------------------------------------------------------------------------------------------ key points

CRASH = ["The app crashes every time I open it.", "the app crashes every time i open it!!",
         "The app crashes every single time I open it.", "App crashes every time I open it"]


def test_key_points_rank_sentences_by_how_many_comments_say_them(encoder: SentenceEncoder) -> None:
    from analyzer.topics.summarize import key_points

    comments = [CRASH[i % 4] for i in range(12)] + ["Love the new dark mode design, it looks great."] * 3 + [
        "Support answered my ticket within an hour."]
    points = key_points(comments, encoder=encoder)
    assert [p.comments for p in points] == [12, 3, 1]
    assert points[0].sentence in CRASH and "dark mode" in points[1].sentence
    assert sorted(points[0].members) == list(range(12))


def test_key_points_count_each_comment_by_its_weight_and_once(encoder: SentenceEncoder) -> None:
    from analyzer.topics.summarize import key_points

    comments = ["Spotify is down again. Spotify is down again!", "The playlist feature is really nice to use."]
    points = key_points(comments, weights=[120, 3], encoder=encoder)
    assert [(p.comments, p.members) for p in points] == [(120, (0,)), (3, (1,))]


def test_key_points_stay_within_the_word_budget(encoder: SentenceEncoder) -> None:
    from analyzer.topics.summarize import key_points

    for max_words in (8, 20, 60):
        points = key_points(PHONE_COMMENTS, max_words=max_words, encoder=encoder)
        assert points and sum(len(p.sentence.split()) for p in points) <= max_words
        assert all(p.sentence in input_sentences(PHONE_COMMENTS) for p in points)


# The sentence splitter runs on text written by anyone: each of these took minutes (quadratic in a run
# of dots, marks, spaces or a long word) before its regex was made linear.
def test_split_sentences_is_linear_on_hostile_runs() -> None:
    code = (
        "from analyzer.topics.summarize import split_sentences\n"
        "for text in ('a' + '.' * 100000 + 'x', 'a' + '!' * 100000 + 'x', 'see http://a' + '.' * 100000 + 'x',\n"
        "             'a' + ' ' * 100000 + 'x', 'a' * 100000 + '. x', 'Mr. ' * 25000 + 'x',\n"
        "             'I love it ' + '#a...... ' * 10000 + ' ,'):\n"
        "    split_sentences(text)\n"
    )
    assert finishes_within(code, 60)


_OLD_URL = re.compile(r"(?:https?://|www\.)\S+?(?=[.,!?;:)\]\"']*(?:\s|$))", re.IGNORECASE)
_OLD_BOUNDARY = re.compile(r"(?:[.!?\u2026]+|(?<=\s)[:;]-?[()DPp](?=\s))[\"'\u201d\u2019)\]]*\s+")
_OLD_LINE_BREAKS = re.compile(r"\s*(?:\r?\n|<br\s*/?>)+\s*")


def test_split_sentences_splits_as_the_old_patterns_did() -> None:
    rng = random.Random(35)
    pieces = ["a", "B", "I", ".", "!", "?", "\u2026", " ", "\t", "\n", "\r\n", "<br>", "<br />", ":)", ";", "-", ")",
              "'", "\"", "http://", "www.", "/", "x.y", "Mr", "D"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert [m.span() for m in summarize._BOUNDARY.finditer(text)] == [m.span() for m in _OLD_BOUNDARY.finditer(text)]
        assert summarize._LINE_BREAKS.split(text) == _OLD_LINE_BREAKS.split(text), text
        old_urls = [m.group(0) for m in _OLD_URL.finditer(text)]
        assert [u for u, _ in _protected_urls(text)] == old_urls, text
    assert split_sentences("Read http://x.y/a. Then go! Mr. Smith agreed... and left.") == [
        "Read http://x.y/a.", "Then go!", "Mr. Smith agreed... and left."]


def _protected_urls(text: str) -> list[tuple[str, str]]:
    """(URL, the punctuation given back) for each URL `_split_line` protects."""
    found = []
    for match in summarize._URL.finditer(text):
        url, scheme = match.group(0), match.group(1)
        keep = len(scheme) + max(1, len(url[len(scheme):].rstrip(summarize._URL_END_PUNCTUATION)))
        found.append((url[:keep], url[keep:]))
    return found
