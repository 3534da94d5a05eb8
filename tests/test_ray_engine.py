"""--engine ray gives the same tables as --engine local, and a private cluster listens on loopback only.

Uses the tiny STAND-IN models (random weights): equality of outputs is what is tested.
"""

from __future__ import annotations

import json

import pytest

from analyzer.ingest import IngestOptions, ingest
from analyzer.ingest.ray import RayOptions, RaySession  # before ray itself: it sets the loopback-only env
from analyzer.models.spec import ModelSpec
from analyzer.store.database import Store
from analyzer.tasks.analysis import AnalysisSettings
from tests.helpers import reddit, sql, write_jsonl

ray = pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'opinions[ray]')")


def snapshot(db):
    return {
        "comments": sql(db, "SELECT platform, id, topic, created_at, text, text_hash, lang FROM comments ORDER BY id"),
        "topics": sql(db, "SELECT * FROM comment_topics ORDER BY ALL"),
        "sentiment": sql(db, "SELECT text_hash, label, round(score, 5), round(p_negative, 5) FROM sentiment ORDER BY 1"),
        "entities": sql(db, 'SELECT text_hash, "start", "end", label, text FROM entities ORDER BY ALL'),
        "rejects": sql(db, "SELECT source, line_no, reason, raw FROM rejects ORDER BY ALL"),
        "accounting": sql(db, "SELECT rows_read, rows_new, rows_duplicate, rows_rejected, rows_skipped, texts_analysed, "
                              "texts_unsupported FROM runs"),
    }


def test_ray_engine_matches_local_and_listens_on_loopback(tmp_path, tiny_models):
    import psutil

    texts = ["Apple in Berlin is great", "worst update ever", "Je n'aime pas du tout cette mise à jour du téléphone",
             "meh #phones @bob $AAPL", "Samsung makes phones"]
    records = [reddit(i, body=texts[i % len(texts)] + f" {i % 40}") for i in range(300)]
    records += ["{broken", json.dumps(reddit(1))]  # a reject and a duplicate
    dump = write_jsonl(tmp_path / "d.jsonl", records)
    specs = {t: ModelSpec(t, str(tiny_models[t])) for t in ("sentiment", "ner")}
    settings = AnalysisSettings(["sentiment", "ner"], specs, device="cpu")

    local_db = tmp_path / "local.duckdb"
    ingest(Store(local_db), [str(dump)], IngestOptions(analysis=settings))
    ray_db = tmp_path / "ray.duckdb"
    with RaySession(RayOptions()) as session:
        listeners = set()
        ours = psutil.Process().children(recursive=True)  # the processes this cluster started
        for proc in ours:
            try:
                listeners |= {c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                continue
        assert listeners and listeners <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, listeners
        summary = ingest(Store(ray_db), [str(dump)], IngestOptions(analysis=settings, engine="ray", ray=RayOptions()))
        assert session.is_initialized()
    assert summary.status == "completed" and summary.device == "ray"
    local, distributed = snapshot(local_db), snapshot(ray_db)
    for table in local:
        assert local[table] == distributed[table], table
