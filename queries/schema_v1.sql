-- opinions schema, version 1. Applied to a new database; migrations live in migrate_*.sql.
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE SEQUENCE IF NOT EXISTS run_ids START 1;

CREATE TABLE IF NOT EXISTS runs (
    run_id BIGINT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,            -- running | completed | failed | interrupted
    sources VARCHAR[],
    rows_read BIGINT DEFAULT 0,
    rows_new BIGINT DEFAULT 0,
    rows_duplicate BIGINT DEFAULT 0,
    rows_rejected BIGINT DEFAULT 0,
    rows_skipped BIGINT DEFAULT 0,      -- [deleted] / [removed] bodies: counted, never analysed
    texts_analysed BIGINT DEFAULT 0,
    texts_cached BIGINT DEFAULT 0,
    texts_unsupported BIGINT DEFAULT 0, -- language the model does not support: label NULL
    tasks VARCHAR[],
    device VARCHAR,
    pid INTEGER,
    error VARCHAR
);

CREATE TABLE IF NOT EXISTS comments (
    platform VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    source VARCHAR,
    created_at TIMESTAMPTZ,
    author VARCHAR,
    topic VARCHAR,
    parent_id VARCHAR,
    thread_id VARCHAR,
    score BIGINT,
    lang VARCHAR,
    text VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    run_id BIGINT,
    PRIMARY KEY (platform, id)
);

CREATE TABLE IF NOT EXISTS comment_topics (
    platform VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    topic VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,            -- field | keyword | cluster
    PRIMARY KEY (platform, id, topic, origin)
);

-- One row per (text, task, model) that was analysed: the cache key. status is
-- ok | unsupported (language the model does not support).
CREATE TABLE IF NOT EXISTS analyses (
    text_hash VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    run_id BIGINT,
    PRIMARY KEY (text_hash, task, model)
);

-- Each task's result table (sentiment, entities, offensive, emotion) comes from its folder:
-- analyzer/tasks/<name>/table.sql, created after this schema (analyzer.store.database).

CREATE TABLE IF NOT EXISTS summaries (
    topic VARCHAR NOT NULL,
    period_start TIMESTAMPTZ,
    period_end TIMESTAMPTZ,
    method VARCHAR NOT NULL,
    model VARCHAR,
    summary VARCHAR NOT NULL,
    n_comments BIGINT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS rejects (
    run_id BIGINT,
    source VARCHAR,
    line_no BIGINT,
    reason VARCHAR NOT NULL,
    raw VARCHAR                         -- first 64 KiB of the raw record
);

-- Views are created by views.sql after the schema (and any migration) is in place.
