-- A retweet stored as its cut "RT @x: …" copy (no full text of the original in the dump) lost the hashtags
-- past the cut: it takes the field topics (hashtags) of the tweet it retweets, where that tweet is stored.
-- Run once a run has landed, for the retweets and the originals of that run. Params: $run_id.
INSERT INTO extra_topics
SELECT DISTINCT r.platform, r.id, o.topic, 'field'
FROM comments r
JOIN comments orig ON orig.platform = r.platform AND orig.id = r.retweet_of
JOIN topic_spellings o ON o.platform = orig.platform AND o.id = orig.id AND o.origin = 'field'
WHERE r.is_retweet AND r.text LIKE 'RT @%…'
  AND (r.run_id = $run_id OR orig.run_id = $run_id)
  AND o.topic IS DISTINCT FROM r.topic
  AND NOT EXISTS (SELECT 1 FROM extra_topics e WHERE e.platform = r.platform AND e.id = r.id AND e.topic = o.topic)
