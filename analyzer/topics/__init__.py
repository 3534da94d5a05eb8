"""Topics beyond a dump's own fields: keyword rules, discovered clusters, their summaries."""

# the model each profile summarises topics with (`--summary-model`; embedded: extractive key points)
SUMMARY_MODELS = {"embedded": "embedded", "hub": "sshleifer/distilbart-cnn-12-6",
                  "hub-multilingual": "sshleifer/distilbart-cnn-12-6"}
