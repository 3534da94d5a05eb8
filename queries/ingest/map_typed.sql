-- The typed fast path of map_batch.sql (analyzer.ingest.typed): the same canonical columns for records
-- a strict typed reader already parsed into one column per role (`typed`: line_no, record, text_v, id_v,
-- time_num, author_v, topic_v, parent_v, thread_v, retweet_v, quote_v, score_num, lang_v, undecided).
-- `fast` is true only where map_batch.sql would say 'ok' with these very values; every other row
-- (no text, a date given as text, out of range, ...) is mapped again by map_batch.sql, which says why.
-- Only the columns computed here come out, row for row in `typed`'s order: typed.py takes the ones
-- passed through as they are (text, parent, thread, ...) from `typed` itself, without a copy.
WITH timed AS (
    SELECT *,
        CASE WHEN abs(time_num) > 1e11 AND time_num / 1000 BETWEEN epoch($min_time) AND epoch($max_time)
             THEN time_num / 1000 ELSE time_num END AS epoch_s,
        nullif(trim(id_v), '') AS raw_id,
        -- trim() only where there is something to trim: it costs a fifth of this query on every text
        CASE WHEN starts_with(text_v, ' ') OR ends_with(text_v, ' ') THEN trim(text_v) ELSE text_v END AS trimmed,
        CASE WHEN $lower_topics THEN lower(topic_v) ELSE coalesce(topic_v, $source_topic) END AS field_topic
    FROM typed
),
dated AS (
    SELECT *,
        CASE WHEN epoch_s BETWEEN -62135596800 AND 253402300799 THEN to_timestamp(epoch_s) END AS created_at
    FROM timed
)
SELECT
    CASE
        WHEN raw_id IS NULL THEN 'h' || md5(record)
        WHEN $reddit_ids THEN 't1_' || regexp_replace(raw_id, '^t[0-9]_', '')
        ELSE raw_id
    END AS id,
    created_at,
    field_topic AS topic,
    CASE WHEN abs(score_num) < 9e18 THEN round(score_num)::BIGINT END AS score,
    replace(lower(trim(lang_v)), '_', '-') AS lang,  -- BCP 47, lower case, as map_batch.sql
    md5(text_v) AS text_hash,
    -- the judgement of map_batch.sql, each clause leading to 'ok'
    NOT undecided
        AND (raw_id IS NOT NULL OR record IS NOT NULL)  -- a LineBlock's rows have no record: an id-less one is SQL's
        AND text_v IS NOT NULL AND trimmed <> ''
        AND (strlen(trimmed) > $deleted_bytes OR NOT list_contains($deleted_texts, trimmed))  -- no text longer is one
        AND (strlen(text_v) <= $max_chars OR length(text_v) <= $max_chars)  -- bytes >= characters
        AND NOT contains(text_v, chr(0))
        AND (time_num IS NULL OR created_at IS NOT NULL)
        AND (created_at IS NULL OR created_at BETWEEN $min_time AND $max_time) AS fast
FROM dated
