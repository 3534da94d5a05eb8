"""Sentiment: negative / neutral / positive, with their probabilities, per comment."""

from analyzer.tasks.declaration import About

ABOUT = About(
    name="sentiment",
    summary="negative / neutral / positive and their probabilities",
    table="sentiment",
    labels=("negative", "neutral", "positive"),
    profiles={"hub": "cardiffnlp/twitter-roberta-base-sentiment-latest",
              "hub-multilingual": "cardiffnlp/twitter-xlm-roberta-base-sentiment"},
    pack_floors={"testlike_macro_recall": 65.0, "goemotions_dev_macro_f1": 68.2},
    recipe="python -m training.train_sentiment (the entry's manifest `command` has its exact flags)",
)
