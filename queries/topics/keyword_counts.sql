SELECT topic, count(*) AS comments FROM comment_topics WHERE origin = 'keyword' GROUP BY topic ORDER BY comments DESC, topic
