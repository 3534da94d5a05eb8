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
import time
from dataclasses import dataclass, fields
from typing import Any

import duckdb
import numpy as np

from analyzer.config import keyword_patterns
from analyzer.store import run_sql, transaction
from analyzer.textnorm import prose_text

DISCOVER_LIMIT = 20_000  # distinct texts read per discovery (bench/discover.py times it)


# words of markup, links and retweets that survive in some dumps' text (escaped HTML, bare domains):
# never a topic's name
MARKUP_WORDS = frozenset(("amp", "apos", "br", "class", "com", "div", "href", "html", "http", "https", "img", "li",
                          "lt", "gt", "nbsp", "net", "org", "quot", "rt", "span", "src", "strong", "style", "td",
                          "tr", "ul", "utm", "via", "www"))


@dataclass
class DiscoveryTimes:
    """Seconds spent in each step of `discover_topics` (bench/discover.py prints them)."""

    read: float = 0.0
    embed: float = 0.0
    cluster: float = 0.0
    name: float = 0.0
    store: float = 0.0

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name):.1f}s" for f in fields(self))


@dataclass
class Cluster:
    topic: str
    size: int
    terms: list[str]


def apply_keyword_topics(con: duckdb.DuckDBPyConnection, config: dict[str, Any]) -> list[tuple[str, int]]:
    names, patterns = keyword_patterns(config)
    with transaction(con):
        run_sql(con, "topics/apply_keywords", {"keyword_topics": names, "keyword_patterns": patterns})
    return run_sql(con, "topics/keyword_counts").fetchall()


CLUSTER_DIMS = 50  # PCA dims before HDBSCAN: 20 dims is 2x faster but NMI on FewSum falls 0.558 -> 0.537


def cluster_embeddings(embeddings: np.ndarray, min_cluster_size: int | None = None, seed: int = 0) -> np.ndarray:
    """Cluster ids per row (-1 = noise): PCA to ≤ CLUSTER_DIMS dims, then HDBSCAN."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    n = len(embeddings)
    if n < 4:
        return np.full(n, -1)
    dims = min(CLUSTER_DIMS, n - 1, embeddings.shape[1])
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(embeddings)
    size = min_cluster_size or max(5, n // 100)
    return HDBSCAN(min_cluster_size=size, min_samples=max(2, size // 2), copy=True).fit_predict(reduced)


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


def discover_topics(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None, until: dt.datetime | None = None,
                    limit: int = DISCOVER_LIMIT, min_cluster_size: int | None = None,
                    times: DiscoveryTimes | None = None) -> list[Cluster]:
    """Cluster the comments' texts and store the clusters as `cluster` topics."""
    from analyzer.embeddings import default_encoder

    times = times or DiscoveryTimes()
    clock = time.perf_counter()
    params = {"since": since, "until": until}
    rows = run_sql(con, "topics/discover_texts", {**params, "limit": limit}).fetchall()
    hashes = [r[0] for r in rows]
    # markup, URLs, handles and hashtag runs are neither meaning nor topic terms; texts that read the same
    # once cleaned (a retweet and its original, replies to different handles) are embedded once
    texts = [prose_text(r[1], handles=False) for r in rows]
    distinct = [text for text in dict.fromkeys(texts) if text]
    row_of = {text: k for k, text in enumerate(distinct)}
    times.read, clock = time.perf_counter() - clock, time.perf_counter()
    embeddings = default_encoder().encode(distinct) if distinct else np.zeros((0, 384), dtype=np.float32)
    times.embed, clock = time.perf_counter() - clock, time.perf_counter()
    distinct_labels = cluster_embeddings(embeddings, min_cluster_size) if distinct else np.array([], dtype=int)
    labels = np.array([distinct_labels[row_of[t]] if t else -1 for t in texts], dtype=int)  # nothing left: noise
    times.cluster, clock = time.perf_counter() - clock, time.perf_counter()
    terms = ctfidf_terms(texts, labels)
    names = {c: "cluster: " + ", ".join(t) for c, t in terms.items()}
    import polars as pl

    clustered = pl.DataFrame({"text_hash": [h for h, lab in zip(hashes, labels, strict=True) if lab in names],
                              "topic": [names[lab] for lab in labels if lab in names]},
                             schema={"text_hash": pl.String, "topic": pl.String})
    times.name, clock = time.perf_counter() - clock, time.perf_counter()
    with transaction(con):
        con.register("clustered", clustered)
        try:
            run_sql(con, "topics/store_clusters", params)
        finally:
            con.unregister("clustered")
    times.store = time.perf_counter() - clock
    sizes = {c: int((labels == c).sum()) for c in names}
    return sorted((Cluster(names[c], sizes[c], terms[c]) for c in names), key=lambda c: -c.size)
