"""training.shared_trunk's pieces on the tiny STAND-IN model (randomly initialised): plumbing only.

These check shapes, the partial labels, the oversampling and that a head trained on cached
states learns a separable toy labelling; the real measurement needs ../shared/datasets and
its numbers are in training/README.md ("One shared trunk?")."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training import shared_trunk  # noqa: E402
from training.train_ner import TAGS  # noqa: E402

SENTENCES = [["Barack", "Obama", "met", "Angela", "Merkel"], ["worst", "service", "ever"],
             ["Apple", "released", "new", "phones"]]


@pytest.fixture(scope="module")
def tiny(tiny_models):
    from transformers import AutoTokenizer, BertForTokenClassification

    folder = tiny_models["ner"]
    return BertForTokenClassification.from_pretrained(folder).base_model, AutoTokenizer.from_pretrained(folder)


def test_first_subword_states_give_one_row_per_kept_word(tiny):
    encoder, tokenizer = tiny
    states = shared_trunk.first_subword_states(encoder, tokenizer, SENTENCES, max_length=64)
    assert [tuple(s.shape) for s in states] == [(len(words), 32) for words in SENTENCES]
    cut = shared_trunk.first_subword_states(encoder, tokenizer, SENTENCES[:1], max_length=4)  # [CLS] + 2 + [SEP]
    assert cut[0].shape[0] < len(SENTENCES[0])


def test_sentence_states_cls_and_normalised_mean(tiny):
    encoder, tokenizer = tiny
    texts = [" ".join(words) for words in SENTENCES]
    cls = shared_trunk.sentence_states(encoder, tokenizer, texts, 64)
    mean = shared_trunk.sentence_states(encoder, tokenizer, texts, 64, pool="mean")
    assert cls.shape == mean.shape == (3, 32)
    assert torch.allclose(mean.norm(dim=1), torch.ones(3), atol=1e-5)
    assert not torch.allclose(cls, mean)


def test_ner_rows_mark_btc_o_as_partial_and_repeat_wnut_products():
    states = [torch.zeros(2, 4), torch.ones(2, 4), torch.full((2, 4), 2.0)]
    tags = [["B-PER", "O"], ["B-PRODUCT", "O"], ["B-LOC", "O"]]
    rows, labels = shared_trunk.ner_training_rows(states, tags, btc_count=1, rare_repeat=3)
    assert labels.tolist() == [TAGS.index("B-PER"), len(TAGS)] + [TAGS.index("B-PRODUCT"), 0] * 3 + [TAGS.index("B-LOC"), 0]
    assert rows.shape == (10, 4)


def test_a_head_on_cached_states_learns_a_separable_labelling_and_decodes_valid_bio():
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(400, 8, generator=generator)
    labels = (states[:, 0] > 0).long() * TAGS.index("B-PER")  # O or B-PER by the sign of one feature
    head = shared_trunk.train_head(shared_trunk.token_head(8, len(TAGS)), states, labels, epochs=40, lr=1e-2,
                                   batch_size=32, label_groups=shared_trunk.OTHER_TYPES)
    predicted = head(states).argmax(-1)
    assert (predicted == labels).float().mean() > 0.9  # chance is 0.5
    tags = shared_trunk.decode_sentences(head, [states[:5]], [6], learned=None)[0]
    assert len(tags) == 6 and tags[5] == "O"  # the sixth word was cut off: O
    assert all(t in ("O", "B-PER", "I-PER") for t in tags)


def test_sentence_head_starts_from_the_trunks_pooler(tiny_models):
    from transformers import BertModel

    encoder = BertModel.from_pretrained(tiny_models["sentiment"])
    head = shared_trunk.sentence_head(encoder.pooler, 3)
    assert torch.equal(head[0].weight, encoder.pooler.dense.weight)
    assert head[0].weight.data_ptr() != encoder.pooler.dense.weight.data_ptr()  # a copy: training it leaves the trunk
    assert head(torch.zeros(2, 32)).shape == (2, 3)
