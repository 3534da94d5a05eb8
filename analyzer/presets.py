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

PRESETS = ("reddit", "twitter", "mastodon", "youtube", "generic")
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
    retweet_of: list[str] = field(default_factory=list)  # id of the retweeted (boosted) post: the record is a retweet
    quote_of: list[str] = field(default_factory=list)
    references: str = NONE_PATH  # path of an API v2 `referenced_tweets` array ({type, id})
    compose: list[str] = field(default_factory=list)  # joined when no text path is present
    reddit_ids: bool = False
    topic_from_source: bool = False  # youtube-comment-downloader files are one video each
    lower_topics: bool = False  # subreddit names are case-insensitive
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
    retweet_of=["$.retweeted_status.id_str"], quote_of=["$.quoted_status_id_str"],
    thread=["$.conversation_id"], score=["$.favorite_count", "$.public_metrics.like_count"], lang=["$.lang"],
)
MASTODON = Preset(
    # Mastodon API statuses; ActivityPub outboxes are turned into this shape by analyzer.containers
    name="mastodon", platform="mastodon", text=["$.reblog.content", "$.content"], id=["$.id", "$.url"],
    time=["$.created_at"], author=["$.account.acct", "$.account.username"], tags="$.tags",
    parent=["$.in_reply_to_id"], retweet_of=["$.reblog.id"], score=["$.favourites_count"], lang=["$.language"],
)
YOUTUBE = Preset(
    name="youtube", platform="youtube", text=["$.text"], id=["$.cid"], time=["$.time_parsed"],
    author=["$.author"], topic=["$.video_id"], score=["$.votes"], topic_from_source=True,
)
GENERIC = Preset(
    name="generic", platform="generic", text=["$.text", "$.body", "$.content", "$.message", "$.comment"],
    id=["$.id", "$.comment_id", "$.uuid", "$.post_id", "$.tweet_id", "$.review_id"],
    time=["$.created_at", "$.timestamp", "$.time", "$.date", "$.created_utc", "$.posted_at", "$.published_at",
          "$.tweet_created", "$.published", "$.datetime"],
    author=["$.author", "$.user", "$.username", "$.user_name", "$.screen_name", "$.name"],
    topic=["$.topic", "$.subreddit", "$.channel", "$.product", "$.category", "$.group"],
    score=["$.score", "$.likes", "$.votes", "$.upvotes"], lang=["$.lang", "$.language"],
    parent=["$.parent_id"], thread=["$.thread_id"],
)
BY_NAME = {p.name: p for p in (REDDIT, TWITTER, MASTODON, YOUTUBE, GENERIC)}


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
        elif "cid" in keys and "text" in keys:
            votes["youtube"] += 1
        elif ({"id_str", "full_text", "edit_history_tweet_ids"} & keys
              or ("text" in keys and ("user" in keys or "author_id" in keys))):
            votes["twitter"] += 1
        else:
            votes["generic"] += 1
    best = max(votes, key=lambda k: (votes[k], k != "generic"))
    return BY_NAME[best if votes[best] else "generic"]


def field_path(dotted: str) -> str:
    """`user.screen_name` → `$."user"."screen_name"`; numeric parts index arrays."""
    if not dotted or not dotted.strip():
        raise PresetError("a field name cannot be empty")
    parts = []
    for part in dotted.split("."):
        # caught here, before a run starts: `..` failed the run with a raw binder error, and DuckDB reads
        # a `*` as a wildcard, so `--text-field '*'` stored every record's first value (its id) as its text
        if not part:
            raise PresetError(f"{dotted!r} has an empty name between dots: give names like user.screen_name")
        if "*" in part:
            raise PresetError(f"{dotted!r}: a field name cannot hold `*` (no wildcards): name one field")
        if _INDEX.match(part):
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
    this source's numeric dates (`2/24/2015 11:35`) read, from `analyzer.dates`."""

    slices: dict[str, object] = {}
    all_paths: list[str] = []
    for column in ("text", "compose", "id", "time", "author", "topic", "parent", "thread", "score", "lang",
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
        # never empty (DuckDB refuses an empty format list); the placeholder is tried again later anyway
        "time_formats": ([preset.time_format] if preset.time_format else []) + list(slash_formats) or ["%Y-%m-%d"],
        "max_chars": MAX_TEXT_CHARS, "max_topics": MAX_TOPICS_PER_COMMENT, "min_time": MIN_TIME, "deleted_texts": DELETED_TEXTS,
        "no_language_codes": NO_LANGUAGE_CODES,
        "max_time": datetime.now(UTC) + timedelta(days=2),
    }
