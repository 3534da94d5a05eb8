-- The comments a topic summary reads: distinct texts, most engaged first, capped.
-- Params: $topic, $since, $until, $limit.
SELECT any_value(c.text) AS text, max(coalesce(c.score, 0)) AS engagement, count(*) AS copies
FROM comment_topics ct
JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
WHERE ct.topic = $topic
  AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
GROUP BY c.text_hash
ORDER BY copies DESC, engagement DESC, any_value(c.created_at) DESC
LIMIT $limit
