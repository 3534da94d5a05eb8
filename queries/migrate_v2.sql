-- Schema v1 → v2.
-- 1. runs remember the command line and host, for cron post-mortems.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS command VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR;
-- 2. comments and comment_topics lose their PRIMARY KEY indexes: DuckDB keeps ART indexes
--    in memory, so they made memory grow with the database. Uniqueness is kept by the
--    writer instead (one ingest at a time under the ingest lock; each chunk anti-joins
--    against what is stored, inside its transaction).
DROP VIEW IF EXISTS comments_enriched;  -- recreated by views.sql after every migration
CREATE TABLE comments_v2 AS SELECT * FROM comments;
DROP TABLE comments;
ALTER TABLE comments_v2 RENAME TO comments;
CREATE TABLE comment_topics_v2 AS SELECT DISTINCT * FROM comment_topics;
DROP TABLE comment_topics;
ALTER TABLE comment_topics_v2 RENAME TO comment_topics
