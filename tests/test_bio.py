"""Constrained BIO decoding: the most probable valid tag sequence, used by training evaluation and inference."""

from __future__ import annotations

import numpy as np

from analyzer.tasks.ner import bio

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_an_inside_tag_cannot_open_an_entity_so_the_best_valid_sequence_wins():
    # argmax per word would give O, I-PER: invalid. The valid choices are O O (0.6*0.45) or B-PER I-PER (0.4*0.55).
    probs = np.array([[0.6, 0.4, 0.0, 0.0, 0.0], [0.45, 0.0, 0.55, 0.0, 0.0]])
    assert [TAGS[i] for i in bio.decode(probs, TAGS)] == ["O", "O"]
    probs[0] = [0.45, 0.55, 0.0, 0.0, 0.0]
    assert [TAGS[i] for i in bio.decode(probs, TAGS)] == ["B-PER", "I-PER"]


def test_an_entity_does_not_change_type_midway():
    probs = np.array([[0.1, 0.8, 0.0, 0.1, 0.0], [0.1, 0.0, 0.3, 0.0, 0.6]])
    assert [TAGS[i] for i in bio.decode(probs, TAGS)] == ["B-PER", "I-PER"]


def test_confident_valid_sequences_are_left_alone_and_empty_input_is_fine():
    probs = np.eye(len(TAGS))[[1, 2, 0, 3, 4]]
    assert [TAGS[i] for i in bio.decode(probs, TAGS)] == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert bio.decode(np.zeros((0, len(TAGS))), TAGS) == []


def test_io_scheme_models_keep_their_inside_tags():
    tags = ["O", "I-PER"]  # no B- tags at all: nothing to constrain
    assert bio.decode(np.array([[0.2, 0.8], [0.3, 0.7]]), tags) == [1, 1]


def test_learned_transitions_tip_an_uncertain_word_towards_the_tag_that_usually_follows():
    # in the gold data a B-LOC is always followed by I-LOC, so "O" after B-LOC is rare
    gold = [["B-LOC", "I-LOC", "O"], ["O", "B-LOC", "I-LOC"], ["B-PER", "O", "O"]] * 5
    learned = bio.transition_scores({bio.CONFIG_KEY: bio.learned_transitions(gold, TAGS, weight=1.0)}, TAGS)
    probs = np.array([[0.05, 0.0, 0.0, 0.95, 0.0], [0.55, 0.0, 0.0, 0.0, 0.45]])
    assert [TAGS[i] for i in bio.decode(probs, TAGS)] == ["B-LOC", "O"]
    assert [TAGS[i] for i in bio.decode(probs, TAGS, learned)] == ["B-LOC", "I-LOC"]
    # weight 0 is the plain constrained decoding
    off = bio.transition_scores({bio.CONFIG_KEY: bio.learned_transitions(gold, TAGS, weight=0.0)}, TAGS)
    assert [TAGS[i] for i in bio.decode(probs, TAGS, off)] == ["B-LOC", "O"]


def test_transitions_learned_for_another_tag_set_are_not_used():
    learned = {bio.CONFIG_KEY: bio.learned_transitions([["B-PER", "I-PER"]], ["O", "B-PER", "I-PER"], weight=1.0)}
    assert bio.transition_scores(learned, TAGS) is None
    assert bio.transition_scores({}, TAGS) is None
