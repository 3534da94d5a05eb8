UPDATE runs SET
    rows_read = rows_read + $rows_read,
    rows_new = rows_new + $rows_new,
    rows_duplicate = rows_duplicate + $rows_duplicate,
    rows_rejected = rows_rejected + $rows_rejected,
    rows_skipped = rows_skipped + $rows_skipped,
    texts_analysed = texts_analysed + $texts_analysed,
    texts_cached = texts_cached + $texts_cached,
    texts_unsupported = texts_unsupported + $texts_unsupported
WHERE run_id = $run_id
