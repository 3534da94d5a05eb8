"""Average the weights of pack entries fine-tuned from the same base (a "model soup").

    python -m training.soup ner --ingredient /tmp/ner_a 0.8 --ingredient /tmp/ner_b 0.2 [--out analyzer/pack/ner]

Each ingredient is a pack entry folder written by the task's trainer. Their stored tensors
are decoded, averaged with the given weights (normalised to sum to 1), written as one pack
entry and scored by `training.pack_check`, like any trained entry. The manifest keeps every
ingredient's training command, seed and scores, so the soup can be rebuilt from scratch.

Why: runs with different recipes are good at different things (on NER, oversampling
WNUT's products lifts wnut17 and costs btc); one averaged model keeps much of both at the
cost of one model, where an ensemble would cost one forward pass per member. The weights
are chosen on the dev sets, so the soup's dev scores are a little optimistic; say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analyzer.tasks.ner import bio
from analyzer.text.casing import CONFIG_FLAG
from training import pack_check
from training.datasets import DatasetsMissing

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack"


def averaged(folders: list[Path], weights: list[float]) -> dict:
    """Decoded trained tensors of each entry, averaged with `weights` normalised to sum 1.

    An entry that left a tensor untrained (a frozen layer) contributes the base's value
    for it, which is what that model computes with; a tensor that neither the entry nor
    the base has (another head) cannot be averaged and is refused.
    """
    from safetensors.torch import load_file

    from analyzer.models import pack as modelpack
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in folders]
    prefixes = {manifest.get("base_prefix", "bert.") for manifest in manifests}
    if len(prefixes) != 1:
        raise SystemExit(f"the entries name the base's tensors differently ({', '.join(sorted(prefixes))})")
    base = modelpack.base_tensors(prefixes.pop())  # read once: 90 MB
    total = sum(weights)
    entries = []
    for folder, manifest in zip(folders, manifests, strict=True):
        modelpack.verify_sha256(folder / "weights.safetensors", manifest["sha256"])
        entries.append(modelpack.decode_trained(load_file(str(folder / "weights.safetensors")), base))
    keys = set().union(*entries)
    soup: dict = {}
    for folder, tensors, weight in zip(folders, entries, weights, strict=True):
        for key in keys:
            value = tensors.get(key, base.get(key))
            if value is None:
                raise SystemExit(f"{folder} has no {key} and the base has none either: "
                                 "only entries with the same head can be averaged")
            soup[key] = soup.get(key, 0) + value.float() * (weight / total)
    return soup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["sentiment", "ner"])
    parser.add_argument("--ingredient", nargs=2, action="append", required=True, metavar=("FOLDER", "WEIGHT"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only-confusion", action="store_true",
                        help="score the soup as stored only (no int8/bf16 pass; run training.pack_check later)")
    args = parser.parse_args(argv)
    folders = [Path(folder) for folder, _ in args.ingredient]
    weights = [float(weight) for _, weight in args.ingredient]
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in folders]
    out = args.out or PACK / args.task
    first = manifests[0]
    configs = [json.loads((folder / "config.json").read_text()) for folder in folders]
    # averaged weights are a new model: tag transitions are added afterwards (training.ner_transitions)
    config = {k: v for k, v in configs[0].items() if k != bio.CONFIG_KEY}
    if len({bool(c.get(CONFIG_FLAG)) for c in configs}) > 1:
        raise SystemExit("some ingredients read letter case (--case-types) and some do not: they cannot be averaged")
    ingredients = [{"weight": round(w / sum(weights), 4), "command": m["command"], "seed": m["config"].get("seed"),
                    "config": m["config"], "scores": m["scores"], "sha256": m["sha256"]} for w, m in zip(weights, manifests, strict=True)]
    keep = ("task", "languages", "base", "base_prefix", "labels", "max_length", "normalisation")
    # the soup trains what any ingredient trained
    union = {**first["config"], "frozen_layers": min(int(m["config"].get("frozen_layers", 1)) for m in manifests),
             "freeze_embeddings": all(m["config"].get("freeze_embeddings", True) for m in manifests)}
    try:
        pack_check.store_and_check(args.task, out, averaged(folders, weights), config, {
            **{k: first[k] for k in keep if k in first}, "config": union,
            "command": "python -m training.soup " + " ".join(sys.argv[1:] if argv is None else argv),
            "soup": ingredients, "history": [], "train_seconds": sum(m.get("train_seconds", 0) for m in manifests),
        }, only_confusion=args.only_confusion)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
