"""Named entities: people, organisations, places, products and works, with character offsets."""

from analyzer.tasks.declaration import About

ABOUT = About(
    name="ner",
    summary="entities (PER ORG LOC PRODUCT WORK) and #hashtags, @mentions, $CASHTAGS",
    table="entities",
    labels=("PER", "ORG", "LOC", "PRODUCT", "WORK"),
    profiles={"hub": "dslim/bert-base-NER", "hub-multilingual": "Davlan/xlm-roberta-base-ner-hrl"},
    pack_floors={"wnut17_dev_f1": 60.0, "btc_dev_f1": 72.0},
    recipe="python -m training.train_ner (the entry's manifest `command` has its exact flags)",
)
