"""Containers: JSON documents that hold records rather than being one.

Real dumps wrap their records: a Twitter API v2 page (what twarc2 writes, one page a line)
holds up to 500 tweets in `data` with their authors and referenced tweets in `includes`; an
ActivityPub outbox (Mastodon's export) holds activities in `orderedItems`; a Twitter archive
wraps each tweet in `{"tweet": ...}`. API responses and chat exports do the same: a Reddit
listing or thread (`{"kind": "Listing", ...}`, comments nested in `replies`), a YouTube Data
API `commentThreads` page (`items`), a Telegram Desktop `result.json` (`messages`), a Bluesky
feed, thread or Jetstream event. This module turns one such document into the records a
preset maps, one record per tweet, comment, message or post, so every record is a row
(`rows_read` counts tweets, not pages).

Where a record needs another part of its container to be read right (a v2 tweet's author
name lives in `includes.users`, a retweet's full text in `includes.tweets`), the record gets
an `_opinions` object with what was looked up; the presets read it first. `_opinions.skip`
marks a record that is counted as skipped, with the reason (an edit superseded by its later
version in the same file, a boost whose post the outbox does not include, a Reddit `more`
stub, a Telegram service message, a Jetstream like).
"""

from __future__ import annotations

import re
from collections import OrderedDict
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
    if _api_kind(doc) is not None:
        return True
    if isinstance(doc.get("first"), dict) and isinstance(doc["first"].get("orderedItems"), list):
        return True
    return len(doc) == 1 and isinstance(doc.get("tweet"), dict)


class SeenPosts:
    """The Bluesky posts a source has shown so far (uri → text, languages, hashtags), the last SEEN_POSTS of
    them: a Jetstream or repository repost names its post by URI only, so a repost of a post seen earlier in
    the same source is a retweet with that post's text; one of a post not seen is skipped."""

    def __init__(self, limit: int = 0) -> None:
        self._limit = limit or SEEN_POSTS
        self._posts: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def add(self, post: dict[str, Any]) -> None:
        if isinstance(post.get("uri"), str) and isinstance(post.get("text"), str):
            self._posts[post["uri"]] = {"text": post["text"], "langs": post.get("langs"), "tags": post.get("tags")}
            if len(self._posts) > self._limit:
                self._posts.popitem(last=False)

    def get(self, uri: object) -> dict[str, Any] | None:
        return self._posts.get(uri) if isinstance(uri, str) else None


def records(doc: Any, author: str | None = None, seen: SeenPosts | None = None) -> Iterator[Any]:
    """The records a document holds (the document itself when it holds none).

    `author` names the account of a Twitter archive (from its `account.js`), whose tweets
    carry no author of their own. `seen`: the source's Bluesky posts so far, kept by the
    caller across the documents of one source.
    """
    if isinstance(doc, list):
        for item in doc:
            yield from records(item, author, seen)
    elif not is_container(doc):
        yield _with_author(doc, author) if author is not None else doc
    elif (kind := _api_kind(doc)) is not None:
        if kind in {"jetstream", "atproto_repo"}:
            yield from _REPO_RECORDS[kind](doc, seen if seen is not None else SeenPosts())
        else:
            yield from _API_RECORDS[kind](doc)
    elif "tweet" in doc and len(doc) == 1:
        yield archive_tweet(doc["tweet"], author)
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


_ARCHIVE_RETWEET = re.compile(r"RT @(\w{1,50}):")


def archive_tweet(tweet: Any, author: str | None) -> Any:
    """A tweet of a Twitter archive (`tweets.js`) as a record: its author the archive's account (None: no
    `account.js`), its `lang` a hint (the archive's, checked against the text: `langid.check_hints`), and a
    `RT @user:` tweet, which the archive keeps as that text alone, a retweet of `@user` (the retweeted
    tweet's id is not in the archive)."""
    if not isinstance(tweet, dict):
        return tweet
    ours = dict(tweet.get(OURS) or {}) if isinstance(tweet.get(OURS), dict) else {}
    record = {key: value for key, value in tweet.items() if key not in {OURS, "lang"}}
    if author is not None:
        ours["author"] = author
    if isinstance(tweet.get("lang"), str):
        ours["lang_hint"] = tweet["lang"]
    text = tweet.get("full_text", tweet.get("text"))
    if isinstance(text, str) and "retweeted_status" not in tweet and (match := _ARCHIVE_RETWEET.match(text)):
        ours["retweet_of"] = "@" + match.group(1)
    return {**record, OURS: ours} if ours else record


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


# --- API responses and chat exports -------------------------------------------------------------

_REDDIT_THINGS = {"t1", "t3", "more"}
SEEN_POSTS = 50_000  # Bluesky posts remembered per source for reposts of them (SeenPosts): ~25 MB at most
_BSKY_POST = "app.bsky.feed.post"
_BSKY_REPOST = "app.bsky.feed.repost"


def _api_kind(doc: dict) -> str | None:
    """Which API response or export `doc` is (a key of _API_RECORDS), or None."""
    kind = _kind(doc)
    data = doc.get("data")
    if kind == "Listing" and isinstance(data, dict) and isinstance(data.get("children"), list):
        return "reddit"
    if kind in _REDDIT_THINGS and isinstance(data, dict) and len(doc) <= 2:
        return "reddit"
    items = doc.get("items")
    if isinstance(items, list) and (str(kind).startswith("youtube#") or any(_youtube_thread(i) for i in items[:5])):
        return "youtube"
    if str(kind).startswith("youtube#comment") and isinstance(doc.get("snippet"), dict):
        return "youtube"
    # Telegram Desktop writes a chat's name, type and id before its messages
    if isinstance(doc.get("messages"), list) and isinstance(doc.get("type"), str) and "id" in doc and not (
            _TEXT_KEYS & doc.keys()):
        return "telegram"
    if kind in {"commit", "identity", "account"} and isinstance(doc.get("did"), str):
        return "jetstream"
    if _TEXT_KEYS & doc.keys():  # a record of its own that happens to have a `feed` or `thread` field
        return None
    feed, thread, posts = doc.get("feed"), doc.get("thread"), doc.get("posts")
    if isinstance(feed, list) and (not feed or any(isinstance(i, dict) and _bsky_view(i.get("post")) for i in feed[:5])):
        return "bluesky"
    if isinstance(thread, dict) and (_bsky_view(thread.get("post")) or "app.bsky." in str(thread.get("$type"))):
        return "bluesky"
    if isinstance(posts, list) and any(_bsky_view(p) for p in posts[:5]):
        return "bluesky"
    records = doc.get("records")
    if (isinstance(records, list) and any(_bsky_repo_entry(r) for r in records[:5])) or _bsky_repo_entry(doc):
        return "atproto_repo"
    return None


def _kind(doc: Any) -> str | None:
    """A document's `kind`, where it is a string (a list or an object there cannot be looked up in a set)."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def reddit_records(doc: dict) -> Iterator[Any]:
    """Each comment (t1) and post (t3) of a Reddit API listing, its `replies` listings walked depth first.

    A thread (`/comments/ID.json`) is an array of two listings, the post's and its comments', each
    read as a document of its own. The record is the thing's `data` without `replies`, with its
    `depth` (Reddit's own in a thread: 0 for a top-level comment; set here where absent). A `more`
    stub names comments the response left out: it is one skipped row.
    """
    if doc.get("kind") == "Listing":
        yield from _reddit_children(doc["data"]["children"], 0)
    else:
        yield from _reddit_children([doc], 0)


def _reddit_children(children: list, depth: int) -> Iterator[Any]:
    for child in children:
        data = child.get("data") if isinstance(child, dict) else None
        kind = _kind(child)
        if not isinstance(data, dict) or kind not in _REDDIT_THINGS:
            yield child  # not a Reddit thing: judged (and rejected with its reason) by the mapping
            continue
        if kind == "more":
            count = data.get("count")
            what = f"{count:,} comments" if isinstance(count, int) and count else "a 'continue this thread' link"
            yield {**data, OURS: {"skip": f"Reddit 'more' stub: {what} the response did not include"}}
            continue
        record = {key: value for key, value in data.items() if key != "replies"}
        if kind == "t1":
            record.setdefault("depth", depth)
        yield record
        replies = data.get("replies")  # "" when there are none
        if isinstance(replies, dict) and isinstance(replies.get("data"), dict):
            own = record.get("depth")
            yield from _reddit_children(_list(replies["data"].get("children")),
                                        (own if isinstance(own, int) else depth) + 1)


def _youtube_thread(item: object) -> bool:
    snippet = item.get("snippet") if isinstance(item, dict) else None
    return isinstance(snippet, dict) and isinstance(snippet.get("topLevelComment"), dict)


def youtube_records(doc: dict) -> Iterator[Any]:
    """Each comment of a YouTube Data API `commentThreads` (or `comments`) response: a thread's top-level
    comment, then its replies (`replies.comments`), each with `parentId`. The record is the comment's
    `snippet` with the comment's `id`, and the thread's `videoId` (the topic) where the snippet has none."""
    items = doc["items"] if isinstance(doc.get("items"), list) else [doc]
    for item in items:
        if _youtube_thread(item):
            snippet = item["snippet"]
            top = snippet["topLevelComment"]
            video = snippet.get("videoId")
            yield _youtube_comment(top, video, None)
            replies = item.get("replies")
            for reply in _list(replies.get("comments")) if isinstance(replies, dict) else []:
                yield _youtube_comment(reply, video, top.get("id"))
        elif isinstance(item, dict) and isinstance(item.get("snippet"), dict) and "id" in item:
            yield _youtube_comment(item, None, None)
        else:
            yield item


def _youtube_comment(comment: Any, video: Any, parent: Any) -> Any:
    if not isinstance(comment, dict) or not isinstance(comment.get("snippet"), dict):
        return comment
    snippet = comment["snippet"]
    return {**snippet, "id": comment.get("id"), "videoId": snippet.get("videoId") or video,
            "parentId": snippet.get("parentId") or parent}


def telegram_records(doc: dict) -> Iterator[Any]:
    """Each message of a Telegram Desktop chat export (`result.json`); see `telegram_message`."""
    for message in doc["messages"]:
        yield telegram_message(message, doc.get("name"), doc.get("id"))


def telegram_message(message: Any, chat: Any, chat_id: Any) -> Any:
    """A Telegram Desktop message as a record: `text` (a string, or an array of strings and entity objects
    `{"type": "bold", "text": ...}`) joined into one string, the chat's name as `chat`, and ids made
    unique across chats (`<chat id>/<message id>`: message ids count from 1 in every chat). A service
    message (a pin, a join) and a message with no text (a photo, a sticker) are skipped with the reason."""
    if not isinstance(message, dict):
        return message
    record = {key: value for key, value in message.items() if key not in {"text_entities"}}
    record["id"] = _chat_scoped(chat_id, message.get("id"))
    if message.get("reply_to_message_id") is not None:
        record["reply_to_message_id"] = _chat_scoped(chat_id, message["reply_to_message_id"])
    if isinstance(message.get("date_unixtime"), str) and message["date_unixtime"].isdigit():
        record["date_unixtime"] = int(message["date_unixtime"])
    record["chat"] = chat
    text = message.get("text")
    if isinstance(text, list):
        text = "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict) else ""
                       for part in text)
        record["text"] = text
    if message.get("type") == "service":
        record[OURS] = {"skip": f"Telegram service message ({message.get('action') or 'no action'})"}
    elif isinstance(text, str) and not text.strip():
        media = message.get("media_type") or ("photo" if "photo" in message else "file" if "file" in message
                                              else "poll" if "poll" in message else "no media")
        record[OURS] = {"skip": f"Telegram message without text ({media})"}
    return record


def _chat_scoped(chat_id: Any, message_id: Any) -> Any:
    return f"{chat_id}/{message_id}" if chat_id is not None and message_id is not None else message_id


def _bsky_view(view: object) -> bool:
    """A Bluesky post view: `{uri, author, record: {$type: app.bsky.feed.post, ...}}`."""
    return isinstance(view, dict) and isinstance(view.get("record"), dict) and isinstance(view.get("uri"), str)


def bluesky_records(doc: dict) -> Iterator[Any]:
    """Each post of a Bluesky (AT Protocol) response: `getTimeline`/`getAuthorFeed` (`feed[].post`; an item
    with a `reasonRepost` is a repost, read as a retweet), `getPostThread` (`thread`: its ancestors, the post,
    then its `replies` depth first), `searchPosts`/`getPosts` (`posts`)."""
    if isinstance(doc.get("feed"), list):
        for item in doc["feed"]:
            post = item.get("post") if isinstance(item, dict) else None
            if not _bsky_view(post):
                yield item
                continue
            reason = item.get("reason")
            if isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonRepost"):
                yield _bsky_repost(post, reason)
            else:
                yield bsky_post(post)
    elif isinstance(doc.get("thread"), dict):
        ancestors = []
        node = doc["thread"].get("parent")
        while isinstance(node, dict):
            ancestors.append(node)
            node = node.get("parent")
        for ancestor in reversed(ancestors):  # the thread's root first
            yield _bsky_thread_post(ancestor)
        yield from _bsky_thread(doc["thread"])
    else:
        for post in doc["posts"]:
            yield bsky_post(post) if _bsky_view(post) else post


def _bsky_thread(node: dict) -> Iterator[Any]:
    """A thread node's post, then its replies depth first."""
    yield _bsky_thread_post(node)
    for reply in _list(node.get("replies")):
        if isinstance(reply, dict):
            yield from _bsky_thread(reply)


def _bsky_thread_post(node: dict) -> Any:
    if _bsky_view(node.get("post")):
        return bsky_post(node["post"])
    # a notFoundPost or blockedPost: the thread names it, but holds no post
    kind = str(node.get("$type", "")) or "no $type"
    return {"uri": node.get("uri"), OURS: {"skip": f"Bluesky thread entry without a post ({kind})"}}


def bsky_post(view: dict) -> dict[str, Any]:
    """A post view as a record: the post record (`text`, `createdAt`, `langs`, `reply`) with the view's `uri`,
    the author's handle (else DID) as `author`, and its hashtags (facet tags and the record's `tags`) as `tags`."""
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    record = {**view["record"], "uri": view["uri"], "author": author.get("handle") or author.get("did"),
              "likeCount": view.get("likeCount")}
    record["tags"] = _bsky_tags(view["record"])
    return record


def _bsky_tags(record: dict) -> list[str]:
    tags = [t for t in _list(record.get("tags")) if isinstance(t, str)]
    for facet in _list(record.get("facets")):
        for feature in _list(facet.get("features")) if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and str(feature.get("$type", "")).endswith("#tag"):
                tags.append(str(feature.get("tag", "")))
    return [t for t in dict.fromkeys(tags) if t]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _bsky_repost(post: dict, reason: dict) -> dict[str, Any]:
    """A feed item reposting `post`: a retweet by `reason.by`, with the post's text (so it is analysed once)."""
    original = bsky_post(post)
    by = reason.get("by") if isinstance(reason.get("by"), dict) else {}
    who = by.get("handle") or by.get("did")
    return {"$type": _BSKY_REPOST, "uri": reason.get("uri") or f"{post['uri']}#repost-by-{by.get('did') or who}",
            "author": who, "text": original.get("text"), "createdAt": reason.get("indexedAt") or original.get("createdAt"),
            "langs": original.get("langs"), "tags": original["tags"], "repost_of": post["uri"]}


def _bsky_repo_entry(entry: object) -> bool:
    """A record of an AT Protocol repository as `com.atproto.repo.listRecords` gives it (and tools that turn a
    CAR export into JSON): `{uri, cid, value: {$type, ...}}`."""
    return (isinstance(entry, dict) and isinstance(entry.get("value"), dict) and isinstance(entry.get("uri"), str)
            and entry["uri"].startswith("at://"))


def atproto_repo_records(doc: dict, seen: SeenPosts) -> Iterator[Any]:
    """Each record of a `listRecords` page (or one such record): a post is a row, its author the repository's
    DID (the first part of its `at://` URI); a repost is a retweet where `seen` has its post; a like or follow
    holds no text of its own and is skipped."""
    for entry in doc["records"] if isinstance(doc.get("records"), list) else [doc]:
        if not _bsky_repo_entry(entry):
            yield entry
            continue
        uri, value = entry["uri"], entry["value"]
        yield _bsky_repo_record(uri, uri.removeprefix("at://").split("/", 1)[0], value, seen,
                                f"AT Protocol record holds no post ({value.get('$type')})")


def _bsky_repo_record(uri: str, did: str, value: dict, seen: SeenPosts, otherwise: str) -> dict[str, Any]:
    """A repository record (a post, a repost, anything else) as a record the bluesky preset maps."""
    kind = value.get("$type")
    if kind == _BSKY_POST:
        post = {**value, "uri": uri, "author": did, "tags": _bsky_tags(value)}
        seen.add(post)
        return post
    if kind == _BSKY_REPOST:
        subject = value.get("subject")
        target = subject.get("uri") if isinstance(subject, dict) else None
        original = seen.get(target)
        if original is not None:
            return {"$type": kind, "uri": uri, "author": did, "createdAt": value.get("createdAt"), **original,
                    "repost_of": target}
        otherwise = f"Bluesky repost of {target or 'a post'} not in this source before it: no text to read"
    return {"uri": uri, "$type": kind, OURS: {"skip": otherwise}}


def jetstream_records(doc: dict, seen: SeenPosts) -> Iterator[Any]:
    """One Jetstream event: a created post is a post (author: the DID, which the event names without a
    handle), a created repost a retweet where `seen` has its post; anything else (likes, follows, deletes,
    identity events) is skipped with the reason."""
    commit = doc.get("commit") if isinstance(doc.get("commit"), dict) else {}
    collection, operation, record = commit.get("collection"), commit.get("operation"), commit.get("record")
    uri = f"at://{doc['did']}/{collection}/{commit.get('rkey')}" if collection else f"at://{doc['did']}"
    what = f"{operation} {collection}" if collection else doc.get("kind")
    if doc.get("kind") == "commit" and operation == "create" and isinstance(record, dict):
        yield _bsky_repo_record(uri, doc["did"], record, seen, f"Jetstream event holds no new post ({what})")
    else:
        yield {"uri": uri, "$type": collection, OURS: {"skip": f"Jetstream event holds no new post ({what})"}}


_API_RECORDS = {"reddit": reddit_records, "youtube": youtube_records, "telegram": telegram_records,
                "bluesky": bluesky_records}
_REPO_RECORDS = {"jetstream": jetstream_records, "atproto_repo": atproto_repo_records}  # these take SeenPosts
