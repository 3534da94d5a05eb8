-- Land one chunk of emotion results (registered frame task_rows: EmotionTask.rows), idempotently.
INSERT OR IGNORE INTO emotion
SELECT text_hash, model, label, score, p_anger, p_disgust, p_fear, p_joy, p_neutral, p_sadness, p_surprise, reason
FROM task_rows;
