-- Schema v1 → v2.
-- 1. runs remember the command line and host, for cron post-mortems.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS command VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR;
-- 2. comments and comment_topics lose their PRIMARY KEY indexes: DuckDB keeps ART indexes
--    in memory, so they made memory grow with the database. Uniqueness is kept by the
--    writer instead (one ingest at a time under the ingest lock; each chunk anti-joins
--    against what is stored, inside its transaction).
DROP VIEW IF EXISTS comments_enriched;
CREATE TABLE comments_v2 AS SELECT * FROM comments;
DROP TABLE comments;
ALTER TABLE comments_v2 RENAME TO comments;
CREATE TABLE comment_topics_v2 AS SELECT DISTINCT * FROM comment_topics;
DROP TABLE comment_topics;
ALTER TABLE comment_topics_v2 RENAME TO comment_topics;
CREATE OR REPLACE VIEW comments_enriched AS
SELECT
    c.*,
    s.label AS sentiment,
    s.score AS sentiment_score,
    s.p_negative, s.p_neutral, s.p_positive,
    s.model AS sentiment_model
FROM comments c
LEFT JOIN sentiment s
    ON s.text_hash = c.text_hash
   AND s.model = (SELECT value FROM meta WHERE key = 'model.sentiment')
