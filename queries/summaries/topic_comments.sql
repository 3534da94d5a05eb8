-- The comments a topic summary reads: one row per distinct text, the most voiced first, capped.
-- voices: the comments that say it in their own name (a retweet adds none; the tweet it copies is one);
-- copies: every comment with that text, retweets included (what the summary covers);
-- label: the current sentiment model's label of the text (NULL when not analysed).
-- A comment filed under the topic twice (field and keyword) counts once.
-- Params: $topic, $since, $until, $limit.
WITH members AS (
    SELECT DISTINCT platform, id FROM comment_topics WHERE topic = $topic
)
SELECT any_value(c.text) AS text, max(coalesce(c.score, 0)) AS engagement, count(*) AS copies,
       greatest(count(*) FILTER (NOT coalesce(c.is_retweet, false)), 1) AS voices,
       any_value(s.label) AS label
FROM members m
JOIN comments c ON c.platform = m.platform AND c.id = m.id
LEFT JOIN sentiment s
    ON s.text_hash = c.text_hash AND s.model = (SELECT value FROM meta WHERE key = 'model.sentiment')
WHERE ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
GROUP BY c.text_hash
ORDER BY voices DESC, copies DESC, engagement DESC, any_value(c.created_at) DESC, c.text_hash
LIMIT $limit
