"""Mention replacement for NER training (training.augment): same-type swaps, tags rebuilt."""

from __future__ import annotations

import random

from training.augment import mention_pools, mention_replaced, mentions


def test_mentions_are_read_from_bio_tags_including_a_stray_inside_tag():
    assert mentions(["O", "B-PER", "I-PER", "O", "I-LOC", "B-ORG", "I-ORG"]) == [(1, 3, "PER"), (4, 5, "LOC"), (5, 7, "ORG")]


def test_replaced_mentions_keep_their_type_and_get_fresh_bio_tags():
    pools = mention_pools([["New", "York", "rocks"], ["ask", "Bob"]], [["B-LOC", "I-LOC", "O"], ["O", "B-PER"]])
    assert pools == {"LOC": [["New", "York"]], "PER": [["Bob"]]}
    words, tags = mention_replaced(["hi", "Ann", "Lee", "in", "Paris"], ["O", "B-PER", "I-PER", "O", "B-LOC"], pools,
                                   random.Random(1), p=1.0)
    assert words == ["hi", "Bob", "in", "New", "York"]
    assert tags == ["O", "B-PER", "O", "B-LOC", "I-LOC"]
    unchanged = mention_replaced(["hi", "Ann"], ["O", "B-PER"], pools, random.Random(1), p=0.0)
    assert unchanged == (["hi", "Ann"], ["O", "B-PER"])
