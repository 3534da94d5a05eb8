"""`opinions train`: fine-tune on a user's file, metrics before/after, a folder that works everywhere.

Starts from the tiny STAND-IN model (randomly initialised) so that it runs in seconds;
the real domain-adaptation numbers come from training on ../shared data (see the note).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from analyzer.cli import app

GOOD = ["great battery and a lovely screen", "works perfectly, very happy", "fast delivery, love it",
        "excellent support, solved in minutes", "best purchase this year"]
BAD = ["broke after two days", "awful support, never again", "slow and buggy app", "refund still not paid",
       "the screen cracked immediately"]


def labelled_file(path: Path, n: int = 60, labels=("good", "bad")) -> Path:
    rng = random.Random(1)
    lines = []
    for i in range(n):
        label = labels[i % len(labels)]
        text = rng.choice(GOOD if label == labels[0] else BAD)
        lines.append(f"{text} #{i}\t{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_new_label_set_writes_a_folder_that_analyze_loads(runner, tmp_path, tiny_models):
    data = labelled_file(tmp_path / "support.tsv")
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(data), "--task", "sentiment", "--base", str(tiny_models["sentiment"]),
                                 "--epochs", "2", "--out", str(out), "--device", "cpu", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "new head" in result.stderr
    assert "before" in result.stdout and "after" in result.stdout and "macro_f1" in result.stdout
    card = (out / "MODEL_CARD.md").read_text()
    assert "good, bad" in card or "bad, good" in card
    assert json.loads((out / "opinions.json").read_text())["labels"] == ["bad", "good"]
    analysed = runner.invoke(app, ["analyze", "-", "--model", str(out), "--device", "cpu"], input="love it\n")
    assert analysed.exit_code == 0, analysed.output
    line = json.loads(analysed.stdout)
    assert line["label"] in {"good", "bad"} and set(line["scores"]) == {"good", "bad"}


def test_train_with_the_base_label_set_keeps_the_head_and_scores_before(runner, tmp_path, tiny_models):
    data = labelled_file(tmp_path / "s.tsv", labels=("positive", "negative"))
    data.write_text(data.read_text() + "it is a phone\tneutral\nthe box arrived\tneutral\n" * 3)
    result = runner.invoke(app, ["train", str(data), "--base", str(tiny_models["sentiment"]), "--epochs", "1",
                                 "--out", str(tmp_path / "m"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "base head kept" in result.stderr
    before = json.loads((tmp_path / "m" / "opinions.json").read_text())["before"]
    assert before is not None and "macro_f1" in before


def test_train_ner_on_conll_with_own_tags(runner, tmp_path, tiny_models):
    sentences = []
    for i in range(30):
        sentences.append(f"I\tO\nlove\tO\nMacBooks\tB-GADGET\nfrom\tO\nApple\tB-ORG\n{i}\tO\n")
    data = tmp_path / "g.conll"
    data.write_text("\n".join(sentences))
    out = tmp_path / "ner"
    result = runner.invoke(app, ["train", str(data), "--task", "ner", "--base", str(tiny_models["ner"]),
                                 "--epochs", "1", "--out", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert set(config["id2label"].values()) == {"O", "B-GADGET", "I-GADGET", "B-ORG", "I-ORG"}
    # the tag transitions of this data are saved for decoding, in the head's tag order
    learned = config["opinions_tag_transitions"]
    tags = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    assert learned["tags"] == tags
    assert 0 < learned["sentences"] < len(sentences)  # training sentences only: the rest is the validation split
    assert learned["pairs"][tags.index("B-GADGET")][tags.index("O")] > 0  # in this data a gadget is one word


def test_bad_files_are_refused_before_training_with_line_numbers(runner, tmp_path, tiny_models):
    base = ["--base", str(tiny_models["sentiment"]), "--device", "cpu"]
    few = tmp_path / "few.tsv"
    few.write_text("good stuff\tgood\nbad stuff\tbad\n")
    result = runner.invoke(app, ["train", str(few), *base])
    assert result.exit_code == 1 and "at least 20" in result.stderr
    one = tmp_path / "one.tsv"
    one.write_text("".join(f"text {i}\tgood\n" for i in range(30)))
    result = runner.invoke(app, ["train", str(one), *base])
    assert result.exit_code == 1 and "only one label" in result.stderr
    broken = tmp_path / "broken.tsv"
    broken.write_text("".join(f"text {i}\t{'good' if i % 2 else 'bad'}\n" for i in range(30)) + "no tab here\n\tbad\n")
    result = runner.invoke(app, ["train", str(broken), *base])
    assert result.exit_code == 1 and "line 31" in result.stderr and "line 32" in result.stderr


def test_partial_label_loss_is_cross_entropy_for_plain_labels_and_allowed_mass_for_sets():
    import torch

    from analyzer.finetune import PartialLabelLoss

    torch.manual_seed(0)
    logits = torch.randn(4, 5)
    plain = torch.tensor([0, 3, -100, 2])
    loss = PartialLabelLoss([[0, 3, 4]], num_labels=5)
    assert torch.allclose(loss(logits, plain), torch.nn.functional.cross_entropy(logits, plain, ignore_index=-100))
    partial = torch.tensor([5, 5, 1, -100])  # 5 = "any of 0, 3, 4"
    probs = logits.softmax(-1)
    expected = -(torch.log(probs[0, [0, 3, 4]].sum()) + torch.log(probs[1, [0, 3, 4]].sum()) + torch.log(probs[2, 1])) / 3
    assert torch.allclose(loss(logits, partial), expected, atol=1e-6)


def test_distillation_loss_is_zero_when_the_student_matches_the_teacher_and_positive_otherwise():
    import torch

    from analyzer.finetune import distillation_loss

    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    assert distillation_loss(logits, logits.softmax(-1)).abs() < 1e-6
    assert distillation_loss(logits, torch.tensor([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])) > 0.1


def test_soup_averages_pack_entries_by_weight_with_frozen_tensors_taken_from_the_base(tmp_path):
    import pytest
    import torch

    from analyzer import modelpack
    from training.soup import averaged

    base = modelpack.base_tensors("bert.")
    query = "bert.encoder.layer.0.attention.self.query.weight"
    entries = []
    for name, shift in (("a", 0.01), ("b", -0.03)):
        tensors = {query: base[query] + shift, "classifier.weight": torch.full((3, 384), shift)}
        modelpack.write_pack_entry(tmp_path / name, tensors, {}, {"base_prefix": "bert."})
        entries.append(tmp_path / name)
    soup = averaged(entries, [3.0, 1.0])  # normalised: 0.75 / 0.25
    assert torch.allclose(soup["classifier.weight"], torch.zeros(3, 384), atol=1e-4)
    assert torch.allclose(soup[query], base[query], atol=2e-3)  # +0.0075 - 0.0075 around the base, int8 deltas
    # an entry that kept layer 0 frozen contributes the base's layer 0
    modelpack.write_pack_entry(tmp_path / "c", {"classifier.weight": torch.full((3, 384), -0.01)}, {},
                               {"base_prefix": "bert."})
    half = averaged([entries[0], tmp_path / "c"], [1.0, 1.0])
    assert torch.allclose(half[query], base[query] + 0.005, atol=2e-3)
    assert torch.allclose(half["classifier.weight"], torch.zeros(3, 384), atol=1e-4)
    # a head only one entry has cannot be averaged
    modelpack.write_pack_entry(tmp_path / "d", {query: base[query]}, {}, {"base_prefix": "bert."})
    with pytest.raises(SystemExit, match="same head"):
        averaged([entries[0], tmp_path / "d"], [1.0, 1.0])
