"""Text normalisation seen by the models.

The sentiment model is trained and run on text normalised the way cardiffnlp's
TweetEval models are: every `@handle` becomes `@user` and every `http…` token
becomes `http`. The same function is used at training and at inference so the model
never sees a distribution it was not trained on. NER runs on the raw text (so that
character offsets stay exact); mentions are extracted by rule instead. The one change NER
sees is `mask_html_escapes`, which keeps every character at its offset.
"""

from __future__ import annotations

import re

_ESCAPED_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")
_HTML_ESCAPE = re.compile(r"&(amp|lt|gt|quot|apos|#39|#x27);")
_HTML_CHAR = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "#39": "'", "#x27": "'"}


def normalise_for_sentiment(text: str) -> str:
    """cardiffnlp-style normalisation: @user, http, collapsed whitespace."""
    tokens = []
    for token in _SPACE.split(text.strip()):
        if token.startswith("@") and len(token) > 1:
            token = "@user"
        elif token.startswith("http"):
            token = "http"
        tokens.append(token)
    return " ".join(tokens)


def unescape_unicode(text: str) -> str:
    """Decode literal `\\u002c`-style escapes that some tweet dumps carry."""
    return _ESCAPED_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)


def mask_html_escapes(text: str) -> str:
    """`&amp;` → `&` plus spaces, and so on: the character a reader sees, at the same offsets.

    Reddit and Twitter dumps keep HTML escapes in the text ("Miles &amp; More"); read raw,
    the model tags "Miles &" as a name. Padding with spaces instead of shortening keeps every
    character offset into the stored text exact.
    """
    return _HTML_ESCAPE.sub(lambda m: _HTML_CHAR[m.group(1)].ljust(len(m.group(0))), text)
