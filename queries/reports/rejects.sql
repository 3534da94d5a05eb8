-- Rejected rows with their reasons, newest run first. Params: $run_id (NULL = all runs), $limit.
SELECT run_id, source, line_no, reason, left(raw, 120) AS raw, count(*) OVER () AS _total
FROM rejects
WHERE $run_id IS NULL OR run_id = $run_id
ORDER BY run_id DESC, source, line_no
LIMIT $limit
