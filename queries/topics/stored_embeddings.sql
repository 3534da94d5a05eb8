-- Stored embeddings of the wanted texts (registered frame `wanted(text_hash)`) by one encoder. Params: $encoder.
SELECT w.text_hash, e.vector
FROM wanted w JOIN embeddings e ON e.text_hash = w.text_hash AND e.encoder = $encoder
