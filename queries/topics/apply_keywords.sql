-- Re-apply keyword topic rules to every stored comment (no model runs).
-- Params: $keyword_topics, $keyword_patterns (parallel VARCHAR[] lists).
DELETE FROM extra_topics WHERE origin = 'keyword';

INSERT INTO extra_topics
SELECT DISTINCT c.platform, c.id, k.topic, 'keyword'
FROM comments c
JOIN (SELECT unnest($keyword_topics::VARCHAR[]) AS topic, unnest($keyword_patterns::VARCHAR[]) AS pattern) k
  ON regexp_matches(c.text, k.pattern)
-- not a topic the comment already has from its fields, in any spelling (topic names are case-insensitive)
WHERE lower(k.topic) IS DISTINCT FROM lower(c.topic)
  AND NOT EXISTS (SELECT 1 FROM extra_topics e
                  WHERE e.platform = c.platform AND e.id = c.id AND e.origin = 'field' AND lower(e.topic) = lower(k.topic))
