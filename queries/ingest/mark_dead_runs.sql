-- Called while holding the ingest lock: a run still marked running cannot be alive.
UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()),
    error = coalesce(error, 'process ended without finishing (killed or crashed); its committed chunks are kept')
WHERE status = 'running' AND pid IS DISTINCT FROM $pid
