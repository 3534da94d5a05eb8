"""Language identification: what `detect_languages` promises (real py3langid model, no datasets)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analyzer.text.langid import LANGUAGES, clean_for_langid, detect_languages
from tests.helpers import finishes_within

CLEAR_SENTENCES = {
    "en": "This is absolutely the best phone I have ever owned",
    "fr": "Je suis vraiment déçu par ce service client, plus jamais",
    "es": "No me gusta nada este teléfono, es muy lento y caro",
    "de": "Ich finde das neue Update wirklich schlecht und langsam",
    "it": "Questo telefono è fantastico, lo consiglio a tutti",
    "pt": "Eu adoro esse programa, muito bom mesmo",
    "ar": "هذا الهاتف رائع جدا وأنا سعيد به",
    "ru": "Это лучший телефон, который у меня когда-либо был",
}


@pytest.mark.parametrize("code", sorted(CLEAR_SENTENCES))
def test_clear_sentences_get_their_language(code: str) -> None:
    assert detect_languages([CLEAR_SENTENCES[code]]) == [code]


def test_outputs_follow_input_order_and_length() -> None:
    codes = sorted(CLEAR_SENTENCES)
    texts = [CLEAR_SENTENCES[c] for c in codes]
    assert detect_languages(texts) == codes
    assert detect_languages(list(reversed(texts))) == list(reversed(codes))
    assert detect_languages([]) == []


@pytest.mark.parametrize(
    "text",
    ["", "   ", "@user http", "@user @someone https://t.co/xyz", "😂😂😂 🔥", "!!! ??? ...", "12345 678", "#", "k"],
)
def test_texts_without_signal_give_none(text: str) -> None:
    assert detect_languages([text]) == [None]


def test_none_slots_keep_their_place_among_real_answers() -> None:
    texts = ["@user http", CLEAR_SENTENCES["fr"], "", CLEAR_SENTENCES["en"], "😂"]
    assert detect_languages(texts) == [None, "fr", None, "en", None]


@pytest.mark.parametrize(
    "text", ["love it", "so true", "thanks!", "great game", "happy birthday", "nice", "I LOVE THIS SO MUCH"]
)
def test_short_english_is_english(text: str) -> None:
    assert detect_languages([text]) == ["en"]


@pytest.mark.parametrize("text", ["lol", "omg", "wtf", "yes!", "ok", "deserved better :/", "unbelievable!", "clever"])
def test_short_english_ish_text_is_never_given_a_non_english_code(text: str) -> None:
    assert detect_languages([text])[0] in ("en", None)


def test_mentions_urls_and_hashtags_do_not_change_the_answer() -> None:
    text = "RT @PSG_inside: Quelle soirée incroyable au Parc, merci à tous les supporters #ICICESTPARIS https://t.co/a1"
    assert detect_languages([text]) == ["fr"]
    assert detect_languages(["@user @user I can't believe how good this match was #football http"]) == ["en"]


def test_cleaning_strips_mentions_urls_rt_and_hash_signs() -> None:
    cleaned = clean_for_langid("RT @someone: Loving the new #iPhone https://t.co/abc www.apple.com &amp; t.co/x http")
    assert cleaned == "loving the new iphone &"


def test_arabic_dialects_fold_into_ar() -> None:
    assert detect_languages(["انا مش فاهم ليه الموبايل ده غالي كده بجد"]) == ["ar"]


def test_codes_are_iso_639_1_from_the_allowed_set() -> None:
    texts = [*CLEAR_SENTENCES.values(), "Dit is echt een geweldige telefoon", "この電話は本当に素晴らしい", "fanwars kahit anong"]
    for code in detect_languages(texts):
        assert code is None or (len(code) == 2 and code in LANGUAGES)


def test_importing_the_module_does_not_load_the_identifier() -> None:
    code = "import sys, analyzer.text.langid; assert 'py3langid' not in sys.modules; assert analyzer.text.langid._identifier is None"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_langid_cleaning_is_linear_on_dotted_runs() -> None:
    # "a.a.a…" without a slash: the bare-domain pattern was tried at every word, quadratic in the run
    code = (
        "from analyzer.text.langid import clean_for_langid\n"
        "for text in ('a.' * 50000, 'a-' * 50000 + ' ', 'a.b' * 30000):\n"
        "    clean_for_langid(text)\n"
    )
    assert finishes_within(code, 60)


def test_langid_cleaning_still_drops_urls_and_bare_domains() -> None:
    assert clean_for_langid("see example.com/x and https://t.co/abc or www.x.y, http") == "see and or"
    assert clean_for_langid("Ça marche bien sur spotify.com/fr !") == "ça marche bien sur !"
