-- Ingest runs, newest first; _total: how many there are. Params: $limit.
SELECT run_id, started_at, finished_at, status, rows_read, rows_new, rows_duplicate, rows_rejected,
       rows_skipped, texts_analysed, texts_cached, texts_unsupported, device, error,
       count(*) OVER () AS _total
FROM runs
ORDER BY run_id DESC
LIMIT $limit
