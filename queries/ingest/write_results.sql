-- Land one chunk's cache markers and detected languages (registered frames new_markers,
-- detected_langs); each task's own rows are landed before this by queries/tasks/<task>.sql.
INSERT OR IGNORE INTO analyses
SELECT text_hash, task, model, status, $run_id FROM new_markers;

UPDATE comments SET lang = d.lang
FROM detected_langs d
WHERE comments.text_hash = d.text_hash AND comments.lang IS NULL AND d.lang IS NOT NULL;
