-- Top entities of one topic, each with its own sentiment split. Params: $topic, $since, $until, $limit.
WITH models AS (
    SELECT max(value) FILTER (key = 'model.sentiment') AS sentiment_model
    FROM meta
),
mentions AS (  -- each entity under its usual type (the entity_mentions view)
    SELECT DISTINCT c.platform, c.id, c.text_hash, e.entity, e.type
    FROM comment_topics ct
    JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
    JOIN entity_mentions e ON e.text_hash = c.text_hash
    WHERE ct.topic = $topic
      AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
      AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
)
SELECT
    m.entity,
    m.type,
    count(*) AS mentions,
    -- the shares are filled from the counts by analyzer.labels.shares.apply (corrected, or --raw)
    NULL::DOUBLE AS positive,
    NULL::DOUBLE AS negative,
    NULL::DOUBLE AS net_sentiment,
    NULL::DOUBLE AS negative_low,
    NULL::DOUBLE AS negative_high,
    count(*) FILTER (s.label = 'positive') AS n_positive,
    count(*) FILTER (s.label = 'neutral') AS n_neutral,
    count(*) FILTER (s.label = 'negative') AS n_negative,
    count(*) OVER () AS _total
FROM mentions m
LEFT JOIN sentiment s ON s.text_hash = m.text_hash AND s.model = (SELECT sentiment_model FROM models)
GROUP BY ALL
ORDER BY mentions DESC, m.entity
LIMIT $limit
