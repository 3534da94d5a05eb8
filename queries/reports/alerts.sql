-- Topics and entities whose volume, negative share, offensive share or anger share in their latest period is
-- anomalous against their own preceding periods: robust z-score = (x - median) / scale, scale = 1.4826 * MAD,
-- floored. The offensive and anger shares are scored where those tasks ran (as their models label them).
--
-- * Each name has its own latest period: the last one in which it has comments (before $until when
--   given). A database that holds 2015 and 2024 data alerts on 2015 names too, and says which period.
-- * History counts only periods since the name's first comment: the days before a topic existed are
--   not "zero volume". A name with fewer than $min_history such periods is reported as `new`
--   (status 'new'), never scored.
-- * Scale floors: counts vary at least as a Poisson count does (sqrt of the usual volume, and 1), and a
--   share at least as a binomial share of the latest period's analysed comments does (and 0.05), so a
--   steady series with a lucky quiet history does not alert on ordinary noise.
-- * A last period the data ends inside (a dump that stops at 09:00) is compared by its rate: its volume
--   against the part of the usual volume that a period holds by then ($covered, from alerts_span.sql).
-- * Data shorter than $min_history periods is scored on what it has: a name needs at least the periods the
--   data holds before its last ($data_periods), and one.
-- Params: $period ('day' | 'week'), $until (NULL = no end), $history (periods), $min_history,
--         $min_volume, $threshold, $adj_negative_{negative,neutral,positive} (the share correction),
--         $last_start, $covered, $data_periods (alerts_span.sql).
-- Rows: status ('alert' | 'new') and the columns of both; reporting splits them into two sections.
WITH models AS (
    SELECT max(value) FILTER (key = 'model.sentiment') AS sentiment_model,
           max(value) FILTER (key = 'model.offensive') AS offensive_model,
           max(value) FILTER (key = 'model.emotion') AS emotion_model
    FROM meta
),
step AS (
    SELECT CASE $period WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 DAY END AS length
),
labelled AS (
    SELECT c.platform, c.id, c.text_hash, date_trunc($period, c.created_at) AS period_start, s.label,
           o.label AS offensive_label, m.label AS emotion_label
    FROM comments c
    LEFT JOIN sentiment s ON s.text_hash = c.text_hash AND s.model = (SELECT sentiment_model FROM models)
    LEFT JOIN offensive o ON o.text_hash = c.text_hash AND o.model = (SELECT offensive_model FROM models)
    LEFT JOIN emotion m ON m.text_hash = c.text_hash AND m.model = (SELECT emotion_model FROM models)
    WHERE $until IS NULL OR c.created_at < $until::TIMESTAMPTZ
),
keyed AS (
    SELECT 'topic' AS kind, ct.topic AS name, l.* FROM labelled l
    JOIN comment_topics ct ON ct.platform = l.platform AND ct.id = l.id
    UNION ALL
    SELECT DISTINCT 'entity' AS kind, e.entity || ' (' || e.type || ')' AS name, l.* FROM labelled l
    JOIN entity_mentions e ON e.text_hash = l.text_hash  -- each entity under its usual type
),
counts AS (  -- the negative share corrected for the model's measured confusion: the linear part of
            -- analyzer.labels.shares ($adj_negative_*: a row of (Cᵀ)⁻¹, the identity with --raw), clipped to [0, 1]
    SELECT kind, name, period_start, volume, analysed, offensive, offensive_analysed, anger, emotion_analysed,
           CASE WHEN analysed > 0 THEN  -- greatest() skips NULLs: nothing analysed must stay NULL, not 0
               least(1.0, greatest(0.0, $adj_negative_negative * q_neg + $adj_negative_neutral * q_neu
                                        + $adj_negative_positive * q_pos)) END AS negative
    FROM (
        SELECT kind, name, period_start, count(*) AS volume, count(label) AS analysed,
               count(*) FILTER (label = 'negative') / nullif(count(label), 0) AS q_neg,
               count(*) FILTER (label = 'neutral') / nullif(count(label), 0) AS q_neu,
               count(*) FILTER (label = 'positive') / nullif(count(label), 0) AS q_pos,
               count(offensive_label) AS offensive_analysed,
               count(*) FILTER (offensive_label = 'offensive') / nullif(count(offensive_label), 0) AS offensive,
               count(emotion_label) AS emotion_analysed,
               count(*) FILTER (emotion_label = 'anger') / nullif(count(emotion_label), 0) AS anger
        FROM keyed GROUP BY ALL
    )
),
names AS (  -- the window of each name: its latest period and up to $history periods before it, since it began
    SELECT kind, name, max(period_start) AS latest, min(period_start) AS first_seen,
           greatest(min(period_start), max(period_start) - $history * (SELECT length FROM step)) AS window_start
    FROM counts GROUP BY kind, name
),
series AS (  -- every name × every period of its window, zero volume where nothing was said
    SELECT n.kind, n.name, n.latest, n.first_seen, g.period_start, coalesce(c.volume, 0) AS volume, c.analysed,
           c.negative, c.offensive, c.offensive_analysed, c.anger, c.emotion_analysed
    FROM names n
    CROSS JOIN LATERAL (
        SELECT unnest(generate_series(n.window_start, n.latest, (SELECT length FROM step))) AS period_start
    ) g
    LEFT JOIN counts c ON c.kind = n.kind AND c.name = n.name AND c.period_start = g.period_start
),
past AS (
    SELECT * FROM series WHERE period_start < latest
),
baseline AS (
    SELECT kind, name, count(*) AS history_periods, median(volume) AS volume_median,
           median(negative) AS negative_median, count(negative) AS periods_with_sentiment,
           median(offensive) AS offensive_median, count(offensive) AS periods_with_offensive,
           median(anger) AS anger_median, count(anger) AS periods_with_emotion
    FROM past GROUP BY kind, name
),
spread AS (  -- median absolute deviation; NULL negatives (nothing analysed) are ignored
    SELECT p.kind, p.name, median(abs(p.volume - b.volume_median)) AS volume_mad,
           median(abs(p.negative - b.negative_median)) AS negative_mad,
           median(abs(p.offensive - b.offensive_median)) AS offensive_mad,
           median(abs(p.anger - b.anger_median)) AS anger_mad
    FROM past p JOIN baseline b USING (kind, name)
    GROUP BY p.kind, p.name
),
partial AS (  -- the share of a usual period each name's latest one covers: 1 unless it is the data's last
    SELECT kind, name,
           CASE WHEN latest = $last_start::TIMESTAMPTZ THEN $covered::DOUBLE ELSE 1.0 END AS covered
    FROM names
),
scored AS (
    SELECT cur.kind, cur.name, cur.period_start::DATE AS period, cur.first_seen::DATE AS first_seen,
        coalesce(h.history_periods, 0) AS history_periods, cur.volume, pt.covered,
        h.volume_median * pt.covered AS volume_median,
        (cur.volume - h.volume_median * pt.covered)
            / greatest(1.4826 * sp.volume_mad * pt.covered, sqrt(greatest(h.volume_median * pt.covered, 1.0)), 1.0)
            AS volume_z,
        cur.negative, h.negative_median,
        CASE WHEN h.periods_with_sentiment >= least($min_history, 3, greatest($data_periods, 1)) AND cur.negative IS NOT NULL THEN
            (cur.negative - h.negative_median)
                / greatest(1.4826 * coalesce(sp.negative_mad, 0),
                           sqrt(h.negative_median * (1 - h.negative_median) / cur.analysed), 0.05)
        END AS negative_z,
        cur.offensive, h.offensive_median,
        CASE WHEN h.periods_with_offensive >= least($min_history, 3, greatest($data_periods, 1)) AND cur.offensive IS NOT NULL THEN
            (cur.offensive - h.offensive_median)
                / greatest(1.4826 * coalesce(sp.offensive_mad, 0),
                           sqrt(h.offensive_median * (1 - h.offensive_median) / cur.offensive_analysed), 0.05)
        END AS offensive_z,
        cur.anger, h.anger_median,
        CASE WHEN h.periods_with_emotion >= least($min_history, 3, greatest($data_periods, 1)) AND cur.anger IS NOT NULL THEN
            (cur.anger - h.anger_median)
                / greatest(1.4826 * coalesce(sp.anger_mad, 0),
                           sqrt(h.anger_median * (1 - h.anger_median) / cur.emotion_analysed), 0.05)
        END AS anger_z
    FROM series cur
    JOIN partial pt USING (kind, name)
    LEFT JOIN baseline h USING (kind, name)
    LEFT JOIN spread sp USING (kind, name)
    WHERE cur.period_start = cur.latest AND cur.volume >= $min_volume
),
classified AS (
    SELECT *, CASE WHEN history_periods < least($min_history, $history, greatest($data_periods, 1)) THEN 'new' END
        AS new_status
    FROM scored
)
SELECT
    kind, name, period, first_seen, history_periods, volume,
    -- the usual volume by the point the latest period has reached (all of it unless the data ends inside it)
    CASE WHEN new_status IS NULL THEN round(volume_median, 1) END AS usual_volume,
    round(covered, 3) AS period_covered,
    CASE WHEN new_status IS NULL THEN round(volume_z, 1) END AS volume_z,
    negative AS negative_share,
    CASE WHEN new_status IS NULL THEN negative_median END AS usual_negative,
    CASE WHEN new_status IS NULL THEN round(negative_z, 1) END AS negative_z,
    offensive AS offensive_share,
    CASE WHEN new_status IS NULL THEN offensive_median END AS usual_offensive,
    CASE WHEN new_status IS NULL THEN round(offensive_z, 1) END AS offensive_z,
    anger AS anger_share,
    CASE WHEN new_status IS NULL THEN anger_median END AS usual_anger,
    CASE WHEN new_status IS NULL THEN round(anger_z, 1) END AS anger_z,
    CASE WHEN new_status IS NOT NULL THEN
        format('new: first seen {}, {} earlier {}(s) of history (fewer than {})', first_seen, history_periods,
               $period, least($min_history, greatest($data_periods, 1)))
    ELSE concat_ws('; ',
        CASE WHEN volume_z >= $threshold THEN
            format('volume {} vs usual {:g}{} (z={:.1f})', volume, round(volume_median, 1),
                   CASE WHEN covered < 1 THEN format(' by this time of a {}', $period) ELSE '' END, volume_z) END,
        CASE WHEN negative_z >= $threshold THEN
            format('negative {:.0f}% vs usual {:.0f}% (z={:.1f})', 100 * negative, 100 * negative_median, negative_z) END,
        CASE WHEN offensive_z >= $threshold THEN
            format('offensive {:.0f}% vs usual {:.0f}% (z={:.1f})', 100 * offensive, 100 * offensive_median,
                   offensive_z) END,
        CASE WHEN anger_z >= $threshold THEN
            format('anger {:.0f}% vs usual {:.0f}% (z={:.1f})', 100 * anger, 100 * anger_median, anger_z) END
    ) END AS reasons
FROM classified
-- one section at a time: $status is 'alert' (scored and anomalous) or 'new' (too little history to score)
WHERE CASE WHEN $status = 'new' THEN new_status IS NOT NULL
           ELSE new_status IS NULL AND (volume_z >= $threshold OR negative_z >= $threshold
                                        OR offensive_z >= $threshold OR anger_z >= $threshold) END
ORDER BY greatest(coalesce(volume_z, 0), coalesce(negative_z, 0), coalesce(offensive_z, 0), coalesce(anger_z, 0)) DESC,
         volume DESC, kind DESC, name
