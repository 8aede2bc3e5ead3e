"""Survivorship: the golden record of each cluster, and golden ids kept stable across runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["golden_of_clusters", "golden_records", "stable_golden_ids"]


def golden_of_clusters(customers: pd.DataFrame, ids: np.ndarray, labels: np.ndarray) -> pd.Series:
    """Raw id -> golden raw id: per cluster the record with the earliest sign-up (ties: the smallest id)."""
    n = len(ids)
    signup = (
        pd.to_datetime(customers["signup_date"]).to_numpy()
        if "signup_date" in customers
        else np.zeros(n, dtype="datetime64[us]")
    )
    order = pd.DataFrame({"label": labels, "signup": signup, "id": ids}).sort_values(
        ["label", "signup", "id"]
    )
    golden_of_label = order.drop_duplicates("label").set_index("label")["id"]
    clusters = pd.Series(golden_of_label.reindex(labels).to_numpy(), index=pd.Index(ids, name="customer_id"))
    clusters.name = "golden_id"
    return clusters


def golden_records(customers: pd.DataFrame, clusters: pd.Series) -> pd.DataFrame:
    """One row per person: the golden record built from its cluster by the survivorship rule (module docstring).

    Returns the customers' columns with ``customer_id`` = golden raw id, plus ``n_source_records``.
    """
    df = customers.copy()
    df["_golden"] = clusters.reindex(df["customer_id"].astype("str")).to_numpy()
    df["_signup"] = pd.to_datetime(df["signup_date"])
    latest_first = df.sort_values(["_golden", "_signup", "customer_id"], ascending=[True, False, False])
    attrs = [c for c in customers.columns if c not in ("customer_id", "signup_date", "acquisition_channel")]
    g = latest_first.groupby("_golden", sort=True)
    out = g[attrs].first() if attrs else pd.DataFrame(index=g.size().index)
    earliest = df.sort_values(["_golden", "_signup", "customer_id"]).groupby("_golden", sort=True)
    out["signup_date"] = earliest["signup_date"].first()
    if "acquisition_channel" in customers.columns:
        out["acquisition_channel"] = earliest["acquisition_channel"].first()
    out["n_source_records"] = g.size().astype("int64")
    out = out.reset_index().rename(columns={"_golden": "customer_id"})
    cols = [c for c in customers.columns if c in out.columns] + ["n_source_records"]
    out = out[cols]
    for c in out.columns:  # groupby().first() may widen dtypes; keep the input's
        if c in customers.columns and out[c].dtype != customers[c].dtype:
            out[c] = out[c].astype(customers[c].dtype)
    return out


def stable_golden_ids(
    clusters: pd.Series, previous: pd.DataFrame | None, signup: pd.Series | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Keep the golden ids of an earlier run: each new cluster takes the earlier golden id of its members.

    Parameters
    ----------
    clusters : Series
        This run's raw id -> golden raw id (:attr:`DedupResult.clusters`).
    previous : DataFrame or None
        The earlier id map (``raw_customer_id``, ``golden_raw_id``).
    signup : Series, optional
        Raw id -> sign-up date, to choose the surviving id when clusters merge (the earliest sign-up, ties the
        smallest id); without it the smallest id survives.

    Returns
    -------
    (Series, DataFrame)
        The clusters with stable golden ids, and the merges: one row per earlier golden id absorbed into another
        (``absorbed_golden_raw_id``, ``surviving_golden_raw_id``). A cluster without an earlier golden id keeps
        this run's; a cluster holding several keeps the surviving one and records the others. An earlier
        cluster split by this run keeps its id on the part holding its golden record; the other part gets its
        own id from this run (never an id already in use).

    Examples
    --------
    >>> prev = pd.DataFrame({"raw_customer_id": ["a", "b", "c"], "golden_raw_id": ["a", "b", "c"]})
    >>> now = pd.Series(["b", "b", "c", "c"], index=["a", "b", "c", "d"])
    >>> ids, merges = stable_golden_ids(now, prev)
    >>> ids.tolist(), merges.values.tolist()
    (['a', 'a', 'c', 'c'], [['b', 'a']])
    """
    empty = pd.DataFrame(
        {
            "absorbed_golden_raw_id": pd.Series([], dtype="str"),
            "surviving_golden_raw_id": pd.Series([], dtype="str"),
        }
    )
    if previous is None or previous.empty:
        return clusters, empty
    raw = pd.Index(clusters.index.astype(str))
    old_golden = (
        previous.assign(raw_customer_id=previous["raw_customer_id"].astype(str))
        .drop_duplicates("raw_customer_id")
        .set_index("raw_customer_id")["golden_raw_id"]
        .astype(str)
    )
    df = pd.DataFrame({"raw": raw, "cluster": clusters.astype(str).to_numpy()})
    df["old"] = old_golden.reindex(raw).to_numpy(dtype=object)
    # an earlier golden id is carried by the member that *was* that golden record, else by any earlier member
    carrier = df[df["old"].notna()]
    holds_record = carrier[carrier["raw"] == carrier["old"]]
    candidates = pd.concat([holds_record, carrier[~carrier["old"].isin(holds_record["old"])]])
    candidates = candidates.drop_duplicates("old")  # one cluster per earlier id: where its record is
    if signup is not None:
        s = pd.to_datetime(signup)
        s.index = s.index.astype(str)
        candidates = candidates.assign(_signup=s.reindex(candidates["old"]).to_numpy())
    else:
        candidates = candidates.assign(_signup=pd.NaT)
    candidates = candidates.sort_values(["cluster", "_signup", "old"], na_position="last")
    surviving = candidates.drop_duplicates("cluster").set_index("cluster")["old"]
    absorbed = candidates[~candidates["old"].isin(surviving.to_numpy())]
    merges = pd.DataFrame(
        {
            "absorbed_golden_raw_id": absorbed["old"].astype("str").to_numpy(),
            "surviving_golden_raw_id": surviving.reindex(absorbed["cluster"]).astype("str").to_numpy(),
        }
    )
    new = surviving.reindex(df["cluster"]).to_numpy(dtype=object)
    fresh = pd.isna(new)
    if fresh.any():
        in_use = set(surviving.to_numpy()) | set(old_golden.to_numpy())
        new[fresh] = _fresh_ids(df.loc[fresh], in_use)
    out = pd.Series(new, index=clusters.index, name=clusters.name).astype(str)
    return out, merges.sort_values("absorbed_golden_raw_id").reset_index(drop=True)


def _fresh_ids(members: pd.DataFrame, in_use: set[object]) -> np.ndarray:
    """Ids of clusters without an earlier golden id: this run's id, unless that id is an earlier golden id in use
    elsewhere: then the cluster's earliest member not in use (``members``: ``raw``, ``cluster``)."""
    own = members["cluster"].to_numpy(dtype=object)
    clash = np.array([o in in_use for o in own])
    if clash.any():
        members = members.assign(_own=own)
        for cl_id in set(own[clash]):
            free = sorted(r for r in members.loc[members["_own"] == cl_id, "raw"] if r not in in_use)
            own[own == cl_id] = free[0] if free else cl_id
    return own
