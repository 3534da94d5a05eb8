-- How many retweets `--no-retweets` leaves out of the sentiment shares. Params: $since, $until.
SELECT count(*) AS retweets
FROM comments
WHERE is_retweet
  AND ($since IS NULL OR created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR created_at < $until::TIMESTAMPTZ)
