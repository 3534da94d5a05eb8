"""What the models read: markup cleaned, emoji named, each model run on the normalisation it was trained with."""

from __future__ import annotations

import random
import re
from types import SimpleNamespace

import pytest

from analyzer.text import normalise as textnorm
from analyzer.text.normalise import (
    UnknownNormalisation,
    clean_markup,
    mask_markup,
    model_normalisation,
    normalise_cardiffnlp,
    normalise_social,
    normaliser,
    prose_text,
    readable_text,
)
from tests.helpers import finishes_within


@pytest.mark.parametrize(("raw", "seen"), [
    ("Miles &amp; More &gt; the rest &#39;ok&#39;", "Miles & More > the rest 'ok'"),
    ("<p>Boosted this</p><p>second <a href=\"https://x.y\">link</a></p>", "Boosted this second link"),
    ("great video<br />really<br>good", "great video really good"),
    ("[removed] the rest of the post", "the rest of the post"),
    ("I <3 it and a < b", "I <3 it and a < b"),
])
def test_clean_markup_shows_what_a_reader_sees(raw: str, seen: str) -> None:
    assert clean_markup(raw) == seen


def test_social_normalisation_names_emoji_and_keeps_placeholders() -> None:
    assert normalise_social("😡😡😡") == "enraged face enraged face enraged face"
    assert normalise_social("👍🏽 soooo gooood @Delta https://t.co/x") == "thumbs up soo good @user http"
    assert normalise_social("worst day :( ") == "worst day :("
    # the hub convention leaves emoji and markup to the model's own vocabulary
    assert normalise_cardiffnlp("😡 @Delta http://x &amp; <br/>more") == "😡 @user http & more"


@pytest.mark.parametrize("text", [
    "plain ascii 123 #tag *", "curly “quotes” and an ellipsis…", "Zürich naïve café", "1️⃣ keycap", "#️⃣ hash keycap",
    "©2020 and ®", "™ trade", "❤ bare heart", "☺️ with a selector", "🇺🇸 a flag", "👩‍💻 a ZWJ sequence",
    "東京で新しいカメラを買った", "​ zero width", "🫠 melting",
])
def test_the_no_emoji_shortcut_answers_as_the_emoji_library(text: str) -> None:
    import emoji

    from analyzer.text.normalise import demojize

    # the shortcut skips texts with no character of any emoji: it must never skip one the library sees
    if emoji.emoji_count(text) == 0:
        assert demojize(text) == text
    else:
        assert demojize(text) != text


def test_a_model_is_run_on_the_normalisation_its_config_names() -> None:
    assert normaliser(model_normalisation(SimpleNamespace(opinions_normalisation="social-v2")))("😍") == "smiling face with heart eyes"
    assert model_normalisation(SimpleNamespace()) == "cardiffnlp"
    with pytest.raises(UnknownNormalisation, match="social-v9"):
        normaliser("social-v9")


@pytest.mark.parametrize(("raw", "read"), [
    ("Miles &amp; More &gt; the rest &#39;ok&#39;", "Miles & More > the rest 'ok'"),  # entities
    ("<p>Tried the <a href=\"https://m.s/tags/x\">#x</a> client</p><p>second para</p>",
     "Tried the #x client\nsecond para"),  # Mastodon tags; paragraphs stay sentence breaks
    ("great song<br />listened ten times<br><br>please", "great song\nlistened ten times\nplease"),  # YouTube <br />
    ("Title\n\n[removed]\n\nedit: [deleted] sorry", "Title\nedit: sorry"),  # markers inside a submission
    ("read this https://example.com/a?b=1&amp;c=2 and www.example.org now", "read this and now"),  # URLs
    ("I <3 it and a < b", "I <3 it and a < b"),  # not markup
])
def test_readable_text_is_what_summaries_and_topic_discovery_read(raw: str, read: str) -> None:
    assert readable_text(raw) == read


def test_mask_markup_blanks_tags_and_markers_at_the_same_offsets() -> None:
    text = "<p>Ask Angela&amp;Co</p> [removed] in <b>Berlin</b><br />"
    masked = mask_markup(text)
    assert len(masked) == len(text)
    assert "<" not in masked and "removed" not in masked and "&amp;" not in masked
    for word in ("Angela", "Berlin"):
        assert masked.index(word) == text.index(word)  # NER offsets point into the stored text


# Text is written by anyone: every regex applied to it must be linear. The old trailing-tags pattern
# (both `[\w.]+` and `[.!?]*` take a dot) took 17 s on 9 tags and hours on 14.
_OLD_TRAILING_TAGS = re.compile(r"(?:(?:^|\s+)[@#][\w.]+[.!?]*)+$")
_OLD_VIA = re.compile(r"\s*\((?:via|cc:?)\s+@\w+\)\s*$", re.IGNORECASE)


def test_prose_text_is_linear_on_broken_runs_of_tags() -> None:
    code = (
        "from analyzer.text.normalise import prose_text\n"
        "for text in ('I love it ' + '#a...... ' * 14 + ' ,', 'I love it ' + '#a......' * 14 + ' ,',\n"
        "             'x ' + '#a. ' * 20000 + ',', 'x' + ' ' * 100000 + '(via @a) y', '@a.! ' * 20000 + ','):\n"
        "    prose_text(text); prose_text(text, handles=False)\n"
    )
    assert finishes_within(code, 60)


def test_prose_text_drops_the_same_trailing_tags_as_the_old_pattern() -> None:
    rng = random.Random(35)
    pieces = ["#", "@", "a", "é", "_", "1", ".", "!", "?", ",", " ", "\t", "\u00a0", "(via @x)", "(cc: @y) ", "www."]
    for _ in range(20000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert textnorm._strip_trailing_tags(line) == _OLD_TRAILING_TAGS.sub("", line), line
        assert textnorm._strip_via(line).strip() == _OLD_VIA.sub("", line).strip(), line
    assert prose_text("Loving the new trains @bo #rail #commute!!") == "Loving the new trains"
    assert prose_text("Loving it (via @bo)") == "Loving it"
