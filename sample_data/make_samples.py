#!/usr/bin/env python3
"""Generate the bundled sample dumps in sample_data/ (stdlib + zstandard only).

    python sample_data/make_samples.py            # writes next to this script
    python sample_data/make_samples.py --out DIR  # somewhere else

Everything is synthetic: texts are composed from templates x entity slots x opinion
phrases, with a fixed seed per file, so every run writes byte-identical files
(gzip mtime=0 and no file name in the header, zstd level 19 single-threaded, JSON
with fixed key order). Window: 2026-10-01 00:00 .. 2026-10-14 23:59:59 UTC.
Five topics (phones, gaming, ev, music, travel); "music" gets a Spotify outage on
2026-10-13/14: a volume spike with a mostly negative tone, in every source.

Deliberate faults and quirks are listed in sample_data/README.md; the line numbers
printed at the end of a run are the ones the README quotes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import zstandard

T0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
T_END = int(datetime(2026, 10, 15, tzinfo=UTC).timestamp()) - 1
DAY = 86400
SPIKE_START = int(datetime(2026, 10, 13, 14, 20, tzinfo=UTC).timestamp())
SPIKE_END = T_END
TOPIC_NAMES = ["phones", "gaming", "ev", "music", "travel"]

# ---------------------------------------------------------------------------
# Entity bank. Companies carry their boss, handle, cashtag and hashtag; products
# point at a company, so a generated sentence never credits the wrong firm.
# ---------------------------------------------------------------------------

COMPANIES = {
    "Apple": dict(boss="Tim Cook", handle="@Apple", cashtag="$AAPL", tag="#Apple"),
    "Samsung": dict(boss="TM Roh", handle="@SamsungMobile", cashtag="$SSNLF", tag="#Samsung"),
    "Google": dict(boss="Sundar Pichai", handle="@madebygoogle", cashtag="$GOOGL", tag="#Pixel"),
    "Nintendo": dict(boss="Shuntaro Furukawa", handle="@NintendoAmerica", cashtag="$NTDOY", tag="#Nintendo"),
    "Sony": dict(boss="Hideaki Nishino", handle="@PlayStation", cashtag="$SONY", tag="#PlayStation"),
    "Microsoft": dict(boss="Phil Spencer", handle="@Xbox", cashtag="$MSFT", tag="#Xbox"),
    "Valve": dict(boss="Gabe Newell", handle="@valvesoftware", cashtag=None, tag="#Steam"),
    "Rockstar Games": dict(boss="Sam Houser", handle="@RockstarGames", cashtag="$TTWO", tag="#GTA6"),
    "Tesla": dict(boss="Elon Musk", handle="@Tesla", cashtag="$TSLA", tag="#Tesla"),
    "Rivian": dict(boss="RJ Scaringe", handle="@Rivian", cashtag="$RIVN", tag="#Rivian"),
    "BYD": dict(boss="Wang Chuanfu", handle="@BYDCompany", cashtag="$BYDDY", tag="#BYD"),
    "Volkswagen": dict(boss="Oliver Blume", handle="@VW", cashtag="$VWAGY", tag="#Volkswagen"),
    "Spotify": dict(boss="Daniel Ek", handle="@Spotify", cashtag="$SPOT", tag="#Spotify"),
    "Apple Music": dict(boss="Tim Cook", handle="@AppleMusic", cashtag="$AAPL", tag="#AppleMusic"),
    "YouTube Music": dict(boss="Sundar Pichai", handle="@youtubemusic", cashtag="$GOOGL", tag="#YouTubeMusic"),
    "Tidal": dict(boss="Jack Dorsey", handle="@TIDAL", cashtag=None, tag="#Tidal"),
    "Deutsche Bahn": dict(boss="Deutsche Bahn", handle="@DB_Bahn", cashtag=None, tag="#DeutscheBahn"),
    "Lufthansa": dict(boss="Carsten Spohr", handle="@lufthansa", cashtag="$DLAKY", tag="#Lufthansa"),
    "Ryanair": dict(boss="Michael O'Leary", handle="@Ryanair", cashtag="$RYAAY", tag="#Ryanair"),
    "Eurostar": dict(boss="Eurostar", handle="@Eurostar", cashtag=None, tag="#Eurostar"),
    "Airbnb": dict(boss="Brian Chesky", handle="@Airbnb", cashtag="$ABNB", tag="#Airbnb"),
}

# Products: name, company, article ("the " or ""), kind, hashtag, own aspects ("feats", all
# singular so "the X is great" reads right), own prices. Templates may start with a
# restriction like "[phone]", "[Apple+phone]" or "[Lufthansa|Ryanair]": each |-separated
# alternative is a +-joined set of company / kind / product-name tokens that must all match.
def P(name, co, kind, art="the ", tag=None, feats=None, prices=None):
    return dict(name=name, co=co, kind=kind, art=art, tag=tag, feats=feats, prices=prices)


TOPICS = {
    "phones": dict(
        products=[
            P("iPhone 17", "Apple", "phone", tag="#iPhone17"),
            P("iPhone 17 Pro", "Apple", "phone", tag="#iPhone17Pro"),
            P("iPhone 17 Pro Max", "Apple", "phone", tag="#iPhone17Pro"),
            P("iPhone Air", "Apple", "phone", tag="#iPhoneAir"),
            P("AirPods Pro 3", "Apple", "audio", tag="#AirPodsPro3",
              feats=["noise cancelling", "fit", "battery life", "heart-rate tracking", "charging case"],
              prices=["$249", "€279", "£249"]),
            P("Galaxy S26 Ultra", "Samsung", "phone", tag="#GalaxyS26"),
            P("Galaxy Z Fold 7", "Samsung", "phone", tag="#GalaxyZFold7"),
            P("Pixel 10 Pro", "Google", "phone", tag="#Pixel10"),
        ],
        feats=["battery life", "main camera", "display", "charging speed", "build quality", "haptic feedback",
               "zoom lens", "low-light photography", "heat management", "speaker quality", "selfie camera", "software"],
        places=["Cupertino", "Seoul", "Berlin", "London", "Tokyo", "New York", "Munich", "Toronto", "Sydney"],
        old=["an iPhone 12", "my old Galaxy S21", "a Pixel 6", "an iPhone 13 mini", "an iPhone XR", "a OnePlus 9"],
        prices=["$999", "$1,199", "€1,449", "$1,099", "£1,199", "€1,329"],
        tags=["#TechTwitter", "#smartphone", "#Android", "#iOS26"],
        urls=["https://www.theverge.com/2026/10/{d}/{slug}-review", "https://9to5mac.com/2026/10/{d:02d}/{slug}/",
              "https://www.gsmarena.com/{slug}-review-2841.php", "https://www.macrumors.com/2026/10/{d:02d}/{slug}-battery-test/"],
        usage=["photos of my kids", "gaming and YouTube", "work email and Slack", "travel photography", "podcasts on my commute"],
        context=["Came over from Android last year.", "I'm a photographer, so the camera matters most to me.",
                 "I keep my phones for about four years."],
        pos=[
            "[phone]Upgraded from {old} to {the_prod} and the {feat} is {pos_adj}.",
            "Picked up {the_prod} at the {place} store on launch day and I'm genuinely impressed.",
            "Credit where it's due: {boss} and the team nailed {the_prod}.",
            "[phone]Switched from {the_rival} to {the_prod} and I'm not going back.",
            "[phone]Took some night shots in {place} with {the_prod} and they honestly look like daytime.",
            "[phone]{The_prod} feels so light in the hand, first phone in years I actually enjoy holding.",
            "[Apple+phone]iOS 26 got a lot of hate but on {the_prod} it's smooth as butter.",
            "[Galaxy S26 Ultra]The S Pen on {the_prod} is still the best note-taking tool on any phone.",
            "[Google]The Pixel camera magic is back, {the_prod} nails skin tones every single time.",
            "[phone]Two weeks with {the_prod} and the battery still surprises me. Easily a day and a half on a charge.",
            "[audio]Noise cancelling on {the_prod} is unreal, the U-Bahn in {place} basically disappears.",
        ],
        neg=[
            "[phone|audio]Battery on my {prod} is {neg_adj}, I'm at 20% by 4pm with light use.",
            "Paid {price} for {the_prod} and the {feat} is {neg_adj}. Returning it.",
            "{co} really expects people to pay {price} for this?",
            "Returned my {prod} after a week, the {feat} was {neg_adj}.",
            "[phone]{boss} on stage calling it the best {co} phone ever while the {feat} is {neg_adj}.",
            "[Apple+phone]Since iOS 26.1 my {prod} gets hot every time I open the camera.",
            "[Samsung]One UI keeps pushing ads into the notifications on my {prod}. On a {price} phone!",
            "[phone]{The_prod} is just last year's phone in a new color. Hard pass.",
            "[phone]My {prod} arrived with a dead pixel and {co} support made me wait three weeks for a replacement.",
            "[Apple+phone]Face ID on my {prod} fails half the time with sunglasses on.",
            "[audio]The left earbud on my {prod} keeps disconnecting. Second replacement already.",
        ],
        neu=[
            "[phone]Is {the_prod} worth it over {the_prod2} if I mostly take photos of my kids?",
            "{co} says {the_prod} ships in {place} starting Friday.",
            "[phone]Anyone know if cases for {the_prod2} fit {the_prod}?",
            "[phone]Side-by-side camera samples, {prod} vs {rival}: {url}",
            "Picking mine up at the {place} store tomorrow, will report back.",
            "[phone]What screen protector are you all using on {the_prod}?",
            "Trade-in for {old} was quoted at $230, is that normal?",
            "[phone]Does {the_prod} ship with a physical SIM tray in {place} or is it eSIM only?",
        ],
    ),
    "gaming": dict(
        products=[
            P("Nintendo Switch 2", "Nintendo", "console", tag="#NintendoSwitch2",
              feats=["Joy-Con 2", "battery life", "screen", "eShop", "backwards compatibility", "dock", "online service"],
              prices=["$449", "€469", "£395"]),
            P("Mario Kart World", "Nintendo", "game", art="", tag="#MarioKartWorld",
              feats=["online racing", "open world", "soundtrack", "price", "Knockout Tour mode"]),
            P("Donkey Kong Bananza", "Nintendo", "game", art="", tag="#DonkeyKongBananza",
              feats=["level design", "frame rate", "destruction physics", "length", "price"]),
            P("Metroid Prime 4", "Nintendo", "game", art="", tag="#MetroidPrime4",
              feats=["visual design", "pacing", "boss design", "mouse control", "price"]),
            P("PS5 Pro", "Sony", "console", tag="#PS5Pro",
              feats=["PSSR upscaling", "fan noise", "DualSense controller", "loading speed", "price"],
              prices=["$749", "€799", "£699"]),
            P("Xbox Series X", "Microsoft", "console", tag="#Xbox",
              feats=["Game Pass library", "Quick Resume", "controller", "fan noise", "loading speed"],
              prices=["$599", "€549", "£479"]),
            P("Steam Deck OLED", "Valve", "console", tag="#SteamDeck",
              feats=["OLED screen", "battery life", "fan noise", "SteamOS", "trackpad"], prices=["$549", "€569"]),
            P("GTA 6", "Rockstar Games", "upcoming", art="", tag="#GTA6",
              feats=["release date", "map size", "marketing", "price", "online mode"]),
        ],
        feats=["frame rate", "loading speed", "online service", "price"],
        places=["Kyoto", "Tokyo", "Seattle", "Berlin", "Paris", "London", "Toronto", "Madrid", "Chicago"],
        old=["the original Switch", "my Switch OLED", "a PS4", "an old Wii U", "a launch PS5"],
        prices=["$79.99", "€89.99", "$69.99", "£74.99", "$59.99"],
        tags=["#gaming", "#NintendoSwitch", "#GamingCommunity", "#PS5"],
        urls=["https://www.nintendo.com/us/whatsnew/{slug}-update/", "https://www.ign.com/articles/{slug}-review",
              "https://www.eurogamer.net/{slug}-tech-review", "https://blog.playstation.com/2026/10/{d:02d}/{slug}/"],
        usage=["handheld play on the train", "couch co-op with my kids", "competitive online play", "docked play on a 4K TV"],
        context=["Gaming since the SNES days.", "I only get about an hour a night to play these days."],
        pos=[
            "[Nintendo]Mario Kart World is the most fun I've had with friends in years.",
            "[console]Upgraded from {old} and {the_prod} is {pos_adj}, loading is basically instant.",
            "[game]Played {prod} for six hours straight last night, no regrets.",
            "[console|game]Credit to {co}, the {prod} launch has been super smooth.",
            "[Nintendo]Backwards compatibility on the Switch 2 is a lifesaver, my whole library just works.",
            "[console|game]Got {the_prod} for my son's birthday and now I'm the one who can't put it down 😂",
            "[Nintendo]{boss} said they'd fix the online service and honestly it's so much better now.",
            "[game]The {feat} in {prod} is {pos_adj}, easily my game of the year.",
            "[console]Queued for two hours at the {place} launch event for {the_prod} and it was worth it.",
            "[upcoming]The new {prod} trailer looks unreal, November can't come soon enough.",
        ],
        neg=[
            "[Nintendo]$80 for a cartridge that's just a download key? {co} has lost the plot.",
            "[Nintendo]My Joy-Con 2 already started drifting after three weeks. Unbelievable.",
            "[game]{The_prod} keeps crashing after the latest patch, lost two hours of progress.",
            "[upcoming]Another delay for {prod}? At this point I'll believe it when I see it.",
            "[console|game]{co} raising prices again while the {feat} is still {neg_adj}.",
            "[Nintendo|Sony|Microsoft]Paying for {co}'s online service just to get disconnected every other match.",
            "[console|game]The {feat} on {the_prod} is {neg_adj} and nobody at {co} seems to care.",
            "[Sony]{price} for {the_prod} without a disc drive is insulting.",
            "[game]Refunded {prod} after an hour, the {feat} is {neg_adj}.",
        ],
        neu=[
            "[console]Is {the_prod} worth it if I already own {old}?",
            "[console]Anyone know if the {prod} bundle is back in stock in {place}?",
            "[console|game]{co} just posted the patch notes for {prod}: {url}",
            "[Nintendo]What microSD Express card are people using with the Switch 2?",
            "[game]Digital or physical for {prod}? Trying to decide.",
            "[game]{The_prod} is on sale this week for {price} if anyone was waiting.",
            "[game]Does {prod} support local multiplayer with two consoles?",
            "[game]Heading to a {prod} tournament in {place} this weekend, anyone else going?",
            "[upcoming]Preorders for {prod} open next week according to {co}.",
        ],
    ),
    "ev": dict(
        products=[
            P("Model Y", "Tesla", "car", tag="#ModelY", feats=["Autopilot", "FSD", "build quality", "range in winter",
              "charging speed", "minimalist interior", "ride comfort", "resale value", "infotainment"]),
            P("Model 3", "Tesla", "car", tag="#Model3", feats=["Autopilot", "FSD", "build quality", "range in winter",
              "charging speed", "minimalist interior", "ride comfort", "resale value"]),
            P("Cybertruck", "Tesla", "car", tag="#Cybertruck", feats=["build quality", "towing range", "steer-by-wire",
              "stainless steel body", "resale value"]),
            P("Rivian R2", "Rivian", "car", tag="#R2"),
            P("Rivian R1S", "Rivian", "car", tag="#R1S"),
            P("BYD Seal", "BYD", "car", tag="#BYDSeal"),
            P("BYD Atto 3", "BYD", "car", tag="#BYD"),
            P("VW ID.7", "Volkswagen", "car", tag="#ID7"),
        ],
        feats=["range in winter", "build quality", "charging speed", "ride comfort", "infotainment", "heat pump",
               "resale value", "service experience", "interior quality", "driver assistance"],
        places=["Berlin", "Grünheide", "Austin", "Shanghai", "Munich", "Oslo", "Fremont", "Amsterdam", "Hamburg"],
        old=["a 2014 Golf diesel", "a Prius", "an old Nissan Leaf", "a 2019 Model 3", "a Mazda CX-5"],
        prices=["$44,990", "€46,990", "$79,990", "€39,990", "£41,000", "$45,000"],
        tags=["#EV", "#electricvehicles", "#ElectricCars"],
        urls=["https://electrek.co/2026/10/{d:02d}/{slug}-price-cut/", "https://insideevs.com/news/{slug}-range-test/",
              "https://www.reuters.com/business/autos-transportation/{slug}-2026-10-{d:02d}/"],
        usage=["a 90 km daily commute", "school runs and weekend trips", "long Autobahn drives", "ride-share work"],
        context=["We have solar at home, so charging is basically free.", "No home charger, I rely on public charging."],
        pos=[
            "[Tesla|BYD|Volkswagen]Two years and 60,000 km in my {prod}, zero issues. Best car I've owned.",
            "Test drove {the_prod} in {place} today and it's {pos_adj}.",
            "Traded in {old} for {the_prod} and I'm never going back to petrol.",
            "The {feat} on {the_prod} is {pos_adj}.",
            "[Tesla]FSD v14 drove me from Austin to Dallas with zero interventions. Wild.",
            "[Tesla]Supercharger stop in {place} took 18 minutes, honestly painless.",
            "[BYD]BYD is eating everyone's lunch, {the_prod} is ridiculously good for the price.",
            "[Rivian]{the_prod} is the first EV my whole family actually loves. {boss} and team did it.",
        ],
        neg=[
            "[Tesla]{boss} should spend less time posting and more time fixing phantom braking.",
            "Phantom braking on the highway near {place} scared the hell out of my family. Not acceptable.",
            "Picked up my {prod} and the panel gaps are {neg_adj}. Delivery center didn't care.",
            "Waited five weeks for a service appointment for my {prod}. Absolutely ridiculous.",
            "The {feat} on {the_prod} is {neg_adj}.",
            "Winter range on my {prod} dropped by almost 40%. Nobody tells you that at the showroom.",
            "[Tesla]Sold my $TSLA after the last earnings call. {The_prod} is getting stale.",
            "{co} cut the price of {the_prod} two weeks after I bought mine. Thanks for nothing.",
        ],
        neu=[
            "Is {the_prod} or {the_rival} better for a family of four?",
            "{co} confirmed new pricing for {the_prod} in {place}: {url}",
            "How's the {feat} on {the_prod} in real life?",
            "[Tesla]The Gigafactory in Grünheide near Berlin is apparently adding another shift.",
            "Anyone leasing {the_prod}? What rate did you get?",
            "Delivery estimate for {the_prod} in {place} is now 4–6 weeks.",
            "Does {the_prod} come with the heat pump in {place} or is that extra?",
        ],
    ),
    "music": dict(
        products=[
            P("Spotify Premium", "Spotify", "service", art="", tag="#Spotify"),
            P("Spotify", "Spotify", "service", art="", tag="#Spotify"),
            P("Apple Music", "Apple Music", "service", art="", tag="#AppleMusic"),
            P("YouTube Music", "YouTube Music", "service", art="", tag="#YouTubeMusic"),
            P("Tidal", "Tidal", "service", art="", tag="#Tidal"),
        ],
        feats=["shuffle algorithm", "recommendation engine", "new UI", "lossless audio", "offline mode",
               "price", "podcast clutter", "AI DJ", "lyrics view", "car mode", "audio quality"],
        places=["Stockholm", "Berlin", "London", "Los Angeles", "São Paulo", "Mexico City", "Madrid", "Toronto"],
        old=["Apple Music", "YouTube Music", "Tidal", "Deezer", "Amazon Music"],
        prices=["$11.99", "€12.99", "£11.99", "$19.99", "€17.99"],
        tags=["#NewMusicFriday", "#music", "#NowPlaying"],
        urls=["https://open.spotify.com/playlist/37i9dQZF1{code}", "https://newsroom.spotify.com/2026-10-{d:02d}/{slug}/",
              "https://www.billboard.com/music/{slug}-streaming-record/", "https://open.spotify.com/album/{code}"],
        artists=["Taylor Swift", "Billie Eilish", "Bad Bunny", "Sabrina Carpenter", "Olivia Rodrigo", "Kendrick Lamar", "Dua Lipa"],
        usage=["the gym", "long drives", "focus playlists at work", "podcasts on my commute"],
        context=["Premium subscriber since 2016.", "I listen to music pretty much all day at work.",
                 "Family plan with my partner and two teens."],
        pos=[
            "[Spotify]Discover Weekly has been {pos_adj} lately, found three new favorite bands this month.",
            "The new {artist} album sounds incredible on {prod}.",
            "[Spotify]Spotify Jam at our party in {place} was a hit, everyone kept adding songs.",
            "[Spotify]Can't wait for Spotify Wrapped, my top artist is definitely going to be {artist} 😅",
            "[Spotify]Switched from {old} back to Spotify and the recommendations are just better.",
            "The {feat} on {prod} is {pos_adj}.",
            "{artist} on repeat all week, thank you {prod}.",
            "Saw {artist} live in {place} last night and I've been streaming the setlist all day. Best concert of my life.",
        ],
        neg=[
            "[Spotify]Another price increase for {prod}? I'm paying {price} and getting more podcast ads.",
            "The {feat} on {prod} is {neg_adj}.",
            "Shuffle on {prod} keeps playing the same 20 songs out of a 900-song playlist. Fix it.",
            "[Spotify]Artists like {artist} get fractions of a cent per stream while {boss} gets richer.",
            "The new UI on {prod} buried my library three taps deep. Who approved this?",
            "[Spotify]Audiobooks in Premium nobody asked for, and the {feat} got worse. Great trade.",
            "{co} removed my favorite playlist feature without any warning. Not happy.",
        ],
        neu=[
            "Does {prod} have lossless in {place} yet?",
            "{artist}'s new single drops Friday at midnight on all platforms.",
            "Is the {prod} family plan worth it for four people?",
            "{co} posted its quarterly numbers: {url}",
            "How do I move my playlists from {old} to {prod}?",
            "[Spotify]What's everyone listening to this week? Here's mine: {url}",
            "{artist} just announced a stadium show in {place} for next summer.",
        ],
        spike_neg=[
            "Spotify down for anyone else? Nothing plays, just 'Something went wrong'.",
            "Paying for Premium and I can't play a single song. Great job, Spotify.",
            "Third Spotify outage this year. Seriously considering switching to {alt}.",
            "Spotify has been broken for {hours} hours now and @SpotifyCares just says they're looking into it.",
            "My downloaded playlists won't even play offline. What's the point of Premium?",
            "Spotify is down in {place} too. This is ridiculous.",
            "Lost my entire Liked Songs after the outage. 2,000 songs. I'm furious.",
            "No status update for hours, no compensation, nothing. Spotify clearly doesn't care about its users.",
            "Worst possible timing, I'm at the gym and Spotify is dead.",
            "The app crashes on launch every single time since the outage started.",
            "Cancelled my Premium today. {alt} it is. Done with this.",
            "{price} a month for an app that can't stay online for one evening. Pathetic.",
            "Spotify Connect to my speakers is completely broken since yesterday, still not fixed.",
            "Daniel Ek, maybe spend less on podcasts and more on servers?",
        ],
        spike_neu=[
            "Is it just the app or the web player too?",
            "@SpotifyStatus says they're investigating. No ETA yet.",
            "Downdetector shows over 40,000 reports for Spotify right now.",
            "Spotify is down in {place} as well, web player shows the same error.",
            "Anyone know if this affects podcasts too or only music?",
            "Logging out and back in did nothing for me. Still waiting.",
        ],
        spike_pos=[
            "Good excuse to listen to actual vinyl tonight lol 😂",
            "Back up for me in {place}! Thanks to the engineers working on it 🙏",
            "Switched to {alt} for the evening and honestly the sound quality is great.",
        ],
    ),
    "travel": dict(
        products=[
            P("ICE", "Deutsche Bahn", "train", tag="#ICE",
              feats=["Wi-Fi", "punctuality", "on-board bistro", "seat reservation system", "legroom", "cleanliness"]),
            P("Deutschlandticket", "Deutsche Bahn", "ticket", tag="#Deutschlandticket",
              feats=["price", "coverage", "sign-up process", "app integration"], prices=["€58", "€63"]),
            P("DB Navigator app", "Deutsche Bahn", "app", feats=["real-time info", "booking flow", "UI", "delay alert"]),
            P("Lufthansa business class", "Lufthansa", "flight", art="",
              feats=["legroom", "food", "lounge access", "crew", "seat"], prices=["€2,400", "€1,890"]),
            P("Miles & More", "Lufthansa", "loyalty", art="",
              feats=["award availability", "customer service", "status program"]),
            P("Ryanair app", "Ryanair", "app", feats=["check-in flow", "UI", "fee transparency", "boarding pass download"]),
            P("Eurostar", "Eurostar", "train", tag="#Eurostar",
              feats=["check-in", "punctuality", "legroom", "price", "security queue"], prices=["£89", "€120", "£149"]),
            P("Airbnb", "Airbnb", "stay", art="", tag="#Airbnb",
              feats=["cleaning fee", "host communication", "refund process", "search filter"]),
        ],
        feats=["customer service", "refund process", "punctuality", "price"],
        places=["Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne", "Paris", "Amsterdam", "Vienna",
                "Leipzig", "Brussels", "Stuttgart"],
        old=["the night train", "a FlixBus", "driving", "a rental car"],
        prices=["€70", "€49", "€129", "£89", "€58", "€240"],
        tags=["#travel", "#Berlin", "#Europe"],
        urls=["https://www.bahn.de/service/{slug}", "https://www.lufthansa.com/de/en/{slug}",
              "https://www.reuters.com/world/europe/{slug}-2026-10-{d:02d}/", "https://www.thelocal.de/20261{d:03d}/{slug}"],
        usage=["a weekly Berlin–Munich commute", "family trips", "business travel", "weekend city breaks"],
        context=["I travel for work about twice a month.", "We were travelling with two small kids."],
        pos=[
            "[Deutsche Bahn]ICE from {place} to {place2} was on time to the minute, first time this year.",
            "[Lufthansa]The Lufthansa crew on my flight to {place2} were {pos_adj}.",
            "[Deutschlandticket]The Deutschlandticket is honestly one of the best things to happen to public transport here.",
            "[Lufthansa business class|Eurostar|Airbnb]{The_prod} was {pos_adj}, would book again.",
            "[Airbnb]Great stay in {place} via Airbnb, the host was super friendly.",
            "Got a full refund from {co} within a week, surprisingly painless.",
            "[Eurostar]Eurostar from London to Paris in two and a half hours, so much nicer than flying.",
            "[app]The {feat} in {the_prod} is {pos_adj} since the last update.",
        ],
        neg=[
            "[Deutsche Bahn]ICE from {place} to {place2} delayed 95 minutes and then cancelled. Classic Deutsche Bahn.",
            "[Lufthansa|Ryanair]{co} charged me {price} for a bag that fit the sizer. Never flying them again.",
            "[ICE]Wi-Fi on the ICE is {neg_adj}, can't even load an email.",
            "[Deutsche Bahn|Lufthansa|Eurostar|Ryanair]Missed my connection in {place} because of {co}, no hotel voucher, nothing.",
            "The {feat} at {co} is {neg_adj}.",
            "[Airbnb]Airbnb cleaning fee of €120 for a two-night stay in {place}? No thanks.",
            "[Ryanair]{boss} keeps finding new ways to charge for air. Printing a boarding pass: {price}.",
            "[Lufthansa|Ryanair]Lost luggage in {place} for four days and {co} still hasn't called back.",
            "[app]{The_prod} crashed right when I needed my ticket. Of course.",
        ],
        neu=[
            "[Deutschlandticket]Anyone know if the Deutschlandticket covers regional trains to {place2}?",
            "[Lufthansa|Ryanair]Flying {co} from {place} next week, how strict are they with carry-ons?",
            "[Deutsche Bahn]Is the BahnCard 50 worth it if I travel {place}–{place2} twice a month?",
            "[Lufthansa|Deutsche Bahn]{co} updated its strike schedule: {url}",
            "Best way to get from BER to Berlin Hauptbahnhof late at night?",
            "Landed in {place}, the queue at passport control is about 40 minutes right now.",
            "[ICE]Do ICE trains still run between {place} and {place2} on Sundays during the construction work?",
        ],
    ),
}

HARDWARE = "phone|audio|console|car"
GENERIC = dict(
    pos=[
        "Really happy with {the_prod} so far.",
        "[phone|audio|console|game|car|service|flight|train|stay]{The_prod} has been {pos_adj} for me, no complaints.",
        "I was skeptical about {the_prod} but the {feat} won me over.",
        "{co} actually listened to feedback this time and it shows.",
        "Have to say, the {feat} on {the_prod} is {pos_adj}.",
        "[phone|audio|console|game|car|ticket]Best money I've spent this year, {the_prod} is {pos_adj}.",
        "Gotta give {co} credit, {the_prod} is a huge step up.",
        "Honestly {the_prod} exceeded every expectation I had.",
    ],
    neg=[
        "{The_prod} has been {neg_adj} for me, honestly regret it.",
        "The {feat} on {the_prod} is {neg_adj} and {co} keeps pretending it's fine.",
        "I'm done with {co}. {The_prod} was the last straw.",
        "How is the {feat} still this bad in 2026?",
        "Save your money and skip {the_prod}.",
        "{co} support was useless when I reported the {feat} problem.",
        "Sorry but {the_prod} is overpriced and underwhelming.",
        "[" + HARDWARE + "|service|app]Oh great, another {co} update that breaks the {feat}. Love that for us.",
    ],
    neu=[
        "Has anyone compared {the_prod} with {the_rival}?",
        "What's the deal with the {feat} on {the_prod}? Seeing mixed reports.",
        "For what it's worth, {co} published the details here: {url}",
        "[" + HARDWARE + "|game]Waiting for more reviews before deciding on {the_prod}.",
        "[phone|audio|console]I'm in {place}, anyone know when {the_prod} restocks?",
        "[" + HARDWARE + "]Curious how {the_prod} holds up after a few months.",
        "Does anyone have a link to the official {prod} FAQ?",
    ],
    mixed=[
        "The {feat} on {the_prod} is {pos_adj}, but the {feat2} is {neg_adj}.",
        "Love {the_prod}, hate what {co} charges for it.",
        "Mixed feelings: great {feat}, terrible {feat2}.",
        "{The_prod} is {pos_adj} when it works, which is about half the time.",
        "Not bad, not great. The {feat} is fine, the {feat2} needs work.",
    ],
)

POS_ADJ = ["amazing", "fantastic", "excellent", "genuinely great", "way better than I expected", "a huge upgrade",
           "really impressive", "incredible", "rock solid", "brilliant", "surprisingly good", "top notch"]
NEG_ADJ = ["awful", "terrible", "a joke", "garbage", "really disappointing", "worse than last year",
           "embarrassing", "unacceptable", "so bad", "a complete mess", "frustrating", "pathetic"]

SUPPORT = dict(
    pos=["Couldn't be happier.", "Highly recommend.", "10/10 would recommend.", "Worth every penny.",
         "Pleasantly surprised, honestly.", "Really impressed.", "Great job, {co}.", "No regrets at all.",
         "This is how it should be done.", "Loving it so far.", "Absolutely love it."],
    neg=["Absolutely ridiculous.", "Never again.", "What a joke.", "Really disappointed.", "Complete waste of money.",
         "I'm so done.", "Do better, {co}.", "Unacceptable at this price.", "Seriously frustrating.",
         "It gets worse every year.", "Hate this so much."],
    neu=["Just curious.", "Will report back.", "Not sure what to think yet.", "Any info appreciated.", "Thoughts?",
         "Thanks in advance.", "Asking for a friend.", "Happy to share more details if useful."],
    mixed=["Still on the fence.", "Could go either way.", "We'll see how it goes."],
)

CONTEXT = ["I've been using it for about {weeks} weeks now.", "For context, I came from {old}.",
           "I mostly use it for {usage}.", "Long-time {co} customer here.", "I live in {place}, for what it's worth."]

SHORT_REPLIES = dict(
    pos=["This.", "Same here, love it.", "Agreed 100%.", "Exactly this!", "Glad it's not just me, mine's great too."],
    neg=["Same problem here.", "Yep, mine too. Awful.", "Hard disagree, it's bad.", "This is why I returned mine."],
    neu=["Source?", "Which region are you in?", "lol", "Username checks out.", "RemindMe! 3 days", "What build are you on?"],
    mixed=["Kind of both, honestly.", "Depends on the use case."],
)

EMOJI = dict(pos=["😍", "🔥", "🙌", "❤️", "👍", "😊", "🎉", "💯", "✨", "🥳"],
             neg=["😡", "🤬", "😤", "👎", "💀", "🙄", "😒", "🤦‍♂️", "😭", "😩"],
             neu=["🤔", "👀", "🤷", "📌", "🧐"], mixed=["🤷", "😐", "🤔"])

# Non-English tweets: (lang, sentiment, text, spike_only)
FOREIGN = [
    ("fr", "pos", "J'adore mon nouvel iPhone 17 Pro, l'appareil photo est incroyable 😍 #iPhone17", False),
    ("fr", "pos", "Mario Kart World sur la Switch 2, c'est génial ! On y joue tous les soirs en famille.", False),
    ("fr", "neg", "Encore un retard de la Deutsche Bahn, 80 minutes entre Paris et Francfort… inadmissible.", False),
    ("fr", "neu", "Quelqu'un sait si la Tesla Model Y est livrée à Lyon avant Noël ?", False),
    ("fr", "neg", "Spotify est en panne depuis deux heures, c'est inadmissible #SpotifyDown", True),
    ("fr", "neg", "Je paie Spotify Premium pour ça ? Rien ne marche ce soir. @SpotifyCares", True),
    ("es", "pos", "La Switch 2 es una maravilla, llevo toda la semana jugando 🎮", False),
    ("es", "pos", "Me encanta el nuevo álbum de Taylor Swift, no paro de escucharlo en Spotify.", False),
    ("es", "neg", "Ryanair me cobró 60 euros por la maleta en Madrid. Nunca más.", False),
    ("es", "neu", "¿Alguien sabe cuándo llega el iPhone 17 a México?", False),
    ("es", "neg", "Spotify no funciona en Madrid, ¿pago Premium para esto? 😡 #SpotifyDown", True),
    ("es", "neg", "Otra caída de Spotify. Me paso a Apple Music, ya está.", True),
    ("de", "pos", "Das neue iPhone 17 Pro ist echt super, der Akku hält ewig.", False),
    ("de", "pos", "Der ICE war heute pünktlich, ich bin schockiert 😂 #DeutscheBahn", False),
    ("de", "neg", "Deutsche Bahn, zwei Stunden Verspätung in Hamburg. Danke für nichts. @DB_Bahn", False),
    ("de", "neg", "Das Model Y aus Grünheide hat schon wieder Spaltmaße wie ein Scheunentor. #Tesla", False),
    ("de", "neu", "Weiß jemand, ob das Deutschlandticket im Januar teurer wird?", False),
    ("de", "neg", "Spotify geht schon wieder nicht. Premium bezahlen und nichts hören können 🤬 #SpotifyDown", True),
    ("de", "neu", "Spotify in Berlin auch down? Bei mir lädt gar nichts.", True),
]

FIRST = ["Jenny", "Markus", "Aisha", "Tom", "Lena", "Carlos", "Priya", "Jonas", "Mia", "Daniel", "Sofia", "Kenji",
         "Emma", "Lucas", "Hannah", "Omar", "Chloe", "Mateo", "Yuki", "Ben", "Nora", "Felix", "Zoe", "Ravi",
         "Clara", "Sam", "Ines", "Ahmed", "Laura", "Max", "Olivia", "Jakub", "Elif", "Noah", "Ana", "Tobias"]
LAST = ["Park", "Becker", "Khan", "Miller", "Schmidt", "Garcia", "Patel", "Weber", "Rossi", "Nguyen", "Dubois",
        "Tanaka", "Johnson", "Silva", "Novak", "Fischer", "Kowalski", "Brown", "Yilmaz", "Lopez", "Meyer", "Okafor"]
WORDS = ["quiet", "salty", "lazy", "pixel", "retro", "urban", "cosmic", "tiny", "grumpy", "lucky", "night", "coffee",
         "panda", "falcon", "otter", "badger", "tiger", "koala", "rocket", "noodle", "mango", "waffle", "cactus",
         "penguin", "walrus", "shadow", "river", "maple", "thunder", "velvet", "copper", "echo"]
REDDIT_AUTO_A = ["Exciting", "Sea", "Fit", "Icy", "Witty", "Brave", "Calm", "Dry", "Fresh", "Silly", "Sharp", "Vast"]
REDDIT_AUTO_B = ["Ad", "Gap", "Pop", "Pin", "Tap", "Yak", "Bee", "Fox", "Owl", "Elk", "Cod", "Ant"]

B36 = string.digits + string.ascii_lowercase
URLSAFE = string.ascii_letters + string.digits + "-_"
ALNUM = string.ascii_letters + string.digits


def b36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out or "0"


def rand_str(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def slugify(s: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, s.lower().replace("&", "and")).strip(sep)


def weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


# ---------------------------------------------------------------------------
# Text composition
# ---------------------------------------------------------------------------

def _matches(restrict: str | None, prod: dict) -> bool:
    if not restrict:
        return True
    keys = {prod["co"], prod["kind"], prod["name"]}
    return any(all(tok in keys for tok in alt.split("+")) for alt in restrict.split("|"))


def _split(tmpl: str) -> tuple[str | None, str]:
    m = re.match(r"\[([^\]]+)\]", tmpl)
    return (m.group(1), tmpl[m.end():]) if m else (None, tmpl)


class Composer:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def slots(self, topic: str, prod: dict | None = None, restrict: str | None = None) -> dict:
        rng, t = self.rng, TOPICS[topic]
        prods = t["products"]
        if prod is None:
            pool = [p for p in prods if _matches(restrict, p) and (p["kind"] != "upcoming" or restrict)]
            prod = rng.choice(pool or prods)
        co, kind = prod["co"], prod["kind"]
        others = [p for p in prods if p is not prod and p["kind"] != "upcoming"]
        same_kind = [p for p in others if p["kind"] == kind]
        rival = rng.choice([p for p in same_kind if p["co"] != co] or [p for p in others if p["co"] != co] or others)
        prod2 = rng.choice(same_kind or others)
        feats = prod["feats"] or t["feats"]
        feat = rng.choice(feats)
        feat2 = rng.choice([f for f in feats if f != feat])
        places = t["places"]
        place = rng.choice(places)
        place2 = rng.choice([p for p in places if p != place])
        name = prod["name"]
        the_prod = prod["art"] + name
        url = rng.choice(t["urls"]).format(d=rng.randint(1, 14), slug=slugify(name), code=rand_str(rng, ALNUM, 22))
        s = dict(
            prod=name, the_prod=the_prod, The_prod=the_prod[0].upper() + the_prod[1:],
            prod2=prod2["name"], the_prod2=prod2["art"] + prod2["name"],
            rival=rival["name"], the_rival=rival["art"] + rival["name"],
            co=co, boss=COMPANIES[co]["boss"], feat=feat, feat2=feat2,
            place=place, place2=place2, old=rng.choice(t["old"]), price=rng.choice(prod["prices"] or t["prices"]),
            url=url, alt=rng.choice(["Apple Music", "YouTube Music", "Tidal", "Deezer", "Amazon Music"]),
            hours=rng.choice(["two", "three", "four", "five", "six"]),
            weeks=rng.choice(["two", "three", "four", "six"]), usage=rng.choice(t["usage"]),
            artist=rng.choice(t.get("artists", ["Taylor Swift"])),
            pos_adj=rng.choice(POS_ADJ), neg_adj=rng.choice(NEG_ADJ),
        )
        s["_prod"] = prod
        return s

    def pick_template(self, topic: str, sent: str, spike: bool, prod: dict | None = None) -> str:
        """A template for this sentiment; when `prod` is fixed, only templates that fit it."""
        rng, t = self.rng, TOPICS[topic]
        if spike and "spike_neg" in t:
            return rng.choice(t["spike_" + (sent if sent != "mixed" else "neu")])
        if sent == "mixed":
            pools = [GENERIC["mixed"]]
        elif rng.random() < 0.72 or (prod and prod["kind"] == "upcoming"):
            pools = [t[sent], GENERIC[sent]]
        else:
            pools = [GENERIC[sent], t[sent]]
        for pool in pools:
            fits = [x for x in pool if prod is None or _matches(_split(x)[0], prod)]
            if fits:
                return rng.choice(fits)
        return rng.choice(GENERIC[sent])

    def fill(self, tmpl: str, topic: str, slots: dict | None = None) -> tuple[str, dict]:
        restrict, body = _split(tmpl)
        if slots is None or not _matches(restrict, slots["_prod"]):
            slots = self.slots(topic, restrict=restrict)
        text = body.format(**slots)
        if not (len(text) > 1 and text[1].isupper()):  # "iPhone 17 ..." stays as it is
            text = text[0].upper() + text[1:]
        return text, slots

    def compose(self, topic: str, sent: str, n_extra: int, spike: bool = False,
                context_p: float = 0.0, prod: dict | None = None) -> tuple[list[str], dict]:
        """Sentences for one comment: a main opinion, then supporting sentences about the
        same product (at most one more full template, two in an outage rant)."""
        rng = self.rng
        if spike and topic == "music":
            prod = TOPICS["music"]["products"][0]  # the outage is Spotify's
        tmpl = self.pick_template(topic, sent, spike, prod)
        main, slots = self.fill(tmpl, topic, self.slots(topic, prod=prod) if prod else None)
        sentences, used, full = [main], {tmpl}, 0
        if context_p and not spike and rng.random() < context_p:
            pool = CONTEXT + TOPICS[topic].get("context", [])
            ctx, _ = self.fill(rng.choice(pool), topic, slots)
            sentences.insert(0 if rng.random() < 0.5 else 1, ctx)
        for _ in range(n_extra):
            if full < (2 if spike else 1) and rng.random() < 0.4:
                t2 = self.pick_template(topic, sent, spike, slots["_prod"])
                if t2 in used:
                    continue
                used.add(t2)
                full += 1
                extra, _ = self.fill(t2, topic, slots)
            else:
                extra, _ = self.fill(rng.choice(SUPPORT[sent]), topic, slots)
            if extra not in sentences:
                sentences.append(extra)
        return sentences, slots


def html_escape_min(s: str) -> str:
    """Reddit and Twitter bodies arrive with &, < and > entity-escaped."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# Timing helpers
# ---------------------------------------------------------------------------

def diurnal_time(rng: random.Random, day: int) -> int:
    """A second in day `day` (0-based from 2026-10-01), busier in the European/US afternoon."""
    hour = weighted(rng, list(range(24)), [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 8, 7, 5, 3])
    return T0 + day * DAY + hour * 3600 + rng.randrange(3600)


def pick_sentiment(rng: random.Random, probs: tuple) -> str:
    return weighted(rng, ["pos", "neg", "neu", "mixed"], probs)


BASE_PROBS = {"phones": (0.42, 0.26, 0.26, 0.06), "gaming": (0.46, 0.24, 0.25, 0.05),
              "ev": (0.38, 0.33, 0.24, 0.05), "music": (0.47, 0.2, 0.28, 0.05), "travel": (0.3, 0.38, 0.28, 0.04)}
SPIKE_PROBS = (0.05, 0.78, 0.16, 0.01)


def in_spike(topic: str, ts: int) -> bool:
    return topic == "music" and SPIKE_START <= ts <= SPIKE_END


# ---------------------------------------------------------------------------
# Reddit (Pushshift)
# ---------------------------------------------------------------------------

SUBREDDITS = {
    "phones": [("apple", "t5_2qh1f"), ("iphone", "t5_2qh2b"), ("Android", "t5_2qlqh"), ("GooglePixel", "t5_2u2xm")],
    "gaming": [("NintendoSwitch", "t5_3h47q"), ("gaming", "t5_2qh03"), ("PS5", "t5_2s0rj"), ("SteamDeck", "t5_4c1qz")],
    "ev": [("electricvehicles", "t5_2qhok"), ("teslamotors", "t5_2s3j5"), ("RealTesla", "t5_3cq2d")],
    "music": [("spotify", "t5_2qrbs"), ("TaylorSwift", "t5_2rlwe"), ("Music", "t5_2qh1u")],
    "travel": [("germany", "t5_2qi4z"), ("travel", "t5_2qh41"), ("berlin", "t5_2qhtb"), ("europe", "t5_2qh4j")],
}
FLAIRS = {"apple": ["iPhone 17 Pro", "iPhone 15", "Apple Watch"], "iphone": ["iPhone 17", "iPhone 13 mini"],
          "Android": ["Pixel 10 Pro", "Galaxy S26 Ultra"], "NintendoSwitch": ["Switch 2", "Mario Kart World"],
          "teslamotors": ["Model Y LR", "Model 3 RWD"], "electricvehicles": ["ID.7", "Ioniq 5", "Model Y"],
          "spotify": ["Premium", "Free"], "TaylorSwift": ["folklore", "1989 (TV)"], "germany": ["Berlin", "Bayern", "NRW"],
          "berlin": ["Neukölln", "Kreuzberg", "Pankow"], "europe": ["Germany", "France", "Spain", "Poland"]}

SUB_TITLES = {
    "phones": [
        ("[phone]{The_prod} two weeks in: the battery life is genuinely impressive", "pos"),
        ("[phone]Is anyone else's {prod} overheating after the latest update?", "neg"),
        ("[phone]{prod} vs {rival}: which one would you pick in 2026?", "neu"),
        ("[phone]Just switched from {the_rival} to {the_prod}, AMA", "pos"),
        ("{co} quietly raised the price of {the_prod} in Europe", "neg"),
        ("PSA: check the box before leaving the {place} store, mine was missing the cable", "neu"),
        ("[phone]Unpopular opinion: {the_prod} is the best phone {co} has made in years", "pos"),
        ("[phone]Camera comparison: {prod} vs {rival} in low light", "neu"),
    ],
    "gaming": [
        ("Mario Kart World online has been a blast this week", "pos"),
        ("Joy-Con 2 drift already? Mine is three weeks old", "neg"),
        ("[game]{prod} is on sale – worth it?", "neu"),
        ("[console]{co} announces price increase for {the_prod} in {place}", "neg"),
        ("[game]Just finished {prod}, what a ride (no spoilers)", "pos"),
        ("Weekly question thread: what are you playing?", "neu"),
        ("[game]{prod} patch 1.2 notes are out", "neu"),
        ("[console]Finally got {the_prod} after months of waiting", "pos"),
    ],
    "ev": [
        ("{The_prod} after 60,000 km: long-term review", "pos"),
        ("Phantom braking on the Autobahn near {place} – anyone else?", "neg"),
        ("{co} cuts {prod} prices in {place}", "neu"),
        ("Winter range test: {prod} vs {rival}", "neu"),
        ("Service center wait times are out of control", "neg"),
        ("Picked up my {prod} today!", "pos"),
        ("Gigafactory Berlin-Brandenburg adding a shift, per local news", "neu"),
        ("Is {the_prod} worth it over {the_rival} for a family?", "neu"),
    ],
    "music": [
        ("Discover Weekly has been weirdly good this month", "pos"),
        ("{artist} just broke another streaming record", "pos"),
        ("The new UI is a step backwards, change my mind", "neg"),
        ("[Spotify]Is lossless finally rolling out in {place}?", "neu"),
        ("Shuffle is definitely not random", "neg"),
        ("What's on your Wrapped prediction list this year?", "pos"),
        ("Best playlists for focus / deep work?", "neu"),
        ("{artist} announces stadium tour dates", "pos"),
    ],
    "travel": [
        ("Deutsche Bahn punctuality hits a new low this month", "neg"),
        ("Is the Deutschlandticket still worth it?", "neu"),
        ("Lufthansa strike next week? What we know so far", "neu"),
        ("Eurostar London–Paris was a dream, never flying that route again", "pos"),
        ("Ryanair charged me for a bag that fit the sizer", "neg"),
        ("Berlin BER airport actually worked today", "pos"),
        ("Moving to {place}: tips for getting around without a car?", "neu"),
        ("ICE Wi-Fi is a meme at this point", "neg"),
    ],
}
SPIKE_SUBS = [  # (title, selftext, created)
    ("Is Spotify down for everyone right now?",
     "Nothing plays on desktop or phone, just 'Something went wrong, try reloading'. Premium, Berlin.",
     SPIKE_START + 300, 150),
    ("[Megathread] Spotify outage – October 13", "Please keep all outage reports in this thread. "
     "We'll update with anything official from @SpotifyStatus.\n\n**Update 21:40 UTC:** still down for most users.",
     SPIKE_START + 5 * 3600 + 1200, 120),
    ("Spotify still broken for anyone else? Downloads gone, Liked Songs empty", "", SPIKE_START + 19 * 3600, 90),
]
SUB_BIAS = {"pos": (0.58, 0.18, 0.19, 0.05), "neg": (0.2, 0.55, 0.2, 0.05), "neu": None}


class Names:
    """Stable, Zipf-ish author pools per platform."""

    def __init__(self, rng: random.Random, kind: str, n: int):
        self.rng = rng
        seen, self.pool = set(), []
        while len(self.pool) < n:
            nm = self._make(kind)
            if kind == "twitter" and len(nm) > 15:  # Twitter screen names are at most 15 characters
                continue
            if nm.lower() not in seen:
                seen.add(nm.lower())
                self.pool.append(nm)
        self.weights = [1.0 / (i + 3) ** 0.9 for i in range(n)]

    def _make(self, kind: str) -> str:
        rng = self.rng
        if kind == "reddit":
            r = rng.random()
            if r < 0.35:
                return f"{rng.choice(REDDIT_AUTO_A)}-{rng.choice(REDDIT_AUTO_B)}-{rng.randint(1000, 9999)}"
            if r < 0.45:
                return f"throwaway_{rng.randint(1000, 99999)}"
            w1, w2 = rng.sample(WORDS, 2)
            return rng.choice([f"{w1}_{w2}", f"{w1.capitalize()}{w2.capitalize()}{rng.randint(1, 99)}", f"{w1}{w2}{rng.randint(70, 99)}"])
        if kind == "twitter":
            f, ln = rng.choice(FIRST), rng.choice(LAST)
            return rng.choice([f"{f.lower()}_{ln.lower()}", f"{f}{ln[0]}{rng.randint(1, 999)}", f"{rng.choice(WORDS)}_{f.lower()}",
                               f"{f.lower()}{rng.randint(80, 99)}", f"the{rng.choice(WORDS)}{ln.lower()}"])
        if kind == "youtube":
            f, ln = rng.choice(FIRST), rng.choice(LAST)
            return rng.choice([f"@{f.lower()}{ln.lower()}{rng.randint(1, 9999)}", f"@{rng.choice(WORDS)}{rng.choice(WORDS)}",
                               f"@{f}-{rand_str(rng, string.ascii_lowercase + string.digits, 3)}", f"@user-{rand_str(rng, string.ascii_lowercase + string.digits, 10)}"])
        return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{rng.randint(1, 99)}"

    def pick(self) -> str:
        return self.rng.choices(self.pool, weights=self.weights, k=1)[0]


def reddit(out: Path) -> dict:
    rng = random.Random(101)
    comp = Composer(rng)
    names = Names(rng, "reddit", 700)
    fullnames = {n: "t2_" + b36(rng.randrange(36 ** 7, 36 ** 9)) for n in names.pool}

    # --- submissions --------------------------------------------------------
    subs = []
    for ti, topic in enumerate(TOPIC_NAMES):
        titles = list(SUB_TITLES[topic])
        rng.shuffle(titles)
        for k, (title_t, bias) in enumerate(titles):
            day = min(13, (k * 14) // len(titles) + (ti % 2))
            created = diurnal_time(rng, day)
            if topic == "music" and created > SPIKE_START - 6 * 3600:
                created = SPIKE_START - 6 * 3600 - rng.randrange(3 * 3600)
            title, slots = comp.fill(title_t, topic)
            sr, srid = rng.choice(SUBREDDITS[topic])
            n = max(6, int(rng.gauss(24, 8)))
            subs.append(dict(topic=topic, title=title, bias=bias, created=created, sr=sr, srid=srid,
                             n=n, slots=slots, spike=False, selftext=None))
    for title, selftext, created, n in SPIKE_SUBS:
        subs.append(dict(topic="music", title=title, bias="neg", created=created, sr="spotify", srid="t5_2qrbs",
                         n=n, slots=comp.slots("music", restrict="Spotify"), spike=True, selftext=selftext))
    subs.sort(key=lambda s: s["created"])
    used_sid = set()
    for s in subs:
        sid = b36(int("1o0a000", 36) + (s["created"] - T0) * 3 + rng.randrange(3))
        while sid in used_sid:
            sid = b36(int(sid, 36) + 1)
        used_sid.add(sid)
        s["id"] = sid
        s["author"] = names.pick()

    sub_rows = []
    for s in subs:
        if s["selftext"] is None:
            r = rng.random()
            if r < 0.35:
                s["selftext"] = ""
                s["link_url"] = s["slots"]["url"]
            else:
                sents, _ = comp.compose(s["topic"], s["bias"], rng.randint(1, 3), context_p=0.8,
                                        prod=s["slots"]["_prod"])
                s["selftext"] = " ".join(sents)
        s["link_url"] = s.get("link_url") or f"https://www.reddit.com/r/{s['sr']}/comments/{s['id']}/{slugify(s['title'], '_')[:50]}/"
        s["permalink"] = f"/r/{s['sr']}/comments/{s['id']}/{slugify(s['title'], '_')[:50]}/"

    # --- comments -----------------------------------------------------------
    comments = []
    for s in subs:
        thread = []
        base = SPIKE_PROBS if s["spike"] else (SUB_BIAS.get(s["bias"]) or BASE_PROBS[s["topic"]])
        mean_delay = 2.5 * 3600 if s["spike"] else 7 * 3600
        for _ in range(s["n"]):
            parent = None
            if thread and rng.random() < 0.42:
                parent = rng.choice(thread[-12:])
            start = parent["created"] if parent else s["created"]
            delay = int(rng.expovariate(1 / (mean_delay * (0.5 if parent else 1.0)))) + rng.randint(40, 400)
            created = start + delay
            if created > T_END:
                created = start + rng.randrange(max(1, T_END - start))
            topic = s["topic"]
            probs = base
            if topic == "music" and not s["spike"] and in_spike(topic, created):
                probs = SPIKE_PROBS
            sent = pick_sentiment(rng, probs)
            spike = s["spike"] or in_spike(topic, created)
            if parent and rng.random() < 0.12:
                body = rng.choice(SHORT_REPLIES[sent])
            else:
                n_extra = weighted(rng, [0, 1, 2, 3, 4], [30, 32, 20, 12, 6])
                sents, _ = comp.compose(topic, sent, n_extra, spike=spike, context_p=0.3,
                                        prod=s["slots"]["_prod"] if rng.random() < 0.5 else None)
                if len(sents) >= 3 and rng.random() < 0.5:
                    cut = rng.randint(1, len(sents) - 1)
                    body = " ".join(sents[:cut]) + "\n\n" + " ".join(sents[cut:])
                else:
                    body = " ".join(sents)
                r = rng.random()
                if parent and parent["kind"] == "text" and r < 0.08:
                    own = "\n".join(x for x in parent["body_raw"].split("\n") if x and not x.startswith(">"))
                    quoted = re.split(r"(?<=[.!?])\s", own)[0]
                    body = f"> {quoted}\n\n{body}"
                elif r < 0.13:
                    label = rng.choice(["source", "here", "this article", "link"])
                    body += f" [{label}]({s['slots']['url']})"
                elif r < 0.17:
                    body += " " + s["slots"]["url"]
                if rng.random() < 0.08:
                    body += " " + rng.choice(EMOJI[sent])
                if rng.random() < 0.03:
                    body += "\n\nEdit: " + rng.choice(["typo", "thanks for the award, kind stranger!", "formatting",
                                                       "wow this blew up", "a word"])
                if rng.random() < 0.03:
                    cashtag = COMPANIES[s["slots"]["co"]]["cashtag"]
                    if cashtag:
                        body += f" Not selling my {cashtag} though."
            author = s["author"] if rng.random() < 0.05 else names.pick()
            c = dict(created=created, parent=parent, sub=s, body_raw=body, author=author, sent=sent, kind="text")
            r = rng.random()
            if r < 0.03:
                c["kind"] = "deleted"
            elif r < 0.05:
                c["kind"] = "removed"
            thread.append(c)
        comments.extend(thread)
    comments.sort(key=lambda c: (c["created"], c["sub"]["id"]))
    used = set()
    for c in comments:
        cid = b36(int("o2k0000", 36) + (c["created"] - T0) * 23 + rng.randrange(23))
        while cid in used:
            cid = b36(int(cid, 36) + 1)
        used.add(cid)
        c["id"] = cid
    # ids are assigned in time order, so a parent always has a smaller id than its replies

    lines = []
    for c in comments:
        s = c["sub"]
        score = int(rng.paretovariate(1.3)) - (rng.randrange(6) if rng.random() < 0.12 else 0)
        if c["sent"] == "neg" and s["spike"]:
            score += rng.randrange(40)
        body, author = c["body_raw"], c["author"]
        if c["kind"] == "deleted":
            body, author = "[deleted]", "[deleted]"
        elif c["kind"] == "removed":
            body, author = "[removed]", "[deleted]"
        flairs = FLAIRS.get(s["sr"])
        flair = rng.choice(flairs) if flairs and author != "[deleted]" and rng.random() < 0.25 else None
        edited = False
        if "\n\nEdit: " in body:
            edited = c["created"] + rng.randint(120, 20000)
        row = {
            "all_awardings": [],
            "archived": False,
            "author": author,
            "author_flair_css_class": None,
            "author_flair_text": flair,
            "author_fullname": fullnames.get(author),
            "body": html_escape_min(body),
            "controversiality": 1 if (score <= 1 and rng.random() < 0.15) else 0,
            "created_utc": c["created"],
            "distinguished": None,
            "edited": edited,
            "gilded": 1 if rng.random() < 0.004 else 0,
            "id": c["id"],
            "is_submitter": author == s["author"],
            "link_id": "t3_" + s["id"],
            "locked": False,
            "name": "t1_" + c["id"],
            "parent_id": ("t1_" + c["parent"]["id"]) if c["parent"] else ("t3_" + s["id"]),
            "permalink": s["permalink"] + c["id"] + "/",
            "retrieved_on": c["created"] + rng.randint(30, 3 * 3600),
            "score": score,
            "send_replies": True,
            "stickied": False,
            "subreddit": s["sr"],
            "subreddit_id": s["srid"],
            "subreddit_name_prefixed": "r/" + s["sr"],
            "subreddit_type": "public",
            "total_awards_received": 0,
        }
        if author == "[deleted]":
            del row["author_fullname"]
        lines.append(row)
        s.setdefault("count", 0)
        s["count"] += 1

    # --- deliberate faults (1-based line numbers) ------------------------------
    FAULT_TRUNC, FAULT_NOTJSON, FAULT_NUMBODY, FAULT_NOBODY = 137, 402, 777, 1150
    out_lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in lines]
    t = out_lines[FAULT_TRUNC - 1]
    out_lines[FAULT_TRUNC - 1] = t[: t.index('"body":"') + 8 + 25]          # cut inside the body string
    out_lines[FAULT_NOTJSON - 1] = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
    row = dict(lines[FAULT_NUMBODY - 1], body=1000)
    out_lines[FAULT_NUMBODY - 1] = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    row = {k: v for k, v in lines[FAULT_NOBODY - 1].items() if k != "body"}
    out_lines[FAULT_NOBODY - 1] = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    faults = {FAULT_TRUNC: "truncated JSON object", FAULT_NOTJSON: "not JSON (HTML error page)",
              FAULT_NUMBODY: "body is a number (1000)", FAULT_NOBODY: "no body key"}

    raw = ("\n".join(out_lines) + "\n").encode("utf-8")
    cctx = zstandard.ZstdCompressor(level=19, write_checksum=True, write_content_size=True, threads=0)
    (out / "reddit_comments.jsonl.zst").write_bytes(cctx.compress(raw))

    ok_rows = [r for i, r in enumerate(lines, 1) if i not in faults]
    bodies = [r["body"] for r in ok_rows if r["body"] not in ("[deleted]", "[removed]")]
    seen, dup = set(), 0
    for b in bodies:
        dup += b in seen
        seen.add(b)
    stats = dict(rows=len(out_lines), faults=faults,
                 deleted=sum(r["body"] == "[deleted]" for r in ok_rows),
                 removed=sum(r["body"] == "[removed]" for r in ok_rows),
                 dup_texts=dup,
                 spike_rows=sum(1 for c in comments if c["sub"]["topic"] == "music" and c["created"] >= SPIKE_START))

    # --- submissions file ----------------------------------------------------
    removed_sub = subs[len(subs) // 3]
    for s in subs:
        selftext = s["selftext"]
        author = s["author"]
        if s is removed_sub:
            selftext, author = "[removed]", "[deleted]"
        is_self = not s["link_url"].startswith("http") or "reddit.com" in s["link_url"]
        row = {
            "author": author,
            "author_fullname": fullnames.get(author),
            "created_utc": s["created"],
            "domain": ("self." + s["sr"]) if is_self else re.sub(r"^https?://(www\.)?([^/]+).*$", r"\2", s["link_url"]),
            "id": s["id"],
            "is_self": is_self,
            "link_flair_text": rng.choice([None, None, "Discussion", "Question", "News", "Megathread" if s["spike"] else "Review"]),
            "locked": False,
            "name": "t3_" + s["id"],
            "num_comments": s.get("count", 0) + rng.randrange(0, 6),
            "over_18": False,
            "permalink": s["permalink"],
            "retrieved_on": s["created"] + rng.randint(60, 7200),
            "score": int(rng.paretovariate(0.9) * 8) + (400 if s["spike"] else 0),
            "selftext": html_escape_min(selftext),
            "stickied": s["spike"] and "Megathread" in s["title"],
            "subreddit": s["sr"],
            "subreddit_id": s["srid"],
            "title": html_escape_min(s["title"]),
            "upvote_ratio": round(rng.uniform(0.62, 0.99), 2),
            "url": s["link_url"],
        }
        if author == "[deleted]":
            del row["author_fullname"]
        sub_rows.append(row)
    (out / "reddit_submissions.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in sub_rows), encoding="utf-8")
    stats["submissions"] = len(sub_rows)
    stats["submissions_removed"] = sum(r["selftext"] == "[removed]" for r in sub_rows)
    stats["submissions_empty_selftext"] = sum(r["selftext"] == "" for r in sub_rows)
    return stats


# ---------------------------------------------------------------------------
# Twitter
# ---------------------------------------------------------------------------

TWEPOCH = 1288834974657
DOW = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SOURCES = ['<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
           '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
           '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>']
OFFICIAL = {  # accounts whose tweets get retweeted a lot
    "SpotifyStatus": ("Spotify Status", 1_250_000),
    "SpotifyCares": ("SpotifyCares", 1_100_000),
    "NintendoAmerica": ("Nintendo of America", 14_800_000),
    "DB_Bahn": ("Deutsche Bahn", 310_000),
    "verge": ("The Verge", 3_300_000),
    "electrek": ("Electrek", 260_000),
}
OFFICIAL_TWEETS = [
    ("SpotifyStatus", "music", "neu", True, "We're aware some of you are having trouble playing music right now and we're looking into it. We'll update here as soon as we know more."),
    ("SpotifyStatus", "music", "neu", True, "Update: our teams are still working on the playback issues. Thanks for bearing with us. #SpotifyDown"),
    ("SpotifyCares", "music", "neu", True, "Hey there! We know things aren't working as they should. Hang tight, we're on it 💚"),
    ("NintendoAmerica", "gaming", "pos", False, "Race into the weekend! 🏁 A free Mario Kart World update with new tracks is available now. #MarioKartWorld #NintendoSwitch2"),
    ("DB_Bahn", "travel", "neu", False, "Wegen einer Signalstörung kommt es zwischen Hamburg und Berlin zu Verspätungen. Wir bitten um Entschuldigung."),
    ("verge", "phones", "neu", False, "The iPhone 17 Pro review: a great camera in search of a reason to upgrade https://t.co/"),
    ("electrek", "ev", "neu", False, "Tesla cuts Model Y prices in Germany, Norway and the Netherlands $TSLA https://t.co/"),
]
ENTITY_RE = re.compile(r"(?P<url>https://t\.co/[A-Za-z0-9]+)|(?<![\w&])#(?P<tag>\w*[^\W\d]\w*)|(?<![\w@])@(?P<mention>\w{1,15})|(?<![\w$])\$(?P<sym>[A-Z]{1,6})\b")


def snowflake(rng: random.Random, ts: float) -> int:
    ms = int(ts * 1000) + rng.randrange(1000)
    return ((ms - TWEPOCH) << 22) | (rng.randrange(32) << 17) | (rng.randrange(32) << 12) | rng.randrange(4096)


def created_at_v1(ts: int) -> str:
    d = datetime.fromtimestamp(ts, tz=UTC)
    return f"{DOW[d.weekday()]} {MON[d.month - 1]} {d.day:02d} {d:%H:%M:%S} +0000 {d.year}"


def iso_z(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class TweetText:
    """Builds tweet text with real entities (hashtags/mentions/cashtags/t.co links)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.comp = Composer(rng)
        self.links: dict[str, str] = {}
        self.display: dict[str, str] = {sn: v[0] for sn, v in OFFICIAL.items()}

    def tco(self, expanded: str) -> str:
        short = "https://t.co/" + rand_str(self.rng, ALNUM, 10)
        self.links[short] = expanded
        return short

    def make(self, topic: str, sent: str, spike: bool) -> str:
        rng = self.rng
        for _attempt in range(6):
            n_extra = weighted(rng, [0, 1, 2], [45, 40, 15])
            sents, slots = self.comp.compose(topic, sent, n_extra, spike=spike)
            text = " ".join(sents)
            text = re.sub(r"https://\S+", lambda m: self.tco(m.group(0)), text)
            co = COMPANIES[slots["co"]]
            prod = slots["_prod"]
            if rng.random() < 0.18:
                text = (co["handle"] if not spike else rng.choice(["@SpotifyCares", "@Spotify", "@SpotifyStatus"])) + " " + text
            elif rng.random() < 0.12 and not text.startswith("@"):
                text += " " + co["handle"]
            if rng.random() < 0.45:
                text += " " + rng.choice(EMOJI[sent])
            tags = []
            if spike:
                tags.append("#SpotifyDown")
                if rng.random() < 0.3:
                    tags.append("#Spotify")
            else:
                own = [x for x in (prod["tag"], co["tag"]) if x]
                for _ in range(weighted(rng, [0, 1, 2, 3], [35, 38, 20, 7])):
                    tg = rng.choice(own if own and rng.random() < 0.7 else TOPICS[topic]["tags"])
                    if tg not in tags and tg not in text:
                        tags.append(tg)
            if tags:
                text += " " + " ".join(tags)
            if co["cashtag"] and co["cashtag"] not in text and rng.random() < (0.1 if topic in ("ev", "music") else 0.06):
                text += " " + co["cashtag"]
            if rng.random() < 0.1 and "t.co" not in text:
                text += " " + self.tco(slots["url"])
            text = html_escape_min(text)
            if len(text) <= 280:
                return text
        return text[:279] + "…"

    def entities_v1(self, text: str, shift: int = 0) -> dict:
        ent = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}
        for m in ENTITY_RE.finditer(text):
            a, b = m.start() + shift, m.end() + shift
            if m.group("url"):
                exp = self.links.get(m.group("url"), "https://twitter.com/")
                disp = re.sub(r"^https?://(www\.)?", "", exp)
                ent["urls"].append({"url": m.group("url"), "expanded_url": exp,
                                    "display_url": disp if len(disp) <= 26 else disp[:25] + "…", "indices": [a, b]})
            elif m.group("tag"):
                ent["hashtags"].append({"text": m.group("tag"), "indices": [a, b]})
            elif m.group("mention"):
                sn = m.group("mention")
                ent["user_mentions"].append({"screen_name": sn, "name": self.display.get(sn, sn),
                                             "id": user_id_for(sn), "id_str": str(user_id_for(sn)), "indices": [a, b]})
            else:
                ent["symbols"].append({"text": m.group("sym"), "indices": [a, b]})
        return ent

    def entities_v2(self, text: str) -> dict:
        ent = {}
        for m in ENTITY_RE.finditer(text):
            a, b = m.start(), m.end()
            if m.group("url"):
                exp = self.links.get(m.group("url"), "https://twitter.com/")
                ent.setdefault("urls", []).append({"start": a, "end": b, "url": m.group("url"), "expanded_url": exp,
                                                   "display_url": re.sub(r"^https?://(www\.)?", "", exp)[:25]})
            elif m.group("tag"):
                ent.setdefault("hashtags", []).append({"start": a, "end": b, "tag": m.group("tag")})
            elif m.group("mention"):
                ent.setdefault("mentions", []).append({"start": a, "end": b, "username": m.group("mention"),
                                                       "id": str(user_id_for(m.group("mention")))})
            else:
                ent.setdefault("cashtags", []).append({"start": a, "end": b, "tag": m.group("sym")})
        return ent


def user_id_for(screen_name: str) -> int:
    """Deterministic numeric id per screen name (stable across runs, unlike hash())."""
    h = 1469598103934665603
    for ch in screen_name.lower().encode():
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return 10_000_000 + h % 1_700_000_000_000_000_000 if h % 3 else 100_000 + h % 2_000_000_000


def make_users(rng: random.Random, kind: str, n: int) -> list[dict]:
    names = Names(rng, "twitter", n)
    users = []
    locs = ["Berlin", "London", "NYC", "Madrid", "Paris", "Toronto", "München", "", "", "Earth 🌍", "Seoul", "Austin, TX"]
    bios = ["", "", "tech, coffee, bad puns", "EV nerd. Opinions my own.", "🎮 | 🎧 | 📱", "Swiftie since 2008",
            "train delays survivor", "product designer", "dad of two, gamer of many"]
    for sn in names.pool:
        first = next((f for f in FIRST if f.lower() in sn.lower()), None)
        last = next((x for x in LAST if x.lower() in sn.lower()), None) or rng.choice(LAST)
        name = rng.choice([first, f"{first} {last}", f"{first} {last}", f"{first} 🌻"]) if first else sn
        users.append(dict(screen_name=sn, name=name,
                          followers=int(rng.paretovariate(1.1) * 40), friends=rng.randint(20, 2500),
                          location=rng.choice(locs), description=rng.choice(bios),
                          created=T0 - rng.randint(200, 5500) * DAY - rng.randrange(DAY), verified=False))
    return users, names


def user_v1(u: dict) -> dict:
    uid = user_id_for(u["screen_name"])
    return {"id": uid, "id_str": str(uid), "name": u["name"], "screen_name": u["screen_name"],
            "location": u["location"], "description": u["description"], "followers_count": u["followers"],
            "friends_count": u["friends"], "verified": u["verified"], "created_at": created_at_v1(u["created"])}


def tweets_v1(out: Path) -> dict:
    rng = random.Random(202)
    tt = TweetText(rng)
    users, names = make_users(rng, "twitter", 520)
    by_sn = {u["screen_name"]: u for u in users}
    tt.display.update({u["screen_name"]: u["name"] for u in users})
    for sn, (nm, fol) in OFFICIAL.items():
        by_sn[sn] = dict(screen_name=sn, name=nm, followers=fol, friends=rng.randint(100, 900), location="",
                         description="Official account.", created=T0 - 3000 * DAY, verified=True)

    originals = []
    # regular traffic
    for day in range(14):
        for topic in TOPIC_NAMES:
            for _ in range(rng.randint(7, 10)):
                ts = diurnal_time(rng, day)
                spike = in_spike(topic, ts)
                sent = pick_sentiment(rng, SPIKE_PROBS if spike else BASE_PROBS[topic])
                originals.append(dict(ts=ts, topic=topic, sent=sent, text=tt.make(topic, sent, spike), lang="en",
                                      user=names.pick()))
    # the outage: extra volume
    for _ in range(150):
        ts = SPIKE_START + int(rng.expovariate(1 / (9 * 3600)))
        if ts > T_END:
            ts = SPIKE_START + rng.randrange(T_END - SPIKE_START)
        sent = pick_sentiment(rng, SPIKE_PROBS)
        originals.append(dict(ts=ts, topic="music", sent=sent, text=tt.make("music", sent, True), lang="en",
                              user=names.pick()))
    # non-English
    for lang, sent, text, spike_only in FOREIGN:
        for _ in range(2 if spike_only else 1):
            ts = SPIKE_START + rng.randrange(T_END - SPIKE_START) if spike_only else diurnal_time(rng, rng.randrange(14))
            originals.append(dict(ts=ts, topic="music" if "Spotify" in text else "other", sent=sent, lang=lang,
                                  text=html_escape_min(text), user=names.pick()))
    # emoji/hashtag-only posts: lang "und"
    for text in ["🔥🔥🔥 #NintendoSwitch2", "😭😭😭 #SpotifyDown", "👀 #iPhone17Pro", "🚄⏰🙃 #Bahnchaos"]:
        ts = (SPIKE_START + rng.randrange(T_END - SPIKE_START)) if "Spotify" in text else diurnal_time(rng, rng.randrange(14))
        originals.append(dict(ts=ts, topic="x", sent="neu", lang="und", text=text, user=names.pick()))
    # official accounts (heavily retweeted later)
    for sn, topic, sent, spike, text in OFFICIAL_TWEETS:
        if text.endswith("https://t.co/"):
            text = text[: -len("https://t.co/")] + tt.tco(rng.choice(TOPICS[topic]["urls"]).format(d=rng.randint(2, 12), slug=slugify(text[4:30]), code="x"))
        ts = SPIKE_START + rng.randrange(600, 8 * 3600) if spike else diurnal_time(rng, rng.randrange(1, 12))
        originals.append(dict(ts=ts, topic=topic, sent=sent, lang="de" if sn == "DB_Bahn" else "en",
                              text=html_escape_min(text), user=sn, official=True))
    # two rows whose text carries literal \u2019 escapes (double-escaped upstream)
    for o in [o for o in originals if o["lang"] == "en" and "'" in o["text"]][20:300:200]:
        o["text"] = o["text"].replace("'", "\\u2019")

    for o in originals:
        o["id"] = snowflake(rng, o["ts"])
        o["rt"] = int(rng.paretovariate(1.6)) - 1 if not o.get("official") else rng.randint(300, 4000)
        o["fav"] = o["rt"] * rng.randint(1, 6) + rng.randrange(5)

    # duplicates: retweets of earlier tweets + plain copy-pasted duplicates with new ids
    rows = [dict(o, kind="orig") for o in originals]
    popular = sorted(originals, key=lambda o: -o["rt"])[:60]
    offic = [o for o in originals if o.get("official")]
    for _ in range(128):
        src = rng.choice(offic) if rng.random() < 0.45 else rng.choice(popular)
        ts = src["ts"] + int(rng.expovariate(1 / 5400)) + 5
        if ts > T_END:
            continue
        rows.append(dict(kind="rt", src=src, ts=ts, user=names.pick(), lang=src["lang"], topic=src["topic"]))
    copyable = [o for o in originals if not o.get("official") and o["lang"] == "en"]
    for _ in range(58):
        src = rng.choice(copyable)
        ts = src["ts"] + rng.randint(60, 2 * DAY)
        if ts > T_END:
            continue
        rows.append(dict(kind="copy", src=src, ts=ts, user=names.pick(), lang=src["lang"], topic=src["topic"],
                         text=src["text"], sent=src["sent"]))
    for r in rows:
        if r["kind"] != "orig":
            r["id"] = snowflake(rng, r["ts"])
    rows.sort(key=lambda r: r["id"])

    def v1_obj(r: dict, use_text_key: bool) -> dict:
        u = by_sn[r["user"]]
        if r["kind"] == "rt":
            src = r["src"]
            inner = v1_obj(dict(src, kind="orig"), False)
            prefix = f"RT @{src['user']}: "
            text = prefix + src["text"]
            ent = tt.entities_v1(text)
            rt_count, fav = src["rt"], 0
        else:
            text = r["text"]
            ent = tt.entities_v1(text)
            rt_count, fav = r.get("rt", 0), r.get("fav", 0)
        obj = {"created_at": created_at_v1(r["ts"]), "id": r["id"], "id_str": str(r["id"])}
        if use_text_key:
            if len(text) > 140:
                cut = text[:113].rsplit(" ", 1)[0]
                link = tt.tco(f"https://twitter.com/i/web/status/{r['id']}")
                short = f"{cut}… {link}"
                obj.update({"text": short, "truncated": True, "entities": tt.entities_v1(short),
                            "extended_tweet": {"full_text": text, "display_text_range": [0, len(text)], "entities": ent}})
            else:
                obj.update({"text": text, "truncated": False, "entities": ent})
        else:
            obj.update({"full_text": text, "truncated": False, "display_text_range": [0, len(text)], "entities": ent})
        obj.update({"source": SOURCES[r["id"] % 3], "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
                    "in_reply_to_screen_name": None, "user": user_v1(u), "is_quote_status": False})
        if r["kind"] == "rt":
            obj["retweeted_status"] = inner
        obj.update({"retweet_count": rt_count, "favorite_count": fav, "favorited": False, "retweeted": False,
                    "lang": r["lang"]})
        return obj

    text_key_rows = set(rng.sample(range(len(rows)), k=len(rows) // 12))
    # make sure some of the `text` rows are long enough to be truncated (streaming-API style)
    longs = [i for i, r in enumerate(rows) if r["kind"] == "orig" and len(r["text"]) > 150]
    text_key_rows.update(longs[3:60:9])
    buf = io.BytesIO()
    seen, seen_norm = set(), set()
    dup_exact = dup_norm = rts = copies = 0
    line_of_text_rows, truncated_lines = 0, []
    lang_counts: dict[str, int] = {}
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for i, r in enumerate(rows):
            obj = v1_obj(r, i in text_key_rows)
            text = obj.get("full_text") or obj.get("extended_tweet", {}).get("full_text") or obj["text"]
            norm = re.sub(r"^RT @\w+: ", "", text)
            dup_exact += text in seen
            dup_norm += norm in seen_norm
            seen.add(text)
            seen_norm.add(norm)
            rts += r["kind"] == "rt"
            copies += r["kind"] == "copy"
            line_of_text_rows += "text" in obj
            if obj.get("truncated"):
                truncated_lines.append(i + 1)
            lang_counts[obj["lang"]] = lang_counts.get(obj["lang"], 0) + 1
            gz.write((json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii"))
    (out / "tweets_v1.jsonl.gz").write_bytes(buf.getvalue())
    escaped_lines = [i + 1 for i, r in enumerate(rows) if "\\u2019" in (r.get("text") or r.get("src", {}).get("text", ""))]
    return dict(rows=len(rows), retweets=rts, plain_copies=copies, dup_exact=dup_exact, dup_after_rt_strip=dup_norm,
                text_key_rows=line_of_text_rows, truncated_lines=truncated_lines, langs=lang_counts,
                literal_escape_lines=escaped_lines,
                spike_rows=sum(1 for r in rows if r["ts"] >= SPIKE_START and r.get("topic") == "music"))


def tweets_v2(out: Path) -> dict:
    rng = random.Random(303)
    tt = TweetText(rng)
    users, names = make_users(rng, "twitter", 80)
    by_sn = {u["screen_name"]: u for u in users}
    lo = T0 + 8 * DAY  # recent search: last 7 days
    items = []
    for _ in range(64):
        topic = rng.choice(TOPIC_NAMES)
        ts = lo + rng.randrange(T_END - lo)
        spike = in_spike(topic, ts)
        sent = pick_sentiment(rng, SPIKE_PROBS if spike else BASE_PROBS[topic])
        items.append(dict(ts=ts, text=tt.make(topic, sent, spike), lang="en", user=names.pick()))
    for _ in range(22):
        ts = SPIKE_START + rng.randrange(T_END - SPIKE_START)
        sent = pick_sentiment(rng, SPIKE_PROBS)
        items.append(dict(ts=ts, text=tt.make("music", sent, True), lang="en", user=names.pick()))
    for lang, _sent, text, spike_only in [*[f for f in FOREIGN if f[3]][:4], FOREIGN[2], FOREIGN[14]]:
        ts = SPIKE_START + rng.randrange(T_END - SPIKE_START) if spike_only else lo + rng.randrange(T_END - lo)
        items.append(dict(ts=ts, text=html_escape_min(text), lang=lang, user=names.pick()))
    for it in items:
        it["id"] = snowflake(rng, it["ts"])
    # a few retweets (v2 keeps the "RT @x: " text and a referenced_tweets entry)
    for _ in range(8):
        src = rng.choice(items[:86])
        ts = min(T_END, src["ts"] + rng.randint(60, 4 * 3600))
        items.append(dict(ts=ts, text=f"RT @{src['user']}: {src['text']}", lang=src["lang"], user=names.pick(),
                          ref=src["id"], id=snowflake(rng, ts)))
    items.sort(key=lambda x: -x["id"])  # newest first, like the API
    data, seen_users = [], []
    for it in items:
        text = it["text"]
        rtc = int(rng.paretovariate(1.5)) - 1
        obj = {"id": str(it["id"]), "text": text, "created_at": iso_z(it["ts"]),
               "author_id": str(user_id_for(it["user"])), "lang": it["lang"],
               "edit_history_tweet_ids": [str(it["id"])],
               "public_metrics": {"retweet_count": rtc, "reply_count": rng.randrange(4), "like_count": rtc * rng.randint(1, 5) + rng.randrange(8),
                                  "quote_count": rng.randrange(2), "bookmark_count": rng.randrange(3),
                                  "impression_count": rng.randint(40, 9000)}}
        if it.get("ref"):
            obj["referenced_tweets"] = [{"type": "retweeted", "id": str(it["ref"])}]
        ent = tt.entities_v2(text)
        if ent:
            obj["entities"] = ent
        data.append(obj)
        if it["user"] not in seen_users:
            seen_users.append(it["user"])
    inc = []
    for sn in seen_users:
        u = by_sn[sn]
        inc.append({"id": str(user_id_for(sn)), "name": u["name"], "username": sn, "verified": False,
                    "created_at": iso_z(u["created"]),
                    "public_metrics": {"followers_count": u["followers"], "following_count": u["friends"],
                                       "tweet_count": rng.randint(50, 40000), "listed_count": rng.randrange(20)}})
    page = {"data": data, "includes": {"users": inc},
            "meta": {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"], "result_count": len(data),
                     "next_token": "b26v89c19zqg8o3frr" + rand_str(rng, string.ascii_lowercase + string.digits, 14)}}
    (out / "tweets_v2.json").write_text(json.dumps(page, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    texts = [d["text"] for d in data]
    norm = [re.sub(r"^RT @\w+: ", "", t) for t in texts]
    return dict(rows=len(data), users=len(inc), retweets=sum("referenced_tweets" in d for d in data),
                dup_after_rt_strip=len(norm) - len(set(norm)), dup_exact=len(texts) - len(set(texts)),
                langs={x: sum(d["lang"] == x for d in data) for x in sorted({d["lang"] for d in data})})


# ---------------------------------------------------------------------------
# YouTube (youtube-comment-downloader, one video)
# ---------------------------------------------------------------------------

YT_FILE = "youtube_comments_iphone17pro_review.jsonl"
YT_PUBLISHED = int(datetime(2026, 10, 8, 15, 0, tzinfo=UTC).timestamp())
YT_DOWNLOADED = T_END + 1  # fetched at 2026-10-15 00:00 UTC
YT_SPECIFIC = dict(
    pos=["Great review as always, the battery test at {ts} was super helpful.",
         "Best {prod} review on YouTube, no fluff, straight to the point.",
         "The camera comparison at {ts} sold me. Ordered the {prod} in Deep Blue.",
         "Your B-roll keeps getting better, that {place} footage was gorgeous.",
         "Finally a reviewer who actually used the phone for two weeks before talking about it 👏"],
    neg=["{ts} you completely skipped the overheating issue. Feels like a sponsored video.",
         "Returned mine after watching this, the battery results matched my experience exactly. Not worth {price}.",
         "Apple sends you a free phone and suddenly everything is 'amazing'. Come on.",
         "The audio in this video is really bad, couldn't hear anything over the music.",
         "Another review that ignores the price. {price} for a phone is insane."],
    neu=["{ts} what's the name of that case?", "How does it compare to the {rival} you reviewed last month?",
         "Can you do a follow-up after iOS 26.2?", "Which storage did you get, 256 or 512?",
         "Anyone else watching this on the {prod} itself?", "What camera did you film this with?"],
)


def yt_relative(age: int) -> tuple[str, int]:
    """YouTube's coarse relative time, and the delta dateparser turns it back into."""
    if age < 3600:
        n = max(1, age // 60)
        return f"{n} minute{'s' if n > 1 else ''} ago", n * 60
    if age < DAY:
        n = age // 3600
        return f"{n} hour{'s' if n > 1 else ''} ago", n * 3600
    if age < 7 * DAY:
        n = age // DAY
        return f"{n} day{'s' if n > 1 else ''} ago", n * DAY
    n = age // (7 * DAY)
    return f"{n} week{'s' if n > 1 else ''} ago", n * 7 * DAY


def yt_votes(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10000:
        s = f"{n / 1000:.1f}".rstrip("0").rstrip(".")
        return s + "K"
    return f"{n // 1000}K"


def youtube(out: Path) -> dict:
    rng = random.Random(404)
    comp = Composer(rng)
    names = Names(rng, "youtube", 330)
    channels = {n: "UC" + rand_str(rng, URLSAFE, 22) for n in names.pool}
    photos = {n: "https://yt3.ggpht.com/ytc/" + rand_str(rng, URLSAFE, 40) + "=s176-c-k-c0x00ffffff-no-rj" for n in names.pool}
    creator = "@TechWithLena"
    channels[creator] = "UC" + rand_str(rng, URLSAFE, 22)
    photos[creator] = "https://yt3.ggpht.com/" + rand_str(rng, URLSAFE, 44) + "=s176-c-k-c0x00ffffff-no-rj"
    probs = (0.44, 0.25, 0.26, 0.05)
    prod_pro = next(p for p in TOPICS["phones"]["products"] if p["name"] == "iPhone 17 Pro")

    def body(sent: str) -> str:
        if rng.random() < 0.4 and sent in YT_SPECIFIC:
            s = comp.slots("phones", prod=prod_pro)
            s["ts"] = f"{rng.randint(0, 17)}:{rng.randint(0, 59):02d}"
            txt = rng.choice(YT_SPECIFIC[sent]).format(**s)
            if rng.random() < 0.4:
                extra, _ = comp.fill(rng.choice(SUPPORT[sent]), "phones", s)
                txt += " " + extra
        else:
            n_extra = weighted(rng, [0, 1, 2, 3], [40, 35, 17, 8])
            sents, _ = comp.compose("phones", sent, n_extra, context_p=0.2,
                                    prod=prod_pro if rng.random() < 0.6 else None)
            txt = " ".join(sents)
            if len(sents) > 2 and rng.random() < 0.3:
                txt = txt.replace(". ", ".\n", 1)
        if rng.random() < 0.4:
            txt += " " + rng.choice(EMOJI[sent]) * rng.randint(1, 3)
        if rng.random() < 0.04:
            txt = txt.upper()
        return txt

    threads = []
    for _ in range(265):
        age_pub = int(rng.expovariate(1 / (1.6 * DAY)))
        if YT_PUBLISHED + age_pub > YT_DOWNLOADED - 120:
            age_pub = rng.randrange(YT_DOWNLOADED - YT_PUBLISHED - 120)
        ts = min(YT_DOWNLOADED - 60, YT_PUBLISHED + age_pub + rng.randint(30, 600))
        sent = pick_sentiment(rng, probs)
        threads.append(dict(ts=ts, sent=sent, author=names.pick(), text=body(sent), replies=[]))
    for _ in range(85):
        parent = rng.choice(threads[:200])
        ts = min(YT_DOWNLOADED - 60, parent["ts"] + int(rng.expovariate(1 / (10 * 3600))) + 60)
        if rng.random() < 0.08:
            author, sent = creator, rng.choice(["pos", "neu"])
            text = f"@{parent['author'].lstrip('@')} " + rng.choice(
                ["Thanks so much! 🙏", "Good question, it's the 256GB model.", "Fair point, I'll cover that in the follow-up.",
                 "Appreciate you watching!", "It's a Peak Design case."])
        else:
            author, sent = names.pick(), pick_sentiment(rng, probs)
            text = (f"@{parent['author'].lstrip('@')} " if rng.random() < 0.55 else "") + body(sent)
        parent["replies"].append(dict(ts=ts, sent=sent, author=author, text=text))
    threads.sort(key=lambda t: -t["ts"])  # sort_by=recent

    rows, tick = [], 0.0
    for t in threads:
        cid = rng.choice(["Ugx", "Ugw", "Ugz", "Ugy"]) + rand_str(rng, URLSAFE, 16) + "4AaABAg"
        t["replies"].sort(key=lambda r: r["ts"])
        for depth, c in enumerate([t] + t["replies"]):
            is_reply = depth > 0
            this_cid = cid if not is_reply else cid + "." + rand_str(rng, URLSAFE, 22)
            rel, delta = yt_relative(YT_DOWNLOADED - c["ts"])
            if rng.random() < 0.05:
                rel += " (edited)"
            votes = min(900, int(rng.paretovariate(0.75 if not is_reply else 1.4)) - 1)
            if not is_reply and rng.random() < 0.03:
                votes = rng.randint(1000, 14000)
            tick += rng.uniform(0.001, 0.02)
            rows.append({
                "cid": this_cid, "text": c["text"], "time": rel, "author": c["author"],
                "channel": channels[c["author"]], "votes": yt_votes(votes),
                "replies": str(len(t["replies"])) if not is_reply else "",
                "photo": photos[c["author"]],
                "heart": (c["author"] != creator and rng.random() < 0.04),
                "reply": is_reply,
                "time_parsed": round(YT_DOWNLOADED + tick - delta, 6),
            })
    (out / YT_FILE).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    texts = [r["text"] for r in rows]
    return dict(rows=len(rows), top_level=sum(not r["reply"] for r in rows), replies=sum(r["reply"] for r in rows),
                dup_texts=len(texts) - len(set(texts)))


# ---------------------------------------------------------------------------
# Generic CSV
# ---------------------------------------------------------------------------

def generic_csv(out: Path) -> dict:
    rng = random.Random(505)
    comp = Composer(rng)
    names = Names(rng, "generic", 260)
    prods = [(t, p) for t in TOPIC_NAMES for p in TOPICS[t]["products"] if p["name"] != "Spotify"]
    rows = []
    for _ in range(290):
        topic, prod = rng.choice(prods)
        ts = diurnal_time(rng, rng.randrange(14))
        spike = in_spike(topic, ts) and prod["co"] == "Spotify"
        sent = pick_sentiment(rng, SPIKE_PROBS if spike else BASE_PROBS[topic])
        rows.append([ts, topic, prod, sent, spike])
    for _ in range(22):  # outage complaints arrive as Spotify Premium reviews too
        ts = SPIKE_START + rng.randrange(T_END - SPIKE_START)
        rows.append([ts, "music", TOPICS["music"]["products"][0], pick_sentiment(rng, SPIKE_PROBS), True])
    rows.sort(key=lambda r: r[0])
    recs = []
    for i, (ts, topic, prod, sent, spike) in enumerate(rows):
        sents, _ = comp.compose(topic, sent, weighted(rng, [0, 1, 2], [40, 40, 20]), spike=spike,
                                context_p=0.25, prod=prod)
        msg = " ".join(sents)
        if rng.random() < 0.04:
            msg = f'Title: "{prod["name"]}" – ' + msg
        stamp = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        recs.append([f"C{100000 + i * 7 + rng.randrange(7)}", stamp, names.pick(), prod["name"], msg])
    EMPTY, MULTILINE = 173, 240  # 0-based record indices
    # the ragged row: the first message from record 88 on with exactly one comma, written unquoted
    RAGGED = next(i for i in range(88, len(recs)) if recs[i][4].count(",") == 1 and '"' not in recs[i][4]
                  and not any("," in f for f in recs[i][:4]))
    recs[EMPTY][4] = ""
    recs[MULTILINE][4] = recs[MULTILINE][4] + "\nUpdate after a week: still the same."
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["comment_id", "posted_at", "user", "product", "message"])
    for i, r in enumerate(recs):
        if i == RAGGED:
            # an export that forgot to quote a message containing a comma: one column too many
            buf.write(",".join(r) + "\n")
        else:
            w.writerow(r)
    (out / "generic_comments.csv").write_text(buf.getvalue(), encoding="utf-8")
    msgs = [r[4] for r in recs]
    return dict(rows=len(recs), ragged_line=RAGGED + 2, empty_line=EMPTY + 2, multiline_lines=(MULTILINE + 2, MULTILINE + 3),
                dup_texts=len(msgs) - len(set(msgs)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stats = {"reddit": reddit(args.out), "tweets_v1": tweets_v1(args.out), "tweets_v2": tweets_v2(args.out),
             "youtube": youtube(args.out), "csv": generic_csv(args.out)}
    print(json.dumps(stats, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
