-- Topics with at least $min_comments comments in the period, biggest first.
SELECT ct.topic, count(*) AS comments
FROM comment_topics ct
JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
WHERE ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
GROUP BY ct.topic
HAVING count(*) >= $min_comments
ORDER BY comments DESC, ct.topic
