-- Land one chunk of model output (registered frames new_*), idempotently.
INSERT OR IGNORE INTO sentiment
SELECT text_hash, model, label, score, p_negative, p_neutral, p_positive, reason FROM new_sentiment;

DELETE FROM entities e
USING (SELECT DISTINCT text_hash, model FROM new_markers WHERE task = 'ner') m
WHERE e.text_hash = m.text_hash AND e.model = m.model;

INSERT INTO entities
SELECT text_hash, model, "start", "end", label, text, score FROM new_entities;

INSERT OR IGNORE INTO analyses
SELECT text_hash, task, model, status, $run_id FROM new_markers;

UPDATE comments SET lang = d.lang
FROM detected_langs d
WHERE comments.text_hash = d.text_hash AND comments.lang IS NULL AND d.lang IS NOT NULL;
