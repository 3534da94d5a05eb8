-- Replace discovered topics with the new clustering (registered frame `clustered(text_hash, topic)`).
DELETE FROM extra_topics WHERE origin = 'cluster';

INSERT INTO extra_topics
SELECT DISTINCT c.platform, c.id, k.topic, 'cluster'
FROM comments c JOIN clustered k ON k.text_hash = c.text_hash
WHERE ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
  AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
