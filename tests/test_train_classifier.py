"""The recipe trainer's data helpers (`training.train_classifier`): class weights, per-class caps, the recipes."""

from __future__ import annotations

from training.train_classifier import RECIPES, cap_classes, class_weights


def test_class_weights_favour_rare_classes_and_average_one_over_the_rows():
    labels = ["a"] * 80 + ["b"] * 20
    assert class_weights(labels, ["a", "b"], 0) is None
    balanced = class_weights(labels, ["a", "b"], 1.0)
    assert balanced[1] / balanced[0] == 4.0
    assert abs((80 * balanced[0] + 20 * balanced[1]) / 100 - 1) < 1e-3
    root = class_weights(labels, ["a", "b"], 0.5)
    assert abs(root[1] / root[0] - 2.0) < 1e-3


def test_cap_keeps_at_most_n_rows_per_class_seeded_and_in_order():
    texts = [f"t{i}" for i in range(30)]
    labels = ["a"] * 25 + ["b"] * 5
    kept = cap_classes(texts, labels, 10, seed=3)
    assert kept == cap_classes(texts, labels, 10, seed=3)
    assert kept[1].count("a") == 10 and kept[1].count("b") == 5
    assert kept[0] == sorted(kept[0], key=lambda t: int(t[1:]))
    assert cap_classes(texts, labels, 0, seed=3) == (texts, labels)


def test_recipes_score_a_held_out_set_and_another_domain():
    assert RECIPES["offensive"].labels == ["not-offensive", "offensive"]
    assert RECIPES["emotion"].labels == ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
    for recipe in RECIPES.values():
        assert recipe.validation.name != recipe.cross.name
        assert recipe.metrics()[0] == f"{recipe.validation.name}_macro_f1"
    assert set(RECIPES["emotion"].cross.labels) <= set(RECIPES["emotion"].labels)
