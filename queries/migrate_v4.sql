-- Schema v3 → v4: retweets, boosts and quotes are kept as what they are.
-- is_retweet: the row is a retweet (Mastodon: a boost) of retweet_of; its text is the original's, so the
-- model reads it once (same text_hash) and reports can leave retweets out (`--no-retweets`).
-- quote_of: the tweet a quote tweet quotes (the quote's own text is its own opinion).
-- Existing rows: not known to be retweets (false), which is what they were counted as before.
DROP VIEW IF EXISTS comments_enriched;  -- its c.* is recreated by views.sql with the new columns
ALTER TABLE comments ADD COLUMN IF NOT EXISTS is_retweet BOOLEAN DEFAULT false;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS retweet_of VARCHAR;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS quote_of VARCHAR
