"""Class shares corrected for what the model is known to get wrong, with an interval per share.

A report's headline is a share ("spotify: 70.9% negative"). Counting the model's labels
(classify and count) inherits its bias: the embedded sentiment model calls about half of the
neutral tweets positive or negative, so neutral is under-reported and both others over-reported,
by more than the week-to-week moves a monitor watches for. The model's confusion on held-out
data, C[i][j] = P(model says j | the humans say i), is measured when the model is made
(`training.pack_check` for the pack; `opinions train` on its validation split) and says by how
much. The shares the model's labels show are q = Cᵀ·π for the true shares π, so

    π = (Cᵀ)⁻¹ · q        (adjusted classify and count, ACC; Forman 2008)

clipped to [0, 1] and renormalised where sampling noise pushes a share below zero. It is linear in
the counted shares, so a difference of two adjusted shares (net sentiment, a change) is the
adjusted difference, and SQL can apply it (`linear_params`).

The interval is the 95% normal interval of the adjusted share under multinomial sampling of the
group's comments, computed on counts with one pseudo-comment added per class (as Agresti and
Coull do for a proportion), so a group of 5 comments that all say "negative" gets a wide interval,
not a certain 100%. It does not cover a shift between the data the confusion was measured on and
the user's (unseen tweets score ~7 points lower than validation tweets): the interval is a floor.

Pure Python (a 3×3 inverse): reports start without numpy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

Z95 = 1.959964
PSEUDO = 1.0  # pseudo-comments per class for the interval (not for the point estimate)


class ConfusionError(ValueError):
    """A confusion matrix that cannot correct shares (wrong shape, a class never seen, singular)."""


@dataclass(frozen=True)
class Adjustment:
    """How a report turns label counts into shares: `inverse` is (Cᵀ)⁻¹, or the identity for raw counts."""

    labels: tuple[str, ...]
    inverse: tuple[tuple[float, ...], ...]
    source: str  # what the confusion was measured on, for the caption ("" for raw counts)

    @property
    def raw(self) -> bool:
        return not self.source

    def shares(self, counts: dict[str, int]) -> dict[str, float] | None:
        """Adjusted shares of `counts` (label: comments), None when there are none."""
        n = sum(counts.get(label, 0) for label in self.labels)
        if n == 0:
            return None
        return _onto_simplex(self._apply([counts.get(label, 0) / n for label in self.labels]), self.labels)

    def intervals(self, counts: dict[str, int],
                  point: dict[str, float] | None = None) -> dict[str, tuple[float, float]] | None:
        """The 95% interval of each adjusted share (see the module's docstring), None without comments;
        `point`: `shares(counts)` when the caller has it already."""
        n = sum(counts.get(label, 0) for label in self.labels)
        if n == 0:
            return None
        total = n + PSEUDO * len(self.labels)
        q = [(counts.get(label, 0) + PSEUDO) / total for label in self.labels]
        centre = self._apply(q)
        point = point or self.shares(counts) or {}
        out = {}
        for i, label in enumerate(self.labels):
            row = self.inverse[i]
            variance = max(0.0, sum(a * a * p for a, p in zip(row, q, strict=True)) - centre[i] ** 2) / total
            half = Z95 * math.sqrt(variance)
            # the point estimate (no pseudo-counts) always lies inside its own interval
            low = min(max(0.0, centre[i] - half), point.get(label, 0.0))
            high = max(min(1.0, centre[i] + half), point.get(label, 0.0))
            out[label] = (low, high)
        return out

    def linear_params(self, prefix: str = "adj") -> dict[str, float]:
        """(Cᵀ)⁻¹ as SQL parameters, `$adj_<row>_<column>` by label, for SQL that adjusts shares itself."""
        return {f"{prefix}_{a}_{b}": self.inverse[i][j] for i, a in enumerate(self.labels)
                for j, b in enumerate(self.labels)}

    def _apply(self, q: list[float]) -> list[float]:
        return [sum(a * p for a, p in zip(row, q, strict=True)) for row in self.inverse]


def raw(labels: tuple[str, ...]) -> Adjustment:
    """Shares as the model's labels count them (`--raw`)."""
    k = len(labels)
    return Adjustment(labels, tuple(tuple(float(i == j) for j in range(k)) for i in range(k)), "")


def from_confusion(labels: list[str], counts: dict[str, list[list[int]]],
                   weighting: str = "each set equally") -> Adjustment:
    """An adjustment from confusion counts measured on one or more held-out sets (rows: the humans'
    label, columns: the model's). Each set's rows are made conditional probabilities and the sets are
    averaged, each weighing the same, so a large set of one kind of text does not drown the other."""
    k = len(labels)
    if not counts or any(len(m) != k or any(len(row) != k for row in m) for m in counts.values()):
        raise ConfusionError(f"a confusion matrix must be {k}×{k} over {', '.join(labels)}")
    rates = [[0.0] * k for _ in range(k)]
    for matrix in counts.values():
        for i, row in enumerate(matrix):
            total = sum(row)
            if total == 0:
                raise ConfusionError(f"no held-out example of {labels[i]!r}: its errors are unknown")
            for j, value in enumerate(row):
                rates[i][j] += value / total / len(counts)
    transposed = [[rates[i][j] for i in range(k)] for j in range(k)]
    inverse = _inverse(transposed)
    rows = sum(sum(map(sum, m)) for m in counts.values())
    source = f"{' + '.join(counts)} ({rows:,} held-out examples, {weighting})"
    return Adjustment(tuple(labels), tuple(tuple(row) for row in inverse), source)


def confusion_matrix(gold: list[str], predicted: list[str], labels: list[str]) -> list[list[int]]:
    """Counts of (the humans' label, the model's label) over `labels`, rows by the humans' label; a pair
    with a label outside `labels` is not counted."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for truth, guess in zip(gold, predicted, strict=True):
        if truth in index and guess in index:
            matrix[index[truth]][index[guess]] += 1
    return matrix


def from_json(text: str) -> Adjustment:
    """`from_confusion` of a manifest's or a database's stored `confusion` (see `training.pack_check`)."""
    data = json.loads(text)
    return from_confusion(list(data["labels"]), data["counts"], data.get("weighting", "each set equally"))


def _onto_simplex(values: list[float], labels: tuple[str, ...]) -> dict[str, float]:
    clipped = [max(0.0, v) for v in values]
    total = sum(clipped) or 1.0
    return {label: v / total for label, v in zip(labels, clipped, strict=True)}


def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan with partial pivoting; a (near-)singular confusion cannot correct anything."""
    k = len(matrix)
    work = [[*row, *(float(i == j) for j in range(k))] for i, row in enumerate(matrix)]
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(work[r][col]))
        if abs(work[pivot][col]) < 1e-6:
            raise ConfusionError("the confusion matrix is singular: the model cannot tell some classes apart")
        work[col], work[pivot] = work[pivot], work[col]
        scale = work[col][col]
        work[col] = [v / scale for v in work[col]]
        for r in range(k):
            if r != col and work[r][col]:
                factor = work[r][col]
                work[r] = [a - factor * b for a, b in zip(work[r], work[col], strict=True)]
    return [row[k:] for row in work]


INTERVAL_NOTE = "±neg: 95% sampling interval of the negative share"


def describe(adjustment: Adjustment) -> str:
    """The caption line a table with shares carries."""
    if adjustment.raw:
        return f"shares as the model's labels count them (--raw); {INTERVAL_NOTE}"
    return (f"shares corrected for the model's measured errors (confusion on {adjustment.source}); "
            f"{INTERVAL_NOTE}; --raw: as counted")


def stored_confusion(value: Any) -> str | None:
    """A confusion as the database's meta stores it (JSON text), from a manifest's dict, or None."""
    if not value:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


SHARE_COUNTS = ("n_positive", "n_neutral", "n_negative")  # the model's labels counted, per row of a share section


def apply(columns: list[str], rows: list[tuple], adjustment: Adjustment) -> tuple[list[str], list[tuple]]:
    """A report section's rows with its share columns filled from its label counts.

    The SQL of a share section counts the model's labels (`n_positive`, `n_neutral`, `n_negative`;
    `prev_n_*` for the period before, when it compares) and names the columns it wants filled, in
    their place: `positive` `neutral` `negative`, `net_sentiment` (positive − negative), `net_change`
    (against the previous period), `<label>_low` / `<label>_high` (the interval) and `negative_margin`
    (half its width). The `prev_n_*` counts are dropped; the row's own counts stay."""
    index = {name: i for i, name in enumerate(columns)}
    missing = [c for c in SHARE_COUNTS if c not in index]
    if missing:
        raise ValueError(f"a share section must count {', '.join(missing)}")
    keep = [i for i, name in enumerate(columns) if not name.startswith("prev_n_")]
    out = []
    for row in rows:
        values = list(row)
        counts = {c.removeprefix("n_"): int(row[index[c]] or 0) for c in SHARE_COUNTS}
        shares = adjustment.shares(counts)
        bounds = adjustment.intervals(counts, shares)
        filled: dict[str, Any] = {}
        for label in ("positive", "neutral", "negative"):
            filled[label] = shares[label] if shares else None
            filled[f"{label}_low"] = bounds[label][0] if bounds else None
            filled[f"{label}_high"] = bounds[label][1] if bounds else None
        filled["negative_margin"] = (bounds["negative"][1] - bounds["negative"][0]) / 2 if bounds else None
        filled["net_sentiment"] = shares["positive"] - shares["negative"] if shares else None
        if "prev_n_positive" in index:
            before = adjustment.shares({c.removeprefix("n_"): int(row[index["prev_" + c]] or 0) for c in SHARE_COUNTS})
            filled["net_change"] = (filled["net_sentiment"] - (before["positive"] - before["negative"])
                                    if shares and before else None)
        for name, value in filled.items():
            if name in index:
                values[index[name]] = value
        out.append(tuple(values[i] for i in keep))
    return [columns[i] for i in keep], out
