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

-- topic_spellings: every topic of every comment as stored. Its own field topic lives in comments.topic, the
-- others (more field topics such as hashtags, keyword and cluster topics) in extra_topics (migrate_v6.sql).
CREATE OR REPLACE VIEW topic_spellings AS
SELECT platform, id, topic, 'field' AS origin FROM comments WHERE topic <> ''
UNION ALL
SELECT platform, id, topic, origin FROM extra_topics;

-- topic_names: topic names are case-insensitive (`Brexit`, `brexit` and `BREXIT` are one topic): each
-- lower-cased name (`key`) with the spelling shown for it, its most common one (ties: the first in order).
CREATE OR REPLACE VIEW topic_names AS
SELECT key, first(topic ORDER BY n DESC, topic) AS topic
FROM (SELECT lower(topic) AS key, topic, count(*) AS n FROM topic_spellings GROUP BY topic)
GROUP BY key;

-- comment_topics: every topic of every comment, once, under its shown spelling (topic_names). A comment
-- filed under one topic twice (its field and a keyword rule, `United` and `#united`) is one row, with its
-- first origin of field, keyword, cluster.
CREATE OR REPLACE VIEW comment_topics AS
SELECT s.platform, s.id, n.topic,
       arg_min(s.origin, CASE s.origin WHEN 'field' THEN 0 WHEN 'keyword' THEN 1 ELSE 2 END) AS origin
FROM topic_spellings s
JOIN topic_names n ON n.key = lower(s.topic)
GROUP BY s.platform, s.id, n.topic;
