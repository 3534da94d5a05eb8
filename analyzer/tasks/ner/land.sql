-- Land one chunk of entities (registered frames task_rows: NerTask.rows, and new_markers):
-- a text analysed again by the same model replaces its entities rather than doubling them.
DELETE FROM entities e
USING (SELECT DISTINCT text_hash, model FROM new_markers WHERE task = 'ner') m
WHERE e.text_hash = m.text_hash AND e.model = m.model;

INSERT INTO entities
SELECT text_hash, model, "start", "end", label, text, score FROM task_rows;
