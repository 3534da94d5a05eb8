-- Land one mapped batch (temp table `mapped`) in one transaction's worth of statements.
INSERT INTO rejects
SELECT $run_id, source, line_no, reason, left(record, 65536) FROM mapped WHERE outcome = 'reject';

-- first_of_id: the chunk's first 'ok' row of each (platform, id), marked by the mapper (landing.first_of_id)
CREATE OR REPLACE TEMP TABLE new_comments AS
SELECT f.line_no, f.platform, f.id, f.source, f.created_at, f.author, f.topic, f.topics, f.parent_id, f.thread_id,
       f.score, f.lang, f.text, f.text_hash, f.is_retweet, f.retweet_of, f.quote_of
FROM mapped f
ANTI JOIN comments c ON c.platform = f.platform AND c.id = f.id
WHERE f.first_of_id;

INSERT INTO comments (platform, id, source, created_at, author, topic, parent_id, thread_id, score, lang, text,
                      text_hash, run_id, is_retweet, retweet_of, quote_of)
SELECT platform, id, source, created_at, author, topic, parent_id, thread_id, score, lang, text, text_hash, $run_id,
       is_retweet, retweet_of, quote_of
FROM new_comments;

INSERT INTO comment_topics  -- new comments only, and topics are distinct per comment: no duplicates
SELECT platform, id, unnest(topics) AS topic, 'field' FROM new_comments WHERE len(topics) > 0;

INSERT INTO comment_topics
SELECT DISTINCT n.platform, n.id, k.topic, 'keyword'
FROM new_comments n
JOIN (SELECT unnest($keyword_topics::VARCHAR[]) AS topic, unnest($keyword_patterns::VARCHAR[]) AS pattern) k
  ON regexp_matches(n.text, k.pattern)
