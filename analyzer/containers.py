"""Containers: JSON documents that hold records rather than being one.

Real dumps wrap their records: a Twitter API v2 page (what twarc2 writes, one page a line)
holds up to 500 tweets in `data` with their authors and referenced tweets in `includes`; an
ActivityPub outbox (Mastodon's export) holds activities in `orderedItems`; a Twitter archive
wraps each tweet in `{"tweet": ...}`. This module turns one such document into the records a
preset maps, one record per tweet or post, so every record is a row (`rows_read` counts
tweets, not pages).

Where a record needs another part of its container to be read right (a v2 tweet's author
name lives in `includes.users`, a retweet's full text in `includes.tweets`), the record gets
an `_opinions` object with what was looked up; the presets read it first. `_opinions.skip`
marks a record that is counted as skipped, with the reason (an edit superseded by its later
version in the same file, a boost whose post the outbox does not include).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

OURS = "_opinions"
_TEXT_KEYS = {"text", "body", "content", "full_text", "message", "comment"}


def is_container(doc: object) -> bool:
    """A document that holds records: a v2 page, an outbox or collection page, an archive entry."""
    if not isinstance(doc, dict):
        return False
    data = doc.get("data")
    if isinstance(data, list) and not (_TEXT_KEYS & doc.keys()):  # a record may have a `data` list of its own
        return True
    if isinstance(data, dict) and ({"includes", "meta", "errors"} & doc.keys()):
        return True
    if data is None and isinstance(doc.get("meta"), dict) and "result_count" in doc["meta"] and len(doc) <= 3:
        return True  # an empty v2 page ({"meta": {"result_count": 0}}): it holds no tweets
    if isinstance(doc.get("orderedItems"), list):
        return True
    if isinstance(doc.get("first"), dict) and isinstance(doc["first"].get("orderedItems"), list):
        return True
    return len(doc) == 1 and isinstance(doc.get("tweet"), dict)


def records(doc: Any, author: str | None = None) -> Iterator[Any]:
    """The records a document holds (the document itself when it holds none).

    `author` names the account of a Twitter archive (from its `account.js`), whose tweets
    carry no author of their own.
    """
    if isinstance(doc, list):
        for item in doc:
            yield from records(item, author)
    elif not is_container(doc):
        yield _with_author(doc, author) if author is not None else doc
    elif "tweet" in doc and len(doc) == 1:
        yield _with_author(doc["tweet"], author) if author is not None else doc["tweet"]
    elif "data" in doc:
        yield from v2_page_tweets(doc)
    elif "meta" in doc:
        return
    else:
        items = doc.get("orderedItems")
        if items is None:
            items = doc["first"]["orderedItems"]
        for item in items:
            yield activity_status(item) if isinstance(item, dict) and "type" in item else item


def _with_author(record: Any, author: str) -> Any:
    if isinstance(record, dict):
        record = {**record, OURS: {**record.get(OURS, {}), "author": author}}
    return record


def _v2_text(tweet: dict) -> Any:
    """A v2 tweet's full text: long tweets keep it in `note_tweet`."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return note["text"]
    return tweet.get("text")


def v2_page_tweets(page: dict) -> Iterator[Any]:
    """Each tweet of a Twitter API v2 page, with its expansions resolved.

    The author is the user's `username` (not the numeric `author_id`); a retweet's text is
    the full text of the retweeted tweet when `includes.tweets` has it (the retweet's own
    text is "RT @x: " and a truncated copy). An edited tweet appears once per version, each
    listing the whole `edit_history_tweet_ids`: the latest version is kept, earlier ones in
    the same page are skipped.
    """
    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
    referenced = {t.get("id"): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
    data = page.get("data") or []
    data = data if isinstance(data, list) else [data]
    superseded: set[str] = set()
    for tweet in data:
        history = tweet.get("edit_history_tweet_ids") if isinstance(tweet, dict) else None
        if isinstance(history, list) and len(history) > 1:
            superseded.update(str(h) for h in history[:-1])
    for tweet in data:
        if not isinstance(tweet, dict):
            yield tweet
            continue
        found: dict[str, Any] = {}
        user = users.get(tweet.get("author_id"))
        if isinstance(user, dict) and isinstance(user.get("username"), str):
            found["author"] = user["username"]
        for reference in tweet.get("referenced_tweets") or []:
            if isinstance(reference, dict) and reference.get("type") == "retweeted":
                original = referenced.get(reference.get("id"))
                if isinstance(original, dict) and isinstance(_v2_text(original), str):
                    found["text"] = _v2_text(original)
        if str(tweet.get("id")) in superseded:
            found["skip"] = "edited tweet superseded by its later version"
        yield {**tweet, OURS: found} if found else tweet


def _account(actor: Any) -> str | None:
    """`https://mastodon.social/users/alice` → `alice@mastodon.social`."""
    if not isinstance(actor, str):
        return None
    url = urlparse(actor)
    name = url.path.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
    return f"{name}@{url.hostname}" if url.hostname and name else actor


def _language(note: dict) -> str | None:
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and len(content_map) == 1:
        return next(iter(content_map))
    return None


def _content(note: dict) -> Any:
    content = note.get("content")
    if content is None and isinstance(note.get("contentMap"), dict) and note["contentMap"]:
        content = next(iter(note["contentMap"].values()))
    return content


def _status(note: dict, actor: Any) -> dict[str, Any]:
    tags = [{"name": str(t.get("name", "")).lstrip("#")} for t in note.get("tag") or []
            if isinstance(t, dict) and t.get("type") == "Hashtag"]
    return {"id": note.get("id"), "created_at": note.get("published"), "content": _content(note),
            "account": {"acct": _account(note.get("attributedTo") or actor)},
            "in_reply_to_id": note.get("inReplyTo"), "language": _language(note), "tags": tags,
            "url": note.get("url")}


def activity_status(activity: dict) -> dict[str, Any]:
    """An ActivityPub activity as a Mastodon API status (the shape the mastodon preset maps).

    `Create` → the post itself; `Announce` (a boost) → a status whose `reblog` is the boosted
    post: its text when the outbox embeds the post, else skipped (counted), since an outbox
    names a boosted post only by its URL.
    """
    kind = activity.get("type")
    target = activity.get("object")
    actor = activity.get("actor")
    if kind == "Create" and isinstance(target, dict):
        status = _status(target, actor)
        status["created_at"] = status["created_at"] or activity.get("published")
        return status
    if kind == "Announce":
        boosted = _status(target, None) if isinstance(target, dict) else {"id": target, "content": None}
        status = {"id": activity.get("id"), "created_at": activity.get("published"),
                  "account": {"acct": _account(actor)}, "reblog": boosted}
        if boosted.get("content") is None:
            status[OURS] = {"skip": "boost of a post the outbox does not include"}
        return status
    return {**activity, OURS: {"skip": f"ActivityPub {kind} activity holds no post"}}
