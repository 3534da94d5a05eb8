"""Letter case as a model input, for models whose tokenizer lowercases.

The embedded base (all-MiniLM-L6-v2) is uncased: "Apple" and "apple" reach the model as
the same ids, and on tweets case is much of what tells a name from a word. A model trained
with case types gets each subword's case class through BERT's token type ids (the segment
embedding, unused for single texts): its embedding table grows from 2 rows to `CASE_TYPES`,
every new row starting as the pretrained row 0, so the architecture stays a plain
`BertForTokenClassification` that any transformers code loads (without case types it
just sees every token as type 0). Models declare it with `opinions_case_types` in config.json.

The class of a subword is that of the run of letters and digits it sits in, read from the
original characters, so training (word lists) and inference (raw text) agree on "U.S."
("U", "S": capitalised) or "iPhone" (mixed: capitalised).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CASE_TYPES = 4
NONE, LOWER, CAPITALISED, UPPER = range(CASE_TYPES)  # NONE: no letter, and special or padding tokens
CONFIG_FLAG = "opinions_case_types"


def case_type(text: str, start: int, end: int) -> int:
    """Case class of the letter/digit run that contains text[start:end]."""
    if start >= end:
        return NONE
    left, right = start, end
    if text[start].isalnum():  # punctuation and symbols are classed on their own characters
        while left > 0 and text[left - 1].isalnum():
            left -= 1
        while right < len(text) and text[right].isalnum():
            right += 1
    letters = [ch for ch in text[left:right] if ch.isalpha()]
    if not letters:
        return NONE
    if all(ch.islower() or not ch.isupper() for ch in letters):
        return LOWER
    if len(letters) > 1 and all(ch.isupper() or not ch.islower() for ch in letters):
        return UPPER
    return CAPITALISED


def token_case_types(text: str, offsets: Sequence[tuple[int, int]]) -> list[int]:
    return [case_type(text, start, end) for start, end in offsets]


def uses_case_types(config: Any) -> bool:
    return bool(getattr(config, CONFIG_FLAG, False))


def enable_case_types(model: Any) -> None:
    """Grow the token type embedding to CASE_TYPES rows copied from row 0 and mark the config."""
    import torch

    embeddings = model.base_model.embeddings
    old = embeddings.token_type_embeddings
    grown = torch.nn.Embedding(CASE_TYPES, old.embedding_dim)
    with torch.no_grad():
        grown.weight.copy_(old.weight[0:1].expand(CASE_TYPES, -1))
    embeddings.token_type_embeddings = grown
    model.config.type_vocab_size = CASE_TYPES
    setattr(model.config, CONFIG_FLAG, True)
