-- Rejected rows counted by reason. Params: $run_id (NULL = all runs).
SELECT regexp_replace(reason, ':.*$', '') AS reason, count(*) AS rows
FROM rejects
WHERE $run_id IS NULL OR run_id = $run_id
GROUP BY 1
ORDER BY rows DESC, reason
