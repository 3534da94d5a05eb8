-- The offensive task's results: one row per (text, model). The store creates this table from here, and
-- re-creates it (the task's texts analysed again) when this file changes.
CREATE TABLE IF NOT EXISTS offensive (
    text_hash VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    label VARCHAR,                      -- offensive | not-offensive | NULL (unsupported language)
    score DOUBLE,                       -- the label's probability
    p_offensive DOUBLE,
    reason VARCHAR,
    PRIMARY KEY (text_hash, model)
);
