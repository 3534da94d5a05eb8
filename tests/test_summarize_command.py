"""`opinions summarize`: extractive summaries of topics, stored in `summaries`, shown by reports."""

from __future__ import annotations

import json

from analyzer.cli import app
from tests.helpers import reddit, sql, write_jsonl

BATTERY = [
    "The battery lasts two full days on the new phone.",
    "Battery life is the best I have had on any phone.",
    "Honestly the battery is great, two days easily.",
    "The camera struggles in low light though.",
    "Low light photos are noisy, the camera needs work.",
]


def test_summarize_topic_stores_and_prints_json(runner, db, tmp_path, tiny_env):
    records = [reddit(i, body=BATTERY[i % len(BATTERY)]) for i in range(10)]
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", records)), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["summarize", "apple", "--db", str(db), "--format", "json", "--max-words", "25"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["topic"] == "apple" and row["n_comments"] == 10
    assert 0 < sum(len(p["sentence"].split()) for p in row["points"]) <= 25
    assert all(p["comments"] == 2 and p["sentence"] in BATTERY for p in row["points"])  # each text posted twice
    assert row["summary"].splitlines()[0].startswith("~2 comments say: ")
    assert sql(db, "SELECT topic, method, n_comments FROM summaries") == [("apple", "extractive", 10)]
    detail = json.loads(runner.invoke(app, ["report", "topic", "apple", "--db", str(db), "--format", "json"]).stdout)
    assert detail["summary"][0]["summary"] == row["summary"]


def test_summarize_needs_a_topic_or_all(runner, db, tmp_path):
    runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(1)])), "--db", str(db), "--tasks", "none"])
    result = runner.invoke(app, ["summarize", "--db", str(db)])
    assert result.exit_code == 1 and "give one TOPIC or --all" in result.stderr
    result = runner.invoke(app, ["summarize", "nosuchtopic", "--db", str(db)])
    assert result.exit_code == 1 and "no comments for topic" in result.stderr


def test_summaries_read_text_without_markup_urls_or_handles(monkeypatch):
    import analyzer.topics.summarize
    from analyzer.models.spec import resolve
    from analyzer.topics.summaries import Summarizer

    seen: list[list[str]] = []
    monkeypatch.setattr(analyzer.topics.summarize, "key_points", lambda comments, *a, **kw: seen.append(comments) or [])
    summarizer = Summarizer(resolve("summary", None, {}, None), device="cpu")
    summarizer(["<p>Great &amp; fast</p>", "see https://x.example/y", "[removed]",
                "@united @delta Lost my bag &amp;amp; nobody cares #fail #united", "RT @bob: Flight was fine"])
    assert seen == [["Great & fast", "see", "Lost my bag & nobody cares", "Flight was fine"]]


def _tweet(i: int, text: str, retweet_of: str | None = None) -> dict:
    tweet = {"id_str": str(10_000 + i), "full_text": text, "lang": "en", "user": {"screen_name": f"u{i}"},
             "created_at": "Thu Oct 01 10:00:00 +0000 2026", "entities": {"hashtags": [{"text": "SpotifyDown"}]}}
    if retweet_of:
        tweet["full_text"] = "RT @u0: " + text[:40]
        tweet["retweeted_status"] = {"id_str": retweet_of, "full_text": text}
    return tweet


OUTAGE = ["@Spotify Spotify is down again and nothing loads #SpotifyDown https://t.co/abc",
          "@SpotifyCares Spotify is down again, nothing loads at all &amp; support is silent #SpotifyDown",
          "Spotify is down again and nothing will load #SpotifyDown #fail"]


def test_summary_of_real_shaped_tweets_counts_authors_not_retweets(runner, db, tmp_path):
    """810 tweets: 60 say the outage in their own words (plus 300 retweets of one of them); 450 distinct texts
    say one other thing. The summary quotes clean sentences, counts the retweets once, and covers every tweet
    (more distinct texts than the 400 an earlier version read)."""
    tweets = [_tweet(i, OUTAGE[i % 3]) for i in range(60)]
    tweets += [_tweet(60 + i, OUTAGE[0], retweet_of="10000") for i in range(300)]
    tweets += [_tweet(360 + i, f"Listening to my playlist number {i} today while I cook dinner #SpotifyDown")
               for i in range(450)]
    dump = write_jsonl(tmp_path / "tweets.jsonl", tweets)
    assert runner.invoke(app, ["ingest", str(dump), "--db", str(db), "--tasks", "none"]).exit_code == 0
    result = runner.invoke(app, ["summarize", "spotifydown", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["n_comments"] == 810 == sql(db, "SELECT count(*) FROM comments")[0][0]
    chatter, outage = row["points"][:2]
    assert chatter["comments"] == 450 and chatter["sentence"].startswith("Listening to my playlist number")
    assert outage["comments"] == 60 and outage["sentence"].startswith("Spotify is down again")
    for noise in ("@", "#", "http", "&amp;", "RT "):
        assert noise not in row["summary"], noise
    assert row["summary"].splitlines()[1] == f"~60 comments say: {outage['sentence']}"


def test_each_point_carries_the_sentiment_of_the_comments_that_say_it():
    from analyzer.models.spec import resolve
    from analyzer.topics.summaries import Summarizer, TopicComments

    summarizer = Summarizer(resolve("summary", None, {}, None), device="cpu")
    read = TopicComments(texts=["The update broke my login.", "The update broke my login!", "Dark mode looks lovely.",
                                "Support was quick and kind."],
                         voices=[5, 2, 3, 1], copies=[5, 2, 3, 1], labels=["negative", "neutral", "positive", "positive"])
    summary, points = summarizer.summarise(read)
    assert [(p.comments, p.sentiment) for p in points] == [(7, "negative"), (3, "positive"), (1, "positive")]
    assert summary.splitlines()[0] == "~7 comments say: The update broke my login. (negative)"
    sides, _ = summarizer.summarise(read, sides=True)
    liked, disliked = sides.split("\n\n")
    assert liked.splitlines()[0] == "What people like:" and "Dark mode" in liked and "login" not in liked
    assert disliked.splitlines() == ["What people dislike:", "~5 comments say: The update broke my login. (negative)"]
