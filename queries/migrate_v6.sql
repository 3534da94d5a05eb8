-- Schema v5 → v6: a comment's own topic (comments.topic) is no longer copied into a second table.
-- It was one `comment_topics` row per comment, written with every comment: a quarter of landing a
-- chunk with --tasks none, and as many rows as `comments`. Mapping gives every comment with a non-empty
-- topic that topic among its field topics, so `comment_topics` is now a view (views.sql): comments.topic
-- as a 'field' topic, and `extra_topics`, the rest: further field topics (hashtags), keyword and
-- cluster topics.
CREATE TABLE extra_topics (
    platform VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    topic VARCHAR NOT NULL,
    origin VARCHAR NOT NULL            -- field | keyword | cluster
);
INSERT INTO extra_topics
SELECT ct.platform, ct.id, ct.topic, ct.origin
FROM comment_topics ct
WHERE NOT (ct.origin = 'field' AND EXISTS (
    SELECT 1 FROM comments c WHERE c.platform = ct.platform AND c.id = ct.id AND c.topic = ct.topic));
DROP TABLE comment_topics
