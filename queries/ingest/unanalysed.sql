-- Texts of stored comments that (task, model) has not analysed: leftovers of an
-- interrupted run, or comments stored with --tasks none.
SELECT c.text_hash, any_value(c.text) AS text, any_value(c.lang) AS lang
FROM comments c
ANTI JOIN analyses a ON a.text_hash = c.text_hash AND a.task = $task AND a.model = $model
GROUP BY c.text_hash
