"""The embedded sentiment pack reads social media: emoji, complaints and sarcasm (issue 18's probes).

Real weights (the pack shipped in `analyzer/pack/sentiment`, at the precision `--quantize auto` picks), run through
`opinions analyze` as a user would. The uncased MiniLM vocabulary maps every emoji to [UNK]; the pack's
normalisation ("social-v2") names emoji in words before tokenisation, so these texts are readable at all.
"""

from __future__ import annotations

import json

from analyzer.cli import app

PROBES = [
    ("😡😡😡", "negative"),
    ("😍😍😍", "positive"),
    ("this is the worst 😂", "negative"),
    ("best flight crew ever 🙌", "positive"),
    ("Oh great, another 3 hour delay", "negative"),
    ("Great, my bag is lost again", "negative"),
    ("now on hold for 75 minutes", "negative"),
]


def analyze_lines(runner, texts: list[str]) -> list[dict]:
    result = runner.invoke(app, ["analyze", "-", "--task", "sentiment", "--device", "cpu"], input="\n".join(texts) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_at_least_six_of_seven_social_media_probes_get_their_label(runner):
    lines = analyze_lines(runner, [text for text, _ in PROBES])
    got = {text: line["label"] for (text, _), line in zip(PROBES, lines, strict=True)}
    wrong = {text: (got[text], want) for text, want in PROBES if got[text] != want}
    assert len(wrong) <= 1, f"probes answered wrongly (got, wanted): {wrong}"


def test_emoji_change_the_answer_the_model_gives(runner):
    # with emoji invisible ([UNK]) these two would get identical scores
    angry, laughing = analyze_lines(runner, ["😡😡😡", "😂😂😂"])
    assert angry["scores"] != laughing["scores"]
    assert angry["scores"]["negative"] > laughing["scores"]["negative"]


def test_the_shipped_pack_names_the_normalisation_it_was_trained_with():
    from analyzer.models import pack as modelpack
    config = json.loads((modelpack.PACK_DIR / "sentiment" / "config.json").read_text())
    manifest = json.loads((modelpack.PACK_DIR / "sentiment" / "manifest.json").read_text())
    assert config["opinions_normalisation"] == manifest["normalisation"] == "social-v2"


def test_scores_are_calibrated_probabilities_with_a_recorded_temperature():
    from analyzer.models import pack as modelpack
    calibration = json.loads((modelpack.PACK_DIR / "sentiment" / "manifest.json").read_text())["calibration"]
    assert calibration["temperature"] > 0
    assert calibration["ece_after"] <= calibration["ece_before"]
