INSERT INTO runs (run_id, started_at, status, sources, tasks, device, pid, command, host)
VALUES (nextval('run_ids'), now(), 'running', $sources, $tasks, $device, $pid, $command, $host)
RETURNING run_id
