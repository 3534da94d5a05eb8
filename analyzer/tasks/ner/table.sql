-- The ner task's results: one row per entity. The store creates this table from here, and re-creates it
-- (the task's texts analysed again) when this file changes.
CREATE TABLE IF NOT EXISTS entities (
    text_hash VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    "start" INTEGER NOT NULL,           -- character offsets into comments.text
    "end" INTEGER NOT NULL,
    label VARCHAR NOT NULL,             -- PER ORG LOC PRODUCT WORK | HASHTAG MENTION CASHTAG
    text VARCHAR NOT NULL,
    score DOUBLE
);
