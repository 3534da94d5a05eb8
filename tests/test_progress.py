"""Progress that tells the truth: texts analysed move per model batch, not per 2,048-text chunk (issue 17, item 2).

Plumbing only: the tiny randomly initialised stand-in models, with a small token budget so a chunk is many batches.
"""

from __future__ import annotations

import pytest

from analyzer.ingest import IngestOptions, Progress, ingest
from analyzer.models.spec import ModelSpec
from analyzer.store.database import Store
from analyzer.tasks.analysis import AnalysisSettings
from tests.helpers import reddit, write_jsonl


def test_texts_analysed_advance_per_model_batch_and_add_up_to_the_texts(tmp_path, tiny_models):
    dump = write_jsonl(tmp_path / "a.jsonl", [reddit(i, body=f"comment {i} about phones and {i % 97} cameras")
                                              for i in range(600)])
    settings = AnalysisSettings(["sentiment", "ner"], {t: ModelSpec(t, str(tiny_models[t])) for t in ("sentiment", "ner")},
                                device="cpu", batch_tokens=256)
    steps: list[float] = []
    totals: list[int] = []
    summary = ingest(Store(tmp_path / "p.duckdb"), [str(dump)], IngestOptions(analysis=settings),
                     Progress(on_texts=steps.append, on_texts_total=totals.append))
    assert summary.texts_analysed == 600 and sum(totals) == 600
    assert abs(sum(steps) - 600) < 1e-6  # nothing counted twice across batches and the chunk's end
    assert len(steps) >= 20  # 600 texts are one chunk: the old progress moved once
    assert all(step >= 0 for step in steps)


@pytest.mark.parametrize(("compress", "engine"), [(None, "local"), ("gz", "local"), (None, "ray")])
def test_rows_read_progress_counts_the_files_bytes_to_their_size(tmp_path, compress, engine):
    # the file's size is known before a row is read: a total and an ETA, compressed files included
    records = [reddit(i, body=f"comment {i} " + "words " * (i % 40)) for i in range(30_000)]
    dump = write_jsonl(tmp_path / ("a.jsonl.gz" if compress else "a.jsonl"), records, compress=compress)
    totals: list[int] = []
    steps: list[int] = []
    rows: list[int] = []
    ingest(Store(tmp_path / "b.duckdb"), [str(dump)], IngestOptions(batch_rows=2_000, engine=engine),
           Progress(on_rows=rows.append, on_input_total=totals.append, on_input=steps.append))
    assert totals == [dump.stat().st_size] and sum(steps) == dump.stat().st_size
    assert all(step >= 0 for step in steps) and sum(rows) == 30_000
    if not compress:  # ~3 MB read a MiB at a time: the bar moves while reading, not only at the end
        assert len([step for step in steps if step > 0]) >= 3
