-- Land one chunk of sentiment results (registered frame task_rows: SentimentTask.rows), idempotently.
INSERT OR IGNORE INTO sentiment
SELECT text_hash, model, label, score, p_negative, p_neutral, p_positive, reason FROM task_rows;
