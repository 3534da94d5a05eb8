"""Topics beyond the dump's own fields: keyword rules and discovered clusters.

- Keyword topics come from `[topics]` in the config file and are applied at ingest;
  `apply_keyword_topics` re-applies edited rules to the whole database (no models).
- Discovered topics: MiniLM sentence embeddings → PCA → HDBSCAN (scikit-learn), each
  cluster labelled with its most distinctive terms by class-based TF-IDF (c-TF-IDF, as
  BERTopic does): tf of a term in the cluster × log(1 + average words per cluster / the
  term's frequency over all clusters). Noise points get no topic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from analyzer.config import keyword_patterns
from analyzer.store.database import run_sql, transaction
from analyzer.text.normalise import prose_text

DISCOVER_LIMIT = 20_000  # distinct texts read per discovery (bench/discover.py times it)


# words of markup, links and retweets that survive in some dumps' text (escaped HTML, bare domains):
# never a topic's name
MARKUP_WORDS = frozenset(("amp", "apos", "br", "class", "com", "div", "href", "html", "http", "https", "img", "li",
                          "lt", "gt", "nbsp", "net", "org", "quot", "rt", "span", "src", "strong", "style", "td",
                          "tr", "ul", "utm", "via", "www"))


@dataclass
class DiscoveryStats:
    """What `discover_topics` did: texts embedded vs found in the embeddings table, and the wall and
    CPU seconds (all threads) of each step (bench/discover.py prints them)."""

    texts: int = 0
    embedded: int = 0
    reused: int = 0
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = time.perf_counter() - wall
            self.cpu[name] = time.process_time() - cpu

    def __str__(self) -> str:
        return ", ".join(f"{name} {self.wall[name]:.1f}s/{self.cpu[name]:.1f} CPU-s" for name in self.wall)


@dataclass
class Cluster:
    topic: str
    size: int
    terms: list[str]
    cohesion: float = float("nan")  # mean silhouette of its texts (`cohesion`)


def apply_keyword_topics(con: duckdb.DuckDBPyConnection, config: dict[str, Any]) -> list[tuple[str, int]]:
    names, patterns = keyword_patterns(config)
    with transaction(con):
        run_sql(con, "topics/apply_keywords", {"keyword_topics": names, "keyword_patterns": patterns})
    return run_sql(con, "topics/keyword_counts").fetchall()


CLUSTER_DIMS = 50  # PCA dims before HDBSCAN: 20 dims is 2x faster but NMI on FewSum falls 0.558 -> 0.537


DOMINANT_SHARE = 0.5  # a cluster holding more of the clustered texts than this is clustered again on its own
SPLIT_DEPTH = 2  # how many times a dominant cluster is split further


def cluster_embeddings(embeddings: np.ndarray, min_cluster_size: int | None = None, seed: int = 0) -> np.ndarray:
    """Cluster ids per row (-1 = noise): PCA to ≤ CLUSTER_DIMS dims, then HDBSCAN (exact; min_samples is
    half the cluster size, at most 10).

    A corpus dominated by one community (a conference's tweets: 92% of 2,129 in one cluster named "chifoo,
    community, people, like") has its structure at a finer scale than the gap to everything else, so
    HDBSCAN's most stable cut is that one community. A cluster with more than DOMINANT_SHARE of the
    clustered texts is therefore clustered again on its own (its own PCA, its own density scale) and
    replaced by its sub-clusters when there are at least two; its members in none of them become noise."""
    n = len(embeddings)
    size = min_cluster_size or default_min_cluster_size(n)
    labels = _hdbscan(embeddings, size, seed)
    for _ in range(SPLIT_DEPTH):
        clustered = labels[labels >= 0]
        if not len(clustered):
            break
        biggest = int(np.bincount(clustered).argmax())
        members = np.flatnonzero(labels == biggest)
        if len(members) <= DOMINANT_SHARE * len(clustered) or len(members) < 4 * size:
            break
        inner = _hdbscan(embeddings[members], size, seed)
        if len(set(inner[inner >= 0])) < 2:
            break
        labels[members] = np.where(inner >= 0, inner + labels.max() + 1, -1)
    return _renumbered(labels)


def _hdbscan(embeddings: np.ndarray, size: int, seed: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    n = len(embeddings)
    if n < 4:
        return np.full(n, -1)
    dims = min(CLUSTER_DIMS, n - 1, embeddings.shape[1])
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(embeddings)
    return HDBSCAN(min_cluster_size=size, min_samples=min(10, max(2, size // 2)), copy=True).fit_predict(reduced)


def _renumbered(labels: np.ndarray) -> np.ndarray:
    """Cluster ids 0, 1, 2, ... by first appearance (noise stays -1)."""
    ids = {old: new for new, old in enumerate(dict.fromkeys(int(x) for x in labels if x >= 0))}
    return np.array([ids.get(int(x), -1) for x in labels], dtype=int)


def cohesion(embeddings: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    """Each cluster's mean silhouette (cosine, on the sentence embeddings, noise left out): near 1 its texts
    are much closer to each other than to the next cluster's, near 0 or below the cluster is not a real group."""
    from sklearn.metrics import silhouette_samples

    kept = labels >= 0
    if len(set(labels[kept])) < 2:
        return {int(c): float("nan") for c in set(labels[kept])}
    scores = silhouette_samples(embeddings[kept], labels[kept], metric="cosine")
    return {int(c): float(scores[labels[kept] == c].mean()) for c in set(labels[kept])}


def default_min_cluster_size(texts: int) -> int:
    """One text in 400, between 5 and 50. The old 1% (with min_samples half of it) left 20k real tweets and
    Reddit comments in 3 clusters and 88% noise; 50 (min_samples 10) gives 39 named clusters and 70% noise.
    Up to 2,000 texts it is 5 (min_samples 2), the setting training/eval_topics scores on FewSum."""
    return min(50, max(5, texts // 400))


def ctfidf_terms(texts: list[str], labels: np.ndarray, top: int = 4) -> dict[int, list[str]]:
    """The most distinctive terms of each cluster (class-based TF-IDF)."""
    from sklearn.feature_extraction.text import CountVectorizer

    clusters = sorted(set(labels.tolist()) - {-1})
    if not clusters:
        return {}
    documents = [" ".join(t for t, lab in zip(texts, labels, strict=True) if lab == c) for c in clusters]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = CountVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | MARKUP_WORDS), ngram_range=(1, 2), min_df=1,
                                 max_features=50_000, token_pattern=r"(?u)(?<![@#$&\w])[a-zA-Z][a-zA-Z0-9']+\b")
    counts = vectorizer.fit_transform(documents).toarray().astype(float)
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    average_words = counts.sum() / len(clusters)
    idf = np.log(1 + average_words / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    vocabulary = vectorizer.get_feature_names_out()
    out = {}
    for row, cluster in enumerate(clusters):
        best = np.argsort(-scores[row])
        chosen: list[str] = []
        for index in best:
            term = vocabulary[index]
            if any(term in other or other in term for other in chosen):
                continue  # "battery" and "battery life" say the same thing
            chosen.append(term)
            if len(chosen) == top:
                break
        out[cluster] = chosen
    return out


EMBED_CHUNK = 2_000  # texts embedded between two writes to the embeddings table: an interrupted run keeps them


def text_key(text: str) -> str:
    """The embeddings table's key for a text: md5, as comments.text_hash (ingest's md5(text))."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def to_blob(vectors: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in vectors.astype("<f2")]


def from_blobs(blobs: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), -1).astype(np.float32)


def embed_once(con: duckdb.DuckDBPyConnection, texts: list[str], stats: DiscoveryStats | None = None) -> np.ndarray:
    """Embeddings of `texts` (rows in order, float16 precision): those the embeddings table holds for the
    current encoder are read back, the others are encoded and stored (every EMBED_CHUNK texts)."""
    import polars as pl

    import analyzer.models.embeddings

    stats = stats if stats is not None else DiscoveryStats()
    encoder = analyzer.models.embeddings.default_encoder()
    keys = [text_key(t) for t in texts]
    con.register("wanted", pl.DataFrame({"text_hash": keys}, schema={"text_hash": pl.String}))
    try:
        stored = dict(run_sql(con, "topics/stored_embeddings", {"encoder": encoder.id}).fetchall())
    finally:
        con.unregister("wanted")
    missing = [k for k, key in enumerate(keys) if key not in stored]
    for start in range(0, len(missing), EMBED_CHUNK):
        chunk = missing[start : start + EMBED_CHUNK]
        blobs = to_blob(encoder.encode([texts[k] for k in chunk]))
        fresh = pl.DataFrame({"text_hash": [keys[k] for k in chunk], "vector": blobs},
                             schema={"text_hash": pl.String, "vector": pl.Binary})
        with transaction(con):
            con.register("fresh", fresh)
            try:
                run_sql(con, "topics/store_embeddings", {"encoder": encoder.id})
            finally:
                con.unregister("fresh")
        stored.update(zip(fresh["text_hash"].to_list(), blobs, strict=True))
    stats.embedded, stats.reused = len(missing), len(texts) - len(missing)
    return from_blobs([stored[key] for key in keys]) if texts else np.zeros((0, 384), dtype=np.float32)


def discover_topics(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None, until: dt.datetime | None = None,
                    limit: int = DISCOVER_LIMIT, min_cluster_size: int | None = None,
                    stats: DiscoveryStats | None = None) -> list[Cluster]:
    """Cluster the comments' texts and store the clusters as `cluster` topics. Each cleaned text is
    embedded once per encoder, ever (`embed_once`); `stats` tells how many were embedded or reused."""
    stats = stats if stats is not None else DiscoveryStats()
    params = {"since": since, "until": until}
    with stats.step("read"):
        rows = run_sql(con, "topics/discover_texts", {**params, "limit": limit}).fetchall()
        hashes = [r[0] for r in rows]
        # markup, URLs, handles and hashtag runs are neither meaning nor topic terms; texts that read the same
        # once cleaned (a retweet and its original, replies to different handles) are embedded once
        texts = [prose_text(r[1], handles=False) for r in rows]
        distinct = [text for text in dict.fromkeys(texts) if text]
        row_of = {text: k for k, text in enumerate(distinct)}
        stats.texts = len(distinct)
    with stats.step("embed"):
        embeddings = embed_once(con, distinct, stats)
    with stats.step("cluster"):
        distinct_labels = cluster_embeddings(embeddings, min_cluster_size) if distinct else np.array([], dtype=int)
        labels = np.array([distinct_labels[row_of[t]] if t else -1 for t in texts], dtype=int)  # nothing left: noise
    with stats.step("name"):
        terms = ctfidf_terms(texts, labels)
        names = {c: "cluster: " + ", ".join(t) for c, t in terms.items()}
        import polars as pl

        clustered = pl.DataFrame({"text_hash": [h for h, lab in zip(hashes, labels, strict=True) if lab in names],
                                  "topic": [names[lab] for lab in labels if lab in names]},
                                 schema={"text_hash": pl.String, "topic": pl.String})
    with stats.step("store"), transaction(con):
        con.register("clustered", clustered)
        try:
            run_sql(con, "topics/store_clusters", params)
        finally:
            con.unregister("clustered")
    sizes = {c: int((labels == c).sum()) for c in names}
    quality = cohesion(embeddings, distinct_labels) if distinct else {}
    return sorted((Cluster(names[c], sizes[c], terms[c], round(quality.get(c, float("nan")), 3)) for c in names),
                  key=lambda c: -c.size)
