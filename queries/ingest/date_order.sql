-- How a batch's numeric dates (`2/24/2015 11:35`, `24.02.2015`) are written: counts of values whose
-- first or second number cannot be a month. Params: $time_paths (the preset's time candidates).
WITH picked AS (
    SELECT list_filter(json_extract_string(record, $time_paths), lambda x: x IS NOT NULL)[1] AS value
    FROM batch
    WHERE json_valid(record) AND json_type(record::JSON) = 'OBJECT'
),
parts AS (
    SELECT value, regexp_extract(trim(value), '^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{2,4})\b',
                                 ['first', 'second', 'year']) AS p
    FROM picked
    WHERE value IS NOT NULL
)
SELECT
    count(*) FILTER (p.first <> '') AS numeric_dates,
    count(*) FILTER (p.first <> '' AND try_cast(p.first AS INTEGER) > 12) AS day_first,
    count(*) FILTER (p.first <> '' AND try_cast(p.second AS INTEGER) > 12) AS month_first,
    any_value(value) FILTER (p.first <> '') AS example
FROM parts
