-- The moderation queue: comments the current offensive model (`meta.model.offensive`) scores at or over
-- $threshold (its calibrated probability of `offensive`), newest first, with what a moderator needs to act:
-- when, who, the comment's id, where it was read from (source file and line) and its topic.
-- Params: $threshold, $since, $until (TIMESTAMPTZ or NULL), $topic (NULL = all), $limit.
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.offensive')
SELECT
    c.created_at,
    round(o.p_offensive, 3) AS score,
    c.topic,
    c.author,
    c.platform,
    c.id,
    c.source,
    c.line_no AS line,
    c.text,
    count(*) OVER () AS _total
FROM offensive o
JOIN comments c ON c.text_hash = o.text_hash
WHERE o.model = (SELECT model FROM model)
  AND o.p_offensive >= $threshold
  AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
  AND ($topic IS NULL OR EXISTS (
        SELECT 1 FROM comment_topics ct WHERE ct.platform = c.platform AND ct.id = c.id AND ct.topic = $topic))
ORDER BY c.created_at DESC NULLS LAST, score DESC, c.platform, c.id
LIMIT $limit
