-- The emotion task's results: one row per (text, model), the whole distribution kept. The store creates
-- this table from here, and re-creates it (the task's texts analysed again) when this file changes.
CREATE TABLE IF NOT EXISTS emotion (
    text_hash VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    label VARCHAR,                      -- anger | disgust | fear | joy | neutral | sadness | surprise | NULL
    score DOUBLE,                       -- the label's probability
    p_anger DOUBLE,
    p_disgust DOUBLE,
    p_fear DOUBLE,
    p_joy DOUBLE,
    p_neutral DOUBLE,
    p_sadness DOUBLE,
    p_surprise DOUBLE,
    reason VARCHAR,
    PRIMARY KEY (text_hash, model)
);
