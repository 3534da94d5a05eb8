"""Readers for labelled data: what `opinions evaluate`, `opinions train` and the
training scripts read.

- Sentiment: TSV (`text<TAB>label`, or `id<TAB>label<TAB>text` when the middle column
  is a known label) or JSONL (`{"text": ..., "label": ...}`).
- NER: CoNLL (`token<TAB>tag`, blank line between sentences), BIO tags.

Bad rows raise `LabelledDataError` naming the file and line, before any work starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import OpinionsError


class LabelledDataError(OpinionsError, ValueError):
    """A labelled file that cannot be used, with the lines at fault."""


@dataclass
class LabelledTexts:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # of each row in its file, for error messages

    def multi_label_lines(self) -> list[int]:
        """Lines whose label names several labels (GoEmotions-style `joy,surprise`)."""
        return [line for line, label in zip(self.line_numbers, self.labels, strict=True) if "," in label]


@dataclass
class TaggedSentences:
    tokens: list[list[str]] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)


def read_labelled_texts(path: str | Path, text_field: str = "text", label_field: str = "label") -> LabelledTexts:
    """Read text+label pairs from TSV or JSONL. Every bad line is reported at once."""
    path = Path(path)
    out = LabelledTexts()
    errors: list[str] = []
    is_jsonl = path.suffix.lower() in {".jsonl", ".ndjson", ".json"}
    with path.open(encoding="utf-8", errors="strict") as fh:
        try:
            lines = fh.read().splitlines()
        except UnicodeDecodeError as exc:
            raise LabelledDataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if is_jsonl:
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {line_no}: malformed JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                errors.append(f"line {line_no}: expected a JSON object")
                continue
            text, label = row.get(text_field), row.get(label_field)
            if not isinstance(text, str) or not text.strip():
                errors.append(f"line {line_no}: no text in field {text_field!r}")
                continue
            if isinstance(label, list) and label and all(isinstance(x, (str, int)) for x in label):
                label = ",".join(str(x).strip() for x in label)  # several labels: the caller decides
            if label is None or isinstance(label, (dict, list)) or str(label).strip() == "":
                errors.append(f"line {line_no}: no label in field {label_field!r}")
                continue
            out.texts.append(text)
            out.labels.append(str(label).strip())
            out.line_numbers.append(line_no)
        else:
            parts = line.split("\t")
            if len(parts) < 2:
                errors.append(f"line {line_no}: expected text<TAB>label")
                continue
            if len(parts) >= 3 and parts[0].strip().isdigit():
                # id<TAB>label<TAB>text, the SemEval layout
                label, text = parts[1], "\t".join(parts[2:])
            else:
                text, label = parts[0], parts[1]
            if not text.strip() or not label.strip():
                errors.append(f"line {line_no}: empty text or label")
                continue
            out.texts.append(text)
            out.labels.append(label.strip())
            out.line_numbers.append(line_no)
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise LabelledDataError(f"{path}: {len(errors)} unreadable row(s): {shown}")
    return out


def require_single_labels(data: LabelledTexts, path: str | Path) -> None:
    """Refuse multi-label rows clearly: a single-label model would learn `joy,surprise` as a class of its own."""
    lines = data.multi_label_lines()
    if lines:
        shown = ", ".join(str(n) for n in lines[:10]) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
        raise LabelledDataError(
            f"{path}: {len(lines)} row(s) with several labels (line {shown}, e.g. {data.labels[data.line_numbers.index(lines[0])]!r}); "
            "multi-label data is not supported: give each text one label (or drop those rows)")


def read_conll(path: str | Path) -> TaggedSentences:
    """Read a CoNLL file (token and tag, tab- or space-separated; tag in the last column)."""
    path = Path(path)
    out = TaggedSentences()
    errors: list[str] = []
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if tokens:
                    out.tokens.append(tokens)
                    out.tags.append(tags)
                tokens, tags = [], []
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2 or not parts[-1].strip():
                errors.append(f"line {line_no}: expected token<TAB>tag")
                continue
            tag = parts[-1].strip()
            if tag != "O" and not (tag[:2] in {"B-", "I-"} and len(tag) > 2):
                errors.append(f"line {line_no}: tag {tag!r} is not BIO (O, B-X, I-X)")
                continue
            tokens.append(parts[0])
            tags.append(tag)
    if tokens:
        out.tokens.append(tokens)
        out.tags.append(tags)
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise LabelledDataError(f"{path}: {len(errors)} unreadable row(s): {shown}")
    return out
