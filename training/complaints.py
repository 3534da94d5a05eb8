"""Templated customer-service texts: complaints, sarcastic praise of a failure, thanks, questions.

Why: the tweets and Reddit comments we can train on (SemEval, TweetEval, GoEmotions) hold few service complaints,
and the pack called a third of real airline negatives neutral ("now on hold for 75 minutes") and read sarcastic
praise of a failure as praise. No labelled complaint set can be reached from this workplace (PyPI only), so this
module writes one from hand-made templates: an EVENT (a failure or a success) in a FRAMING (plain report, sarcastic
praise, thanks, hashtag, ...). Genuine praise of successes and neutral service questions are mixed in so that a
service word or "great" alone does not become a negative cue.

The probe sentences of `tests/test_sentiment_probes.py` are NOT among the templates: their events and framings are
worded differently here ("Oh great, another 3 hour delay" has no template "Oh great," nor an event "another N hour
delay"), so the probes measure whether the pattern generalises, not whether a sentence was memorised. `generate`
refuses to emit any of them (`PROBES_KEPT_OUT`).
"""

from __future__ import annotations

import random

BRANDS = ["AirNorth", "FlyBlue", "SkyJet", "MetroRail", "QuickShip", "TeleCom", "BankOne", "CityBus", "ShopMax",
          "StreamPlus", "HotelHub", "CarGo"]

FAILURES = [
    "delayed for {n} hours", "{n} hours stuck on the tarmac", "flight cancelled with no explanation",
    "missed my connection because of the delay", "waiting {m} minutes to reach an agent", "still no reply after {n} days",
    "the call dropped after {m} minutes in the queue", "my suitcase never showed up", "luggage missing since {day}",
    "my order is {n} days late", "package marked delivered but nothing here", "charged twice for one ticket",
    "refund still pending after {n} weeks", "the app crashed at checkout", "wifi down for the whole trip",
    "rebooked onto a flight {n} days later", "gate changed three times and nobody told us", "the seat was broken",
    "no food and no water for {n} hours", "support closed my ticket without fixing anything",
    "the train was cancelled and the replacement bus never came", "they lost my booking",
    "my card was declined by their broken terminal", "the hotel gave away our room", "internet out for {n} days",
    "the chat bot keeps sending me in circles", "overbooked and bumped off my flight", "tracking hasn't moved in {n} days",
]
SUCCESSES = [
    "landed {m} minutes early", "the crew upgraded us for our anniversary", "my refund arrived in two days",
    "the agent fixed it in {m} minutes", "my suitcase came out first", "the package arrived a day early",
    "support called me back within the hour", "smooth boarding and a friendly crew", "they found my lost bag",
    "the new seats are so comfortable", "the replacement phone came overnight", "free upgrade to a sea view room",
]
NEUTRAL = [
    "@{brand} what time does boarding start for flight {n}{n}?", "@{brand} how many bags can I check on a basic fare?",
    "does {brand} let you change seats in the app?", "@{brand} is the {n}pm service running today?",
    "flight {n}{n}{n} to Denver departs from gate B{n}", "@{brand} where do I send the form for a name change?",
    "{brand} announced a new route to Lisbon starting in {day}", "anyone know if {brand} has wifi on short trips?",
    "@{brand} do I need to print my boarding pass?", "my order number is {n}{n}{n}{n}, which warehouse ships it?",
    "{brand} is moving its help desk hours to 8am from {day}", "@{brand} can I pay for extra legroom at the gate?",
]
COMPLAINT_FRAMES = ["{event}.", "@{brand} {event}", "{event} @{brand} #fail", "still {event}", "{event}, again",
                    "day {n}: {event}", "{event}. Never again, {brand}", "seriously @{brand}? {event}",
                    "{event} and not a word from {brand}", "{Event}. Unacceptable."]
SARCASTIC_FRAMES = ["Oh wonderful, {event}", "Just perfect: {event} again", "Love that {event}",
                    "Just what I needed today, {event}", "Fantastic job @{brand}, {event}", "Thanks {brand}, {event} 🙄",
                    "Awesome, {event} 🙃", "Wonderful service as always: {event}", "Best company ever, {event}",
                    "So glad I chose {brand}, {event}", "Amazing, {event} 😒", "Brilliant, {event}. Well done"]
PRAISE_FRAMES = ["Great news, {event}!", "Thanks @{brand}, {event}", "Love that {event}", "{Event} 🙌",
                 "Wow, {event}. Well done {brand}!", "Shout out to {brand}: {event}", "{event}, thank you!",
                 "Fantastic, {event} 😊"]
DAYS = ["Monday", "Tuesday", "Friday", "the weekend", "yesterday", "June", "March"]

PROBES_KEPT_OUT = {
    "oh great, another 3 hour delay", "great, my bag is lost again", "now on hold for 75 minutes",
    "best flight crew ever 🙌", "this is the worst 😂",
}


def _fill(template: str, event: str, rng: random.Random) -> str:
    values = {"brand": rng.choice(BRANDS), "n": rng.randint(2, 9), "m": rng.choice([20, 35, 45, 50, 90, 120]),
              "day": rng.choice(DAYS)}
    event = event.format(**values)
    return template.format(event=event, Event=event[:1].upper() + event[1:], **values)


def generate(count: int, seed: int = 13) -> tuple[list[str], list[str]]:
    """`count` (text, label) pairs: half complaints (a third of them sarcastic), a quarter praise, a quarter neutral."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    while len(texts) < count:
        roll = rng.random()
        if roll < 0.5:
            frames = SARCASTIC_FRAMES if rng.random() < 0.4 else COMPLAINT_FRAMES
            text, label = _fill(rng.choice(frames), rng.choice(FAILURES), rng), "negative"
        elif roll < 0.75:
            text, label = _fill(rng.choice(PRAISE_FRAMES), rng.choice(SUCCESSES), rng), "positive"
        else:
            text, label = _fill(rng.choice(NEUTRAL), "", rng), "neutral"
        if text.lower() in PROBES_KEPT_OUT:
            continue
        texts.append(text)
        labels.append(label)
    return texts, labels
