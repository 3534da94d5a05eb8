-- The database's current sentiment model and the confusion ingest stored beside it (JSON, or NULL):
-- reports correct their shares with it (analyzer.labels.shares).
SELECT
    max(value) FILTER (key = 'model.sentiment') AS model,
    max(value) FILTER (key = 'confusion.sentiment') AS confusion
FROM meta
