"""Emotion: Ekman's six (anger, disgust, fear, joy, sadness, surprise) or neutral, with the whole
distribution, per comment."""

from analyzer.tasks.declaration import About

ABOUT = About(
    name="emotion",
    summary="anger disgust fear joy neutral sadness surprise, with the distribution",
    table="emotion",
    labels=("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"),
    profiles={"hub": "j-hartmann/emotion-english-distilroberta-base",
              "hub-multilingual": "MilaNLProc/xlm-emo-t"},
    pack_floors={"goemotions_dev_macro_f1": 60.0, "tweeteval_emotion_val_macro_f1": 55.0},
    in_default_ingest=False,
    recipe="python -m training.train_classifier emotion (the entry's manifest `command` has its exact flags)",
)
