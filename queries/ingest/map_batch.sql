-- Map one batch of raw records (`batch(line_no, record)`) onto canonical comment columns.
-- Field locations come from the preset as lists of JSON paths (first non-null wins), all
-- bound as parameters. Each row gets an outcome: ok | reject | skip, with a reason.
WITH docs AS (
    SELECT line_no, record,
           CASE WHEN json_valid(record) THEN record::JSON END AS j
    FROM batch
),
extracted AS (
    -- one parse per record: every candidate path of every column in a single json_extract;
    -- $<column>_lo/_hi are that column's slice of $all_paths
    SELECT line_no, record, j, json_type(j) AS doc_type,
        json_extract(j, $all_paths) AS v,
        json_extract(j, $tag_array_path) AS tags_raw,
        json_extract(j, $references_path) AS refs_raw,
        -- set by analyzer.sources.containers: an earlier version of an edited tweet, a boost without its post
        json_extract_string(j, '$._opinions.skip') AS skip_v
    FROM docs
),
picked AS (
    SELECT line_no, record, j, doc_type, skip_v,
        list_any_value(vn[$text_lo:$text_hi]) AS text_v,
        -- the lambdas below run only for rows that need them: most rows have a text and a string author
        CASE WHEN list_any_value(vn[$text_lo:$text_hi]) IS NULL THEN
            list_transform(list_filter(vn[$compose_lo:$compose_hi], lambda x: json_type(x) = 'VARCHAR' AND trim(x ->> '$') <> ''),
                           lambda x: x ->> '$')
        END AS compose_v,
        list_any_value(vn[$id_lo:$id_hi]) AS id_v,
        -- an empty time (a blank CSV cell) is no time, not an unparseable one
        CASE WHEN json_type(list_any_value(vn[$time_lo:$time_hi])) <> 'VARCHAR'
                  OR trim(list_any_value(vn[$time_lo:$time_hi]) ->> '$') <> '' THEN list_any_value(vn[$time_lo:$time_hi])
             ELSE list_filter(vn[$time_lo:$time_hi], lambda x: json_type(x) <> 'VARCHAR' OR trim(x ->> '$') <> '')[1]
        END AS time_v,
        CASE WHEN json_type(vn[$author_lo]) = 'VARCHAR' THEN vn[$author_lo]
             ELSE list_filter(vn[$author_lo:$author_hi], lambda x: json_type(x) = 'VARCHAR')[1] END AS author_v,
        CASE WHEN json_type(vn[$topic_lo]) IN ('VARCHAR', 'BIGINT', 'UBIGINT') THEN vn[$topic_lo]
             ELSE list_filter(vn[$topic_lo:$topic_hi], lambda x: json_type(x) IN ('VARCHAR', 'BIGINT', 'UBIGINT'))[1] END AS topic_v,
        -- hashtags: an array of strings or of objects with `text` (API v1.1) or `tag` (v2)
        CASE WHEN json_type(tags_raw) = 'ARRAY' THEN list_filter(list_transform(
            json_extract(tags_raw, '$[*]'),
            lambda x: coalesce(x ->> '$.text', x ->> '$.tag', ltrim(x ->> '$.name', '#'), CASE WHEN json_type(x) = 'VARCHAR' THEN x ->> '$' END)
        ), lambda x: x IS NOT NULL) ELSE [] END AS tags_v,
        list_any_value(vn[$parent_lo:$parent_hi]) AS parent_v,
        list_any_value(vn[$retweet_of_lo:$retweet_of_hi]) AS retweet_v,
        list_any_value(vn[$quote_of_lo:$quote_of_hi]) AS quote_v,
        -- API v2: replies, quotes and retweets are typed entries of referenced_tweets
        CASE WHEN json_type(refs_raw) = 'ARRAY' THEN json_extract(refs_raw, '$[*]') END AS refs_v,
        list_any_value(vn[$thread_lo:$thread_hi]) AS thread_v,
        list_any_value(vn[$score_lo:$score_hi]) AS score_v,
        CASE WHEN list_any_value(vn[$lang_lo:$lang_hi]) IS NOT NULL THEN list_filter(
            list_transform(vn[$lang_lo:$lang_hi], lambda x: x ->> '$'), lambda x: x IS NOT NULL AND NOT list_contains($no_language_codes, x)
        )[1] END AS lang_v,
        -- a language the dump gives for the account, not the text (analyzer.text.langid.check_hints)
        CASE WHEN list_any_value(vn[$lang_hint_lo:$lang_hint_hi]) IS NOT NULL THEN list_filter(
            list_transform(vn[$lang_hint_lo:$lang_hint_hi], lambda x: x ->> '$'), lambda x: x IS NOT NULL AND NOT list_contains($no_language_codes, x)
        )[1] END AS lang_hint_v,
        -- a Pushshift submission has a title and no body
        $reddit_ids AND list_any_value(vn[$text_lo:$text_hi]) IS NULL AND vn[$compose_lo] IS NOT NULL AS is_submission
    FROM (
        SELECT *, list_transform(v, lambda x: CASE WHEN json_type(x) <> 'NULL' THEN x END) AS vn  -- JSON null → NULL
        FROM extracted
    )
),
typed AS (
    SELECT *,
        -- the topic the record's own field gives (subreddit, channel, --topic-field), before hashtags
        CASE WHEN $lower_topics THEN lower(topic_v ->> '$') ELSE coalesce(topic_v ->> '$', $source_topic) END AS field_topic,
        CASE
            -- flattened API v2 tweets (twarc2 flatten) carry the retweeted tweet, full text included, in referenced_tweets
            WHEN json_type(text_v) = 'VARCHAR' THEN coalesce(
                list_filter(refs_v, lambda r: r ->> '$.type' = 'retweeted' AND json_type(r, '$.text') = 'VARCHAR')[1] ->> '$.text',
                text_v ->> '$')
            WHEN text_v IS NULL AND len(compose_v) > 0 THEN array_to_string(compose_v, chr(10) || chr(10))
        END AS text,
        -- an empty id is no id: the row gets a content-hash id like any row without one
        CASE WHEN json_type(id_v) IN ('VARCHAR', 'BIGINT', 'UBIGINT') THEN nullif(trim(id_v ->> '$'), '') END AS raw_id,
        coalesce(parent_v ->> '$', list_filter(refs_v, lambda r: r ->> '$.type' = 'replied_to')[1] ->> '$.id') AS parent_id,
        coalesce(retweet_v ->> '$', list_filter(refs_v, lambda r: r ->> '$.type' = 'retweeted')[1] ->> '$.id') AS retweet_of,
        coalesce(quote_v ->> '$', list_filter(refs_v, lambda r: r ->> '$.type' = 'quoted')[1] ->> '$.id') AS quote_of,
        CASE
            WHEN json_type(time_v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN time_v::DOUBLE
            WHEN json_type(time_v) = 'VARCHAR' AND regexp_full_match(time_v ->> '$', '-?[0-9]+(\.[0-9]+)?') THEN (time_v ->> '$')::DOUBLE
        END AS epoch_raw,
        CASE WHEN json_type(time_v) = 'VARCHAR' THEN trim(time_v ->> '$') END AS time_s,
        CASE
            WHEN json_type(score_v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND abs(score_v::DOUBLE) < 9e18 THEN round(score_v::DOUBLE)::BIGINT
            WHEN json_type(score_v) = 'VARCHAR' AND regexp_full_match(trim(score_v ->> '$'), '[0-9]+(\.[0-9]+)?[KkMm]?') THEN
                round(
                    regexp_extract(trim(score_v ->> '$'), '[0-9.]+')::DOUBLE
                    * CASE upper(right(trim(score_v ->> '$'), 1)) WHEN 'K' THEN 1e3 WHEN 'M' THEN 1e6 ELSE 1 END
                )::BIGINT
        END AS score
    FROM picked
),
epochs AS (
    -- milliseconds when the value is a plausible date in milliseconds, else seconds (a year-9999
    -- value in seconds is reported as year 9999, not as 1978 read in milliseconds)
    SELECT *,
        CASE WHEN abs(epoch_raw) > 1e11 AND epoch_raw / 1000 BETWEEN epoch($min_time) AND epoch($max_time)
             THEN epoch_raw / 1000 ELSE epoch_raw END AS epoch_s
    FROM typed
),
timed AS (
    SELECT *,
        CASE
            WHEN epoch_s IS NOT NULL AND epoch_s BETWEEN -62135596800 AND 253402300799 THEN to_timestamp(epoch_s)
            WHEN time_s IS NOT NULL THEN coalesce(
                -- --time-format, then the order (month/day or day/month) analyzer.sources.dates found for this file's
                -- numeric dates; a numeric date is never read in a guessed order
                try_strptime(time_s, $time_formats)::TIMESTAMPTZ,
                try_cast(time_s AS TIMESTAMPTZ),
                try_strptime(time_s, ['%a %b %d %H:%M:%S %z %Y', '%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%d %H:%M:%S %z', '%Y-%m-%d'])::TIMESTAMPTZ,
                -- Twitter's format with a zone name for the offset, as Sentiment140 has it (`Mon Apr 06 22:19:45 PDT 2009`):
                -- strptime's %Z does not read US zone names
                CASE WHEN regexp_matches(time_s, ' (UTC|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT) [0-9]{4}$') THEN
                    try_strptime(regexp_replace(time_s, ' ([A-Z]{3}) ([0-9]{4})$', ' ' || CASE regexp_extract(time_s, ' ([A-Z]{3}) [0-9]{4}$', 1)
                        WHEN 'EST' THEN '-0500' WHEN 'EDT' THEN '-0400' WHEN 'CST' THEN '-0600' WHEN 'CDT' THEN '-0500'
                        WHEN 'MST' THEN '-0700' WHEN 'MDT' THEN '-0600' WHEN 'PST' THEN '-0800' WHEN 'PDT' THEN '-0700'
                        ELSE '+0000' END || ' \2'), '%a %b %d %H:%M:%S %z %Y')::TIMESTAMPTZ
                END
            )
        END AS created_at
    FROM epochs
),
judged AS (
    SELECT *,
        CASE
            WHEN j IS NULL THEN 'malformed JSON'
            WHEN doc_type <> 'OBJECT' THEN 'record is a JSON ' || lower(doc_type) || ', not an object'
            WHEN skip_v IS NOT NULL THEN skip_v
            WHEN text_v IS NOT NULL AND json_type(text_v) <> 'VARCHAR' THEN 'text field is ' || CASE WHEN json_type(text_v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN 'a number' ELSE lower(json_type(text_v)) END || ', not a string'
            WHEN text IS NULL OR trim(text) = '' THEN 'no text'
            WHEN list_contains($deleted_texts, trim(text)) THEN 'deleted or removed'
            WHEN length(text) > $max_chars THEN 'text longer than ' || $max_chars || ' characters'
            WHEN contains(text, chr(0)) THEN 'text contains NUL characters'
            WHEN id_v IS NOT NULL AND raw_id IS NULL AND json_type(id_v) <> 'VARCHAR' THEN 'id field is ' || CASE WHEN json_type(id_v) = 'DOUBLE' THEN 'a fraction' ELSE lower(json_type(id_v)) END || ', not a string or integer'
            WHEN time_v IS NOT NULL AND created_at IS NULL THEN 'unparseable timestamp: ' || left(time_v::VARCHAR, 80)
            WHEN created_at IS NOT NULL AND (created_at < $min_time OR created_at > $max_time) THEN 'timestamp out of range: ' || created_at::VARCHAR
        END AS reason
    FROM timed
)
SELECT
    line_no,
    record,
    CASE WHEN reason IS NULL THEN 'ok' WHEN reason = 'deleted or removed' OR reason = skip_v THEN 'skip' ELSE 'reject' END
        AS outcome,
    reason,
    $platform AS platform,
    CASE
        WHEN raw_id IS NULL THEN 'h' || md5(record)  -- stable id from the content when the dump has none
        WHEN $reddit_ids THEN (CASE WHEN is_submission THEN 't3_' ELSE 't1_' END) || regexp_replace(raw_id, '^t[0-9]_', '')
        ELSE raw_id
    END AS id,
    $source AS source,
    created_at,
    coalesce(author_v ->> '$', $author_literal) AS author,
    -- subreddits and hashtags are case-insensitive names; video ids and user topics are not
    CASE WHEN $lower_topics THEN lower(coalesce(topic_v ->> '$', tags_v[1]))
         ELSE coalesce(topic_v ->> '$', lower(tags_v[1]), $source_topic) END AS topic,
    -- the own topic, then the hashtags, distinct, in order: at most $max_topics, and one more that only says
    -- there were more (landing writes $max_topics and counts the comments it cut in the run's notes). Read from
    -- the first 10 × $max_topics only (the in-order distinct is quadratic): 10,000 hashtags make 20 topic rows.
    CASE
        WHEN len(tags_v) > 0 THEN list_filter(head, lambda t, i: list_position(head, t) = i)[1:$max_topics + 1]
        WHEN coalesce(field_topic, '') = '' THEN []::VARCHAR[]
        ELSE [field_topic]
    END AS topics,
    parent_id,
    CASE WHEN is_submission THEN 't3_' || regexp_replace(raw_id, '^t[0-9]_', '') ELSE thread_v ->> '$' END AS thread_id,
    score,
    -- BCP 47, lower case: `zh-CN` and `zh_CN` are `zh-cn`
    replace(lower(trim(coalesce(lang_v, lang_hint_v))), '_', '-') AS lang,
    lang_v IS NULL AND lang_hint_v IS NOT NULL AS lang_is_hint,
    text,
    md5(text) AS text_hash,
    retweet_of IS NOT NULL AS is_retweet,
    retweet_of,
    quote_of
FROM (
    SELECT *, CASE WHEN len(tags_v) > 0 THEN list_filter(
        ([field_topic] || list_transform(tags_v[1:10 * $max_topics], lambda t: lower(t))),
        lambda t: t IS NOT NULL AND t <> '') END AS head
    FROM (
        -- a retweet's own hashtags are those of its "RT @x: " copy, cut at 140 characters: its topics are the
        -- hashtags of its text too, the retweeted tweet's full text where the dump has it. A hashtag cut by the
        -- copy's `…` is no hashtag (`#bre…`), nor is `&#x200B;`, `/#anchor` or `#2024` (a hashtag has a letter)
        SELECT * REPLACE (CASE WHEN $retweet_text_tags AND retweet_of IS NOT NULL AND text IS NOT NULL THEN
            tags_v || regexp_extract_all(regexp_replace(text, '#[\p{L}\p{N}_]*…\s*$', ''),
                               '(?:^|[^\p{L}\p{N}_&/#])[#＃]([\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)', 1)
            ELSE tags_v END AS tags_v)
        FROM judged
    )
)  -- no ORDER BY: landing orders by line_no where order matters (sorting cost ~12%)
