-- The most confidently positive (or negative) comments of one topic, engagement as tie-breaker.
-- Params: $topic, $label ('positive' | 'negative'), $since, $until, $limit.
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.sentiment')
SELECT
    c.created_at,
    c.author,
    c.score AS engagement,
    s.score AS confidence,
    c.text,
    count(*) OVER () AS _total
FROM comment_topics ct
JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
JOIN sentiment s ON s.text_hash = c.text_hash AND s.model = (SELECT model FROM model)
WHERE ct.topic = $topic
  AND s.label = $label
  AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
QUALIFY row_number() OVER (PARTITION BY c.text_hash ORDER BY c.score DESC NULLS LAST) = 1
ORDER BY round(s.score, 2) DESC, c.score DESC NULLS LAST, c.created_at DESC
LIMIT $limit
