-- Ingest runs, newest first. Params: $limit.
SELECT run_id, started_at, finished_at, status, rows_read, rows_new, rows_duplicate, rows_rejected,
       rows_skipped, texts_analysed, texts_cached, texts_unsupported, device, error
FROM runs
ORDER BY run_id DESC
LIMIT $limit
