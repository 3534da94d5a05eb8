"""Text normalisation seen by the models.

Two layers, both applied only to the text a model (or a summary, or topic discovery) reads;
the stored `comments.text` is never changed:

- `clean_markup`: what a reader of the post sees. HTML entities decoded (`&amp;` → `&`), HTML
  tags removed (Mastodon's `<p>`, YouTube's `<br />`), Reddit's `[removed]`/`[deleted]`
  markers dropped, whitespace collapsed.
- A sentiment model's normalisation, named in its config (`opinions_normalisation`) so that a
  model is always run on text normalised the way it was trained, and a model that names one
  this version does not know is refused:
  - `cardiffnlp`: markup cleaned, then cardiffnlp's TweetEval convention, `@handle` → `@user`,
    `http…` → `http` (hub models and models without the key).
  - `social-v2` (the embedded pack): markup cleaned, then emoji turned into their names
    ("😡" → " enraged face ", as pysentimiento does: MiniLM's uncased vocabulary maps every
    emoji to [UNK]), letters repeated 3+ times cut to 2 ("soooo" → "soo"), and the cardiffnlp
    placeholders. Emoticons (`:)`, `:(`) pass through: the tokenizer already splits them.

NER runs on the raw text (so that character offsets stay exact); mentions are extracted by
rule instead. The one change NER sees is `mask_markup` (tags and markers blanked, escapes
decoded), which keeps every character at its offset. Summaries and topic discovery read
`readable_text`: cleaned markup without URLs, line breaks kept.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable

from analyzer.errors import OpinionsError

_ESCAPED_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")
# the escapes dumps carry, once or twice escaped (Reddit's markdown writes a typed `&#x200B;` as `&amp;#x200B;`)
_HTML_ESCAPE = re.compile(r"&(?:amp;)?(amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
# zero-width and other invisible format characters (U+200B, U+200C/D, U+2060, U+FEFF): nothing a reader sees
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
# a tag starts with a letter, so "<3" and "a < b" are text, not markup
_BREAK_TAG = re.compile(r"<(?:br|/p|/div|/li|/h[1-6])\b[^<>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_MARKERS = re.compile(r"\[(?:removed|deleted)\]", re.IGNORECASE)
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_SKIN_TONE = re.compile(r"_(?:medium-)?(?:light|medium|dark)_skin_tone|_(?:medium-)?(?:light|dark)(?=[_ ])")
URL_PATTERN = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

DEFAULT_NORMALISATION = "cardiffnlp"  # a model that does not name one (hub models)
PACK_NORMALISATION = "social-v2"  # what the embedded sentiment pack is trained and run on


def clean_markup(text: str) -> str:
    """The text a reader sees: entities decoded, tags and [removed]/[deleted] markers dropped, spaces collapsed."""
    if "<" in text:
        text = _HTML_TAG.sub(" ", _BREAK_TAG.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    if "[" in text:
        text = _MARKERS.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def readable_text(text: str) -> str:
    """What summaries and topic discovery read: each line as `clean_markup` reads it, with URLs
    dropped (a link is no sentence and no topic term). Line breaks (and `<br>`, `</p>`) are kept
    as line breaks: summaries split sentences on them."""
    if "<" in text:
        text = _BREAK_TAG.sub("\n", text)
    lines = (_SPACE.sub(" ", URL_PATTERN.sub(" ", clean_markup(line))).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_RETWEET_PREFIX = re.compile(r"^RT\s+@\w+:?\s*", re.IGNORECASE)
_LEADING_TAGS = re.compile(r"^(?:[@#][\w.]+[:,]?(?:\s+|$))+")
_HANDLE = re.compile(r"(?<![\w&])@\w+:?")
_INLINE_TAG = re.compile(r"(?<![\w&])[@#]([A-Za-z_]\w*)")
_DOUBLE_ESCAPE = re.compile(r"&amp;(#?\w+;)")
# no leading `\s*`: tried at every position of a run of spaces, it made the search quadratic in the run
_VIA = re.compile(r"\((?:via|cc:?)\s+@\w+\)\s*$", re.IGNORECASE)


def _is_tag(token: str) -> bool:
    """`token` is a whole @handle or #hashtag as `[@#][\\w.]+[.!?]*` reads it ("#a.", "@b!!", "#x...")."""
    if len(token) < 2 or token[0] not in "@#":
        return False
    rest = token[1:]
    core = rest.rstrip(".!?")
    if not core:  # only dots and marks: a tag when the run starts with a dot ("#...!")
        return rest[0] == "."
    return all(char.isalnum() or char in "_." for char in core)


def _strip_trailing_tags(line: str) -> str:
    """`line` without the run of @handles and #hashtags that closes it (and the spaces before the run).

    One pass over the tokens from the end. It replaces the regex `(?:(?:^|\\s+)[@#][\\w.]+[.!?]*)+$`,
    which gives the same answer but backtracks exponentially when the run is broken at its end: both
    `[\\w.]+` and `[.!?]*` take a dot, so "I love it " + "#a......" * 14 + " ," took over two minutes.
    (`\\s` and `\\w` are `str.isspace` and `str.isalnum` or "_" for str patterns, so the answers agree.)"""
    if not line or line[-1].isspace():  # `$` after a space: the pattern never matched such a line
        return line
    cut = None
    end = len(line)
    while end > 0:
        start = end
        while start > 0 and not line[start - 1].isspace():
            start -= 1
        if not _is_tag(line[start:end]):
            break
        end = start
        while end > 0 and line[end - 1].isspace():
            end -= 1
        cut = end
    return line if cut is None else line[:cut]


def _strip_via(line: str) -> str:
    """`line` without a closing "(via @handle)" or "(cc @handle)" and the spaces around it."""
    match = _VIA.search(line) if "(" in line else None
    return line if match is None else line[:match.start()].rstrip()


def prose_text(text: str, handles: bool = True) -> str:
    """What a summary quotes: `readable_text` (markup, entities and URLs gone, line breaks kept) read as
    prose. A retweet's "RT @handle:" prefix and the runs of @handles, #hashtags and $cashtags that open
    a reply or close a post are dropped ("@united @delta Thanks" → "Thanks"), except a lone one that
    is the subject of what follows ("@united is the worst" → "united is the worst"); one inside a
    sentence keeps its word ("ask @SpotifyCares" → "ask SpotifyCares"). Twice-escaped entities
    ("&amp;amp;") are decoded too."""
    if "&amp;" in text:
        text = _DOUBLE_ESCAPE.sub(r"&\1", text)
    lines = []
    for line in readable_text(text).split("\n"):
        if "<" in line:  # escaped markup ("&lt;span class=...&gt;") is decoded into tags by the first pass
            line = _HTML_TAG.sub(" ", line)
        line = _strip_via(_RETWEET_PREFIX.sub("", line))
        if not handles:
            line = _HANDLE.sub(" ", line)
        line = _strip_trailing_tags(line).strip()
        lead = _LEADING_TAGS.match(line)
        if lead:
            rest = line[lead.end():]
            lone_subject = len(lead.group(0).split()) == 1 and rest[:1].islower() and not lead.group(0).rstrip().endswith(":")
            line = line if lone_subject else rest
        line = _SPACE.sub(" ", _INLINE_TAG.sub(r"\1", line)).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def _placeholders(text: str) -> str:
    tokens = []
    for token in _SPACE.split(text.strip()):
        if token.startswith("@") and len(token) > 1:
            token = "@user"
        elif token.startswith("http") or token.lower().startswith("www."):
            token = "http"
        tokens.append(token)
    return " ".join(tokens)


@functools.cache
def _emoji_chars() -> frozenset[str]:
    """Every character that occurs in some emoji (none is ASCII on its own: a keycap "1️⃣" is "1" + U+FE0F + U+20E3)."""
    import emoji

    return frozenset(char for key in emoji.EMOJI_DATA for char in key if not char.isascii())


def demojize(text: str) -> str:
    """Each emoji as its English name between spaces, skin tones dropped ("👍🏽" → " thumbs up ")."""
    # most texts hold no character of any emoji: answered by one set test, where `emoji_count` walks
    # every character in Python (3 of the 5 s sentiment's preprocessing took on 4,000 tweets)
    if text.isascii() or _emoji_chars().isdisjoint(text):
        return text
    import emoji

    if emoji.emoji_count(text) == 0:
        return text
    named = emoji.demojize(text, delimiters=(" \x00", "\x00 "))
    return re.sub(r"\x00([^\x00]*)\x00", lambda m: _SKIN_TONE.sub("", m.group(1)).replace("_", " ").replace("-", " "),
                  named)


def normalise_cardiffnlp(text: str) -> str:
    """cardiffnlp-style normalisation of the cleaned text: @user, http, collapsed whitespace."""
    return _placeholders(clean_markup(text))


def normalise_social(text: str) -> str:
    """`social-v2`: markup cleaned, emoji named, elongations cut, @user and http placeholders."""
    text = clean_markup(text)
    text = _ELONGATION.sub(r"\1\1", demojize(text))
    return _placeholders(text)


NORMALISATIONS: dict[str, Callable[[str], str]] = {
    "cardiffnlp": normalise_cardiffnlp,
    "social-v2": normalise_social,
}


class UnknownNormalisation(OpinionsError, ValueError):
    """A model names a text normalisation this version of opinions does not have."""


def normaliser(name: str | None) -> Callable[[str], str]:
    """The normalisation function a sentiment model was trained with (None: the hub convention)."""
    key = name or DEFAULT_NORMALISATION
    if key not in NORMALISATIONS:
        raise UnknownNormalisation(
            f"the model was trained on text normalised as {key!r}, which this version of opinions does not know "
            f"(known: {', '.join(NORMALISATIONS)}); upgrade opinions or use another model")
    return NORMALISATIONS[key]


def model_normalisation(config: object) -> str:
    """The normalisation a model config names (`opinions_normalisation`), else the hub convention."""
    return str(getattr(config, "opinions_normalisation", None) or DEFAULT_NORMALISATION)


def normalise_for_sentiment(text: str) -> str:
    """The embedded pack's normalisation (training scripts and tests use it by this name)."""
    return NORMALISATIONS[PACK_NORMALISATION](text)


def unescape_unicode(text: str) -> str:
    """Decode literal `\\u002c`-style escapes that some tweet dumps carry."""
    return _ESCAPED_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _escaped_char(name: str) -> str:
    """The character `&name;` stands for; a space for an invisible one or one that is no character."""
    try:
        char = html.unescape(f"&{name};")
    except (ValueError, OverflowError):
        return " "
    if len(char) != 1 or char.isspace() or _INVISIBLE.match(char) or not char.isprintable():
        return " "
    return char


def mask_html_escapes(text: str) -> str:
    """`&amp;` → `&` plus spaces, and so on: the character a reader sees, at the same offsets.

    Reddit and Twitter dumps keep HTML escapes in the text ("Miles &amp; More"); read raw,
    the model tags "Miles &" as a name. Numeric escapes are read too, and twice-escaped ones
    (Reddit's `&amp;#x200B;`, a zero-width space typed to get an empty line): a space, so that
    `#x200B` is never a hashtag. Padding with spaces instead of shortening keeps every
    character offset into the stored text exact.
    """
    if "&" not in text:
        return text
    return _HTML_ESCAPE.sub(lambda m: _escaped_char(m.group(1)).ljust(len(m.group(0))), text)


def display_text(text: str) -> str:
    """A comment's text as a report shows it: what a reader of the post sees (`clean_markup`), with
    twice-escaped entities (`&amp;#x200B;`) decoded too and zero-width characters dropped. Output
    formats escape it once for their own syntax (HTML: `&` → `&amp;`)."""
    if "&amp;" in text:
        text = _DOUBLE_ESCAPE.sub(r"&\1", text)
    text = clean_markup(text)
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip() if _INVISIBLE.search(text) else text


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def mask_markup(text: str) -> str:
    """What NER reads: HTML tags and `[removed]`/`[deleted]` markers as spaces and HTML escapes as
    their character (`mask_html_escapes`), every character at its offset into the stored text."""
    if "<" in text:
        text = _HTML_TAG.sub(_blank, text)
    if "[" in text:
        text = _MARKERS.sub(_blank, text)
    return mask_html_escapes(text)
