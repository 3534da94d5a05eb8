-- Topic names are case-insensitive: the shown spelling (topic_names, views.sql) of each lower-cased name
-- among $keys that the database knows. Params: $keys (VARCHAR[], lower-cased).
SELECT DISTINCT key, topic FROM topic_names WHERE list_contains($keys::VARCHAR[], key)
