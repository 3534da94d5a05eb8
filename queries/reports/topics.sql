-- Every topic with volume, sentiment counts (of analysed comments) and the change against the previous
-- period of equal length. The share columns are NULL here: `analyzer.labels.shares.apply` fills them from the
-- counts, corrected for the model's measured confusion (or as counted, with --raw).
-- Comments without any topic are one row, `(no topic)`, so that they are never invisible.
-- Params: $since, $until (TIMESTAMPTZ or NULL), $limit, $no_retweets (leave retweets out of the sentiment and
-- offensive shares).
WITH model AS (SELECT value AS model FROM meta WHERE key = 'model.sentiment'),
offensive_model AS (SELECT value AS model FROM meta WHERE key = 'model.offensive'),
bounds AS (
    SELECT
        coalesce($since::TIMESTAMPTZ, min(created_at)) AS since,
        coalesce($until::TIMESTAMPTZ, max(created_at) + INTERVAL 1 SECOND) AS until
    FROM comments
),
with_topic AS (
    SELECT ct.topic, c.platform, c.id
    FROM comment_topics ct
    JOIN comments c ON c.platform = ct.platform AND c.id = ct.id
    UNION ALL
    SELECT '(no topic)', c.platform, c.id
    FROM comments c
    ANTI JOIN comment_topics ct ON ct.platform = c.platform AND ct.id = c.id
),
labelled AS (
    -- with --no-retweets a retweet still counts in the volume, not in the sentiment shares
    SELECT t.topic, c.created_at, CASE WHEN $no_retweets AND c.is_retweet THEN NULL ELSE s.label END AS label,
        CASE WHEN $no_retweets AND c.is_retweet THEN NULL ELSE o.label END AS offensive_label
    FROM with_topic t
    JOIN comments c ON c.platform = t.platform AND c.id = t.id
    LEFT JOIN sentiment s ON s.text_hash = c.text_hash AND s.model = (SELECT model FROM model)
    LEFT JOIN offensive o ON o.text_hash = c.text_hash AND o.model = (SELECT model FROM offensive_model)
),
current AS (
    SELECT topic,
        count(*) AS comments,
        count(label) AS analysed,
        count(*) FILTER (label = 'positive') AS n_pos,
        count(*) FILTER (label = 'neutral') AS n_neu,
        count(*) FILTER (label = 'negative') AS n_neg,
        count(offensive_label) AS offensive_analysed,
        count(*) FILTER (offensive_label = 'offensive') AS n_offensive
    FROM labelled, bounds b
    WHERE ($since IS NULL AND $until IS NULL) OR (created_at >= b.since AND created_at < b.until)
    GROUP BY topic
),
previous AS (
    SELECT topic,
        count(*) AS comments,
        count(*) FILTER (label = 'positive') AS n_pos,
        count(*) FILTER (label = 'neutral') AS n_neu,
        count(*) FILTER (label = 'negative') AS n_neg
    FROM labelled, bounds b
    WHERE $since IS NOT NULL  -- without --since there is no previous period to compare with
      AND created_at >= b.since - (b.until - b.since) AND created_at < b.since
    GROUP BY topic
)
SELECT
    c.topic,
    c.comments,
    c.analysed,
    NULL::DOUBLE AS positive,
    NULL::DOUBLE AS neutral,
    NULL::DOUBLE AS negative,
    NULL::DOUBLE AS negative_margin,
    NULL::DOUBLE AS net_sentiment,
    CASE WHEN $since IS NOT NULL THEN c.comments - coalesce(p.comments, 0) END AS volume_change,
    NULL::DOUBLE AS net_change,
    -- the share the offensive model flags, as it labels them (NULL where that task has not run)
    c.n_offensive / nullif(c.offensive_analysed, 0) AS offensive,
    NULL::DOUBLE AS positive_low, NULL::DOUBLE AS positive_high,
    NULL::DOUBLE AS neutral_low, NULL::DOUBLE AS neutral_high,
    NULL::DOUBLE AS negative_low, NULL::DOUBLE AS negative_high,
    c.n_pos AS n_positive,
    c.n_neu AS n_neutral,
    c.n_neg AS n_negative,
    p.n_pos AS prev_n_positive,
    p.n_neu AS prev_n_neutral,
    p.n_neg AS prev_n_negative,
    count(*) OVER () AS _total
FROM current c
LEFT JOIN previous p USING (topic)
ORDER BY c.comments DESC, c.topic
LIMIT $limit
