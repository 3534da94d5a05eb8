-- Text hashes of `candidate` already analysed by (task, model): the cache hits.
SELECT a.text_hash
FROM analyses a
SEMI JOIN candidate c ON c.text_hash = a.text_hash
WHERE a.task = $task AND a.model = $model
