"""A new classification head for a label set the base model does not have.

A randomly initialised head starts with no idea what any class means, and with a few
hundred examples a rare class can stay near zero recall for the whole run. Instead each
class starts with a prior (`init_head`):

- a label the base head already has (`negative` in a 3-class sentiment base) keeps the base
  head's row for it: that class is learned already;
- any other label starts from its name, embedded by the model itself: the vector the head
  reads (the pooled output) for the text "disgust" becomes the class vector, centred over the
  label set so that what all names share does not count, and scaled like the base's rows.

Measured in training/measure_new_labels.py (numbers in README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

# a random-looking label name such as LABEL_0 carries nothing to copy
_PLACEHOLDER_PREFIX = "label_"
# without a trained base head to take the scale from: logits of about this size for the names
_DEFAULT_LOGIT_SCALE = 5.0


@dataclass
class HeadInit:
    """What `init_head` did, for the run's log and the model card."""

    copied: list[str]  # rows taken from the base head
    from_names: list[str]  # rows started from the label name's embedding
    random: list[str]  # rows left randomly initialised

    def describe(self) -> str:
        parts = []
        if self.copied:
            parts.append(f"{', '.join(self.copied)} from the base head")
        if self.from_names:
            parts.append(f"{', '.join(self.from_names)} from the label name{'s' if len(self.from_names) > 1 else ''}")
        if self.random:
            parts.append(f"{', '.join(self.random)} random")
        return "; ".join(parts)


def final_linear(model: nn.Module) -> tuple[nn.Module, str] | None:
    """The parent module and attribute name of the Linear layer that produces the class logits:
    `classifier` (BERT, DistilBERT, MiniLM) or `classifier.out_proj` (RoBERTa, XLM-R, DeBERTa-style)."""
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Linear):
        return model, "classifier"
    if classifier is not None and isinstance(getattr(classifier, "out_proj", None), nn.Linear):
        return classifier, "out_proj"
    return None


@torch.no_grad()
def head_inputs(model: nn.Module, tokenizer: Any, texts: Sequence[str]) -> torch.Tensor:
    """What the final Linear reads for each text (the pooled vector), captured with a forward hook."""
    found = final_linear(model)
    if found is None:
        raise ValueError(f"{type(model).__name__}: no final Linear classifier found")
    parent, name = found
    captured: list[torch.Tensor] = []
    hook = getattr(parent, name).register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].detach()))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        enc = tokenizer(list(texts), padding=True, truncation=True, max_length=32, return_tensors="pt")
        model(**{k: v.to(device) for k, v in enc.items()})
    finally:
        hook.remove()
        model.train(was_training)
    return captured[0].float().cpu()


def init_head(model: nn.Module, tokenizer: Any, labels: Sequence[str], base_labels: Sequence[str],
              from_names: bool, seed: int, normalise: Callable[[str], str] | None = None) -> HeadInit:
    """Replace the model's final Linear with one row per label in `labels` (in order) and update
    its config. With `from_names`, rows start from the base head (shared labels) or the label
    names (others); without, every row is random as in a plain fine-tune."""
    found = final_linear(model)
    if found is None:
        raise ValueError(f"{type(model).__name__}: no final Linear classifier found")
    parent, name = found
    old: nn.Linear = getattr(parent, name)
    torch.manual_seed(seed)
    new = nn.Linear(old.in_features, len(labels), bias=old.bias is not None)
    std = float(getattr(model.config, "initializer_range", 0.02) or 0.02)
    nn.init.normal_(new.weight, std=std)  # how transformers initialises a fresh head
    if new.bias is not None:
        nn.init.zeros_(new.bias)
    real_base = [b for b in base_labels if not b.lower().startswith(_PLACEHOLDER_PREFIX)]
    base_row = {label: i for i, label in enumerate(base_labels) if label in real_base}
    done = HeadInit([], [], [])
    with torch.no_grad():
        if from_names:
            shared = [label for label in labels if label in base_row]
            for label in shared:
                new.weight[labels.index(label)] = old.weight[base_row[label]]
                if new.bias is not None and old.bias is not None:
                    new.bias[labels.index(label)] = old.bias[base_row[label]]
            done.copied = shared
            rest = [label for label in labels if label not in base_row]
            if rest:
                texts = [label.replace("_", " ").replace("-", " ") for label in labels]
                vectors = head_inputs(model, tokenizer, [normalise(t) for t in texts] if normalise else texts)
                centred = vectors - vectors.mean(dim=0, keepdim=True)
                units = centred / centred.norm(dim=1, keepdim=True).clamp_min(1e-6)
                if real_base:  # as long as the base's own trained rows, so no class starts louder than they do
                    scale = float(old.weight[list(base_row.values())].norm(dim=1).mean())
                else:  # name logits of about _DEFAULT_LOGIT_SCALE for the names themselves
                    scale = _DEFAULT_LOGIT_SCALE / float(vectors.norm(dim=1).mean().clamp_min(1e-6))
                bias = float(old.bias[list(base_row.values())].mean()) if real_base and old.bias is not None else 0.0
                for label in rest:
                    i = labels.index(label)
                    new.weight[i] = units[i].to(new.weight.dtype) * scale
                    if new.bias is not None:
                        new.bias[i] = bias
                done.from_names = rest
        else:
            done.random = list(labels)
    new.to(old.weight.device)
    setattr(parent, name, new)
    model.num_labels = len(labels)
    model.config.num_labels = len(labels)
    model.config.id2label = dict(enumerate(labels))
    model.config.label2id = {label: i for i, label in enumerate(labels)}
    return done
