"""Moderation: is a comment offensive (insults, threats, profanity aimed at someone)? A calibrated
probability per comment; `opinions report flagged` is the queue of those over a threshold."""

from analyzer.tasks.declaration import About

ABOUT = About(
    name="offensive",
    summary="offensive / not-offensive with a calibrated probability (moderation)",
    table="offensive",
    labels=("not-offensive", "offensive"),
    profiles={"hub": "cardiffnlp/twitter-roberta-base-offensive",
              "hub-multilingual": "textdetox/xlmr-large-toxicity-classifier"},
    pack_floors={"tweeteval_val_macro_f1": 75.0},
    recipe="python -m training.train_classifier offensive (the entry's manifest `command` has its exact flags)",
)
