"""Extractive summaries of a topic's comments with the embedded MiniLM encoder.

Method (`extractive_summary`):

1. Split every comment into sentences (`split_sentences`: regex rules for social/review text,
   no model or download). Each sentence remembers its comment.
2. Embed the sentences with all-MiniLM-L6-v2 from the model pack (`SentenceEncoder`: mean pooling
   over the attention mask, L2 norm, 256-token truncation: the same vectors as sentence-transformers).
   Exact repeats (copy-paste, retweets) are encoded once; they still pull the centroid, but only one
   copy can be picked.
3. Salience of a sentence (`sentence_salience`) = cosine to the centroid of all sentences
   - 2.0 x its share of first-person words (anecdotes: "I bought these for my trip")
   + 0.5 x mean, over its content words, of the share of the other comments that use them
     (frequent aspects: "fit", "battery", "staff")
   + 0.03 if it has an evaluative word, - 0.1 if it addresses "you" (advice, asides).
4. MMR under the word budget: repeatedly take the sentence maximising 0.7 x salience - 0.3 x its
   highest cosine to the sentences already taken, among those of 4..30 words that still fit the
   budget and are not near-duplicates (cosine > 0.85) of a taken one. Whole sentences only;
   the result is never longer than `max_words` words.
5. Show the picks in reading order: by relative position in their comments (openers first), which
   is how human summaries go (overall verdict, then details, then caveats).

Measured with `python -m training.eval_summaries` on FewSum (8 reviews -> 3 human summaries per
item; rouge-score F1 with stemming, mean over references then items; 60 words; tuned on train):

    dataset split  n   centroid+MMR baseline   this method
    amazon  train  28  33.03 / 6.21 / 18.51    36.10 / 7.58 / 20.39
    amazon  val    12  30.73 / 5.74 / 16.89    33.93 / 6.46 / 19.43
    yelp    train  30  28.40 / 4.85 / 16.12    31.27 / 6.12 / 18.56
    yelp    val    30  28.46 / 5.01 / 16.97    32.53 / 6.39 / 18.95   (R1 / R2 / RL)

A greedy ROUGE oracle over the same sentences reaches about 41 R1, so there is headroom, but the
sets are small (Amazon val is 12 items: about +-1 R1 of noise). Leave-one-out from the final
configuration, paired over the 58 train / 42 val items, in R1+R2+RL points: first-person penalty
-5.1 train / -4.2 val without it; frequency term -2.1 / -0.5; opinion bonus and second-person
penalty together -0.5 / -1.3 (neither alone is measurable); position order -0.4 / -0.3; the 4..30
word limits are neutral here (kept against punctuation-free run-ons and "Love it!" fragments).
Tried and dropped (no gain or a loss on train): sentiment agreement with the majority (lexicon
polarity), bigram/unigram concept coverage (ILP-style), k-means cluster picks, LexRank/PageRank and
cross-comment support scores instead of the centroid, a centroid of whole-comment embeddings, a
length prior, penalties for numbers and questions, smaller budgets (45-55 words), MMR lambda 0.6/0.8.

Key points (`key_points`, what `opinions summarize` shows): the same sentences, embeddings and
salience, but one sentence per group of near-duplicates (cosine >= 0.8), ranked by how many comments
say it (weighted: a text posted by 120 accounts counts 120), ties by the MMR value above. On FewSum
the groups are mostly single reviews, so the ranking falls back to MMR; see
`python -m training.eval_summaries` (system `points`) for its ROUGE beside the MMR method.

Import cost: numpy only; torch and transformers are imported on the first `encode`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from analyzer.models.embeddings import default_encoder


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Encoder(Protocol):
    """Anything that maps texts to L2-normalised embedding rows (tests and evaluation wrap one)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


# ----------------------------------------------------------------------------- sentence splitting

_ABBREVIATIONS = _word_set(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e eg ie approx appt apt dept est fig inc ltd co corp no nos vol min max oz"
    " lb lbs ft sq pt qt tbsp tsp hr hrs mins sec secs wk wks mo mos yr yrs av ave rd blvd mt u.s u.k"
)
# A URL is its whole run of non-spaces; `_protect` gives the end punctuation back to the text. (A lazy
# `\S+?` with a lookahead over the punctuation was quadratic in a run of dots after "http://".)
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_URL_END_PUNCTUATION = ".,!?;:)]\"'"
# a run of terminators (with closing quotes/brackets), then whitespace: a candidate boundary. A run is
# tried from its first terminator only (the lookbehind), and possessively: tried at every dot of
# "a....x", the search was quadratic in the run.
_BOUNDARY = re.compile(r"(?:(?<![.!?\u2026])[.!?\u2026]++|(?<=\s)[:;]-?[()DPp](?=\s))[\"'\u201d\u2019)\]]*+\s+")
# split on line breaks with the spaces around them. The spaces before a break are taken only from where
# their run starts (the lookbehind), which is where the leftmost match starts anyway; a leading `\s*`
# tried at every position of a long run of spaces made the split quadratic in the run.
_LINE_BREAKS = re.compile(r"(?:(?<!\s)\s+)?(?:\r?\n|<br\s*/?>)+\s*")
# "sunglasses.I guess": a missing space after the terminator, before a capitalised word
_GLUED = re.compile(r"(?<=[a-z]{2}[.!?])(?=(?:[A-Z][a-z]|I\b|A\b))")
_EMOJI_BOUNDARY = re.compile(r"(?<=[\U0001F300-\U0001FAFF\u2600-\u27BF])\s+(?=[A-Z])")
_BULLET = re.compile(r"^\s*(?:[-*\u2022>]+|\d+[.)])\s+")
_HAS_WORD = re.compile(r"[^\W\d_]{2}")




_LAST_WORD_WINDOW = 64  # longer than any abbreviation or initial with its brackets and quotes


def _ends_with_abbreviation(chunk: str) -> bool:
    if not chunk or chunk[-1].isspace():  # no last word (`re.search(r"(\S+)$")` was quadratic in a long word)
        return False
    word = chunk.rsplit(None, 1)[-1].rstrip(".").lower().lstrip("(\"'")
    if word in _ABBREVIATIONS:
        return True
    # single initials ("J. Smith") but not a lone pronoun "I."
    return len(word) == 1 and word.isalpha() and word != "i"


def _split_line(line: str) -> list[str]:
    protected: list[str] = []

    def _protect(match: re.Match[str]) -> str:
        url = match.group(0)
        # the URL keeps at least one character after its scheme; end punctuation goes back to the text
        keep = len(match.group(1)) + max(1, len(url[len(match.group(1)):].rstrip(_URL_END_PUNCTUATION)))
        protected.append(url[:keep])
        return f"\x00{len(protected) - 1}\x00{url[keep:]}"

    line = _URL.sub(_protect, line)
    line = _GLUED.sub(" ", line)
    line = _EMOJI_BOUNDARY.sub("\n", line)
    pieces: list[str] = []
    for part in line.split("\n"):
        start = 0
        for match in _BOUNDARY.finditer(part):
            end = match.end()
            punct = match.group(0).strip()
            if end == len(part):
                continue
            next_char = part[end]  # not the slice `part[end:]`: copied at every boundary, it was quadratic
            # only the last word before the dot matters: the whole head since `start` (which stays put
            # while boundaries are skipped) made "Mr. Mr. Mr. …" quadratic
            head = part[max(start, match.start() - _LAST_WORD_WINDOW) : match.start()]
            if punct.startswith(".") and not punct.startswith("..") and _ends_with_abbreviation(head + "."):
                continue
            # an ellipsis (or "!!" / "?!") followed by lower case usually goes on with the same thought
            if (punct.startswith("..") or punct.startswith("\u2026")) and not next_char.isupper():
                continue
            if punct[0] in ":;" and not next_char.isupper():
                continue
            pieces.append(part[start:end].strip())
            start = end
        pieces.append(part[start:].strip())

    def _restore(text: str) -> str:
        return re.sub("\x00(\\d+)\x00", lambda m: protected[int(m.group(1))], text)

    return [_restore(p) for p in pieces if p]


def split_sentences(text: str) -> list[str]:
    """Split social-media / review text into sentences (regex rules, no model, no download).

    Handles missing spaces after a full stop ("great.The fit"), abbreviations and initials,
    decimals and URLs, ellipses, "!!!"/"?!", emoticons and emoji used as terminators, line
    breaks and bullet lists. Fragments without at least two letters are dropped.
    """
    if not text:
        return []
    sentences: list[str] = []
    for raw_line in _LINE_BREAKS.split(text):
        line = _BULLET.sub("", re.sub(r"[ \t\u00a0]+", " ", raw_line)).strip()
        if not line:
            continue
        sentences.extend(s for s in _split_line(line) if _HAS_WORD.search(s))
    return sentences


def comment_sentences(comments: list[str | None]) -> tuple[list[str], list[int]]:
    """Every sentence of `comments`, whitespace collapsed, with the index of the comment it came from."""
    sentences: list[str] = []
    comment_ids: list[int] = []
    for cid, comment in enumerate(comments):
        for sentence in split_sentences(comment or ""):
            sentences.append(" ".join(sentence.split()))
            comment_ids.append(cid)
    return sentences, comment_ids


# ----------------------------------------------------------------------------- sentence salience


_STOPWORDS = _word_set(
    """a an the and or but if so of to in on at for with from by as is are was were be been being am do does did
    have has had it its it's this that these those there here they them their he she him her his i me my mine we
    us our you your yours not no very just really also too than then what which who whom when where why how all
    any some more most much many can could would should will shall may might must get got go went one out up down
    about into over after before because while only own same such both each few other s t don't didn't doesn't
    i'm i've i'd i'll we're we've"""
)
# evaluative words: a sentence that carries an opinion beats a neutral narrative one
_OPINION_WORDS = _word_set(
    """good great excellent amazing awesome perfect love loved lovely nice best fantastic wonderful delicious tasty
    fresh friendly helpful comfortable comfy recommend recommended happy pleased beautiful cute soft sturdy durable
    quality worth fun easy favorite favourite fast quick clean cozy attentive reasonable affordable solid reliable
    impressed enjoy enjoyed fabulous superb yummy well pretty fine decent bad poor terrible awful horrible worst
    cheap cheaply broke broken disappointed disappointing disappointment waste rude slow dirty overpriced expensive
    bland cold small tight uncomfortable return returned returning flimsy problem problems issue issues fell
    defective mediocre meh stale greasy salty dry unfortunately never hate hated wrong"""
)
_WORD = re.compile(r"[a-z0-9']+")
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our|ours|i'm|i've|i'd|i'll|we're|we've|we'd|im|ive)\b")
_SECOND_PERSON = re.compile(r"\byou(?:r|'re|'ll|'d|'ve)?\b")
_DEDUP_KEY = re.compile(r"[\W_]+")


def _stem(word: str) -> str:
    """A light suffix stripper: enough to match "fits"/"fit", "shoes"/"shoe", "priced"/"price"."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("ly", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + repl
    return word


def _content_stems(sentence: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(sentence.lower()) if len(w) > 1 and w not in _STOPWORDS}


@dataclass(frozen=True)
class SummaryConfig:
    """Knobs of `extractive_summary`; the defaults are the measured best (see the module docstring)."""

    mmr_lambda: float = 0.7  # relevance vs redundancy in MMR
    first_person_penalty: float = 2.0  # x share of first-person words ("I", "my", "we"...)
    frequency_weight: float = 0.5  # x mean share of comments that use the sentence's content words
    opinion_bonus: float = 0.03  # sentence has an evaluative word
    second_person_penalty: float = 0.1  # sentence addresses "you"
    min_sentence_words: int = 4
    max_sentence_words: int = 30
    duplicate_threshold: float = 0.85  # cosine above which a candidate repeats a picked sentence
    order: str = "position"  # "position" (earliest in their comments first) or "selection" (MMR order)
    near_duplicate: float = 0.8  # cosine at which two sentences say the same thing (`key_points` counts them together)

    @classmethod
    def baseline(cls) -> SummaryConfig:
        """Plain centroid + MMR over whole sentences: the reference point of the measurements."""
        return cls(
            first_person_penalty=0.0,
            frequency_weight=0.0,
            opinion_bonus=0.0,
            second_person_penalty=0.0,
            min_sentence_words=1,
            max_sentence_words=10_000,
            order="selection",
        )


def sentence_salience(
    sentences: list[str], comment_ids: list[int], embeddings: np.ndarray, config: SummaryConfig
) -> np.ndarray:
    """Relevance of each sentence: centroid cosine plus the surface salience terms of `config`."""
    centroid = embeddings.mean(axis=0)
    centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    score = embeddings @ centroid
    lowered = [s.lower() for s in sentences]
    words = np.array([max(len(s.split()), 1) for s in sentences], dtype=np.float64)
    if config.first_person_penalty:
        first = np.array([len(_FIRST_PERSON.findall(s)) for s in lowered], dtype=np.float64)
        score = score - config.first_person_penalty * first / words
    if config.frequency_weight:
        stems = [_content_stems(s) for s in sentences]
        per_comment: dict[int, set[str]] = {}
        for cid, sentence_stems in zip(comment_ids, stems, strict=True):
            per_comment.setdefault(cid, set()).update(sentence_stems)
        doc_freq: Counter[str] = Counter()
        for comment_stems in per_comment.values():
            doc_freq.update(comment_stems)
        others = max(len(per_comment) - 1, 1)
        share = np.array(
            [np.mean([(doc_freq[w] - 1) / others for w in s]) if s else 0.0 for s in stems], dtype=np.float64
        )
        score = score + config.frequency_weight * share
    if config.opinion_bonus:
        opinion = np.array([any(w in _OPINION_WORDS for w in _WORD.findall(s)) for s in lowered], dtype=np.float64)
        score = score + config.opinion_bonus * opinion
    if config.second_person_penalty:
        second = np.array([bool(_SECOND_PERSON.search(s)) for s in lowered], dtype=np.float64)
        score = score - config.second_person_penalty * second
    return score


def select_sentences(
    sentences: list[str],
    comment_ids: list[int],
    embeddings: np.ndarray,
    max_words: int = 60,
    config: SummaryConfig | None = None,
) -> list[int]:
    """Indices of the sentences to show, in display order (MMR under a word budget)."""
    config = config or SummaryConfig()
    n = len(sentences)
    if n == 0 or max_words <= 0:
        return []
    words = np.array([len(s.split()) for s in sentences])
    relevance = sentence_salience(sentences, comment_ids, embeddings, config)
    # exact repeats (copy-paste, retweets) still pull the centroid, but only one copy is a candidate
    first_copy = np.zeros(n, dtype=bool)
    seen: set[str] = set()
    for i, sentence in enumerate(sentences):
        key = _DEDUP_KEY.sub(" ", sentence.lower()).strip()
        first_copy[i] = key not in seen
        seen.add(key)
    allowed = first_copy & (words >= config.min_sentence_words) & (words <= config.max_sentence_words)
    if not (allowed & (words <= max_words)).any():
        allowed = first_copy  # the length limits are a preference, not a reason to return nothing
    chosen: list[int] = []
    redundancy = np.zeros(n)
    budget = max_words
    available = allowed.copy()
    while True:
        fits = available & (words <= budget) & (redundancy <= config.duplicate_threshold)
        if not fits.any():
            break
        value = np.where(fits, config.mmr_lambda * relevance - (1 - config.mmr_lambda) * redundancy, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        budget -= int(words[best])
        redundancy = np.maximum(redundancy, embeddings @ embeddings[best])
    if config.order == "position":
        members: dict[int, list[int]] = {}
        for i, cid in enumerate(comment_ids):
            members.setdefault(cid, []).append(i)
        rank: dict[int, float] = {}
        for indices in members.values():
            for k, i in enumerate(indices):
                rank[i] = k / max(len(indices) - 1, 1)
        chosen.sort(key=lambda i: (rank[i], i))
    return chosen




def extractive_summary(
    comments: list[str],
    max_words: int = 60,
    encoder: Encoder | None = None,
    config: SummaryConfig | None = None,
) -> str:
    """A summary of at most `max_words` words made of whole sentences taken from `comments`.

    Returns "" when there is no text. If every sentence is longer than the budget, the most
    representative one is cut to `max_words` words and ends with "…".
    """
    sentences, comment_ids = comment_sentences(comments)
    if not sentences or max_words <= 0:
        return ""
    encoder = encoder or default_encoder()
    unique = list(dict.fromkeys(sentences))
    unique_rows = encoder.encode(unique)
    row_of = {s: k for k, s in enumerate(unique)}
    embeddings = unique_rows[[row_of[s] for s in sentences]]
    chosen = select_sentences(sentences, comment_ids, embeddings, max_words, config)
    if not chosen:
        relevance = sentence_salience(sentences, comment_ids, embeddings, config or SummaryConfig())
        top = sentences[int(np.argmax(relevance))].split()
        return " ".join(top[:max_words]) + "…"
    return " ".join(sentences[i] for i in chosen)


# ----------------------------------------------------------------------------- key points


@dataclass(frozen=True)
class KeyPoint:
    """One thing the comments say: a sentence, how many comments say it (or a near-duplicate of it),
    and which ones (indices into the comments given to `key_points`)."""

    sentence: str
    comments: int
    members: tuple[int, ...]


def _near_sets(embeddings: np.ndarray, threshold: float, block: int = 1024) -> list[np.ndarray]:
    """For each row, the rows at cosine >= `threshold` (itself included), in blocks to bound memory."""
    near: list[np.ndarray] = []
    for start in range(0, len(embeddings), block):
        similar = embeddings[start : start + block] @ embeddings.T >= threshold
        near.extend(np.flatnonzero(row) for row in similar)
    return near


def key_points(
    comments: list[str],
    weights: list[int] | None = None,
    max_words: int = 60,
    encoder: Encoder | None = None,
    config: SummaryConfig | None = None,
    max_points: int = 10,
) -> list[KeyPoint]:
    """What the comments say, most said first: whole sentences, one per group of near-duplicates.

    A sentence's count is the weight of the comments that contain it or a near-duplicate of it (cosine
    >= `config.near_duplicate`): `weights[i]` is how many comments comment i stands for (a text posted
    by 120 accounts is one entry of weight 120; a retweet storm of one tweet is weight 1). Sentences
    are taken by that count, ties by MMR (0.7 x `sentence_salience` - 0.3 x the highest cosine to those
    taken), never a near-duplicate of one taken, within the word budget and the 4..30-word preference
    of `config`. Returns at most `max_points` points.
    """
    config = config or SummaryConfig()
    weights = weights or [1] * len(comments)
    sentences, comment_ids = comment_sentences(comments)
    if not sentences or max_words <= 0:
        return []
    encoder = encoder or default_encoder()
    keys = [_DEDUP_KEY.sub(" ", s.lower()).strip() for s in sentences]
    unique_keys = list(dict.fromkeys(keys))
    index_of = {k: i for i, k in enumerate(unique_keys)}
    first_sentence = {}
    said_by: list[set[int]] = [set() for _ in unique_keys]
    for sentence, key, cid in zip(sentences, keys, comment_ids, strict=True):
        first_sentence.setdefault(key, sentence)
        said_by[index_of[key]].add(cid)
    texts = [first_sentence[k] for k in unique_keys]
    embeddings = encoder.encode(texts)
    # salience over every sentence occurrence (repeats pull the centroid), read back per unique sentence
    relevance_all = sentence_salience(sentences, comment_ids, embeddings[[index_of[k] for k in keys]], config)
    relevance = np.full(len(texts), -np.inf)
    for key, value in zip(keys, relevance_all, strict=True):
        relevance[index_of[key]] = max(relevance[index_of[key]], value)
    weight = np.asarray(weights, dtype=np.int64)
    members = [sorted(set().union(*(said_by[j] for j in near)))
               for near in _near_sets(embeddings, config.near_duplicate)]
    support = np.array([int(weight[m].sum()) for m in members], dtype=np.int64)
    words = np.array([len(t.split()) for t in texts])
    allowed = (words >= config.min_sentence_words) & (words <= config.max_sentence_words)
    if not (allowed & (words <= max_words)).any():
        allowed = np.ones(len(texts), dtype=bool)  # the length limits are a preference, not a reason to say nothing
    chosen: list[int] = []
    redundancy = np.zeros(len(texts))
    budget = max_words
    repeat = min(config.duplicate_threshold, config.near_duplicate)  # a near-duplicate of a point is that point
    while len(chosen) < max_points:
        fits = allowed & (words <= budget) & (redundancy < repeat)
        if not fits.any():
            break
        value = config.mmr_lambda * relevance - (1 - config.mmr_lambda) * redundancy
        best = max(np.flatnonzero(fits), key=lambda i: (support[i], value[i]))
        chosen.append(int(best))
        allowed[best] = False
        budget -= int(words[best])
        redundancy = np.maximum(redundancy, embeddings @ embeddings[best])
    return [KeyPoint(texts[i], int(support[i]), tuple(members[i])) for i in chosen]
