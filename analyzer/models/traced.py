"""Traced copies of local models, so that a run starts without importing transformers.

Why: on the 2-core workplace box, importing transformers' model classes takes ~1.2 s
and its tokenizer classes ~0.7 s: a third of a whole `opinions analyze` of 4,000 tweets,
and the same in every cron run and every Ray worker. `torch.jit.load` of a traced graph
takes ~0.1 s and the `tokenizers` library (which transformers' fast tokenizers wrap)
reads tokenizer.json in ~0.02 s.

The first run on a model loads it the usual way, traces it on a padded batch, and keeps
the trace only if it reproduces the eager model on batches of other shapes (padded and
not) and the bare tokenizer reproduces transformers' ids, offsets and word ids on probe
texts. Later runs load the trace. Traces live in the user cache, keyed by the model
folder's files, the precision, and the torch and transformers versions, so a rebuilt
pack or an upgrade traces afresh. Anything unexpected falls back to the eager model.

Only on CPU, for local folders (the embedded pack, `--model DIR`), in fp32 or bf16:
a hub id resolves through transformers anyway, a trace records the device it was made
on, and a traced int8 model ran 2.2x slower than the eager one. `OPINIONS_TRACE=0`
turns it off. torch marks `torch.jit` as deprecated in favour of `torch.export`, but an
exported program took 1.5 s to load here (it imports sympy) and ran slower than eager.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from analyzer.models.runtime import Runtime

log = logging.getLogger(__name__)

TRACEABLE_MODES = ("none", "bf16")
OUR_CONFIG_PREFIX = "opinions_"  # config keys this project adds (analyzer.text.casing, analyzer.tasks.ner.bio)
# texts the bare tokenizer must encode exactly as transformers does before a trace is kept
PROBE_TEXTS = (
    "I LOVE the new iPhone!!! 😍 https://t.co/abc #apple @tim_cook $AAPL",
    "Ça coûte 3,50 € à Zürich… naïve café — really?",
    "wait…   what   \t happened\u200b here?? lol",
    "東京で新しいカメラを買った",
    "",
)
_TOLERANCE = {"none": 1e-4, "bf16": 2e-2}
# what a task traces changed: 2, sentiment's last layer on [CLS] only (analyzer.models.cls_only); 3, that trim on
# transformers 5.25, where version 2 traced the full graph after the trim fell back. Older traces are re-made
GRAPH_VERSION = 3


class _Encoded:
    """The parts of transformers' BatchEncoding that tasks read."""

    def __init__(self, encodings: list[Any], offsets: bool) -> None:
        self._encodings = encodings
        self._data: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if offsets:
            self._data["offset_mapping"] = [e.offsets for e in encodings]

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def word_ids(self, index: int) -> list[int | None]:
        return self._encodings[index].word_ids


class BareTokenizer:
    """A tokenizer.json read by the `tokenizers` library alone, with the special ids and
    length limit transformers' tokenizer reported when the trace was made."""

    def __init__(self, path: Path, special: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()  # tasks cut and window texts themselves
        self._tokenizer.no_padding()
        self.cls_token_id: int = special["cls_token_id"]
        self.sep_token_id: int = special["sep_token_id"]
        self.pad_token_id: int | None = special["pad_token_id"]
        self.model_max_length: int = special["model_max_length"]

    def __call__(self, texts: list[str], add_special_tokens: bool = True, return_offsets_mapping: bool = False,
                 **_: Any) -> _Encoded:
        return _Encoded(self._tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens),
                        return_offsets_mapping)


class TracedModel:
    """A traced model that answers like a transformers model: `.config` and `(...).logits`."""

    def __init__(self, module: Any, config: dict[str, Any], speed_paths: dict[str, str] | None = None) -> None:
        self._module = module
        self.speed_paths = speed_paths or {}  # what the task's speed paths did when the trace was made
        self.config = SimpleNamespace(**{**config, "id2label": {int(k): v for k, v in config["id2label"].items()}})

    def __call__(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> SimpleNamespace:
        if token_type_ids is not None:  # the task gives token types only to a model traced with them
            return SimpleNamespace(logits=self._module(input_ids, attention_mask, token_type_ids))
        return SimpleNamespace(logits=self._module(input_ids, attention_mask))


def eligible(folder: str, runtime: Runtime, mode: str) -> bool:
    from analyzer.settings import value

    return (value("trace") != "0" and runtime.device == "cpu" and mode in TRACEABLE_MODES
            and (Path(folder) / "tokenizer.json").is_file() and (Path(folder) / "config.json").is_file())


def trace_dir(folder: str, kind: str, mode: str) -> Path:
    from analyzer.models.pack import cache_root
    from analyzer.models.spec import MODEL_FILES, folder_digest

    root = Path(folder).resolve()
    files = folder_digest(root, (*MODEL_FILES, "tokenizer.json", "tokenizer_config.json"))
    versions = "|".join(f"{package}={_version(package)}" for package in ("torch", "transformers", "tokenizers"))
    digest = hashlib.sha256(f"{root}|{kind}|{mode}|{files}|{versions}|graph{GRAPH_VERSION}".encode()).hexdigest()
    return cache_root() / "traced" / f"{root.name}-{kind}-{mode}-{digest[:16]}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def load(folder: str, kind: str, mode: str, runtime: Runtime) -> tuple[BareTokenizer, TracedModel] | None:
    """The cached trace of this model, or None (not traced yet, or unreadable)."""
    if not eligible(folder, runtime, mode):
        return None
    target = trace_dir(folder, kind, mode)
    if not (target / "meta.json").exists():
        return None
    try:
        import torch

        meta = json.loads((target / "meta.json").read_text())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(target / "model.pt"), map_location="cpu")
        module.eval()
        model = TracedModel(module, meta["config"], meta.get("speed_paths"))
        return BareTokenizer(Path(folder) / "tokenizer.json", meta["special"]), model
    except Exception as exc:  # a cache: a broken entry costs a re-trace, never the run
        log.debug("ignoring the trace in %s: %s", target, exc)
        shutil.rmtree(target, ignore_errors=True)
        return None


def save(folder: str, kind: str, mode: str, runtime: Runtime, tokenizer: Any, model: Any,
         token_types: bool = False, speed_paths: dict[str, str] | None = None) -> bool:
    """Trace `model`, check the trace and the bare tokenizer against the eager ones, and
    cache both; False (and nothing written) when a check fails or tracing is impossible.
    `token_types`: the model takes token type ids as an input (the task knows; analyzer.text.casing).
    `speed_paths`: what the task's speed paths did, kept with the trace for `opinions models`."""
    if not eligible(folder, runtime, mode):
        return False
    target = trace_dir(folder, kind, mode)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)  # first: an unwritable cache fails here, before the tracing work
        special = {"cls_token_id": tokenizer.cls_token_id, "sep_token_id": tokenizer.sep_token_id,
                   "pad_token_id": tokenizer.pad_token_id, "model_max_length": int(tokenizer.model_max_length)}
        if not _same_tokens(tokenizer, BareTokenizer(Path(folder) / "tokenizer.json", special)):
            log.debug("not tracing %s: the bare tokenizer differs from transformers'", folder)
            return False
        module = _trace(model, special["pad_token_id"] or 0, mode, token_types)
        if module is None:
            return False
        config = {"id2label": {str(k): v for k, v in model.config.id2label.items()},
                  "num_labels": model.config.num_labels,
                  "max_position_embeddings": getattr(model.config, "max_position_embeddings", 512),
                  "model_type": getattr(model.config, "model_type", ""),
                  # every setting of ours (letter case, tag transitions, ...) goes with the trace
                  **{k: v for k, v in vars(model.config).items() if k.startswith(OUR_CONFIG_PREFIX)}}
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(module, str(tmp / "model.pt"))
        (tmp / "meta.json").write_text(json.dumps({"special": special, "config": config, "folder": str(folder),
                                                   "speed_paths": speed_paths or {}}))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)  # readers see a whole entry or none
        _drop_superseded(target)
        return True
    except Exception as exc:
        log.debug("not tracing %s: %s", folder, exc)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when the entry was written


def _drop_superseded(target: Path) -> None:
    """Remove older traces of the same model folder, kind and precision (an upgrade or a rewritten
    model file), so the cache holds one trace per model; a trace still in use elsewhere is only re-made."""
    prefix = target.name.rsplit("-", 1)[0] + "-"
    for entry in target.parent.iterdir():
        if entry != target and entry.name.startswith(prefix) and ".tmp" not in entry.name:
            shutil.rmtree(entry, ignore_errors=True)


def _same_tokens(reference: Any, bare: BareTokenizer) -> bool:
    texts = list(PROBE_TEXTS)
    ours = bare(texts, add_special_tokens=False, return_offsets_mapping=True)
    theirs = reference(texts, add_special_tokens=False, truncation=False, verbose=False, return_offsets_mapping=True)
    return all(
        list(ours["input_ids"][i]) == list(theirs["input_ids"][i])
        and [tuple(o) for o in ours["offset_mapping"][i]] == [tuple(o) for o in theirs["offset_mapping"][i]]
        and ours.word_ids(i) == theirs.word_ids(i)
        for i in range(len(texts))
    )


def _trace(model: Any, pad_id: int, mode: str, token_types: bool = False) -> Any:
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    class TypedLogits(Logits):
        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,  # type: ignore[override]
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


    def batch(rows: int, width: int, seed: int) -> tuple[torch.Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        vocab = int(model.config.vocab_size)
        ids = torch.randint(min(1000, vocab // 2), vocab, (rows, width), generator=generator)
        mask = torch.ones_like(ids)
        for row in range(1, rows):  # ragged rows: the trace must take the padded path
            mask[row, width - row % width :] = 0
            ids[row, width - row % width :] = pad_id
        if not token_types:
            return ids, mask
        vocab_types = int(getattr(model.config, "type_vocab_size", 2))
        return ids, mask, torch.randint(0, vocab_types, (rows, width), generator=generator)

    wrapped = (TypedLogits(model) if token_types else Logits(model)).eval()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shape checks baked in: the checks below cover them
        module = torch.jit.trace(wrapped, batch(4, 12, 0), strict=False, check_trace=False)
        for rows, width, seed in ((3, 7, 1), (1, 9, 2), (9, 21, 3)):
            inputs = batch(rows, width, seed)  # one row: no padding at all
            expected, got = wrapped(*inputs).float(), module(*inputs).float()
            if not torch.allclose(expected, got, atol=_TOLERANCE[mode], rtol=0):
                log.debug("trace differs from the eager model by %.3g", (expected - got).abs().max().item())
                return None
    return module
