"""Labelled data: reading it, scoring predictions against it, correcting class shares with it."""
