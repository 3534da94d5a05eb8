-- The emotion mix of each topic or entity ($of: 'topic' | 'entity'): the share of its analysed comments the
-- current emotion model (`meta.model.emotion`) gives each label, as the model labels them (no correction for
-- its errors is measured for this task), and the most common emotion other than neutral.
-- Comments without a topic are the `(no topic)` row. Params: $of, $since, $until, $topic (NULL = all), $limit.
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.emotion'),
picked AS (
    SELECT c.platform, c.id, c.text_hash
    FROM comments c
    WHERE ($since IS NULL OR c.created_at >= $since::TIMESTAMPTZ)
      AND ($until IS NULL OR c.created_at < $until::TIMESTAMPTZ)
      AND ($topic IS NULL OR EXISTS (
            SELECT 1 FROM comment_topics ct WHERE ct.platform = c.platform AND ct.id = c.id AND ct.topic = $topic))
),
keyed AS (
    SELECT ct.topic AS name, p.text_hash FROM picked p
    JOIN comment_topics ct ON ct.platform = p.platform AND ct.id = p.id
    WHERE $of = 'topic'
    UNION ALL
    SELECT '(no topic)', p.text_hash FROM picked p
    ANTI JOIN comment_topics ct ON ct.platform = p.platform AND ct.id = p.id
    WHERE $of = 'topic'
    UNION ALL
    SELECT DISTINCT e.entity || ' (' || e.type || ')', p.text_hash FROM picked p  -- each entity under its usual type
    JOIN entity_mentions e ON e.text_hash = p.text_hash
    WHERE $of = 'entity'
),
labelled AS (
    SELECT k.name, m.label
    FROM keyed k
    LEFT JOIN emotion m ON m.text_hash = k.text_hash AND m.model = (SELECT model FROM model)
),
counted AS (
    SELECT name, count(*) AS comments, count(label) AS analysed,
        count(*) FILTER (label = 'anger') AS n_anger, count(*) FILTER (label = 'disgust') AS n_disgust,
        count(*) FILTER (label = 'fear') AS n_fear, count(*) FILTER (label = 'joy') AS n_joy,
        count(*) FILTER (label = 'neutral') AS n_neutral, count(*) FILTER (label = 'sadness') AS n_sadness,
        count(*) FILTER (label = 'surprise') AS n_surprise
    FROM labelled GROUP BY name
)
SELECT
    name,
    comments,
    analysed,
    n_anger / nullif(analysed, 0) AS anger,
    n_disgust / nullif(analysed, 0) AS disgust,
    n_fear / nullif(analysed, 0) AS fear,
    n_joy / nullif(analysed, 0) AS joy,
    n_neutral / nullif(analysed, 0) AS neutral,
    n_sadness / nullif(analysed, 0) AS sadness,
    n_surprise / nullif(analysed, 0) AS surprise,
    -- the most common emotion besides neutral (ties: the first in this order); none when every one is neutral
    CASE WHEN analysed > n_neutral THEN
        ['anger', 'disgust', 'fear', 'joy', 'sadness', 'surprise'][
            list_position(emotions, list_max(emotions))] END AS top_emotion,
    count(*) OVER () AS _total
FROM (SELECT *, [n_anger, n_disgust, n_fear, n_joy, n_sadness, n_surprise] AS emotions FROM counted)
ORDER BY comments DESC, name
LIMIT $limit
