-- The latest stored summary of one topic (any spelling of its name: one stored before its shown spelling
-- changed is still found). Params: $topic.
SELECT summary, n_comments, method, period_start, period_end, created_at
FROM summaries
WHERE lower(topic) = lower($topic)
ORDER BY created_at DESC
LIMIT 1
