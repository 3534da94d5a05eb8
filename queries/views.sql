-- Views, (re)created after the schema is created or migrated, so they always match the tables.
-- comments_enriched: every comment with the current sentiment model's result (`meta.model.sentiment`).
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
