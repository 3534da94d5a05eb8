INSERT INTO runs (run_id, started_at, status, sources, tasks, device, pid)
VALUES (nextval('run_ids'), now(), 'running', $sources, $tasks, $device, $pid)
RETURNING run_id
