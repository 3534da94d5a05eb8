-- Where the data an alerts report reads ends (analyzer.reports.run binds this into alerts.sql and says it):
-- last_start: the start of its last period; newest: its newest comment; data_periods: the periods before the
-- last one since its first comment; covered: how much of a usual period the last one holds so far, by the
-- data's own profile: the share of the preceding $history periods' comments posted no later into their
-- period than the newest comment is into the last one (a dump that ends at 09:00 covers the part of a day
-- that usually holds ~30% of its comments, not 9/24 of it). 1 where there is no history.
-- Params: $period ('day' | 'week'), $until (NULL = no end), $history.
WITH step AS (
    SELECT CASE $period WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 DAY END AS length
),
data AS (
    SELECT created_at FROM comments
    WHERE created_at IS NOT NULL AND ($until IS NULL OR created_at < $until::TIMESTAMPTZ)
),
ends AS (
    SELECT max(created_at) AS newest, date_trunc($period, max(created_at)) AS last_start,
           date_trunc($period, min(created_at)) AS first_start
    FROM data
)
SELECT e.last_start, e.newest, datediff($period, e.first_start, e.last_start) AS data_periods,
       coalesce((
           SELECT avg(CASE WHEN d.created_at - date_trunc($period, d.created_at) <= e.newest - e.last_start
                           THEN 1.0 ELSE 0.0 END)
           FROM data d
           WHERE d.created_at >= e.last_start - $history * (SELECT length FROM step) AND d.created_at < e.last_start
       ), 1.0) AS covered
FROM ends e
