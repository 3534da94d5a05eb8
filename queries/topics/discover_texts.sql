-- Distinct texts to cluster, most repeated first, capped. Params: $since, $until, $limit.
SELECT text_hash, any_value(text) AS text, count(*) AS copies
FROM comments
WHERE ($since IS NULL OR created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR created_at < $until::TIMESTAMPTZ)
  AND length(text) >= 15
GROUP BY text_hash
ORDER BY copies DESC, text_hash
LIMIT $limit
