"""A BERT sentence classifier whose last layer computes the [CLS] row only.

The classification head reads one vector, the last layer's [CLS] row (through the pooler).
Every other row of the last layer — its query, its attention output, its feed-forward — feeds
nothing: of the layer's weight work only the keys and values of all rows are needed. On the
6-layer MiniLM of the sentiment pack that is 14% of the model's multiply-adds, the same
operations on fewer rows, so the logits are the full model's (checked on a probe batch when
the model is wrapped: a model that answers otherwise is left as it is).

Only for `BertForSequenceClassification` in full precision. bf16 is left whole: a bf16 matrix
product rounds differently with its row count (oneDNN picks another kernel for a few rows), so
with few texts per batch a text's answer would depend on the batch size (the Ray engine's
7-row batches gave other 2-decimal scores than local runs: tests/test_same_answer.py). Dynamic
int8 scales activations per batch tensor, so fewer rows would change the scale and the answers.
The wrapper is what `analyzer.traced` traces, so a cached trace runs the trimmed graph too.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import torch

# largest difference in logits from the full model that the probe accepts, per dtype
_TOLERANCE = {torch.float32: 1e-4}


class ClsOnly(torch.nn.Module):
    """Wraps a BertForSequenceClassification; called like it: `(input_ids, attention_mask, token_type_ids).logits`."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.inner = model
        self.config = model.config
        # transformers 5.25 added `position_ids` to this private method (None is what BertModel passes when
        # it is given none); without it the probe in `wrap` failed and every run fell back to the full model
        masks = inspect.signature(model.bert._create_attention_masks).parameters
        self._mask_extra = {"position_ids": None} if "position_ids" in masks else {}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> SimpleNamespace:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
        from transformers.models.bert.modeling_bert import eager_attention_forward

        bert = self.inner.bert
        hidden = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask, _ = bert._create_attention_masks(attention_mask=attention_mask, encoder_attention_mask=None,
                                               embedding_output=hidden, encoder_hidden_states=None, cache=None,
                                               **self._mask_extra)
        *body, last = bert.encoder.layer
        for layer in body:
            hidden = layer(hidden, mask)
        # the last layer: every row's keys and values, the [CLS] row's query and all that follows it
        first = hidden[:, :1]
        attention = last.attention.self
        rows = hidden.shape[0]

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(rows, x.shape[1], -1, attention.attention_head_size).transpose(1, 2)

        attend = ALL_ATTENTION_FUNCTIONS.get_interface(attention.config._attn_implementation, eager_attention_forward)
        context, _ = attend(attention, heads(attention.query(first)), heads(attention.key(hidden)),
                            heads(attention.value(hidden)), None if mask is None else mask[:, :, :1],
                            dropout=0.0, scaling=attention.scaling)
        context = context.reshape(rows, 1, -1).contiguous()
        out = last.feed_forward_chunk(last.attention.output(context, first))
        pooled = bert.pooler(out)
        return SimpleNamespace(logits=self.inner.classifier(self.inner.dropout(pooled)))


def wrap(model: Any) -> Any:
    """`model` computing its last layer for [CLS] only, where that is possible and answers as `model` does;
    else `model` itself."""
    config = getattr(model, "config", None)
    if (type(model).__name__ != "BertForSequenceClassification" or config is None or config.is_decoder
            or getattr(config, "_attn_implementation", None) not in {"sdpa", "eager"}
            or getattr(config, "num_hidden_layers", 0) < 1):
        return model
    dtype = next(model.parameters()).dtype
    if dtype not in _TOLERANCE or any(type(m).__module__.startswith("torch.ao") for m in model.modules()):
        return model  # bf16 (see above); int8 (dynamically quantized Linear layers) scales activations per batch
    wrapped = ClsOnly(model).eval()
    try:
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
    except Exception:  # an architecture whose internals differ from what this reads: the full model
        return model
    if got.shape != expected.shape or not torch.allclose(got, expected, atol=_TOLERANCE[dtype], rtol=0):
        return model
    return wrapped
