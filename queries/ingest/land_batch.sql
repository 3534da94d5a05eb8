-- The second half of landing one mapped batch: the new rows (`new_rows`, from new_rows.sql) and their topics.
INSERT INTO comments (platform, id, source, created_at, author, topic, parent_id, thread_id, score, lang, text,
                      text_hash, run_id, is_retweet, retweet_of, quote_of, line_no)
SELECT platform, id, source, created_at, author, topic, parent_id, thread_id, score, lang, text, text_hash, $run_id,
       is_retweet, retweet_of, quote_of, line_no
FROM mapped SEMI JOIN new_rows USING (row);

-- new comments only, and topics are distinct per comment: no duplicates. Their own topic is comments.topic
-- (the comment_topics view), so only further field topics (hashtags) are written here: the first $max_topics
-- (the mapping keeps one more, to tell that there were more).
INSERT INTO extra_topics
SELECT platform, id, unnest(list_filter(topics[1:$max_topics], lambda t: t IS DISTINCT FROM topic)) AS topic, 'field'
FROM mapped SEMI JOIN new_rows USING (row)
WHERE len(topics) > 1 OR (len(topics) = 1 AND topics[1] IS DISTINCT FROM topic);

INSERT INTO extra_topics
SELECT DISTINCT n.platform, n.id, k.topic, 'keyword'
FROM mapped n SEMI JOIN new_rows USING (row)
JOIN (SELECT unnest($keyword_topics::VARCHAR[]) AS topic, unnest($keyword_patterns::VARCHAR[]) AS pattern) k
  ON regexp_matches(n.text, k.pattern)
-- not a topic the comment already has from its fields, in any spelling (topic names are case-insensitive)
WHERE lower(k.topic) IS DISTINCT FROM lower(n.topic)
  AND NOT list_contains(list_transform(n.topics, lambda t: lower(t)), lower(k.topic))
