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

PRESETS = ("reddit", "twitter", "youtube", "generic")
MAX_TEXT_CHARS = 100_000  # documented cap: longer texts are rejected, not truncated silently
MIN_TIME = datetime(1990, 1, 1, tzinfo=UTC)
_INDEX = re.compile(r"^\d+$")


class PresetError(ValueError):
    """Unknown preset or an unusable field override."""


@dataclass(frozen=True)
class Preset:
    name: str
    platform: str
    text: list[str]
    id: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    tags: str = "$.__opinions_none__"  # path of an array of hashtags (strings, or objects with text/tag)
    parent: list[str] = field(default_factory=list)
    thread: list[str] = field(default_factory=list)
    score: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    compose: list[str] = field(default_factory=list)  # joined when no text path is present
    reddit_ids: bool = False
    topic_from_source: bool = False  # youtube-comment-downloader files are one video each
    lower_topics: bool = False  # subreddit names are case-insensitive


REDDIT = Preset(
    name="reddit", platform="reddit", text=["$.body"], compose=["$.title", "$.selftext"],
    id=["$.id", "$.name"], time=["$.created_utc", "$.created"], author=["$.author"], topic=["$.subreddit"],
    parent=["$.parent_id"], thread=["$.link_id"], score=["$.score", "$.ups"], reddit_ids=True, lower_topics=True,
)
TWITTER = Preset(
    name="twitter", platform="twitter", text=["$.full_text", "$.extended_tweet.full_text", "$.text"],
    id=["$.id_str", "$.id"], time=["$.created_at"], author=["$.user.screen_name", "$.author_id", "$.username"],
    tags="$.entities.hashtags",
    parent=["$.in_reply_to_status_id_str", "$.referenced_tweets[0].id"],
    thread=["$.conversation_id"], score=["$.favorite_count", "$.public_metrics.like_count"], lang=["$.lang"],
)
YOUTUBE = Preset(
    name="youtube", platform="youtube", text=["$.text"], id=["$.cid"], time=["$.time_parsed"],
    author=["$.author"], topic=["$.video_id"], score=["$.votes"], topic_from_source=True,
)
GENERIC = Preset(
    name="generic", platform="generic", text=["$.text", "$.body", "$.content", "$.message", "$.comment"],
    id=["$.id", "$.comment_id", "$.uuid", "$.post_id"],
    time=["$.created_at", "$.timestamp", "$.time", "$.date", "$.created_utc", "$.posted_at", "$.published_at"],
    author=["$.author", "$.user", "$.username", "$.user_name", "$.screen_name"],
    topic=["$.topic", "$.subreddit", "$.channel", "$.product", "$.category", "$.group"],
    score=["$.score", "$.likes", "$.votes", "$.upvotes"], lang=["$.lang", "$.language"],
    parent=["$.parent_id"], thread=["$.thread_id"],
)
BY_NAME = {p.name: p for p in (REDDIT, TWITTER, YOUTUBE, GENERIC)}


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
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        keys = set(doc)
        if "subreddit" in keys and ({"body", "title", "selftext"} & keys):
            votes["reddit"] += 1
        elif "cid" in keys and "text" in keys:
            votes["youtube"] += 1
        elif {"id_str", "full_text"} & keys or ("text" in keys and ("user" in keys or "author_id" in keys)):
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
        if _INDEX.match(part):
            parts.append(f"[{part}]")
        else:
            parts.append("." + json.dumps(part))
    return "$" + "".join(parts)


def with_overrides(preset: Preset, text: str | None = None, id: str | None = None, time: str | None = None,
                   author: str | None = None, topic: str | None = None) -> Preset:
    changes: dict[str, object] = {}
    if text:
        changes.update(text=[field_path(text)], compose=[])
    if id:
        changes.update(id=[field_path(id)], reddit_ids=False)
    if time:
        changes["time"] = [field_path(time)]
    if author:
        changes["author"] = [field_path(author)]
    if topic:
        changes.update(topic=[field_path(topic)], tags="$.__opinions_none__", topic_from_source=False,
                       lower_topics=False)
    return replace(preset, **changes) if changes else preset


def mapping_params(preset: Preset, source_name: str, source_stem: str) -> dict[str, object]:
    """The bound parameters of map_batch.sql for this preset and source."""

    slices: dict[str, object] = {}
    all_paths: list[str] = []
    for column in ("text", "compose", "id", "time", "author", "topic", "parent", "thread", "score", "lang"):
        candidates = getattr(preset, column) or ["$.__opinions_none__"]  # an empty slice needs a placeholder
        slices[f"{column}_lo"] = len(all_paths) + 1  # DuckDB lists are 1-based, slices inclusive
        all_paths.extend(candidates)
        slices[f"{column}_hi"] = len(all_paths)
    return {
        "all_paths": all_paths, **slices, "tag_array_path": preset.tags, "reddit_ids": preset.reddit_ids,
        "platform": preset.platform, "source": source_name, "lower_topics": preset.lower_topics,
        "source_topic": source_stem if preset.topic_from_source else None,
        "max_chars": MAX_TEXT_CHARS, "min_time": MIN_TIME,
        "max_time": datetime.now(UTC) + timedelta(days=2),
    }
