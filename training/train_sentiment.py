"""Train the embedded sentiment head: `python -m training.train_sentiment`.

Data: SemEval 2013-2016 (TweetEval's training part, minus any TweetEval val tweet and minus the
test-like period, 2016 test + devtest), optionally mixed with GoEmotions (Reddit). Scores: TweetEval
val macro recall, the test-like split's macro recall and their gap, per-class recall of both, and
GoEmotions dev macro-F1, printed per epoch and stored in the manifest + model card. Runs are
compared (`--select`, soups, mixes) on the test-like split and GoEmotions dev, never on val alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analyzer.text.normalise import PACK_NORMALISATION, normalise_for_sentiment
from training import complaints, pack_check
from training.datasets import (
    SENTIMENT_LABELS,
    DatasetsMissing,
    emoji_examples,
    goemotions,
    semeval_testlike,
    semeval_train,
    tweeteval_emotion,
    tweeteval_val,
)

METRICS = ["tweeteval_val_macro_recall", "goemotions_dev_macro_f1"]


def dev_evaluator(tokenizer: Any, max_length: int, tweeteval: tuple[list[str], list[str]] | None = None,
                  goemotions_dev: tuple[list[str], list[str]] | None = None,
                  normalise: Callable[[str], str] = normalise_for_sentiment,
                  testlike: tuple[list[str], list[str]] | None = None) -> Callable[[Any], dict]:
    """evaluate(model) -> TweetEval val macro recall/F1, GoEmotions dev macro F1 and, with `testlike`, the
    test-like split's macro recall, its gap to val, and both sets' per-class recall side by side."""
    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import classification_scores, per_class_scores

    val_texts, val_labels = tweeteval or tweeteval_val()
    ge_texts, ge_labels = goemotions_dev or goemotions("dev")
    val_features = encode_texts(tokenizer, val_texts, max_length, normalise=normalise)
    ge_features = encode_texts(tokenizer, ge_texts, max_length, normalise=normalise)
    test_features = encode_texts(tokenizer, testlike[0], max_length, normalise=normalise) if testlike else None

    def labels_of(m: Any, features: list[dict]) -> list[str]:
        return [SENTIMENT_LABELS[int(x.argmax())] for x in predict_logits(m, features, tokenizer.pad_token_id)]

    def evaluate(m: Any, with_outputs: bool = False) -> dict:
        """Dev scores; `with_outputs` adds `outputs`, each dev text's label, and `testlike_outputs`."""
        val_pred, ge_pred = labels_of(m, val_features), labels_of(m, ge_features)
        tv = classification_scores(val_labels, val_pred, SENTIMENT_LABELS)
        ge = classification_scores(ge_labels, ge_pred, SENTIMENT_LABELS)
        scores = {"tweeteval_val_macro_recall": tv["macro_recall"], "tweeteval_val_macro_f1": tv["macro_f1"],
                  "goemotions_dev_macro_f1": ge["macro_f1"]}
        if testlike and test_features is not None:
            test_pred = labels_of(m, test_features)
            test = classification_scores(testlike[1], test_pred, SENTIMENT_LABELS)
            scores |= selection_scores(tv["macro_recall"], test["macro_recall"], ge["macro_f1"])
            for name, gold, pred in (("val", val_labels, val_pred), ("testlike", testlike[1], test_pred)):
                per_class = per_class_scores(gold, pred, SENTIMENT_LABELS)
                scores |= {f"{name}_recall_{label}": v["recall"] for label, v in per_class.items()}
        if not with_outputs:
            return scores
        return {**scores, "outputs": val_pred + ge_pred,  # pack_check counts churn and the confusions with these
                **({"testlike_outputs": test_pred} if testlike and test_features is not None else {})}

    return evaluate


def kept_scores(history: list[dict]) -> dict:
    """The scores of the epoch whose weights were kept: the one `--select` chose, else the last scored one."""
    kept = str(history[-1].get("epoch", ""))
    if kept.startswith("best ("):
        chosen = kept.removeprefix("best (").removesuffix(")")
        return next((e for e in history if str(e.get("epoch")) == chosen), history[-1])
    return next((e for e in reversed(history) if "tweeteval_val_macro_recall" in e), history[-1])


def side_by_side(scores: dict) -> str:
    """Validation and the test-like split next to each other, per class, with the gap: what the model card shows."""
    if "testlike_macro_recall" not in scores:
        return "no test-like split scored"
    lines = [f"{'':18}{'validation':>12}{'test-like':>12}{'gap':>8}"]
    rows = [("macro recall", "tweeteval_val_macro_recall", "testlike_macro_recall")]
    rows += [(f"recall {label}", f"val_recall_{label}", f"testlike_recall_{label}") for label in SENTIMENT_LABELS]
    for name, val_key, test_key in rows:
        val, test = float(scores[val_key]), float(scores[test_key])
        lines.append(f"{name:18}{val:12.2f}{test:12.2f}{val - test:+8.2f}")
    return "\n".join(lines)


def selection_scores(val_recall: float, testlike_recall: float, goemotions_f1: float) -> dict[str, float]:
    """What runs are compared on: the test-like split and GoEmotions dev together (`select`), never
    validation alone; `val_testlike_gap` is how much validation overstates the later tweets."""
    return {"testlike_macro_recall": testlike_recall, "val_testlike_gap": round(val_recall - testlike_recall, 2),
            "select": round((testlike_recall + goemotions_f1) / 2, 2)}


def ensemble_probabilities(teachers: list[Path], features: list[dict], pad_id: int) -> list[list[float]]:
    """The teachers' class probabilities on `features`, averaged (each teacher is a pack entry folder)."""
    import torch

    from analyzer.finetune.loop import predict_logits

    total = None
    for folder in teachers:
        model, _, _ = pack_check.load_stored("sentiment", folder)
        started = time.time()
        probs = torch.softmax(torch.stack(predict_logits(model, features, pad_id)), dim=-1)
        total = probs if total is None else total + probs
        print(f"teacher {folder}: {len(features)} predictions in {time.time() - started:.0f} s", flush=True)
    return (total / len(teachers)).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--class-weights", type=float, nargs=3, default=None, metavar=("NEG", "NEU", "POS"),
                        help="loss weight per class (negative neutral positive), e.g. to stop under-predicting "
                             "neutral on later tweets; default all 1")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    parser.add_argument("--frozen-layers", type=int, default=1)
    parser.add_argument("--train-embeddings", action="store_true", help="fine-tune the word embeddings too")
    parser.add_argument("--average-last", type=int, default=2)
    parser.add_argument("--goemotions", type=int, default=0, help="how many GoEmotions train rows to mix in")
    parser.add_argument("--semeval", type=int, default=0,
                        help="train on this many randomly chosen SemEval tweets (default all; a warm start needs fewer)")
    parser.add_argument("--emotion", action="store_true",
                        help="add TweetEval emotion train tweets (anger/sadness negative, joy/optimism positive)")
    parser.add_argument("--emoji", action="store_true",
                        help="add emoji-only texts labelled by the Emoji Sentiment Ranking")
    parser.add_argument("--complaints", type=int, default=0,
                        help="add N templated customer-service texts (training/complaints.py: complaints, sarcastic "
                             "praise of failures, thanks, questions)")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this pack entry's weights instead of the base (a warm start)")
    parser.add_argument("--teachers", type=Path, nargs="*", default=[],
                        help="pack entry folders whose averaged predictions the student also learns (distillation)")
    parser.add_argument("--distill-weight", type=float, default=0.5)
    parser.add_argument("--layers", type=int, default=0,
                        help="keep only the lowest N of the base's 6 encoder layers (a cheaper student; default all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=0, help="train on N randomly chosen rows only (smoke runs)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "analyzer" / "pack" / "sentiment")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--only-confusion", action="store_true",
                        help="after saving, score the entry as stored only (pack_check --only-confusion): no int8/bf16")
    parser.add_argument("--bf16", action="store_true",
                        help="bf16 autocast in the forward pass (several times faster on CPUs with AMX)")
    parser.add_argument("--testlike-rows", type=int, default=4000,
                        help="tweets of SemEval's latest period (2016 test + devtest, never trained on) scored each "
                             "epoch beside validation; 0: all 22.6k")
    parser.add_argument("--select", action="store_true",
                        help="keep the epoch with the best `select` score (test-like + GoEmotions dev), not the last")
    parser.add_argument("--keep-val-overlap", action="store_true",
                        help="measurement only: also train on the SemEval tweets that are in TweetEval val "
                             "(the val score is then not held out; see training/README.md)")
    args = parser.parse_args(argv)

    try:
        val_texts, val_labels = tweeteval_val()
        exclude = set() if args.keep_val_overlap else {t.strip().lower() for t in val_texts}
        texts, labels = semeval_train(exclude)  # the test-like period is never in it
        testlike = semeval_testlike(args.testlike_rows, args.seed)
        if args.semeval:
            pick = random.Random(args.seed).sample(range(len(texts)), min(args.semeval, len(texts)))
            texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
        ge_dev_texts, ge_dev_labels = goemotions("dev")
        if args.goemotions:
            ge_texts, ge_labels = goemotions("train")
            pick = random.Random(args.seed).sample(range(len(ge_texts)), min(args.goemotions, len(ge_texts)))
            texts += [ge_texts[i] for i in pick]
            labels += [ge_labels[i] for i in pick]
        for wanted, loader in ((args.emotion, lambda: tweeteval_emotion("train")), (args.emoji, emoji_examples)):
            if wanted:
                more_texts, more_labels = loader()
                texts += more_texts
                labels += more_labels
        if args.complaints:
            more_texts, more_labels = complaints.generate(args.complaints, args.seed)
            texts += more_texts
            labels += more_labels
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    if args.limit:
        pick = random.Random(args.seed).sample(range(len(texts)), min(args.limit, len(texts)))
        texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
    print(f"training rows: {len(texts)}; tweeteval val {len(val_texts)}; goemotions dev {len(ge_dev_texts)}; "
          f"test-like (SemEval 2016 test + devtest, held out) {len(testlike[0])}", flush=True)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from analyzer.finetune.loop import (
        TrainConfig,
        encode_texts,
        fit,
        load_tokenizer_for_training,
        new_head_model,
        trainable_state,
    )
    from analyzer.models import pack as modelpack

    base = modelpack.base_dir()
    tokenizer = load_tokenizer_for_training(str(base))
    label2id = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    if args.init:
        model = pack_check.load_stored("sentiment", args.init)[0].train()
    else:
        model = new_head_model("sequence", str(base), SENTIMENT_LABELS,
                               **({"num_hidden_layers": args.layers} if args.layers else {}))  # a student keeps the lowest layers
    model.config.opinions_normalisation = PACK_NORMALISATION  # inference normalises as training did

    features = encode_texts(tokenizer, texts, args.max_length, [label2id[label] for label in labels],
                            normalise_for_sentiment)
    evaluate = dev_evaluator(tokenizer, args.max_length, (val_texts, val_labels), (ge_dev_texts, ge_dev_labels),
                             testlike=testlike)
    if args.teachers:
        for feature, probs in zip(features, ensemble_probabilities(args.teachers, features, tokenizer.pad_token_id),
                                  strict=True):
            feature["teacher"] = probs

    config = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                         label_smoothing=args.label_smoothing, frozen_layers=args.frozen_layers, bf16=args.bf16, freeze_embeddings=not args.train_embeddings,
                         average_last=args.average_last, seed=args.seed, threads=torch.get_num_threads(),
                         class_weights=list(args.class_weights) if args.class_weights else None,
                         distill_weight=args.distill_weight, select_metric="select" if args.select else None)
    started = time.time()
    result = fit(model, features, config, tokenizer.pad_token_id, evaluate=evaluate)
    print(json.dumps(result.history, indent=1))
    print(side_by_side(kept_scores(result.history)))
    if args.no_save:
        return 0
    model.config.architectures = ["BertForSequenceClassification"]
    pack_check.store_and_check("sentiment", args.out, trainable_state(model), model.config.to_dict(), {
        **pack_check.trained_fields("sentiment", "training.train_sentiment", result.history, time.time() - started),
        "normalisation": PACK_NORMALISATION, "init": str(args.init) if args.init else None, "max_length": args.max_length, "labels": SENTIMENT_LABELS,
        "train_rows": len(texts), "config": vars(config),
    }, only_confusion=args.only_confusion)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
