"""Text as models read it and as people are shown it: normalisation, case, language, safe output."""
