INSERT INTO summaries VALUES ($topic, $period_start, $period_end, $method, $model, $summary, $n_comments, now())
