-- Schema v4 → v5: sentence embeddings are kept, so a text is embedded once per encoder (topic discovery).
-- text_hash: md5 of the text the encoder read (discovery's cleaned prose; equal to comments.text_hash when
-- cleaning changed nothing). encoder: SentenceEncoder.id (weights, pooling, length limit, precision).
-- vector: the L2-normalised embedding as little-endian float16 (768 bytes for MiniLM's 384 dims).
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash VARCHAR NOT NULL,
    encoder VARCHAR NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (text_hash, encoder)
)
