-- The sentiment task's results: one row per (text, model). The store creates this table from here, and
-- re-creates it (the task's texts analysed again) when this file changes.
CREATE TABLE IF NOT EXISTS sentiment (
    text_hash VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    label VARCHAR,                      -- negative | neutral | positive | NULL (unsupported)
    score DOUBLE,
    p_negative DOUBLE,
    p_neutral DOUBLE,
    p_positive DOUBLE,
    reason VARCHAR,
    PRIMARY KEY (text_hash, model)
);
