-- Land one chunk of offensive results (registered frame task_rows: OffensiveTask.rows), idempotently.
INSERT OR IGNORE INTO offensive
SELECT text_hash, model, label, score, p_offensive, reason FROM task_rows;
