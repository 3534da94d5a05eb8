"""Shared fixtures: temporary databases, the CLI runner, and tiny stand-in models.

The tiny models are STAND-INS for plumbing tests only: randomly initialised BERTs
(2 layers, 32 hidden) with a WordPiece tokenizer trained here with the `tokenizers`
library. Their labels are meaningless; tests that check real predictions use the
embedded pack (tests/test_modelpack.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPINIONS_THREADS", "2")
# the materialised pack and model traces go to a cache of this test session, not the user's
_SESSION_CACHE = None if os.environ.get("OPINIONS_CACHE") else tempfile.mkdtemp(prefix="opinions-test-cache-")
if _SESSION_CACHE:
    os.environ["OPINIONS_CACHE"] = _SESSION_CACHE


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SESSION_CACHE:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)

TINY_CORPUS = [
    "I absolutely love this phone and the camera is great",
    "worst customer service ever, never again",
    "Barack Obama met Angela Merkel in Berlin on Tuesday",
    "the update broke my battery life #fail @support",
    "Apple and Samsung released new phones this week",
    "meh, it is fine I guess",
] * 20


def _build_tiny(folder: Path, kind: str, labels: list[str]) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertForTokenClassification,
        PreTrainedTokenizerFast,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(TINY_CORPUS, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=64)
    fast.save_pretrained(folder)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    import torch

    torch.manual_seed(0)
    model_cls = BertForSequenceClassification if kind == "sequence" else BertForTokenClassification
    model_cls(config).save_pretrained(folder)
    (folder / "opinions.json").write_text(json.dumps({"languages": ["en"]}))
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of randomly initialised stand-in models (plumbing only)."""
    root = tmp_path_factory.mktemp("tiny-models")
    tags = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    return {
        "sentiment": _build_tiny(root / "sentiment", "sequence", ["negative", "neutral", "positive"]),
        "ner": _build_tiny(root / "ner", "token", tags),
        "offensive": _build_tiny(root / "offensive", "sequence", ["not-offensive", "offensive"]),
        "emotion": _build_tiny(root / "emotion", "sequence",
                               ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]),
    }


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture()
def tiny_env(tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every task at the stand-in models through the documented env variables."""
    for task, folder in tiny_models.items():
        monkeypatch.setenv(f"OPINIONS_{task.upper()}_MODEL", str(folder))
    return tiny_models
