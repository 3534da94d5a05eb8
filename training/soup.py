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

from training import pack_check
from training.datasets import DatasetsMissing

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack"


def averaged(folders: list[Path], weights: list[float]) -> dict:
    """Decoded trained tensors of each entry, averaged; every entry must store the same tensors."""
    from safetensors.torch import load_file

    from analyzer import modelpack

    total = sum(weights)
    soup: dict = {}
    keys = None
    for folder, weight in zip(folders, weights, strict=True):
        manifest = json.loads((folder / "manifest.json").read_text())
        modelpack.verify_sha256(folder / "weights.safetensors", manifest["sha256"])
        tensors = modelpack.decode_trained(load_file(str(folder / "weights.safetensors")),
                                           modelpack.base_tensors(manifest.get("base_prefix", "bert.")))
        if keys is None:
            keys = set(tensors)
        elif set(tensors) != keys:
            raise SystemExit(f"{folder} trained other tensors than {folders[0]}: only like entries can be averaged")
        for key, value in tensors.items():
            soup[key] = soup.get(key, 0) + value.float() * (weight / total)
    return soup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["sentiment", "ner"])
    parser.add_argument("--ingredient", nargs=2, action="append", required=True, metavar=("FOLDER", "WEIGHT"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from analyzer import modelpack

    folders = [Path(folder) for folder, _ in args.ingredient]
    weights = [float(weight) for _, weight in args.ingredient]
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in folders]
    out = args.out or PACK / args.task
    first = manifests[0]
    config = json.loads((folders[0] / "config.json").read_text())
    ingredients = [{"weight": round(w / sum(weights), 4), "command": m["command"], "seed": m["config"].get("seed"),
                    "config": m["config"], "scores": m["scores"], "sha256": m["sha256"]} for w, m in zip(weights, manifests, strict=True)]
    keep = ("task", "languages", "base", "base_prefix", "labels", "max_length", "normalisation", "config")
    manifest = modelpack.write_pack_entry(
        out, averaged(folders, weights), config,
        {**{k: first[k] for k in keep if k in first},
         "command": "python -m training.soup " + " ".join(sys.argv[1:] if argv is None else argv),
         "soup": ingredients, "history": [],
         "train_seconds": sum(m.get("train_seconds", 0) for m in manifests)},
    )
    print(f"wrote {out} ({manifest['bytes'] / 1e6:.1f} MB); scoring it as stored, as int8 and as bf16", flush=True)
    try:
        manifest = pack_check.check(args.task, out)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    print(pack_check.summary(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
