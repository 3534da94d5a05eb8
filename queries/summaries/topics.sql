-- Topics with at least $min_comments comments in the period, biggest first (a comment filed under a
-- topic twice, by field and by keyword, counts once).
SELECT ct.topic, count(DISTINCT (c.platform, c.id)) AS comments
FROM comment_topics ct
JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
WHERE ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
GROUP BY ct.topic
HAVING count(DISTINCT (c.platform, c.id)) >= $min_comments
ORDER BY comments DESC, ct.topic
