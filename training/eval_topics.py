"""Measure topic discovery against known groups: `python -m training.eval_topics`.

Known groups: FewSum products and businesses (Amazon + Yelp, train + val), 8 reviews
each; and, coarser, the product categories. The reviews are clustered exactly as
`opinions topics discover` does (MiniLM → float16 → PCA → HDBSCAN) and the agreement between
clusters and groups is reported as NMI (noise counts as its own cluster) along with
the share of reviews left as noise.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from training.datasets import DatasetsMissing, datasets_root


def load_reviews() -> tuple[list[str], list[str], list[str]]:
    texts, items, categories = [], [], []
    root = datasets_root() / "fewsum"
    for source in ("amazon", "yelp"):
        for split in ("train", "val"):
            with (root / source / f"{split}.csv").open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    for k in range(1, 9):
                        texts.append(row[f"rev{k}"])
                        items.append(f"{source}:{row['group_id']}")
                        categories.append(f"{source}:{row['cat']}")
    return texts, items, categories


def nmi_scores(labels: Any, items: list[str], categories: list[str]) -> dict[str, Any]:
    """Clusters, noise share and NMI of cluster `labels` (-1: noise) against products and categories."""
    from sklearn.metrics import normalized_mutual_info_score

    clustered = labels != -1
    kept_items = [i for i, keep in zip(items, clustered, strict=True) if keep]
    return {"clusters": len(set(labels.tolist()) - {-1}), "noise_pct": round(100 * float((labels == -1).mean()), 1),
            "nmi_product": round(normalized_mutual_info_score(items, labels), 3),
            "nmi_category": round(normalized_mutual_info_score(categories, labels), 3),
            "nmi_product_clustered": round(normalized_mutual_info_score(kept_items, labels[clustered]), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min-cluster-size", type=int, default=5)
    parser.add_argument("--encoder", type=Path, default=None,
                        help="embed with this model folder's encoder (e.g. `opinions models path sentiment`); default the base")
    args = parser.parse_args(argv)
    try:
        texts, items, categories = load_reviews()
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    from analyzer.models.embeddings import SentenceEncoder, default_encoder
    from analyzer.topics.discovery import cluster_embeddings, ctfidf_terms, from_blobs, to_blob

    encoder = SentenceEncoder(args.encoder) if args.encoder else default_encoder()
    embeddings = from_blobs(to_blob(encoder.encode(texts)))  # float16, as discovery stores them
    labels = cluster_embeddings(embeddings, args.min_cluster_size)
    scores = nmi_scores(labels, items, categories)
    print(f"{len(texts)} reviews, {len(set(items))} products/businesses, {len(set(categories))} categories")
    print(f"clusters: {scores['clusters']}, noise share: {scores['noise_pct']:.1f}%")
    print(f"NMI vs product/business: {scores['nmi_product']:.3f}")
    print(f"NMI vs category:         {scores['nmi_category']:.3f}")
    print(f"NMI vs product, clustered reviews only: {scores['nmi_product_clustered']:.3f}")
    terms = ctfidf_terms(texts, labels)
    for cluster in sorted(terms)[:8]:
        print(f"  cluster {cluster} ({int((labels == cluster).sum())} reviews): {', '.join(terms[cluster])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
