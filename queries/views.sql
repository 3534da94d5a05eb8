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
   AND s.model = (SELECT value FROM meta WHERE key = 'model.sentiment');

-- entity_mentions: each entity the current NER model (`meta.model.ner`) found, once per text, under
-- one type: the one the model gives that lower-cased surface form most often, ties by name. A
-- model may call "spotify" an ORG in one comment and a PRODUCT in the next; the reports would
-- otherwise split one entity into two rows. Social tokens (#, @, $) have one type anyway.
CREATE OR REPLACE VIEW entity_mentions AS
WITH current_model AS (
    SELECT e.text_hash, lower(e.text) AS entity, e.label
    FROM entities e
    WHERE e.model = (SELECT value FROM meta WHERE key = 'model.ner')
),
types AS (
    SELECT entity, first(label ORDER BY n DESC, label) AS type
    FROM (SELECT entity, label, count(*) AS n FROM current_model GROUP BY entity, label)
    GROUP BY entity
)
SELECT DISTINCT m.text_hash, m.entity, t.type
FROM current_model m
JOIN types t USING (entity);

-- comment_topics: every topic of every comment. Its own field topic lives in comments.topic, the others
-- (more field topics such as hashtags, keyword and cluster topics) in extra_topics (migrate_v6.sql).
CREATE OR REPLACE VIEW comment_topics AS
SELECT platform, id, topic, 'field' AS origin FROM comments WHERE topic <> ''
UNION ALL
SELECT platform, id, topic, origin FROM extra_topics;
