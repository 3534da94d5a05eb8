"""Topics beyond a dump's own fields: keyword rules, discovered clusters, their summaries."""
