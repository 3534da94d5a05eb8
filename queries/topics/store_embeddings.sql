-- Keep new embeddings (registered frame `fresh(text_hash, vector)`). Params: $encoder.
INSERT OR IGNORE INTO embeddings
SELECT text_hash, $encoder, vector FROM fresh
