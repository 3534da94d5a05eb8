-- Topics and entities whose volume or negative share in the latest period is anomalous
-- against their own preceding periods: robust z-score = (x - median) / (1.4826 * MAD),
-- with a floor on the scale so that a flat history never divides by zero.
-- Params: $period ('day' | 'week'), $until (NULL = end of the data), $history (periods),
--         $min_volume, $threshold.
WITH models AS (
    SELECT max(value) FILTER (key = 'model.sentiment') AS sentiment_model
    FROM meta
),
latest AS (
    SELECT date_trunc($period, coalesce($until::TIMESTAMPTZ - INTERVAL 1 MICROSECOND, max(created_at))) AS period_start
    FROM comments
),
grid AS (  -- the latest period and the $history periods before it
    SELECT unnest(generate_series(
        (SELECT period_start FROM latest) - to_days(CASE $period WHEN 'week' THEN 7 ELSE 1 END * $history),
        (SELECT period_start FROM latest),
        CASE $period WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 DAY END)) AS period_start
),
labelled AS (
    SELECT c.platform, c.id, c.text_hash, date_trunc($period, c.created_at) AS period_start, s.label
    FROM comments c
    LEFT JOIN sentiment s ON s.text_hash = c.text_hash AND s.model = (SELECT sentiment_model FROM models)
    WHERE c.created_at >= (SELECT min(period_start) FROM grid)
      AND c.created_at < (SELECT max(period_start) FROM grid) + CASE $period WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 DAY END
),
keyed AS (
    SELECT 'topic' AS kind, ct.topic AS name, l.* FROM labelled l
    JOIN comment_topics ct ON ct.platform = l.platform AND ct.id = l.id
    UNION ALL
    SELECT DISTINCT 'entity' AS kind, e.entity || ' (' || e.type || ')' AS name, l.* FROM labelled l
    JOIN entity_mentions e ON e.text_hash = l.text_hash  -- each entity under its usual type
),
counts AS (
    SELECT kind, name, period_start, count(*) AS volume, count(label) AS analysed,
           count(*) FILTER (label = 'negative') / nullif(count(label), 0) AS negative
    FROM keyed GROUP BY ALL
),
series AS (  -- every name × every grid period, zero volume where nothing was said
    SELECT n.kind, n.name, g.period_start, coalesce(c.volume, 0) AS volume, c.analysed, c.negative
    FROM (SELECT DISTINCT kind, name FROM counts) n
    CROSS JOIN grid g
    LEFT JOIN counts c ON c.kind = n.kind AND c.name = n.name AND c.period_start = g.period_start
),
past AS (
    SELECT * FROM series WHERE period_start < (SELECT period_start FROM latest)
),
baseline AS (
    SELECT kind, name, median(volume) AS volume_median, median(negative) AS negative_median,
           count(negative) AS periods_with_sentiment
    FROM past GROUP BY kind, name
),
spread AS (  -- median absolute deviation; NULL negatives (nothing analysed) are ignored
    SELECT p.kind, p.name, median(abs(p.volume - b.volume_median)) AS volume_mad,
           median(abs(p.negative - b.negative_median)) AS negative_mad
    FROM past p JOIN baseline b USING (kind, name)
    GROUP BY p.kind, p.name
),
scored AS (
    SELECT cur.kind, cur.name, cur.period_start::DATE AS period, cur.volume, h.volume_median,
        (cur.volume - h.volume_median) / greatest(1.4826 * sp.volume_mad, 1.0) AS volume_z,
        cur.negative, h.negative_median,
        CASE WHEN h.periods_with_sentiment >= 3 AND cur.negative IS NOT NULL THEN
            (cur.negative - h.negative_median) / greatest(1.4826 * coalesce(sp.negative_mad, 0), 0.05)
        END AS negative_z
    FROM series cur
    JOIN baseline h USING (kind, name)
    JOIN spread sp USING (kind, name)
    WHERE cur.period_start = (SELECT period_start FROM latest) AND cur.volume >= $min_volume
)
SELECT kind, name, period, volume, volume_median AS usual_volume, round(volume_z, 1) AS volume_z,
    negative AS negative_share, negative_median AS usual_negative, round(negative_z, 1) AS negative_z,
    concat_ws('; ',
        CASE WHEN volume_z >= $threshold THEN
            format('volume {} vs usual {:g} (z={:.1f})', volume, volume_median, volume_z) END,
        CASE WHEN negative_z >= $threshold THEN
            format('negative {:.0f}% vs usual {:.0f}% (z={:.1f})', 100 * negative, 100 * negative_median, negative_z) END
    ) AS reasons
FROM scored
WHERE volume_z >= $threshold OR negative_z >= $threshold
ORDER BY greatest(coalesce(volume_z, 0), coalesce(negative_z, 0)) DESC, kind DESC, name
