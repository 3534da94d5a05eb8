"""A BERT sentence classifier whose last layer computes the [CLS] row only.

The classification head reads one vector, the last layer's [CLS] row (through the pooler).
Every other row of the last layer — its query, its attention output, its feed-forward — feeds
nothing: of the layer's weight work only the keys and values of all rows are needed. On the
6-layer MiniLM of the sentiment pack that is 14% of the model's multiply-adds, the same
operations on fewer rows, so the logits are the full model's (checked on a probe batch when
the model is wrapped: a model that answers otherwise is left as it is, and says why).

Public API only (transformers 5.25 changed a private method the first version called, and the
trim went silently off for every new install): the layers before the last run through
`BertModel.forward` of a second `BertModel` that shares the loaded model's parameters
(`load_state_dict(assign=True)`), and the last layer is computed here from its weights, which
are addressed by the names of the checkpoint format (`attention.self.query`, ...).

Only for `BertForSequenceClassification` in full precision. bf16 is left whole: a bf16 matrix
product rounds differently with its row count (oneDNN picks another kernel for a few rows), so
with few texts per batch a text's answer would depend on the batch size (the Ray engine's
7-row batches gave other 2-decimal scores than local runs: tests/test_same_answer.py). Dynamic
int8 scales activations per batch tensor, so fewer rows would change the scale and the answers.
The wrapper is what `analyzer.models.traced` traces, so a cached trace runs the trimmed graph too.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from importlib import metadata
from types import SimpleNamespace
from typing import Any

import torch

log = logging.getLogger(__name__)

# largest difference in logits from the full model that the probe accepts, per dtype
_TOLERANCE = {torch.float32: 1e-4}


@dataclass(frozen=True)
class Trim:
    """What `trim` did: `active`, or why not. `expected` is False where the model is out of scope by
    design (another architecture, bf16, int8) and True where it should have worked and did not."""

    active: bool
    reason: str = ""
    expected: bool = False


class ClsOnly(torch.nn.Module):
    """Wraps a BertForSequenceClassification; called like it: `(input_ids, attention_mask, token_type_ids).logits`."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.inner = model
        self.config = model.config
        self.body = _body(model.bert)
        self.heads = int(model.config.num_attention_heads)
        from transformers.activations import ACT2FN

        self.act = ACT2FN[model.config.hidden_act]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> SimpleNamespace:
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        last = self.inner.bert.encoder.layer[-1]
        # the last layer: every row's keys and values, the [CLS] row's query and all that follows it
        first = hidden[:, :1]
        rows, width = hidden.shape[0], hidden.shape[-1]
        size = width // self.heads

        def split(x: torch.Tensor) -> torch.Tensor:  # (rows, tokens, width) -> (rows, heads, tokens, size)
            return x.view(rows, x.shape[1], self.heads, size).transpose(1, 2)

        attention = last.attention.self
        keep = None if attention_mask is None else attention_mask[:, None, None, :].to(torch.bool)
        context = torch.nn.functional.scaled_dot_product_attention(
            split(attention.query(first)), split(attention.key(hidden)), split(attention.value(hidden)),
            attn_mask=keep, scale=1.0 / math.sqrt(size))
        context = context.transpose(1, 2).reshape(rows, 1, width)
        # BERT's post-norm residual blocks (dropout is off in eval): LayerNorm(dense(x) + input)
        out = last.attention.output
        attended = out.LayerNorm(out.dense(context) + first)
        feed = last.output
        hidden_cls = feed.LayerNorm(feed.dense(self.act(last.intermediate.dense(attended))) + attended)
        pooled = self.inner.bert.pooler(hidden_cls)
        return SimpleNamespace(logits=self.inner.classifier(self.inner.dropout(pooled)))


def _body(bert: Any) -> Any:
    """A BertModel of every layer but the last and no pooler, sharing `bert`'s parameters and buffers."""
    config = copy.deepcopy(bert.config)
    config.num_hidden_layers -= 1
    with torch.device("meta"):  # no random initialisation of weights that are replaced at once
        body = type(bert)(config, add_pooling_layer=False)
    device = next(bert.parameters()).device
    body.to_empty(device=device)
    missing, _ = body.load_state_dict(bert.state_dict(), strict=False, assign=True)
    if missing:
        raise ValueError(f"the encoder has no {missing[0]}")
    with torch.no_grad():
        for name, buffer in body.named_buffers():  # non-persistent buffers (position ids) are not in the state dict
            buffer.copy_(bert.get_buffer(name))
    return body.eval()


def trim(model: Any) -> tuple[Any, Trim]:
    """`model` computing its last layer for [CLS] only where that is possible and answers as `model`
    does, else `model` itself; and what happened. An unexpected fallback is logged once."""
    config = getattr(model, "config", None)
    if type(model).__name__ != "BertForSequenceClassification" or config is None:
        return model, Trim(False, f"{type(model).__name__} is not a BERT sentence classifier")
    if config.is_decoder or getattr(config, "num_hidden_layers", 0) < 2 or \
            getattr(config, "position_embedding_type", "absolute") != "absolute":
        return model, Trim(False, "the encoder is not a plain BERT encoder")
    dtype = next(model.parameters()).dtype
    if dtype not in _TOLERANCE:
        return model, Trim(False, f"{str(dtype).removeprefix('torch.')} keeps the whole model")  # bf16: see above
    if any(type(m).__module__.startswith("torch.ao") for m in model.modules()):
        return model, Trim(False, "int8 keeps the whole model")  # dynamic scales per batch: see above
    try:
        wrapped = ClsOnly(model).eval()
        generator = torch.Generator().manual_seed(7)
        low = min(1000, config.vocab_size // 2)
        ids = torch.randint(low, config.vocab_size, (4, 11), generator=generator)
        mask = torch.ones_like(ids)
        mask[1, 6:] = 0  # ragged rows: the padded path
        mask[3, 2:] = 0
        device = next(model.parameters()).device
        ids, mask = ids.to(device), mask.to(device)
        with torch.inference_mode():
            expected = model(input_ids=ids, attention_mask=mask).logits.float()
            got = wrapped(ids, mask).logits.float()
    except Exception as exc:  # an architecture whose parts differ from what this reads: the full model
        return model, _fallback(f"{type(exc).__name__}: {exc}")
    if got.shape != expected.shape or not torch.allclose(got, expected, atol=_TOLERANCE[dtype], rtol=0):
        worst = (got - expected).abs().max().item() if got.shape == expected.shape else float("inf")
        return model, _fallback(f"its logits differ from the full model's by {worst:.2g}")
    return wrapped, Trim(True)


_warned: set[str] = set()


def _fallback(reason: str) -> Trim:
    """A trim that should have worked: said once per process, with the transformers version to report."""
    try:
        version = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        version = "unknown"
    trim_state = Trim(False, f"{reason}; transformers {version}", expected=True)
    if trim_state.reason not in _warned:
        _warned.add(trim_state.reason)
        log.warning("sentiment runs the full model, ~14%% slower: the [CLS]-only last layer is off (%s)",
                    trim_state.reason)
    return trim_state
