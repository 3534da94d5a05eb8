-- Entity-level sentiment: each entity (lower-cased surface form, under its usual type: the
-- entity_mentions view) with its mentions, sentiment split, net sentiment and its five topics
-- with the most mentions of it, most first; _total: how many entities there are.
-- Params: $since, $until, $label (NULL = all), $topic (NULL = all), $limit.
WITH models AS (
    SELECT max(value) FILTER (key = 'model.sentiment') AS sentiment_model,
           max(value) FILTER (key = 'model.offensive') AS offensive_model
    FROM meta
),
mentions AS (
    SELECT DISTINCT c.platform, c.id, c.text_hash, c.topic, e.entity, e.type AS label
    FROM entity_mentions e
    JOIN comments c ON c.text_hash = e.text_hash
    WHERE ($label IS NULL OR e.type = upper($label))
      AND ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
      AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
      AND ($topic IS NULL OR EXISTS (
            SELECT 1 FROM comment_topics ct WHERE ct.platform = c.platform AND ct.id = c.id AND ct.topic = $topic))
),
topic_mentions AS (  -- an entity's topics, most mentions first
    SELECT entity, label, list(topic ORDER BY n DESC, topic) AS topics
    FROM (SELECT entity, label, topic, count(*) AS n FROM mentions WHERE topic IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
)
SELECT
    m.entity,
    m.label,
    count(*) AS mentions,
    -- the shares are filled from the counts by analyzer.labels.shares.apply (corrected, or --raw)
    NULL::DOUBLE AS positive,
    NULL::DOUBLE AS neutral,
    NULL::DOUBLE AS negative,
    NULL::DOUBLE AS negative_margin,
    NULL::DOUBLE AS net_sentiment,
    -- the share the offensive model flags, as it labels them (NULL where that task has not run)
    count(*) FILTER (o.label = 'offensive') / nullif(count(o.label), 0) AS offensive,
    array_to_string(list_slice(any_value(t.topics), 1, 5), ', ') AS topics,
    NULL::DOUBLE AS negative_low,
    NULL::DOUBLE AS negative_high,
    count(*) FILTER (s.label = 'positive') AS n_positive,
    count(*) FILTER (s.label = 'neutral') AS n_neutral,
    count(*) FILTER (s.label = 'negative') AS n_negative,
    count(*) OVER () AS _total
FROM mentions m
LEFT JOIN topic_mentions t ON t.entity = m.entity AND t.label = m.label
LEFT JOIN sentiment s ON s.text_hash = m.text_hash AND s.model = (SELECT sentiment_model FROM models)
LEFT JOIN offensive o ON o.text_hash = m.text_hash AND o.model = (SELECT offensive_model FROM models)
GROUP BY m.entity, m.label
ORDER BY mentions DESC, m.entity
LIMIT $limit
