"""How word tags become entity spans: hyphenated compounds, edge punctuation, non-names, social tokens.

Pure functions over given tags and offsets (no model): the cases the demo data showed the model getting half right.
"""

from __future__ import annotations

from analyzer.tasks.ner.task import _entities, _join_hyphenated, _trimmed, social_entities


def words_of(text: str, tags: list[str]) -> list[dict]:
    """Word dicts as NerTask builds them, with the BERT pre-tokenizer's split (words and single punctuation)."""
    import re

    spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    assert len(spans) == len(tags)
    return [{"tag": tag, "score": 0.9, "start": s, "end": e} for (s, e), tag in zip(spans, tags, strict=True)]


def spans(text: str, tags: list[str]) -> list[tuple[str, str]]:
    out = []
    for entity in _entities(_join_hyphenated(words_of(text, tags), text)):
        trimmed = _trimmed(entity, text)
        if trimmed:
            assert text[trimmed["start"] : trimmed["end"]] == trimmed["text"]
            out.append((trimmed["label"], trimmed["text"]))
    return out


def test_a_hyphenated_compound_is_one_entity_even_when_only_a_piece_was_tagged():
    text = "the U-Bahn in Berlin"
    assert spans(text, ["O", "B-LOC", "O", "O", "O", "B-LOC"]) == [("LOC", "U-Bahn"), ("LOC", "Berlin")]
    text = "my Joy-Con 2 drift"
    assert spans(text, ["O", "B-WORK", "O", "B-WORK", "I-WORK", "O"]) == [("WORK", "Joy-Con 2")]


def test_edge_punctuation_is_trimmed_but_abbreviations_keep_their_dot():
    assert spans("done with Nintendo.", ["O", "O", "B-ORG", "I-ORG"]) == [("ORG", "Nintendo")]
    assert spans("the U.S. team", ["O", "B-LOC", "I-LOC", "I-LOC", "I-LOC", "O"]) == [("LOC", "U.S.")]


def test_a_lone_article_or_a_number_is_not_a_name():
    text = "the iPhone Air and the Model 3"
    tags = ["B-PRODUCT", "B-PRODUCT", "I-PRODUCT", "O", "O", "O", "B-PRODUCT"]
    assert spans(text, tags) == [("PRODUCT", "iPhone Air")]


def test_youtube_handles_with_hyphens_are_whole_mentions_and_links_hide_no_social_tokens():
    found = [(e["label"], e["text"]) for e in social_entities("@user-xr8jcl7mfu thanks @bob. see https://x.com/#tag")]
    assert found == [("MENTION", "@user-xr8jcl7mfu"), ("MENTION", "@bob")]


def test_html_escapes_read_as_their_character_at_the_same_offsets():
    from analyzer.text.normalise import mask_html_escapes

    text = "Miles &amp; More &gt; quoted &lt;3 it&#39;s"
    masked = mask_html_escapes(text)
    assert len(masked) == len(text)
    assert masked == "Miles &     More >    quoted <   3 it'    s"
