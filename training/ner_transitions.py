"""Give a NER pack entry learned tag transitions: `python -m training.ner_transitions FOLDER --weight 0.2`.

The scores are log ratios of how often a tag follows another in the BTC + WNUT-17 train
tag sequences (`analyzer.tasks.ner.bio.learned_transitions`), added times the weight when decoding.
They go into the entry's `config.json` (so a traced model's cache key changes too), the
manifest records the command, and the entry is scored again as stored (`training.pack_check`).

    python -m training.ner_transitions analyzer/pack/ner --scan 0 0.1 0.2 0.3   # dev F1 per weight, writes nothing

Why: the token classifier scores each word alone, and constrained BIO decoding only forbids
invalid sequences. Which tag tends to follow which (a PRODUCT after "the new", a LOC after
"in") is cheap to learn from the gold tags and moved both dev sets up where every model
soup had traded one against the other. The weight is chosen on the dev sets, so the dev
scores are a little optimistic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training import pack_check
from training.datasets import DatasetsMissing, ner_split
from training.train_ner import METRICS, TAGS


def train_tag_sequences() -> list[list[str]]:
    """The gold tag sequences of BTC and WNUT-17 train, types mapped as the trainer maps them."""
    return [tags for name in ("btc", "wnut17") for tags in ner_split(name, "train")[1]]


def main(argv: list[str] | None = None) -> int:
    from analyzer.tasks.ner import bio
    from analyzer.text.casing import uses_case_types

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a NER pack entry (written by train_ner or soup)")
    parser.add_argument("--weight", type=float, default=bio.DEFAULT_TRANSITION_WEIGHT,
                        help="scale of the transition scores (0 removes them)")
    parser.add_argument("--scan", type=float, nargs="+", metavar="WEIGHT",
                        help="print dev F1 for each weight instead of writing")
    args = parser.parse_args(argv)
    try:
        sequences = train_tag_sequences()
        config_path = args.folder / "config.json"
        config = json.loads(config_path.read_text())
        if args.scan:
            from training.train_ner import dev_evaluator

            model, tokenizer, manifest = pack_check.load_stored("ner", args.folder)
            evaluate = dev_evaluator(tokenizer, int(manifest.get("max_length", 128)),
                                     case_types=uses_case_types(model.config))
            for weight in args.scan:
                setattr(model.config, bio.CONFIG_KEY, bio.learned_transitions(sequences, TAGS, weight))
                scores = evaluate(model)
                print(json.dumps({"weight": weight, **{m: scores[m] for m in METRICS}}), flush=True)
            return 0
        config.pop(bio.CONFIG_KEY, None)
        if args.weight:
            config[bio.CONFIG_KEY] = bio.learned_transitions(sequences, TAGS, args.weight)
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True))
        manifest_path = args.folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        previous = manifest.get("transitions", {}).get("scores_without") or {
            m: manifest["scores"][m] for m in METRICS}  # scored as the trainer or soup left it
        manifest["transitions"] = {"command": "python -m training.ner_transitions " + " ".join(sys.argv[1:] if argv is None else argv),
                                   "weight": args.weight, "sentences": len(sequences), "scores_without": previous}
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=float))
        print(pack_check.summary(pack_check.check("ner", args.folder)))
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
