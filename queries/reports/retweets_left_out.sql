-- How many retweets `--no-retweets` leaves out of the sentiment shares. Params: $since, $until,
-- $topic (NULL: every comment).
SELECT count(*) AS retweets
FROM comments c
WHERE c.is_retweet
  AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
  AND ($topic IS NULL OR EXISTS (
      SELECT 1 FROM comment_topics ct WHERE ct.platform = c.platform AND ct.id = c.id AND ct.topic = $topic))
