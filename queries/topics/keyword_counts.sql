SELECT topic, count(*) AS comments FROM topic_spellings WHERE origin = 'keyword' GROUP BY topic ORDER BY comments DESC, topic
