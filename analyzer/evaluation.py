"""`opinions evaluate`: score any configured model on a user's labelled file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from analyzer.labelled import read_conll, read_labelled_texts, require_single_labels
from analyzer.metrics import classification_scores, entity_scores
from analyzer.models import ModelSpec

# Entity type names in common corpora, mapped onto ours (WNUT-17 names included).
ENTITY_ALIASES = {
    "person": "PER", "per": "PER", "location": "LOC", "loc": "LOC", "geo-loc": "LOC", "corporation": "ORG",
    "group": "ORG", "org": "ORG", "company": "ORG", "product": "PRODUCT", "creative-work": "WORK",
    "work": "WORK", "misc": "MISC",
}
NUMERIC_SENTIMENT = {"0": "negative", "1": "neutral", "2": "positive"}  # TweetEval's convention
SOCIAL_LABELS = {"HASHTAG", "MENTION", "CASHTAG"}
SIGILS = {"@", "#", "$"}


def canonical_entity_type(name: str) -> str:
    return ENTITY_ALIASES.get(name.lower(), name.upper())


def evaluate_file(path: Path, task: str, spec: ModelSpec, device: str = "auto", quantize: str = "auto") -> dict[str, Any]:
    from analyzer.analysis import AnalysisSettings, Predictor

    # NER scores the model's own entities; the social-token rules are scored on top (_evaluate_ner)
    predictor = Predictor(AnalysisSettings([task], {task: spec}, device=device, quantize=quantize,
                                           social_tokens=task != "ner"))
    if task == "sentiment":
        return _evaluate_sentiment(path, predictor, spec)
    return _evaluate_ner(path, predictor, spec)


def _evaluate_sentiment(path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
    data = read_labelled_texts(path)
    require_single_labels(data, path)
    gold = data.labels
    model_labels = set(predictor.tasks["sentiment"].labels)
    if set(gold) <= set(NUMERIC_SENTIMENT) and {"negative", "neutral", "positive"} <= model_labels:
        gold = [NUMERIC_SENTIMENT[g] for g in gold]
    gold = [g.lower() if g.lower() in model_labels else g for g in gold]
    started = time.perf_counter()
    result = predictor({"text_hash": [str(i) for i in range(len(data.texts))], "text": data.texts})
    seconds = time.perf_counter() - started
    predicted = [p["label"] if p else None for p in result["sentiment"]]
    labels = sorted(set(gold))
    scores = classification_scores(gold, predicted, labels)
    per_label = {}
    from sklearn.metrics import f1_score, recall_score

    pred = [p or "<none>" for p in predicted]
    recalls = recall_score(gold, pred, labels=labels, average=None, zero_division=0)
    f1s = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
    for label, r, f in zip(labels, recalls, f1s, strict=True):
        per_label[label] = {"recall": round(100 * r, 2), "f1": round(100 * f, 2), "support": gold.count(label)}
    unlabelled = sum(1 for p in predicted if p is None)
    return {"file": str(path), "model": spec.source, **scores, "unsupported_language": unlabelled,
            "texts_per_second": round(len(data.texts) / max(seconds, 1e-9), 1), "per_label": per_label}


def _evaluate_ner(path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
    from analyzer.tasks import with_social_tokens

    data = read_conll(path)
    texts, spans = [], []
    for tokens in data.tokens:
        offsets, position = [], 0
        for token in tokens:
            offsets.append((position, position + len(token)))
            position += len(token) + 1
        texts.append(" ".join(tokens))
        spans.append(offsets)
    gold = [[t if t == "O" else t[:2] + canonical_entity_type(t[2:]) for t in tags] for tags in data.tags]
    gold, sigil_only = _without_sigil_entities(data.tokens, gold)
    started = time.perf_counter()
    result = predictor({"text_hash": [str(i) for i in range(len(texts))], "text": texts})
    seconds = time.perf_counter() - started
    model_entities = [entities or [] for entities in result["ner"]]
    scores = entity_scores(gold, [_as_tags(offsets, entities) for offsets, entities in zip(spans, model_entities, strict=True)])
    # what ingest stores: a social token replaces the model's entity it overlaps. A corpus that tags
    # "@BarackObama" as PER (BTC does) then counts it as missed, since MENTION is not one of its types.
    stored = [_as_tags(offsets, with_social_tokens(text, entities))
              for offsets, text, entities in zip(spans, texts, model_entities, strict=True)]
    return {"file": str(path), "model": spec.source, "sentences": len(texts), **scores,
            "f1_with_social_tokens": entity_scores(gold, stored)["f1"],
            **({"gold_sigil_entities_ignored": sigil_only} if sigil_only else {}),
            "texts_per_second": round(len(texts) / max(seconds, 1e-9), 1)}


def _without_sigil_entities(sentences: list[list[str]], gold: list[list[str]]) -> tuple[list[list[str]], int]:
    """Gold tags with entities that are only "@", "#" or "$" set to O, and how many there were.

    BTC's CoNLL splits "@NikoWavy" into "@" B-PER and "NikoWavy" B-PER: two entities, one a
    bare symbol, which no span-producing tagger (ours included) can output.
    """
    cleaned, dropped = [], 0
    for tokens, tags in zip(sentences, gold, strict=True):
        tags = list(tags)
        for k, (token, tag) in enumerate(zip(tokens, tags, strict=True)):
            continues = k + 1 < len(tags) and tags[k + 1].startswith("I-")
            if tag.startswith("B-") and token in SIGILS and not continues:
                tags[k] = "O"
                dropped += 1
        cleaned.append(tags)
    return cleaned, dropped


def _as_tags(offsets: list[tuple[int, int]], entities: list[dict[str, Any]]) -> list[str]:
    """BIO tags of the whitespace tokens at `offsets` from entity spans (social tokens are not a corpus type).

    A token takes the tag of an entity it overlaps: the corpus's tokens can be longer than the
    model's words ("Comp_Finance" is one CoNLL token and three words), and an entity's span
    leaves out a leading "@" or "#" ("@BarackObama" is tagged on "BarackObama").
    """
    tags = ["O"] * len(offsets)
    for entity in entities:
        if entity["label"] in SOCIAL_LABELS:
            continue
        inside = [k for k, (s, e) in enumerate(offsets) if s < entity["end"] and entity["start"] < e]
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + canonical_entity_type(entity["label"])
    return tags
