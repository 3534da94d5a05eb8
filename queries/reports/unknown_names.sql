-- The names among $names the database does not know: topics of `comment_topics` ($kind = 'topic'),
-- or entity labels ($kind = 'label', compared upper-cased, as the entities report does).
-- Params: $kind, $names (VARCHAR[]).
SELECT n
FROM unnest($names::VARCHAR[]) AS t(n)
WHERE CASE $kind
        WHEN 'topic' THEN NOT EXISTS (SELECT 1 FROM comment_topics ct WHERE ct.topic = n)
        ELSE NOT EXISTS (SELECT 1 FROM entities e WHERE e.label = upper(n))
      END
