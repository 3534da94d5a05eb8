-- Re-apply keyword topic rules to every stored comment (no model runs).
-- Params: $keyword_topics, $keyword_patterns (parallel VARCHAR[] lists).
DELETE FROM extra_topics WHERE origin = 'keyword';

INSERT INTO extra_topics
SELECT DISTINCT c.platform, c.id, k.topic, 'keyword'
FROM comments c
JOIN (SELECT unnest($keyword_topics::VARCHAR[]) AS topic, unnest($keyword_patterns::VARCHAR[]) AS pattern) k
  ON regexp_matches(c.text, k.pattern)
