-- Volume and net sentiment over time, for all topics together or for chosen ones.
-- Each topic's latest $limit periods; _total: how many rows there were before that cut.
-- Params: $since, $until, $by (day | week | month), $topics (VARCHAR[]; empty = all comments together), $limit.
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.sentiment'),
scoped AS (
    SELECT CASE WHEN len($topics) = 0 THEN 'all' ELSE ct.topic END AS topic, c.created_at, c.text_hash
    FROM comments c
    LEFT JOIN comment_topics ct
      ON len($topics) > 0 AND ct.platform = c.platform AND ct.id = c.id AND list_contains($topics, ct.topic)
    WHERE c.created_at IS NOT NULL
      AND (len($topics) = 0 OR ct.topic IS NOT NULL)
      AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
      AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
),
periods AS (
    SELECT
        date_trunc($by, s.created_at)::DATE AS period,
        s.topic,
        count(*) AS comments,
        count(r.label) AS analysed,
        -- the shares are filled from the counts by analyzer.labels.shares.apply (corrected, or --raw)
        NULL::DOUBLE AS negative,
        NULL::DOUBLE AS negative_margin,
        NULL::DOUBLE AS net_sentiment,
        count(*) FILTER (r.label = 'positive') AS n_positive,
        count(*) FILTER (r.label = 'neutral') AS n_neutral,
        count(*) FILTER (r.label = 'negative') AS n_negative
    FROM scoped s
    LEFT JOIN sentiment r ON r.text_hash = s.text_hash AND r.model = (SELECT model FROM model)
    GROUP BY ALL
)
SELECT *, count(*) OVER () AS _total
FROM periods
QUALIFY row_number() OVER (PARTITION BY topic ORDER BY period DESC) <= $limit
ORDER BY topic, period
