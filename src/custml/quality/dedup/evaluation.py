"""How well clusters of records recover the true persons: pairwise precision and recall."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pairwise_precision_recall"]


def pairwise_precision_recall(clusters: pd.Series, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall of ``clusters`` (raw id -> cluster id) against true persons.

    ``truth`` has ``customer_id`` and ``person_id`` for every record of a person with more than one record
    (``truth/duplicates.parquet``); other records are their own person. Only records present in ``clusters`` count.

    Examples
    --------
    >>> c = pd.Series(["a", "a", "c", "c"], index=["a", "b", "c", "d"])
    >>> t = pd.DataFrame({"customer_id": ["a", "b", "c"], "person_id": ["P1", "P1", "P2"]})
    >>> pairwise_precision_recall(c, t)["precision"], pairwise_precision_recall(c, t)["recall"]
    (0.5, 1.0)
    """
    df = pd.DataFrame({"customer_id": clusters.index.astype(str), "cluster": clusters.astype(str).to_numpy()})
    person = truth.assign(customer_id=truth["customer_id"].astype(str)).set_index("customer_id")["person_id"]
    df["person"] = person.reindex(df["customer_id"]).to_numpy(dtype=object)
    df["person"] = df["person"].where(df["person"].notna(), "self:" + df["customer_id"])

    def n_pairs(sizes: pd.Series) -> int:
        s = sizes.to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    predicted = n_pairs(df.groupby("cluster").size())
    true = n_pairs(df.groupby("person").size())
    tp = n_pairs(df.groupby(["cluster", "person"]).size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": tp,
        "predicted_pairs": predicted,
        "true_pairs": true,
    }
