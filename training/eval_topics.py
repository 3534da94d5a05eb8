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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min-cluster-size", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        texts, items, categories = load_reviews()
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    from sklearn.metrics import normalized_mutual_info_score

    from analyzer.embeddings import default_encoder
    from analyzer.topics import cluster_embeddings, ctfidf_terms, from_blobs, to_blob

    embeddings = from_blobs(to_blob(default_encoder().encode(texts)))  # float16, as discovery stores them
    labels = cluster_embeddings(embeddings, args.min_cluster_size)
    clusters = len(set(labels.tolist()) - {-1})
    noise = float((labels == -1).mean())
    print(f"{len(texts)} reviews, {len(set(items))} products/businesses, {len(set(categories))} categories")
    print(f"clusters: {clusters}, noise share: {100 * noise:.1f}%")
    print(f"NMI vs product/business: {normalized_mutual_info_score(items, labels):.3f}")
    print(f"NMI vs category:         {normalized_mutual_info_score(categories, labels):.3f}")
    clustered = labels != -1
    kept_items = [i for i, keep in zip(items, clustered, strict=True) if keep]
    print(f"NMI vs product, clustered reviews only: {normalized_mutual_info_score(kept_items, labels[clustered]):.3f}")
    terms = ctfidf_terms(texts, labels)
    for cluster in sorted(terms)[:8]:
        print(f"  cluster {cluster} ({int((labels == cluster).sum())} reviews): {', '.join(terms[cluster])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
