"""Train the embedded NER head: `python -m training.train_ner`.

Data: Broad Twitter Corpus + WNUT-17 train, WNUT types mapped onto
PER/ORG/LOC/PRODUCT/WORK. The defaults are the shipped recipe: every encoder layer trained
(word embeddings frozen), each word's first subword labelled (inference reads a word's tag
there), WNUT sentences with a PRODUCT or WORK entity seen 4 times (only WNUT has those
types), BTC's O tokens as partial labels "O or PRODUCT/WORK" (BTC never annotated them),
4 epochs at lr 5e-5, the last 2 epochs' weights averaged. Scores: strict entity-level F1
(seqeval) on wnut17 dev and btc dev, overall and per type, with constrained BIO decoding
as at inference; btc also on its own types only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from training import pack_check
from training.datasets import NER_TYPES, DatasetsMissing, ner_split

TAGS = ["O"] + [f"{p}-{t}" for t in NER_TYPES for p in ("B", "I")]
UNANNOTATED_IN_BTC = {"PRODUCT", "WORK"}


METRICS = ["wnut17_dev_f1", "btc_dev_f1"]


def dev_evaluator(tokenizer: Any, max_length: int, dev: dict | None = None, case_types: bool = False) -> Callable[[Any], dict]:
    """evaluate(model) -> strict entity F1 (seqeval) on wnut17 dev and btc dev, overall and per type."""
    from analyzer.finetune.loop import encode_tagged, predict_logits, word_tags
    from analyzer.labels.metrics import entity_scores
    from analyzer.tasks.ner import bio

    dev = dev or {name: ner_split(name, "dev") for name in ("wnut17", "btc")}
    dev_encoded = {name: encode_tagged(tokenizer, toks, max_length, case_types=case_types) for name, (toks, _) in dev.items()}

    def evaluate(m: Any, with_outputs: bool = False) -> dict:
        """Dev scores; `with_outputs` adds `outputs`, each dev sentence's tags (pack_check counts churn with it)."""
        out: dict[str, Any] = {}
        outputs: list[tuple[str, ...]] = []
        learned = bio.transition_scores(m.config, TAGS)  # decoded as inference decodes this model
        for name, (dev_tokens, dev_tags) in dev.items():
            feats, word_ids_all = dev_encoded[name]
            logits = predict_logits(m, feats, tokenizer.pad_token_id)
            predicted = [word_tags(lg, word_ids, len(sent), TAGS, learned)
                         for sent, lg, word_ids in zip(dev_tokens, logits, word_ids_all, strict=True)]
            outputs.extend(tuple(sentence) for sentence in predicted)
            scores = entity_scores(dev_tags, predicted)
            out[f"{name}_dev_f1"] = scores["f1"]
            out[f"{name}_dev_per_type"] = {k: v["f1"] for k, v in scores["per_type"].items()}
            if name == "btc":  # BTC never annotates products or works: also score on its own types only
                own = [[t if t[2:] not in UNANNOTATED_IN_BTC else "O" for t in sentence] for sentence in predicted]
                out["btc_dev_f1_btc_types"] = entity_scores(dev_tags, own)["f1"]
        return {**out, "outputs": outputs} if with_outputs else out

    return evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--frozen-layers", type=int, default=0)
    parser.add_argument("--train-embeddings", action="store_true", help="fine-tune the word embeddings too")
    parser.add_argument("--average-last", type=int, default=2)
    parser.add_argument("--wnut-repeat", type=int, default=1, help="oversample WNUT-17 train N times")
    parser.add_argument("--rare-repeat", type=int, default=4,
                        help="repeat WNUT-17 sentences with a PRODUCT or WORK entity N times in all (only WNUT has them)")
    parser.add_argument("--label-subwords", choices=["first", "all"], default="first",
                        help="label only each word's first subword, or continuations too")
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--btc-partial-labels", action=argparse.BooleanOptionalAction, default=True,
                        help="BTC never annotated PRODUCT/WORK: its O tokens may be those (partial-label loss)")
    parser.add_argument("--mention-replace", type=int, default=0,
                        help="add N copies of each WNUT-17 sentence with entities, mentions swapped for same-type ones")
    parser.add_argument("--case-types", action="store_true",
                        help="give the model each subword's letter case (the base tokenizer lowercases); analyzer.text.casing")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "analyzer" / "pack" / "ner")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--bf16", action="store_true",
                        help="bf16 autocast in the forward pass (several times faster on CPUs with AMX)")
    args = parser.parse_args(argv)
    try:
        btc_tokens, btc_tags = ner_split("btc", "train")
        wnut_tokens, wnut_tags = ner_split("wnut17", "train")
        dev = {name: ner_split(name, "dev") for name in ("wnut17", "btc")}
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    rare = [i for i, sentence in enumerate(wnut_tags) if any(t[2:] in UNANNOTATED_IN_BTC for t in sentence)]
    extra = max(0, args.rare_repeat - args.wnut_repeat)
    tokens = btc_tokens + wnut_tokens * args.wnut_repeat + [wnut_tokens[i] for i in rare] * extra
    tags = btc_tags + wnut_tags * args.wnut_repeat + [wnut_tags[i] for i in rare] * extra
    if args.mention_replace:
        import random

        from training.augment import mention_pools, mention_replaced

        pools = mention_pools(btc_tokens + wnut_tokens, btc_tags + wnut_tags)
        rng = random.Random(args.seed)
        with_entities = [i for i, sentence in enumerate(wnut_tags) if any(t != "O" for t in sentence)]
        for _ in range(args.mention_replace):
            for i in with_entities:
                words, sentence_tags = mention_replaced(wnut_tokens[i], wnut_tags[i], pools, rng)
                tokens.append(words)
                tags.append(sentence_tags)
    print(f"training sentences: {len(tokens)}", flush=True)

    import torch

    from analyzer.finetune.loop import (
        TrainConfig,
        encode_tagged,
        fit,
        load_tokenizer_for_training,
        new_head_model,
        trainable_state,
    )
    from analyzer.models import pack as modelpack

    base = modelpack.base_dir()
    tokenizer = load_tokenizer_for_training(str(base))
    tag2id = {t: i for i, t in enumerate(TAGS)}
    model = new_head_model("token", str(base), TAGS)

    if args.case_types:
        from analyzer.text.casing import enable_case_types

        enable_case_types(model)
    features, _ = encode_tagged(tokenizer, tokens, args.max_length, tags, tag2id, args.label_subwords, args.case_types)
    label_groups: list[list[int]] = []
    if args.btc_partial_labels:
        label_groups = [[tag2id[t] for t in TAGS if t == "O" or t[2:] in UNANNOTATED_IN_BTC]]
        for feature in features[: len(btc_tokens)]:
            feature["labels"] = [len(TAGS) if label == tag2id["O"] else label for label in feature["labels"]]
    evaluate = dev_evaluator(tokenizer, args.max_length, dev, args.case_types)

    config = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                         frozen_layers=args.frozen_layers, bf16=args.bf16, freeze_embeddings=not args.train_embeddings, label_smoothing=args.label_smoothing,
                         average_last=args.average_last, seed=args.seed, label_groups=label_groups,
                         threads=torch.get_num_threads(), log_every=100)
    started = time.time()
    result = fit(model, features, config, tokenizer.pad_token_id, evaluate=evaluate)
    print(json.dumps(result.history, indent=1))
    if args.no_save:
        return 0
    model.config.architectures = ["BertForTokenClassification"]
    pack_check.store_and_check("ner", args.out, trainable_state(model), model.config.to_dict(), {
        **pack_check.trained_fields("ner", "training.train_ner", result.history, time.time() - started),
        "labels": TAGS, "train_sentences": len(tokens), "max_length": args.max_length, "config": vars(config),
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
