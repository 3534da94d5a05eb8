UPDATE runs SET finished_at = now(), status = $status, error = $error, device = coalesce($device, device)
WHERE run_id = $run_id
