"""`opinions train`: fine-tune on a user's file, metrics before/after, a folder that works everywhere.

Starts from the tiny STAND-IN model (randomly initialised) so that it runs in seconds;
the real domain-adaptation numbers come from training on ../shared data (see the note).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from analyzer.cli import app
from analyzer.labels import shares
from tests.helpers import sql

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
    saved = json.loads((tmp_path / "m" / "opinions.json").read_text())
    assert saved["before"] is not None and "macro_f1" in saved["before"]
    # the validation confusion, which reports correct this model's class shares with (analyzer.labels.shares)
    confusion = saved["confusion"]
    assert confusion["labels"] == ["negative", "neutral", "positive"]
    assert sum(map(sum, confusion["counts"]["validation"])) == saved["val_examples"]
    db = tmp_path / "t.duckdb"
    records = tmp_path / "c.jsonl"
    records.write_text("".join(json.dumps({"id": str(i), "text": t, "topic": "x"}) + "\n"
                               for i, t in enumerate(["love it", "hate it", "a phone", "fine I guess"])))
    ingested = runner.invoke(app, ["ingest", str(records), "--db", str(db), "--sentiment-model", str(tmp_path / "m"),
                                   "--tasks", "sentiment", "--device", "cpu", "--quiet"])
    assert ingested.exit_code == 0, ingested.output
    [(stored,)] = sql(db, "SELECT value FROM meta WHERE key = 'confusion.sentiment'")
    assert json.loads(stored) == confusion  # ingest keeps the model's confusion beside its results
    try:  # the stand-in model, trained one epoch, may call everything one class: then nothing can be corrected
        shares.from_confusion(confusion["labels"], confusion["counts"])
        expected = "corrected for the model's measured errors"
    except shares.ConfusionError:
        expected = "the model's stored confusion is unusable (the confusion matrix is singular"
    table = runner.invoke(app, ["report", "topics", "--db", str(db)])
    assert expected in " ".join(table.stdout.split()), table.output


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

    from analyzer.finetune.loop import PartialLabelLoss

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

    from analyzer.finetune.loop import distillation_loss

    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    assert distillation_loss(logits, logits.softmax(-1)).abs() < 1e-6
    assert distillation_loss(logits, torch.tensor([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])) > 0.1


def test_soup_averages_pack_entries_by_weight_with_frozen_tensors_taken_from_the_base(tmp_path):
    import pytest
    import torch

    from analyzer.models import pack as modelpack
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


# --- small, imbalanced label sets (issue 22) ---------------------------------------------------------------------

def flat(text: str) -> str:
    """Log lines as one line each way they were wrapped (the console wraps at its width)."""
    return " ".join(text.split())


def imbalanced_file(path: Path, counts: dict[str, int]) -> Path:
    """A support team's own labels, with one class much rarer than the others."""
    lines = []
    for label, n in counts.items():
        texts = {"good": GOOD, "bad": BAD}.get(label, ["how do I change my plan?", "is there a student discount?"])
        lines += [f"{texts[i % len(texts)]} #{i}\t{label}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_class_weighted_loss_is_the_default_and_is_printed(runner, tmp_path, tiny_models):
    data = imbalanced_file(tmp_path / "support.tsv", {"good": 60, "bad": 30, "question": 12})
    base = ["--base", str(tiny_models["sentiment"]), "--device", "cpu", "--epochs", "1"]
    result = runner.invoke(app, ["train", str(data), *base, "--out", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "imbalance: class-weighted loss" in flat(result.stderr)
    weights = json.loads((tmp_path / "w" / "opinions.json").read_text())["class_weights"]
    assert weights["question"] > weights["bad"] > weights["good"]  # rarer class, larger weight
    assert "class-weighted loss (" in (tmp_path / "w" / "MODEL_CARD.md").read_text()
    plain = runner.invoke(app, ["train", str(data), *base, "--out", str(tmp_path / "p"), "--balance", "none"])
    assert plain.exit_code == 0, plain.output
    assert "imbalance: not handled (--balance none)" in flat(plain.stderr)
    assert json.loads((tmp_path / "p" / "opinions.json").read_text())["class_weights"] is None
    wrong = runner.invoke(app, ["train", str(data), *base, "--balance", "oversample"])
    assert wrong.exit_code == 1 and "--balance 'oversample'" in flat(wrong.stderr)


def test_balanced_weights_are_inverse_to_class_size_and_capped():
    from analyzer.finetune.train import MAX_CLASS_WEIGHT, balanced_class_weights

    assert balanced_class_weights(["a"] * 30 + ["b"] * 10, ["a", "b"]) == [round(40 / 60, 3), 2.0]
    assert balanced_class_weights(["a"] * 999 + ["b"], ["a", "b"])[1] == MAX_CLASS_WEIGHT


def test_small_data_sets_get_more_epochs_up_to_a_cap():
    from analyzer.finetune.train import AUTO_MAX_EPOCHS, auto_epochs

    assert auto_epochs(50_000, 16) == 3  # a large set: three passes are plenty
    assert 3 < auto_epochs(1_275, 16) < AUTO_MAX_EPOCHS
    assert auto_epochs(60, 16) == AUTO_MAX_EPOCHS


def test_run_output_and_model_card_report_every_class_and_warn_about_rare_ones(runner, tmp_path, tiny_models):
    data = imbalanced_file(tmp_path / "support.tsv", {"good": 60, "bad": 40, "question": 12})
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(data), "--base", str(tiny_models["sentiment"]), "--device", "cpu",
                                 "--epochs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # question has 12 - 2 (validation) = 10 training examples; good 51 and bad 34 are not named
    assert "fewer than 30 training examples: question (10)" in flat(result.stderr)
    assert "question (10)" in result.stdout and "good (" not in result.stdout and "bad (" not in result.stdout
    for column in ("class", "train", "val", "precision", "recall", "f1"):
        assert column in result.stdout
    saved = json.loads((out / "opinions.json").read_text())
    assert saved["train_counts"] == {"bad": 34, "good": 51, "question": 10}
    per_class = saved["after"]["per_class"]
    assert set(per_class) == {"bad", "good", "question"}
    assert {"precision", "recall", "f1", "support"} <= set(per_class["question"])
    assert per_class["question"]["support"] == 2
    card = (out / "MODEL_CARD.md").read_text()
    assert "| question | 10 | 2 |" in card and "question (10)" in card


def test_seeded_split_puts_every_class_in_validation_and_in_training():
    from analyzer.finetune.train import _split

    labels = ["big"] * 200 + ["two"] * 2 + ["three"] * 3 + ["nine"] * 9
    train_idx, val_idx = _split(len(labels), labels, 0.15, seed=13)
    assert sorted(train_idx + val_idx) == list(range(len(labels)))  # every row accounted for, once
    for label in ("big", "two", "three", "nine"):
        assert any(labels[i] == label for i in val_idx), f"{label} left out of validation"
        assert any(labels[i] == label for i in train_idx), f"{label} left out of training"


def test_a_class_that_cannot_be_in_both_parts_is_refused_and_eval_must_have_every_class(runner, tmp_path, tiny_models):
    base = ["--base", str(tiny_models["sentiment"]), "--device", "cpu", "--epochs", "1"]
    lonely = imbalanced_file(tmp_path / "lonely.tsv", {"good": 20, "bad": 20, "question": 1})
    result = runner.invoke(app, ["train", str(lonely), *base])
    assert result.exit_code == 1
    assert "one example only of question (line 41)" in flat(result.stderr)
    data = imbalanced_file(tmp_path / "d.tsv", {"good": 20, "bad": 20, "question": 5})
    dev = imbalanced_file(tmp_path / "dev.tsv", {"good": 5, "bad": 5})
    result = runner.invoke(app, ["train", str(data), *base, "--eval", str(dev)])
    assert result.exit_code == 1 and "no validation example of question" in flat(result.stderr)


def test_multi_label_rows_are_refused_with_their_line_numbers(runner, tmp_path, tiny_models):
    base = ["--base", str(tiny_models["sentiment"]), "--device", "cpu"]
    tsv = imbalanced_file(tmp_path / "goemotions.tsv", {"good": 20, "bad": 20})
    tsv.write_text(tsv.read_text() + "wow, did not expect that\tjoy,surprise\tee84bjg\n")
    result = runner.invoke(app, ["train", str(tsv), *base])
    assert result.exit_code == 1
    assert "1 row(s) with several labels (line 41" in flat(result.stderr) and "multi-label" in flat(result.stderr)
    jsonl = tmp_path / "goemotions.jsonl"
    jsonl.write_text("".join(json.dumps({"text": f"text {i}", "label": ["joy", "surprise"] if i == 3 else "joy"}) + "\n"
                             for i in range(30)))
    result = runner.invoke(app, ["train", str(jsonl), *base])
    assert result.exit_code == 1 and "line 4" in flat(result.stderr) and "'joy,surprise'" in flat(result.stderr)
    # evaluate refuses them too, rather than scoring "joy,surprise" as a class of its own
    evaluated = runner.invoke(app, ["evaluate", str(tsv), "--model", str(tiny_models["sentiment"]), "--device", "cpu"])
    assert evaluated.exit_code == 1 and "several labels" in flat(evaluated.stderr)


def test_new_head_keeps_base_rows_for_shared_labels_and_starts_others_from_their_names(tiny_models):
    import torch
    import transformers

    from analyzer.finetune.heads import head_inputs, init_head

    folder = tiny_models["sentiment"]
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    base = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    base_rows = base.classifier.weight.detach().clone()
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    done = init_head(model, tokenizer, ["ambiguous", "negative", "positive"], ["negative", "neutral", "positive"],
                     from_names=True, seed=13)
    assert done.copied == ["negative", "positive"] and done.from_names == ["ambiguous"] and not done.random
    weight = model.classifier.weight.detach()
    assert weight.shape == (3, base_rows.shape[1])
    assert torch.equal(weight[1], base_rows[0]) and torch.equal(weight[2], base_rows[2])
    # the new row is as long as the base's rows, and points where the name "ambiguous" does
    assert abs(float(weight[0].norm()) - float(base_rows.norm(dim=1).mean())) < 1e-4
    names = head_inputs(model, tokenizer, ["ambiguous", "negative", "positive"])
    centred = names - names.mean(dim=0)
    assert torch.nn.functional.cosine_similarity(weight[0], centred[0], dim=0) > 0.999
    assert model.config.id2label == {0: "ambiguous", 1: "negative", 2: "positive"} and model.num_labels == 3
    logits = model(**tokenizer(["ambiguous"], return_tensors="pt")).logits
    assert logits.shape == (1, 3)
    random_head = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    done = init_head(random_head, tokenizer, ["ambiguous", "negative"], ["negative", "neutral", "positive"],
                     from_names=False, seed=13)
    assert done.random == ["ambiguous", "negative"] and not torch.equal(random_head.classifier.weight[1], base_rows[0])


FEARFUL = ["I'm honestly terrified of flying tomorrow", "this storm is scaring me so much", "so scared the lump is cancer",
           "I panic every time my phone rings", "nervous and afraid about the surgery", "that noise downstairs scares me",
           "I can't sleep, I'm afraid something bad will happen", "my heart races when I think about the exam",
           "this horror movie left me shaking", "I'm frightened to walk home alone at night",
           "worried sick about my dad in hospital", "the thought of losing my job terrifies me",
           "my hands shake before every presentation", "I dread opening that letter from the bank"]
JOYFUL = ["best day ever, we won the final!", "so happy for you both, congratulations", "this made me laugh so hard",
          "love this song, it makes my day", "finally got the job, I'm thrilled", "what a lovely surprise, thank you",
          "the puppy is adorable, I'm smiling", "great game last night, so much fun", "yay, the weekend is here",
          "this is wonderful news, I'm delighted", "had an amazing time at the concert", "I'm grinning ear to ear"]
NEUTRAL = ["the meeting moved to 3pm on Thursday", "which version of the app are you using", "posted it in the other thread",
           "the store opens at nine", "I read the article this morning", "the train takes about forty minutes",
           "it depends on the settings you chose", "he posted the link earlier", "they changed the logo last year",
           "the update is available on android", "I think the deadline is Friday", "the recipe uses two eggs"]


def test_a_rare_class_is_learned_on_the_embedded_pack(runner, tmp_path):
    """The everyday case of issue 22 on the real model: joy and neutral dominate, fear is rare."""
    rows = ([(t, "neutral") for t in NEUTRAL * 3] + [(t, "joy") for t in JOYFUL * 2]
            + [(t, "fear") for t in FEARFUL[:9]])
    data = tmp_path / "emotions.tsv"
    data.write_text("".join(f"{text} ({i})\t{label}\n" for i, (text, label) in enumerate(rows)))
    dev = tmp_path / "dev.tsv"
    dev.write_text("".join(f"{text}\tfear\n" for text in FEARFUL[9:])
                   + "".join(f"{text}!\tjoy\n" for text in JOYFUL[:5]) + "".join(f"{t}.\tneutral\n" for t in NEUTRAL[:5]))
    out = tmp_path / "emotions"
    result = runner.invoke(app, ["train", str(data), "--eval", str(dev), "--epochs", "2", "--device", "cpu",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "neutral from the base head; fear, joy from the label names" in flat(result.stderr)
    assert "fewer than 30 training examples: fear (9)" in flat(result.stderr)
    after = json.loads((out / "opinions.json").read_text())["after"]["per_class"]
    assert after["fear"]["recall"] > 0, after


def test_a_label_set_that_cannot_be_classes_is_refused_before_any_model_work(runner, tmp_path):
    """500,000 distinct labels hung and allocated 8 GB; labels with ESC/BEL were printed raw (issue 35, 28)."""
    many = tmp_path / "ids.tsv"
    many.write_text("".join(f"text number {i}\tlabel{i}\n" for i in range(1500)))
    result = runner.invoke(app, ["train", str(many), "--out", str(tmp_path / "m"), "--device", "cpu"])
    assert result.exit_code != 0
    assert "1,500 distinct labels; at most 1,000 classes can be trained" in " ".join(result.output.split())
    dirty = tmp_path / "dirty.tsv"
    dirty.write_text("".join(f"good text {i}\t{'good' if i % 2 else 'bad'}\n" for i in range(30))
                     + "evil text\tbad\x1b]0;owned\x07\n")
    result = runner.invoke(app, ["train", str(dirty), "--out", str(tmp_path / "m"), "--device", "cpu"])
    assert result.exit_code != 0
    assert "labels with control characters" in result.output and "line 31" in result.output
    assert "\x1b" not in result.output
    assert not (tmp_path / "m").exists()


def test_a_teams_own_moderation_labels_train_an_offensive_model_that_ingest_and_flagged_use(runner, tmp_path,
                                                                                           tiny_models):
    """`opinions train --task offensive` on OffensEval-style OFF/NOT labels (plumbing: the tiny stand-in model):
    the labels are read as the task's own, and ingest lands the new model's results where `report flagged` reads
    them."""
    data = labelled_file(tmp_path / "mod.tsv", labels=("NOT", "OFF"))
    out = tmp_path / "moderation"
    result = runner.invoke(app, ["train", str(data), "--task", "offensive", "--base", str(tiny_models["offensive"]),
                                 "--epochs", "1", "--out", str(out), "--device", "cpu", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "base head kept" in result.stderr  # NOT/OFF are the base's not-offensive/offensive
    assert json.loads((out / "opinions.json").read_text())["labels"] == ["not-offensive", "offensive"]
    records = tmp_path / "c.jsonl"
    records.write_text("".join(json.dumps({"id": str(i), "text": t, "topic": "x"}) + "\n"
                               for i, t in enumerate(["love it", "you are an idiot", "a phone"])))
    db = tmp_path / "t.duckdb"
    ingested = runner.invoke(app, ["ingest", str(records), "--db", str(db), "--offensive-model", str(out),
                                   "--tasks", "offensive", "--device", "cpu", "--quiet"])
    assert ingested.exit_code == 0, ingested.output
    assert sql(db, "SELECT count(*), count(p_offensive) FROM offensive") == [(3, 3)]
    queue = runner.invoke(app, ["report", "flagged", "--db", str(db), "--threshold", "0", "--format", "json"])
    assert queue.exit_code == 0, queue.output
    assert len(json.loads(queue.stdout)) == 3
