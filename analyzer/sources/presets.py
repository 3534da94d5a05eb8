"""Presets: where each canonical comment column lives in a dump's records.

A preset is data: lists of JSON paths per column (first non-null wins). The mapping
itself is one SQL statement (`queries/ingest/map_batch.sql`) that takes these lists as
bound parameters, so user-given `--text-field a.b` overrides are never formatted into SQL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from analyzer.errors import OpinionsError

PRESETS = ("reddit", "twitter", "mastodon", "youtube", "telegram", "bluesky", "generic")
MAX_TEXT_CHARS = 100_000  # documented cap: longer texts are rejected, not truncated silently
# documented cap: a comment's own topic and its first hashtags, 20 in all; the rest are counted in the run's
# notes (300 tweets of 10,000 hashtags each made 3 million topic rows, 1.36 GB)
MAX_TOPICS_PER_COMMENT = 20
MIN_TIME = datetime(1990, 1, 1, tzinfo=UTC)
_INDEX = re.compile(r"^\d+$")


class PresetError(OpinionsError, ValueError):
    """Unknown preset or an unusable field override."""


NONE_PATH = "$.__opinions_none__"  # a path no record has: the placeholder of an empty candidate list
# the mapping's word lists, bound as parameters of both mapping queries (map_batch.sql, map_typed.sql)
DELETED_TEXTS = ["[deleted]", "[removed]", "[deleted by user]"]  # Reddit's bodies of removed comments
NO_LANGUAGE_CODES = ["und", "zxx", "qme", "qht", "qam", "qst", "qct"]  # Twitter's lang values that name no language


@dataclass(frozen=True)
class Preset:
    name: str
    platform: str
    text: list[str]
    id: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    tags: str = NONE_PATH  # path of an array of hashtags (strings, or objects with text/tag)
    parent: list[str] = field(default_factory=list)
    thread: list[str] = field(default_factory=list)
    score: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    # a language given for the account, not the text (Mastodon's default posting language, a Twitter
    # archive's): checked against the text at mapping (analyzer.text.langid.check_hints)
    lang_hint: list[str] = field(default_factory=list)
    retweet_of: list[str] = field(default_factory=list)  # id of the retweeted (boosted) post: the record is a retweet
    quote_of: list[str] = field(default_factory=list)
    references: str = NONE_PATH  # path of an API v2 `referenced_tweets` array ({type, id})
    compose: list[str] = field(default_factory=list)  # joined when no text path is present
    reddit_ids: bool = False
    topic_from_source: bool = False  # youtube-comment-downloader files are one video each
    lower_topics: bool = False  # subreddit names are case-insensitive
    retweet_text_tags: bool = False  # a retweet's hashtags are read from its text (the original's), not its own
    topic_literal: str | None = None  # --topic: one topic for every record of the run
    author_literal: str | None = None  # --author: the author of records that name none (a Twitter archive)
    time_format: str | None = None  # --time-format: strptime format tried first


REDDIT = Preset(
    name="reddit", platform="reddit", text=["$.body"], compose=["$.title", "$.selftext"],
    id=["$.id", "$.name"], time=["$.created_utc", "$.created"], author=["$.author"], topic=["$.subreddit"],
    parent=["$.parent_id"], thread=["$.link_id"], score=["$.score", "$.ups"], reddit_ids=True, lower_topics=True,
)
TWITTER = Preset(
    # a retweet is read as the full text of the tweet it retweets (its own text is "RT @x: " and a cut copy),
    # so the model sees the original once: same text, same hash
    name="twitter", platform="twitter",
    text=["$._opinions.text", "$.retweeted_status.extended_tweet.full_text", "$.retweeted_status.full_text",
          "$.retweeted_status.text", "$.note_tweet.text", "$.full_text", "$.extended_tweet.full_text", "$.text"],
    id=["$.id_str", "$.id"], time=["$.created_at"],
    author=["$._opinions.author", "$.user.screen_name", "$.author.username", "$.username", "$.author_id"],
    tags="$.entities.hashtags",
    parent=["$.in_reply_to_status_id_str"], references="$.referenced_tweets",
    retweet_of=["$.retweeted_status.id_str", "$._opinions.retweet_of"], quote_of=["$.quoted_status_id_str"], retweet_text_tags=True,
    thread=["$.conversation_id"], score=["$.favorite_count", "$.public_metrics.like_count"], lang=["$.lang"],
    lang_hint=["$._opinions.lang_hint"],
)
MASTODON = Preset(
    # Mastodon API statuses; ActivityPub outboxes are turned into this shape by analyzer.sources.containers
    name="mastodon", platform="mastodon", text=["$.reblog.content", "$.content"], id=["$.id", "$.url"],
    time=["$.created_at"], author=["$.account.acct", "$.account.username"], tags="$.tags",
    parent=["$.in_reply_to_id"], retweet_of=["$.reblog.id"], score=["$.favourites_count"], lang_hint=["$.language"],
)
YOUTUBE = Preset(
    # youtube-comment-downloader records (`cid`, `text`), then YouTube Data API comments, which
    # analyzer.sources.containers takes out of their `commentThreads` pages (`snippet` fields, `id`, `parentId`)
    name="youtube", platform="youtube", text=["$.text", "$.textOriginal", "$.textDisplay"], id=["$.cid", "$.id"],
    time=["$.time_parsed", "$.publishedAt"], author=["$.author", "$.authorDisplayName"],
    topic=["$.video_id", "$.videoId"], score=["$.votes", "$.likeCount"], parent=["$.parentId"],
    topic_from_source=True,
)
TELEGRAM = Preset(
    # Telegram Desktop messages as analyzer.sources.containers gives them: text joined, ids `<chat id>/<message id>`
    name="telegram", platform="telegram", text=["$.text"], id=["$.id"], time=["$.date_unixtime", "$.date"],
    author=["$.from", "$.from_id"], topic=["$.chat"], parent=["$.reply_to_message_id"],
)
BLUESKY = Preset(
    # app.bsky.feed.post records with their post's `uri` and `author`, as analyzer.sources.containers takes them out
    # of feeds, threads and Jetstream events; a repost carries `repost_of`
    name="bluesky", platform="bluesky", text=["$.text"], id=["$.uri"], time=["$.createdAt"], author=["$.author"],
    tags="$.tags", parent=["$.reply.parent.uri"], thread=["$.reply.root.uri"], score=["$.likeCount"],
    lang=["$.langs[0]"], retweet_of=["$.repost_of"],
)
GENERIC = Preset(
    # text: the usual names of a comment column in CSV exports, the most specific first
    name="generic", platform="generic",
    text=["$.text", "$.body", "$.content", "$.message", "$.comment", "$.comment_text", "$.review_text", "$.review",
          "$.tweet", "$.post", "$.title"],
    id=["$.id", "$.comment_id", "$.uuid", "$.post_id", "$.tweet_id", "$.review_id", "$.ids"],  # ids: Sentiment140
    time=["$.created_at", "$.timestamp", "$.time", "$.date", "$.created_utc", "$.posted_at", "$.published_at",
          "$.tweet_created", "$.published", "$.datetime", "$.created"],
    author=["$.author", "$.user", "$.username", "$.user_name", "$.screen_name", "$.name"],
    topic=["$.topic", "$.subreddit", "$.channel", "$.product", "$.category", "$.group"],
    score=["$.score", "$.likes", "$.votes", "$.upvotes"], lang=["$.lang", "$.language"],
    parent=["$.parent_id"], thread=["$.thread_id"],
)
BY_NAME = {p.name: p for p in (REDDIT, TWITTER, MASTODON, YOUTUBE, TELEGRAM, BLUESKY, GENERIC)}


def get_preset(name: str) -> Preset:
    try:
        return BY_NAME[name]
    except KeyError:
        raise PresetError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}") from None


def detect_preset(records: list[str]) -> Preset:
    """Guess the preset from the keys of the first parseable records."""
    votes = dict.fromkeys(PRESETS, 0)
    for record in records[:50]:
        try:
            doc = json.loads(record)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
            continue
        if not isinstance(doc, dict):
            continue
        keys = set(doc)
        if "subreddit" in keys and ({"body", "title", "selftext"} & keys):
            votes["reddit"] += 1
        elif "content" in keys and ("account" in keys or "reblog" in keys):
            votes["mastodon"] += 1
        elif ("cid" in keys and "text" in keys) or "textOriginal" in keys or {"textDisplay", "authorDisplayName"} <= keys:
            votes["youtube"] += 1
        elif "date_unixtime" in keys:
            votes["telegram"] += 1
        elif str(doc.get("uri", "")).startswith("at://"):
            votes["bluesky"] += 1
        elif ({"id_str", "full_text", "edit_history_tweet_ids"} & keys
              or ("text" in keys and ("user" in keys or "author_id" in keys))):
            votes["twitter"] += 1
        else:
            votes["generic"] += 1
    best = max(votes, key=lambda k: (votes[k], k != "generic"))
    return BY_NAME[best if votes[best] else "generic"]


def field_path(dotted: str) -> str:
    """`user.screen_name` → `$."user"."screen_name"`; numeric parts after the first index arrays. A first part
    is always a key: a record is an object, and `--no-header` names CSV columns by number (`--text-field 6`)."""
    if not dotted or not dotted.strip():
        raise PresetError("a field name cannot be empty")
    parts = []
    for number, part in enumerate(dotted.split(".")):
        # caught here, before a run starts: `..` failed the run with a raw binder error, and DuckDB reads
        # a `*` as a wildcard, so `--text-field '*'` stored every record's first value (its id) as its text
        if not part:
            raise PresetError(f"{dotted!r} has an empty name between dots: give names like user.screen_name")
        if "*" in part:
            raise PresetError(f"{dotted!r}: a field name cannot hold `*` (no wildcards): name one field")
        if number and _INDEX.match(part):
            parts.append(f"[{part}]")
        else:
            parts.append("." + json.dumps(part))
    return "$" + "".join(parts)


def _field_paths(dotted: str) -> list[str]:
    """The field as given, then lower-cased: CSV column names are read lower-cased."""
    paths = [field_path(dotted)]
    if dotted.lower() != dotted:
        paths.append(field_path(dotted.lower()))
    return paths


def with_overrides(preset: Preset, text: str | None = None, id: str | None = None, time: str | None = None,
                   author: str | None = None, topic: str | None = None, topic_literal: str | None = None,
                   author_literal: str | None = None, time_format: str | None = None) -> Preset:
    """The preset with the user's --*-field overrides. `topic` may be `@file`: each file's name
    (its stem) is the topic of its records."""
    changes: dict[str, object] = {}
    if text:
        changes.update(text=_field_paths(text), compose=[])
    if id:
        changes.update(id=_field_paths(id), reddit_ids=False)
    if time:
        changes["time"] = _field_paths(time)
    if author:
        changes["author"] = _field_paths(author)
    if topic == "@file":
        changes.update(topic=[], tags=NONE_PATH, topic_from_source=True, lower_topics=False)
    elif topic:
        changes.update(topic=_field_paths(topic), tags=NONE_PATH, topic_from_source=False,
                       lower_topics=False)
    if topic_literal:
        changes.update(topic=[], tags=NONE_PATH, topic_from_source=False, lower_topics=False,
                       topic_literal=topic_literal)
    if author_literal:
        changes["author_literal"] = author_literal
    if time_format:
        changes["time_format"] = time_format
    return replace(preset, **changes) if changes else preset


def mapping_params(preset: Preset, source_name: str, source_stem: str,
                   slash_formats: list[str] | tuple[str, ...] = ()) -> dict[str, object]:
    """The bound parameters of map_batch.sql for this preset and source. `slash_formats`: how
    this source's numeric dates (`2/24/2015 11:35`) read, from `analyzer.sources.dates`."""

    slices: dict[str, object] = {}
    all_paths: list[str] = []
    for column in ("text", "compose", "id", "time", "author", "topic", "parent", "thread", "score", "lang", "lang_hint",
                   "retweet_of", "quote_of"):
        candidates = getattr(preset, column) or [NONE_PATH]  # an empty slice needs a placeholder
        slices[f"{column}_lo"] = len(all_paths) + 1  # DuckDB lists are 1-based, slices inclusive
        all_paths.extend(candidates)
        slices[f"{column}_hi"] = len(all_paths)
    return {
        "all_paths": all_paths, **slices, "tag_array_path": preset.tags, "reddit_ids": preset.reddit_ids,
        "platform": preset.platform, "source": source_name, "lower_topics": preset.lower_topics,
        "source_topic": source_stem if preset.topic_from_source else preset.topic_literal,
        "references_path": preset.references, "author_literal": preset.author_literal,
        "retweet_text_tags": preset.retweet_text_tags and preset.tags != NONE_PATH,
        # never empty (DuckDB refuses an empty format list); the placeholder is tried again later anyway
        "time_formats": ([preset.time_format] if preset.time_format else []) + list(slash_formats) or ["%Y-%m-%d"],
        "max_chars": MAX_TEXT_CHARS, "max_topics": MAX_TOPICS_PER_COMMENT, "min_time": MIN_TIME, "deleted_texts": DELETED_TEXTS,
        "no_language_codes": NO_LANGUAGE_CODES,
        "max_time": datetime.now(UTC) + timedelta(days=2),
    }


_TOP_KEY = re.compile(r'^\$\.(?:"((?:[^"\\]|\\.)*)"|([^.\[]+))')
HINT_KEYS = 12  # top-level keys named in a hint; the rest are counted


def _top_key(path: str) -> str | None:
    """The top-level record key a path starts at (None for the placeholder and for what analyzer.sources.containers adds)."""
    match = _TOP_KEY.match(path)
    if not match or path == NONE_PATH:
        return None
    key = json.loads(f'"{match.group(1)}"') if match.group(1) is not None else match.group(2)
    return None if key.startswith("_opinions") else key


def _top_keys(preset: Preset) -> set[str]:
    """The top-level record keys any of the preset's paths starts at."""
    paths = [*preset.text, *preset.compose, *preset.id, *preset.time, *preset.author, *preset.topic, *preset.parent,
             *preset.thread, *preset.score, *preset.lang, *preset.lang_hint, *preset.retweet_of, *preset.quote_of, preset.tags]
    return {key for path in paths if (key := _top_key(path))}


def nearest_preset(keys: list[str]) -> tuple[Preset, list[str]]:
    """The preset whose fields share the most of `keys` (a record's top-level keys), and the keys shared;
    generic when none shares any."""
    shares = {name: [key for key in keys if key in _top_keys(preset)] for name, preset in BY_NAME.items()}
    # a tie goes to generic: `id` and `text` alone say nothing of a platform
    best = max(shares, key=lambda name: (len(shares[name]), name == "generic"))
    return BY_NAME[best], shares[best]


def unread_hint(record: str | None, reason: str) -> str:
    """What a source read as one record, and rejected, holds: its top-level keys (and any list in them, which
    may hold the comments of an export opinions does not know) and the nearest preset, so that a user can
    say where the text is, never only "no text"."""
    try:
        doc = json.loads(record) if record else None
    except (ValueError, RecursionError):
        doc = None
    said = f"read as 1 record and rejected ({reason})"
    if isinstance(doc, list):
        return f"{said}: a JSON array of {len(doc):,} values; an array of records is read one record each"
    if record is None:  # a row the typed reader judged keeps no record text
        return said
    if not isinstance(doc, dict):
        start = record.strip()[:60]
        return f"{said}: not a JSON object (it starts {start!r}); a CSV or text file needs a .csv, .tsv or .txt name"
    keys = list(doc)
    shown = ", ".join(keys[:HINT_KEYS]) + (f" and {len(keys) - HINT_KEYS} more" if len(keys) > HINT_KEYS else "")
    hint = f"{said}: a JSON object with top-level keys {shown or '(none)'}"
    lists = [f"{key} ({len(value):,} object{'s' if len(value) > 1 else ''})" for key, value in doc.items()
             if isinstance(value, list) and value and all(isinstance(item, dict) for item in value[:5])]
    if lists:
        hint += f"; the lists {', '.join(lists[:3])} may hold the records, in a shape no preset knows"
    preset, shared = nearest_preset(keys)
    # the keys a text is read from at the top level (`retweeted_status.full_text` would only confuse here)
    text = [key for path in [*preset.text, *preset.compose] if (key := _top_key(path)) and path in {
        f"$.{key}", f"$.{json.dumps(key)}"}]
    hint += (f"; nearest preset: {preset.name}" + (f" (shares {', '.join(shared[:6])})" if shared else "")
             + f", which reads the text from {', '.join(dict.fromkeys(text))}")
    if reason.startswith(("no text", "text field")):
        return hint + "; name the text field with --text-field (dotted for a nested one)"
    return hint + "; --preset and the --*-field flags (dotted for nested fields) say where each field is"
