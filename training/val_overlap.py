"""How much of TweetEval val is also in the SemEval training files, and what that does to the score.

    python -m training.val_overlap [PACK_ENTRY_FOLDER ...]

TweetEval's val tweets were drawn from the same SemEval 2013-2016 pool that
`semeval-sentiment` holds, so 1,092 of its 2,000 tweets are training tweets unless they
are removed (`training.train_sentiment` removes them; `--keep-val-overlap` does not, for
this measurement only). For each pack entry folder this prints macro recall on all of val,
on the overlapping tweets and on the rest, so a score measured with and without the
overlap can be compared on the tweets no run has seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.datasets import SENTIMENT_LABELS, DatasetsMissing, semeval_train, tweeteval_val

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack" / "sentiment"


def overlap_mask(val_texts: list[str]) -> list[bool]:
    """True for each val tweet that `semeval_train` would otherwise train on (same key as its exclusion)."""
    from analyzer.text.normalise import normalise_for_sentiment

    everything, _ = semeval_train(set())
    keys = {normalise_for_sentiment(t).lower() for t in everything}
    return [t.strip().lower() in keys for t in val_texts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="*", default=[PACK])
    args = parser.parse_args(argv)
    try:
        texts, labels = tweeteval_val()
        mask = overlap_mask(texts)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    from analyzer.finetune.loop import encode_texts, predict_logits
    from analyzer.labels.metrics import classification_scores
    from analyzer.text.normalise import model_normalisation, normaliser
    from training import pack_check

    print(f"TweetEval val: {len(texts)} tweets, {sum(mask)} of them also in semeval-sentiment")
    for folder in args.folders:
        model, tokenizer, manifest = pack_check.load_stored("sentiment", folder)
        normalise = normaliser(model_normalisation(model.config))  # as inference normalises for this entry
        features = encode_texts(tokenizer, texts, int(manifest.get("max_length", 96)), normalise=normalise)
        predicted = [SENTIMENT_LABELS[int(x.argmax())] for x in predict_logits(model, features, tokenizer.pad_token_id)]
        scores = {}
        for name, keep in (("all", [True] * len(texts)), ("overlap", mask), ("rest", [not m for m in mask])):
            gold = [g for g, k in zip(labels, keep, strict=True) if k]
            pred = [p for p, k in zip(predicted, keep, strict=True) if k]
            scores[name] = round(classification_scores(gold, pred, SENTIMENT_LABELS)["macro_recall"], 2)
        trained_on_overlap = "--keep-val-overlap" in manifest.get("command", "")
        print(json.dumps({"folder": str(folder), "trained_on_overlap": trained_on_overlap, "macro_recall": scores}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
