"""Named entities: spans with character offsets into the stored text.

Long texts are cut into overlapping windows (each token takes its probabilities from the
window where it is most central); word-level BIO tags are decoded with the model's tag
transitions (`analyzer.tasks.ner.bio`), hyphenated compounds are joined and edge punctuation trimmed.
Rule-based social tokens (#hashtags, @mentions, $CASHTAGS) replace the model's entities they
overlap. Results land in `entities`.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from analyzer.models.runtime import Runtime
from analyzer.models.spec import ModelSpec
from analyzer.tasks.base import Encoded, Prediction, Task, TaskOptions
from analyzer.tasks.ner import ABOUT
from analyzer.text.casing import NONE as CASE_NONE
from analyzer.text.casing import token_case_types, uses_case_types
from analyzer.text.normalise import URL_PATTERN, mask_markup

NER_WINDOW_OVERLAP = 0.25
SOCIAL_PATTERNS = (
    ("HASHTAG", re.compile(r"(?<![\w#&])#\w*[^\W\d_]\w*")),
    # Twitter handles are \w; YouTube's also take inner "-" and "." ("@user-ul3ia7pgoj")
    ("MENTION", re.compile(r"(?<![\w@])@\w(?:[\w.-]{0,28}\w)?")),
    ("CASHTAG", re.compile(r"(?<![\w$])\$[A-Za-z][A-Za-z0-9]{0,9}(?:\.[A-Za-z]{1,2})?(?![\w$])")),
)
_NER_LABEL_ALIASES = {"PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC", "GPE": "LOC"}


def url_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in URL_PATTERN.finditer(text)]


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def social_entities(text: str) -> list[dict[str, Any]]:
    """#hashtags, @mentions and $CASHTAGS with exact character offsets (none inside links), read in the text
    as NER reads it (`mask_markup`: `&amp;#x200B;` is a zero-width space, not the hashtag `#x200B`)."""
    links = url_spans(text)
    masked = mask_markup(text)
    found = []
    for label, pattern in SOCIAL_PATTERNS:
        for match in pattern.finditer(masked):
            if not _overlaps(match.start(), match.end(), links):
                found.append({"text": text[match.start():match.end()], "label": label, "start": match.start(), "end": match.end(),
                              "score": 1.0})
    return sorted(found, key=lambda e: e["start"])


def with_social_tokens(text: str, model_spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model's entities plus the rule-based social tokens; where they overlap, the rule wins
    ("@BarackObama" is a MENTION, whatever type the model gave it)."""
    social = social_entities(text)
    taken = [(e["start"], e["end"]) for e in social]
    kept = [e for e in model_spans if not _overlaps(e["start"], e["end"], taken)]
    return sorted(kept + social, key=lambda e: (e["start"], e["end"]))


# Entity type names in common corpora, mapped onto ours (WNUT-17 names included).
ENTITY_ALIASES = {
    "person": "PER", "per": "PER", "location": "LOC", "loc": "LOC", "geo-loc": "LOC", "corporation": "ORG",
    "group": "ORG", "org": "ORG", "company": "ORG", "product": "PRODUCT", "creative-work": "WORK",
    "work": "WORK", "misc": "MISC",
}
SOCIAL_LABELS = {"HASHTAG", "MENTION", "CASHTAG"}
SIGILS = {"@", "#", "$"}


def canonical_entity_type(name: str) -> str:
    return ENTITY_ALIASES.get(name.lower(), name.upper())



class NerTask(Task):
    about = ABOUT
    name = "ner"
    model_kind = "token"
    row_schema: ClassVar[dict[str, Any]] = {
        "text_hash": pl.String, "model": pl.String, "text": pl.String, "label": pl.String,
        "start": pl.Int32, "end": pl.Int32, "score": pl.Float64}
    # NER scores the model's own entities; the social-token rules are scored on top (`evaluate`)
    evaluation_settings: ClassVar[dict[str, Any]] = {"social_tokens": False}
    metric_tables: ClassVar[dict[str, tuple[str, list[str]]]] = {
        "per_type": ("per entity type", ["type", "precision", "recall", "f1", "support"])}

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        from analyzer.tasks.ner import bio
        super().__init__(spec, runtime, options)
        self.tags = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        self.transitions = bio.transition_scores(self.model.config, self.tags)  # None: plain BIO constraint

    def uses_token_types(self) -> bool:
        """A model trained with case types reads each subword's letter case as its token type (analyzer.text.casing)."""
        return uses_case_types(self.model.config)

    @classmethod
    def decoding_id(cls, spec: ModelSpec) -> str:
        """Decoding with other tag transitions (analyzer.tasks.ner.bio) gives other entities from the same weights.
        Read from the pack's config, which is what decoding reads; a local folder's digest covers its config."""
        from analyzer.tasks.ner.bio import CONFIG_KEY

        weight = (spec.shipped_config().get(CONFIG_KEY) or {}).get("weight")
        return f"+transitions{weight:g}" if weight else ""

    def preprocess(self, texts: list[str]) -> Encoded:
        encoding = self.tokenizer([mask_markup(t) for t in texts], add_special_tokens=False, truncation=False,
                                  verbose=False, return_offsets_mapping=True)  # same offsets as the stored text
        cased = self.uses_token_types()
        body = self.max_length - 2
        stride = max(1, body - int(body * NER_WINDOW_OVERLAP))
        sequences: list[list[int]] = []
        types: list[list[int]] = []
        windows: list[tuple[int, int, int]] = []  # (text index, first token, sequence index)
        for t, ids in enumerate(encoding["input_ids"]):
            cases = token_case_types(texts[t], encoding["offset_mapping"][t]) if cased else []
            start = 0
            while True:
                windows.append((t, start, len(sequences)))
                sequences.append(self._wrap(ids[start : start + body]))
                if cased:
                    types.append([CASE_NONE, *cases[start : start + body], CASE_NONE])
                if start + body >= len(ids):
                    break
                start += stride
        return Encoded(sequences, types if cased else None, context=(encoding, windows))

    def postprocess(self, texts: list[str], encoded: Encoded, outputs: list[Any]) -> list[Prediction]:
        import numpy as np
        import torch

        encoding, windows = encoded.context
        body = self.max_length - 2
        per_text: list[list[tuple[int, int, int]]] = [[] for _ in texts]
        for window in windows:
            per_text[window[0]].append(window)
        results = []
        for t, text in enumerate(texts):
            n_tokens = len(encoding["input_ids"][t])
            # each token takes its probabilities from the window where it is most central
            probs = np.zeros((n_tokens, len(self.tags)), dtype=np.float32)
            best_margin = np.full(n_tokens, -1)
            for _, first, seq_index in per_text[t]:
                count = min(body, n_tokens - first)
                window_probs = torch.softmax(outputs[seq_index][1 : count + 1], dim=-1).numpy()  # [1:]: skip [CLS]
                k = np.arange(count)
                margin = np.minimum(k, count - 1 - k)  # distance from the window edge: more context is better
                better = margin > best_margin[first : first + count]
                probs[first : first + count][better] = window_probs[better]
                best_margin[first : first + count][better] = margin[better]
            results.append(self._spans(text, encoding.word_ids(t), encoding["offset_mapping"][t], probs))
        return results

    def _spans(self, text: str, word_ids: list[int | None], offsets: list[tuple[int, int]],
               token_probs: Any) -> list[dict[str, Any]]:
        from analyzer.tasks.ner import bio
        last = {wid: k for k, wid in enumerate(word_ids) if wid is not None}  # a word ends at its last subword
        words = [{"tag": self.tags[tag], "score": float(token_probs[position, tag]),
                  "start": offsets[position][0], "end": offsets[last[wid]][1]}
                 for wid, position, tag in bio.decode_words(token_probs, word_ids, self.tags, self.transitions)]
        links = url_spans(text)
        spans = []
        for entity in _entities(_join_hyphenated(words, text)):
            entity = _trimmed(entity, text)
            if entity is None or _overlaps(entity["start"], entity["end"], links):
                continue  # links are not entities
            spans.append(entity)
        return with_social_tokens(text, spans) if self.options.social_tokens else spans

    @classmethod
    def rows(cls, text_hash: str, model: str, prediction: Prediction | None, lang: str | None) -> list[dict[str, Any]]:
        return [{"text_hash": text_hash, "model": model, **entity} for entity in prediction or []]

    @classmethod
    def json_line(cls, prediction: Prediction | None, lang: str | None) -> dict[str, Any]:
        if prediction is None:
            return {"lang": lang, "entities": None,
                    "reason": f"language {lang!r} is not supported by the {cls.name} model"}
        return {"lang": lang, "entities": [{"text": e["text"], "label": e["label"], "start": e["start"],
                                            "end": e["end"], "score": round(e["score"], 4)} for e in prediction]}

    @classmethod
    def to_columns(cls, predictions: list[Prediction | None]) -> dict[str, list[Any]]:
        return {"entities": [None if p is None else json.dumps(p) for p in predictions]}

    @classmethod
    def from_columns(cls, columns: dict[str, list[Any]]) -> list[Prediction | None]:
        return [None if value is None else json.loads(value) for value in columns["entities"]]

    @classmethod
    def evaluate(cls, path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
        return _evaluate(path, predictor, spec)


def _join_hyphenated(words: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """One word per hyphenated compound ("U-Bahn", "Joy-Con"): the tokenizer splits at the
    hyphen and the model may tag only a piece; the compound takes its first entity tag."""
    joined: list[dict[str, Any]] = []
    for word in words:
        previous = joined[-1] if joined else None
        if previous is not None and previous["end"] == word["start"] and (
            text[previous["end"] - 1] == "-" or text[word["start"]] == "-"
        ):
            if previous["tag"] == "O" and word["tag"] != "O":
                previous["tag"], previous["score"] = word["tag"], word["score"]
            previous["end"] = word["end"]
            continue
        joined.append(dict(word))
    return joined


def _entities(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans from word-level BIO tags."""
    entities: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for word in words:
        tag = word["tag"]
        kind = _NER_LABEL_ALIASES.get(tag[2:], tag[2:]) if tag != "O" else None
        if kind is None:
            current = None
        elif current is not None and tag.startswith("I-") and kind == current["label"]:
            current["end"] = word["end"]
            current["scores"].append(word["score"])
        else:
            current = {"label": kind, "start": word["start"], "end": word["end"], "scores": [word["score"]]}
            entities.append(current)
    return entities


_EDGE_PUNCTUATION = ".,;:!?\"'()[]"
_ABBREVIATION = re.compile(r"(?:\b\w\.){2,}")
_NOT_A_NAME = {"the", "a", "an", "this", "that", "my", "our", "your", "his", "her", "their", "its"}


def _trimmed(entity: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The entity without edge punctuation ("Nintendo." → "Nintendo"); None when what is left is
    no name at all: a lone article or possessive ("the" before "iPhone Air"), or no letter."""
    start, end = entity["start"], entity["end"]
    while start < end and text[start] in _EDGE_PUNCTUATION:
        start += 1
    abbreviation = _ABBREVIATION.search(text, start, end)  # "U.S." keeps its last dot
    while end > start and text[end - 1] in _EDGE_PUNCTUATION and not (abbreviation and abbreviation.end() == end):
        end -= 1
    surface = text[start:end]
    if not any(ch.isalpha() for ch in surface) or surface.lower() in _NOT_A_NAME:
        return None
    return {"text": surface, "label": entity["label"], "start": start, "end": end,
            "score": sum(entity["scores"]) / len(entity["scores"])}


def _evaluate(path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
    from analyzer.labels.metrics import entity_scores
    from analyzer.labels.read import read_conll

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
    model_entities = [entities or [] for entities in result[NerTask.name]]
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


TASK = NerTask
