-- Volume and sentiment of one topic per day/week/month. Params: $topic, $since, $until, $by,
-- $no_retweets (retweets count in the volume, not in the sentiment shares).
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.sentiment')
SELECT
    date_trunc($by, c.created_at)::DATE AS period,
    count(*) AS comments,
    count(s.label) AS analysed,
    -- the shares are filled from the counts by analyzer.labels.shares.apply (corrected, or --raw)
    NULL::DOUBLE AS positive,
    NULL::DOUBLE AS neutral,
    NULL::DOUBLE AS negative,
    NULL::DOUBLE AS negative_margin,
    NULL::DOUBLE AS net_sentiment,
    NULL::DOUBLE AS negative_low,
    NULL::DOUBLE AS negative_high,
    count(*) FILTER (s.label = 'positive') AS n_positive,
    count(*) FILTER (s.label = 'neutral') AS n_neutral,
    count(*) FILTER (s.label = 'negative') AS n_negative
FROM comment_topics ct
JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
LEFT JOIN sentiment s ON s.text_hash = c.text_hash AND s.model = (SELECT model FROM model)
                     AND NOT ($no_retweets AND c.is_retweet)
WHERE ct.topic = $topic
  AND c.created_at IS NOT NULL
  AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
GROUP BY ALL
ORDER BY period
