"""Text normalisation seen by the models.

The sentiment model is trained and run on text normalised the way cardiffnlp's
TweetEval models are: every `@handle` becomes `@user` and every `http…` token
becomes `http`. The same function is used at training and at inference so the model
never sees a distribution it was not trained on. NER runs on the raw text (so that
character offsets stay exact); mentions are extracted by rule instead.
"""

from __future__ import annotations

import re

_ESCAPED_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")


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
