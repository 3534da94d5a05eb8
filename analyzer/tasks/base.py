"""What every analysis task shares: model loading, the batched forward, and the contract
the rest of the house relies on.

A task is `preprocess → forward → postprocess`, as transformers' pipelines are: preprocess
turns texts into token sequences (cut or windowed) plus whatever postprocess needs to map
the outputs back; forward is the one batched runner (`batching.run_batched`: sorting,
token budgets, inference mode, out-of-memory back-off); postprocess turns logits into one
prediction per text. Besides predicting, a task says how its predictions travel and land:
`rows()` for its store table (through its folder's `land.sql`), `json_line()`
for `opinions analyze`, and `to_columns()` / `from_columns()` for the Ray engine's flat
result blocks. Nothing outside a task's module knows what its predictions look like.

Nothing here imports torch at import time: the batching runner is imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from analyzer.models import pack as modelpack
from analyzer.models import traced
from analyzer.models.runtime import Runtime, load_model, load_tokenizer, quantize
from analyzer.models.spec import ModelSpec, load_folder_or_id
from analyzer.tasks.declaration import About

Prediction = Any  # one text's result: a task's own shape (a dict for sentiment, a list of spans for NER)


@dataclass
class TaskOptions:
    batch_tokens: int | None = None  # None: batching.DEFAULT_BATCH_TOKENS
    allow_pickle: bool = False
    quantize: str = "none"
    social_tokens: bool = True  # False: the model's entities only (`opinions evaluate` scores the model)


@dataclass
class Encoded:
    """What preprocess hands to forward (sequences, optional token types) and keeps for postprocess."""

    sequences: list[list[int]]
    types: list[list[int]] | None = None
    context: Any = None  # the task's own bookkeeping (windows, offsets)


class Task:
    """Base: holds tokenizer + model, and the shared forward."""

    about: ClassVar[About]  # the task folder's ABOUT
    name: ClassVar[str]
    model_kind: ClassVar[str]  # "sequence" | "token" (runtime.load_model)
    # the store: the frame `rows()` fills, registered as `task_rows` for its folder's land.sql
    row_schema: ClassVar[dict[str, Any]]
    # `opinions evaluate`: settings it scores the model with, and its per-class tables (name: title, columns)
    evaluation_settings: ClassVar[dict[str, Any]] = {}
    metric_tables: ClassVar[dict[str, tuple[str, list[str]]]] = {}
    # faster equivalents `prepare` may swap in; `opinions models` loads the model to say whether each is on
    speed_path_names: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def canonical_labels(raw: list[str]) -> list[str]:
        """A model's or a labelled file's label names as this task spells them (`opinions train`
        compares the base head's labels with the data's through it)."""
        return list(raw)

    def __init__(self, spec: ModelSpec, runtime: Runtime, options: TaskOptions | None = None) -> None:
        self.spec = spec
        self.runtime = runtime
        self.options = options or TaskOptions()
        folder = load_folder_or_id(spec)
        mode = self.options.quantize
        # a cached trace starts without importing transformers (analyzer.models.traced); the first run makes it
        # what each speed path of the task did on this model: {name: "on" | "off (why)"} (`opinions models`)
        self.speed_paths: dict[str, str] = {}
        cached = traced.load(folder, self.model_kind, mode, runtime)
        if cached is not None:
            self.tokenizer, self.model = cached
            self.speed_paths = dict(self.model.speed_paths)
        else:
            self.tokenizer = load_tokenizer(folder)
            self.model = self.prepare(quantize(load_model(self.model_kind, folder, runtime,
                                                          allow_pickle=self.options.allow_pickle), mode, runtime))
            traced.save(folder, self.model_kind, mode, runtime, self.tokenizer, self.model,
                        token_types=self.uses_token_types(), speed_paths=self.speed_paths)
        self.max_length = self._max_length()
        from analyzer.models.batching import BatchStats

        self.stats = BatchStats()

    # -- the model ---------------------------------------------------------------------------

    def prepare(self, model: Any) -> Any:
        """The model as this task runs it (and as a trace records it): by default the loaded one.
        A task that swaps in a faster equivalent records what it did in `self.speed_paths`."""
        return model

    def uses_token_types(self) -> bool:
        """Whether the model takes token type ids as an input (a trace must then take them too)."""
        return False

    @classmethod
    def decoding_id(cls, spec: ModelSpec) -> str:
        """What besides the weights changes this task's answers, for the recorded model id ("" if nothing)."""
        return ""

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

    def _wrap(self, ids: list[int]) -> list[int]:
        return [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id]

    # -- preprocess → forward → postprocess ------------------------------------------------------

    def preprocess(self, texts: list[str]) -> Encoded:
        raise NotImplementedError

    def forward(self, encoded: Encoded, between_batches: Callable[[int], None] | None = None) -> list[Any]:
        """The shared batched runner: one output (logits) per sequence, in input order. `between_batches`: see
        `batching.run_batched` (progress, and a requested stop)."""
        from analyzer.models.batching import DEFAULT_BATCH_TOKENS, run_batched

        return run_batched(encoded.sequences, self._forward, self.tokenizer.pad_token_id or 0,
                           budget=self.options.batch_tokens or DEFAULT_BATCH_TOKENS, stats=self.stats,
                           types=encoded.types, between_batches=between_batches)

    def postprocess(self, texts: list[str], encoded: Encoded, outputs: list[Any]) -> list[Prediction]:
        raise NotImplementedError

    def predict(self, texts: list[str], between_batches: Callable[[int], None] | None = None) -> list[Prediction]:
        encoded = self.preprocess(texts)
        return self.postprocess(texts, encoded, self.forward(encoded, between_batches))

    # -- where predictions go (no model needed) -----------------------------------------------------

    @classmethod
    def rows(cls, text_hash: str, model: str, prediction: Prediction | None, lang: str | None) -> list[dict[str, Any]]:
        """The store rows of one text's prediction (None: the text's language is not supported)."""
        raise NotImplementedError

    @classmethod
    def json_line(cls, prediction: Prediction | None, lang: str | None) -> dict[str, Any]:
        """One `opinions analyze` output object (None: the language is not supported)."""
        raise NotImplementedError

    @classmethod
    def to_columns(cls, predictions: list[Prediction | None]) -> dict[str, list[Any]]:
        """Flat columns (Arrow/Parquet friendly) that carry `predictions` between processes."""
        raise NotImplementedError

    @classmethod
    def from_columns(cls, columns: dict[str, list[Any]]) -> list[Prediction | None]:
        """The inverse of `to_columns`."""
        raise NotImplementedError

    @classmethod
    def evaluate(cls, path: Path, predictor: Any, spec: ModelSpec) -> dict[str, Any]:
        """Score the model on a labelled file (`opinions evaluate`)."""
        raise NotImplementedError
