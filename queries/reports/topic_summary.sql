-- The latest stored summary of one topic. Params: $topic.
SELECT summary, n_comments, method, period_start, period_end, created_at
FROM summaries
WHERE topic = $topic
ORDER BY created_at DESC
LIMIT 1
