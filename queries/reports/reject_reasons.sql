-- Rejected rows counted by reason. Params: $run_id (NULL = all runs).
-- A reason is grouped without the value it quotes (after ':' or in parentheses) and with its
-- numbers as N, so one problem is one row however many values it has; each row keeps its reason whole.
SELECT regexp_replace(regexp_replace(reason, '\s*(:|\().*$', ''), '(^|\s)[0-9][0-9,]*', '\1N', 'g') AS reason,
       count(*) AS rows
FROM rejects
WHERE $run_id IS NULL OR run_id = $run_id
GROUP BY 1
ORDER BY rows DESC, reason
