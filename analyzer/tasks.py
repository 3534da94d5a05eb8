"""Analysis tasks: each is tokenise → shared batched forward → postprocess.

A task is a small class registered by name (`TASK_REGISTRY`); adding one (emotion,
toxicity) is one class here. All of them use `batching.run_batched`, so sorting,
token budgets, inference mode and the out-of-memory back-off live in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzer import modelpack, traced
from analyzer.batching import DEFAULT_BATCH_TOKENS, BatchStats, run_batched
from analyzer.casing import NONE as CASE_NONE
from analyzer.casing import token_case_types, uses_case_types
from analyzer.models import ModelSpec, load_folder_or_id
from analyzer.runtime import Runtime, load_model, load_tokenizer, quantize
from analyzer.textnorm import URL_PATTERN, mask_markup, model_normalisation, normaliser

SENTIMENT_LABELS = ("negative", "neutral", "positive")
HEAD_SHARE = 0.25  # long texts keep the first quarter and the last three quarters of the budget
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
    """#hashtags, @mentions and $CASHTAGS with exact character offsets (none inside links)."""
    links = url_spans(text)
    found = []
    for label, pattern in SOCIAL_PATTERNS:
        for match in pattern.finditer(text):
            if not _overlaps(match.start(), match.end(), links):
                found.append({"text": match.group(0), "label": label, "start": match.start(), "end": match.end(),
                              "score": 1.0})
    return sorted(found, key=lambda e: e["start"])


def with_social_tokens(text: str, model_spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model's entities plus the rule-based social tokens; where they overlap, the rule wins
    ("@BarackObama" is a MENTION, whatever type the model gave it)."""
    social = social_entities(text)
    taken = [(e["start"], e["end"]) for e in social]
    kept = [e for e in model_spans if not _overlaps(e["start"], e["end"], taken)]
    return sorted(kept + social, key=lambda e: (e["start"], e["end"]))


@dataclass
class TaskOptions:
    batch_tokens: int = DEFAULT_BATCH_TOKENS
    allow_pickle: bool = False
    quantize: str = "none"
    social_tokens: bool = True  # False: the model's entities only (`opinions evaluate` scores the model)


class Task:
    """Base: holds tokenizer + model, and the shared forward."""

    name: ClassVar[str]
    model_kind: ClassVar[str]

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        self.spec = spec
        self.runtime = runtime
        self.options = options or TaskOptions()
        folder = load_folder_or_id(spec)
        mode = self.options.quantize
        # a cached trace starts without importing transformers (analyzer.traced); the first run makes it
        cached = traced.load(folder, self.model_kind, mode, runtime)
        if cached is not None:
            self.tokenizer, self.model = cached
        else:
            self.tokenizer = load_tokenizer(folder)
            self.model = quantize(load_model(self.model_kind, folder, runtime, allow_pickle=self.options.allow_pickle),
                                  mode, runtime)
            traced.save(folder, self.model_kind, mode, runtime, self.tokenizer, self.model)
        self.max_length = self._max_length()
        self.stats = BatchStats()

    def _max_length(self) -> int:
        if self.spec.is_embedded:
            return int(modelpack.pack_entry(self.spec.task).manifest.get("max_length", 128))
        limit = int(getattr(self.model.config, "max_position_embeddings", 512))
        if getattr(self.model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
            limit -= 2  # RoBERTa position ids start after the padding index
        tokenizer_limit = int(getattr(self.tokenizer, "model_max_length", limit) or limit)
        return max(8, min(limit, tokenizer_limit, 512))

    def _forward(self, ids: Any, mask: Any, types: Any = None) -> Any:
        device = self.runtime.device
        extra = {} if types is None else {"token_type_ids": types.to(device)}
        return self.model(input_ids=ids.to(device), attention_mask=mask.to(device), **extra).logits

    def _run(self, sequences: list[list[int]], types: list[list[int]] | None = None) -> list[Any]:
        return run_batched(sequences, self._forward, self.tokenizer.pad_token_id or 0,
                           budget=self.options.batch_tokens, stats=self.stats, types=types)

    def _wrap(self, ids: list[int]) -> list[int]:
        return [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id]


class SentimentTask(Task):
    name = "sentiment"
    model_kind = "sequence"

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        super().__init__(spec, runtime, options)
        raw = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        self.labels = canonical_sentiment_labels(raw)
        # the text is normalised the way the model was trained (config `opinions_normalisation`); unknown: refused
        self.normalise = normaliser(model_normalisation(self.model.config))

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        body = self.max_length - 2
        head = int(body * HEAD_SHARE)
        encoded = self.tokenizer([self.normalise(t) for t in texts], add_special_tokens=False,
                                 truncation=False, verbose=False)["input_ids"]
        return [self._wrap(ids if len(ids) <= body else ids[:head] + ids[len(ids) - (body - head):]) for ids in encoded]

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        import torch

        outputs = []
        for logits in self._run(self.tokenize(texts)):
            probs = torch.softmax(logits, dim=-1).tolist()
            best = max(range(len(probs)), key=probs.__getitem__)
            outputs.append({"label": self.labels[best], "score": probs[best],
                            "scores": dict(zip(self.labels, probs, strict=True))})
        return outputs


def canonical_sentiment_labels(raw: list[str]) -> list[str]:
    """Map a model's label names onto negative/neutral/positive where they mean that."""
    lowered = [r.lower() for r in raw]
    aliases = {"neg": "negative", "pos": "positive", "neu": "neutral"}
    lowered = [aliases.get(r, r) for r in lowered]
    if all(r.startswith("label_") for r in lowered) and len(raw) in (2, 3):
        return ["negative", "positive"] if len(raw) == 2 else list(SENTIMENT_LABELS)
    return lowered


class NerTask(Task):
    name = "ner"
    model_kind = "token"

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        from analyzer import bio

        super().__init__(spec, runtime, options)
        self.tags = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        self.case_types = uses_case_types(self.model.config)  # the model reads letter case (analyzer.casing)
        self.transitions = bio.transition_scores(self.model.config, self.tags)  # None: plain BIO constraint

    def predict(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        import numpy as np
        import torch

        encoding = self.tokenizer([mask_markup(t) for t in texts], add_special_tokens=False, truncation=False,
                                  verbose=False, return_offsets_mapping=True)  # same offsets as the stored text
        body = self.max_length - 2
        stride = max(1, body - int(body * NER_WINDOW_OVERLAP))
        sequences: list[list[int]] = []
        types: list[list[int]] = []
        windows: list[tuple[int, int, int]] = []  # (text index, first token, sequence index)
        for t, ids in enumerate(encoding["input_ids"]):
            cases = token_case_types(texts[t], encoding["offset_mapping"][t]) if self.case_types else []
            start = 0
            while True:
                windows.append((t, start, len(sequences)))
                sequences.append(self._wrap(ids[start : start + body]))
                if self.case_types:
                    types.append([CASE_NONE, *cases[start : start + body], CASE_NONE])
                if start + body >= len(ids):
                    break
                start += stride
        logits = self._run(sequences, types if self.case_types else None)
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
                window_probs = torch.softmax(logits[seq_index][1 : count + 1], dim=-1).numpy()  # [1:]: skip [CLS]
                k = np.arange(count)
                margin = np.minimum(k, count - 1 - k)  # distance from the window edge: more context is better
                better = margin > best_margin[first : first + count]
                probs[first : first + count][better] = window_probs[better]
                best_margin[first : first + count][better] = margin[better]
            results.append(self._spans(text, encoding.word_ids(t), encoding["offset_mapping"][t], probs))
        return results

    def _spans(self, text: str, word_ids: list[int | None], offsets: list[tuple[int, int]],
               token_probs: Any) -> list[dict[str, Any]]:
        from analyzer import bio

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


TASK_REGISTRY: dict[str, type[Task]] = {"sentiment": SentimentTask, "ner": NerTask}
