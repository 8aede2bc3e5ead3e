"""Cluster profiles a manager can read: size, revenue share, medians, churn rate and a generated name.

Standardised medians are ``(cluster median - population median) / population spread`` where the spread is
IQR / 1.349 (the normal-equivalent standard deviation), falling back to the standard deviation when the IQR
is zero (zero-inflated features such as complaints). Names are built from these scores by fixed rules (see
:func:`name_clusters`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import SchemaError

__all__ = [
    "DEFAULT_PROFILE_FEATURES",
    "cluster_profiles",
    "name_clusters",
    "standardised_medians",
]

logger = logging.getLogger(__name__)

DEFAULT_PROFILE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency_orders",
    "orders_365d",
    "monetary_mean",
    "monetary_total",
    "revenue_365d",
    "tenure_days",
    "gap_mean_days",
    "discount_share_365d",
    "category_entropy",
    "share_channel_app",
    "share_channel_store",
    "share_channel_web",
    "share_channel_marketplace",
    "complaints_365d",
    "satisfaction_mean",
    "email_open_rate_90d",
    "app_sessions_90d",
)

# Trait words used in names: (feature, word when the cluster is high, word when low). Checked in this order
# of preference among features whose |standardised median| passes the threshold; the strongest wins.
_TRAITS: tuple[tuple[str, str | None, str | None], ...] = (
    ("discount_share_365d", "discount-driven", "full-price"),
    ("recency_days", "lapsing", "recently active"),
    ("complaints_365d", "complaining", None),
    ("tenure_days", "long-standing", "new"),
    ("share_channel_app", "app-first", None),
    ("share_channel_store", "in-store", None),
    ("share_channel_marketplace", "marketplace", None),
    ("category_entropy", "broad-basket", "single-category"),
    ("email_open_rate_90d", "email-engaged", None),
    ("app_sessions_90d", "app-engaged", None),
    ("satisfaction_mean", None, "unhappy"),
)
_VALUE_FEATURES = ("revenue_365d", "monetary_total", "monetary_mean")
_FREQUENCY_FEATURES = ("orders_365d", "frequency_orders")


def _robust_scale(col: pd.Series) -> float:
    q75, q25 = col.quantile(0.75), col.quantile(0.25)
    iqr = float(q75 - q25) / 1.349
    if np.isfinite(iqr) and iqr > 0:
        return iqr
    sd = float(col.std())
    return sd if np.isfinite(sd) and sd > 0 else 0.0


def standardised_medians(
    features: pd.DataFrame, labels: Any, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per cluster (rows) and feature (columns): ``(median - population median) / population spread``.

    Missing values are ignored; a feature with no spread gets 0. Values are clipped to [-5, 5].

    Examples
    --------
    >>> f = pd.DataFrame({"x": [1.0, 2, 3, 10, 11, 12]})
    >>> standardised_medians(f, [0, 0, 0, 1, 1, 1], ["x"]).round(2)["x"].tolist()
    [-0.71, 0.71]
    """
    cols = _profile_columns(features, columns)
    lab = _labels(features, labels)
    num = features[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    pop_median = num.median()
    scale = pd.Series({c: _robust_scale(num[c].dropna()) for c in cols})
    med = num.groupby(lab.to_numpy(), sort=True).median()
    z = (med - pop_median) / scale.replace(0.0, np.nan)
    z = z.fillna(0.0).clip(-5, 5)
    z.index.name = "cluster"
    return z


def _labels(features: pd.DataFrame, labels: Any) -> pd.Series:
    arr = np.asarray(labels)
    if arr.shape != (len(features),):
        raise SchemaError("features", None, f"has {len(features)} rows but {arr.size} cluster labels")
    return pd.Series(arr, index=features.index, name="cluster")


def _profile_columns(features: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        found = [c for c in DEFAULT_PROFILE_FEATURES if c in features.columns]
        return found or [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise SchemaError("features", missing[0], "profile column is missing")
    return list(columns)


def cluster_profiles(
    features: pd.DataFrame,
    labels: Any,
    churn: Any = None,
    *,
    value_column: str = "revenue_365d",
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per cluster: size, shares, medians, standardised medians and (optionally) churn rate.

    Parameters
    ----------
    features : DataFrame
        The customers that were clustered (row-aligned with ``labels``).
    labels : array-like
        Cluster id per row.
    churn : array-like of bool/0-1, optional
        Churn outcome per row (missing values ignored); adds ``churn_rate``.
    value_column : str
        Column whose sum is the cluster's revenue (falls back to ``monetary_total`` when absent).
    columns : sequence of str, optional
        Features to profile (default: those of :data:`DEFAULT_PROFILE_FEATURES` present).

    Returns
    -------
    DataFrame
        Index ``cluster``; columns ``n_customers, share_customers, revenue, revenue_share, orders_share``
        (share of ``orders_365d``, else ``frequency_orders``), ``[churn_rate]``, ``median_<f>...`` and
        ``z_<f>...`` (standardised medians).

    Examples
    --------
    >>> f = pd.DataFrame({"revenue_365d": [10.0, 20, 300, 400]})
    >>> p = cluster_profiles(f, [0, 0, 1, 1], churn=[1, 0, 0, 0])
    >>> p[["n_customers", "revenue_share", "churn_rate"]].round(2).values.tolist()
    [[2.0, 0.04, 0.5], [2.0, 0.96, 0.0]]
    """
    lab = _labels(features, labels)
    if value_column not in features.columns:
        if "monetary_total" in features.columns:
            value_column = "monetary_total"
        else:
            raise SchemaError("features", value_column, "value column for cluster revenue is missing")
    cols = _profile_columns(features, columns)
    if value_column not in cols:
        cols = [value_column, *cols]
    value = pd.to_numeric(features[value_column], errors="coerce").astype(float).fillna(0.0)
    groups = lab.to_numpy()
    size = pd.Series(groups).value_counts().sort_index()
    revenue = value.groupby(groups).sum().reindex(size.index)
    total_rev = float(value.sum())
    out = pd.DataFrame(
        {
            "n_customers": size.astype(float),
            "share_customers": size / size.sum(),
            "revenue": revenue,
            "revenue_share": revenue / total_rev if total_rev else np.nan,
        }
    )
    freq_col = next((c for c in _FREQUENCY_FEATURES if c in features.columns), None)
    if freq_col is not None:
        orders = pd.to_numeric(features[freq_col], errors="coerce").astype(float).fillna(0.0)
        total_orders = float(orders.sum())
        per = orders.groupby(groups).sum().reindex(size.index)
        out["orders_share"] = per / total_orders if total_orders else np.nan
    if churn is not None:
        ch = pd.Series(np.asarray(churn, dtype=float), index=features.index)
        if len(ch) != len(features):
            raise SchemaError("churn", None, f"has {len(ch)} values for {len(features)} customers")
        out["churn_rate"] = ch.groupby(groups).mean().reindex(size.index)
    num = features[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    med = num.groupby(groups).median().reindex(size.index)
    out = out.join(med.add_prefix("median_"))
    z = standardised_medians(features, lab, cols).reindex(size.index)
    out = out.join(z.add_prefix("z_"))
    out.index.name = "cluster"
    return out


def _z(profile: pd.Series, feature: str) -> float | None:
    v = profile.get(f"z_{feature}")
    return None if v is None or pd.isna(v) else float(v)


def _first_z(profile: pd.Series, features: Sequence[str]) -> float | None:
    for f in features:
        v = _z(profile, f)
        if v is not None:
            return v
    return None


def _traits(profile: pd.Series, threshold: float) -> list[tuple[float, str]]:
    found = []
    for feature, high, low in _TRAITS:
        v = _z(profile, feature)
        if v is None:
            continue
        if v >= threshold and high:
            found.append((abs(v), high))
        elif v <= -threshold and low:
            found.append((abs(v), low))
    # Strongest first; ties keep the preference order of _TRAITS (sort is stable).
    return sorted(found, key=lambda t: -t[0])


def _level_word(
    prof: pd.Series,
    share_column: str,
    z_features: Sequence[str],
    words: tuple[str, str, str],
    threshold: float,
    high_index: float,
    low_index: float,
) -> str:
    """High / mid / low word from ``share_column / share_customers`` when present, else from z scores."""
    high, mid, low = words
    share = prof.get("share_customers")
    part = prof.get(share_column)
    if share is not None and part is not None and pd.notna(share) and pd.notna(part) and share > 0:
        index = float(part) / float(share)
        return high if index >= high_index else low if index <= low_index else mid
    v = _first_z(prof, z_features)
    if v is None:
        return ""
    return high if v >= threshold else low if v <= -threshold else mid


def name_clusters(
    profiles: pd.DataFrame,
    *,
    threshold: float = 0.5,
    high_index: float = 1.5,
    low_index: float = 2 / 3,
) -> dict[int, str]:
    """Readable, unique names from a profiles table (:func:`cluster_profiles`).

    A name is ``[trait] <value word> <frequency word> buyers``:

    - value word: from the value index ``revenue_share / share_customers`` when the profile has both
      (high-value if ``>= high_index``, low-value if ``<= low_index``, else mid-value), otherwise from the
      standardised median of 12-month revenue (else total or mean order value) against ``+-threshold``;
    - frequency word: frequent / regular / occasional, the same way from ``orders_share / share_customers``,
      otherwise from the standardised median of orders in 365 days (else total orders);
    - trait: the strongest other standardised median past ``+-threshold`` (discount-driven, lapsing, new,
      app-first, in-store, complaining, broad-basket, ...).

    When two clusters would share a name, further traits are added, and finally a number.

    Examples
    --------
    >>> p = pd.DataFrame({"z_revenue_365d": [1.2, -0.8], "z_orders_365d": [1.0, -0.9],
    ...                   "z_discount_share_365d": [0.0, 1.5]}, index=[0, 1])
    >>> name_clusters(p)
    {0: 'high-value frequent buyers', 1: 'discount-driven low-value occasional buyers'}
    >>> p["share_customers"], p["revenue_share"], p["orders_share"] = [0.5, 0.5], [0.6, 0.4], [0.8, 0.2]
    >>> name_clusters(p)
    {0: 'mid-value frequent buyers', 1: 'discount-driven mid-value occasional buyers'}
    """
    base: dict[int, str] = {}
    traits: dict[int, list[str]] = {}
    for cid, prof in profiles.iterrows():
        value_word = _level_word(
            prof,
            "revenue_share",
            _VALUE_FEATURES,
            ("high-value", "mid-value", "low-value"),
            threshold,
            high_index,
            low_index,
        )
        freq_word = _level_word(
            prof,
            "orders_share",
            _FREQUENCY_FEATURES,
            ("frequent", "regular", "occasional"),
            threshold,
            high_index,
            low_index,
        )
        base[int(cid)] = " ".join(w for w in (value_word, freq_word, "buyers") if w)
        traits[int(cid)] = [word for _, word in _traits(prof, threshold)]
    names = {cid: (f"{traits[cid][0]} {base[cid]}" if traits[cid] else base[cid]) for cid in base}
    used_traits = {cid: 1 if traits[cid] else 0 for cid in base}
    # Disambiguate clashes by adding the next trait; stop when no clash can be resolved that way.
    for _ in range(len(_TRAITS)):
        counts = pd.Series(list(names.values())).value_counts()
        clashes = [cid for cid, n in names.items() if counts[n] > 1]
        progressed = False
        for cid in clashes:
            if used_traits[cid] < len(traits[cid]):
                used = traits[cid][: used_traits[cid] + 1]
                names[cid] = f"{', '.join(used)} {base[cid]}"
                used_traits[cid] += 1
                progressed = True
        if not progressed:
            break
    counts = pd.Series(list(names.values())).value_counts()
    seen: dict[str, int] = {}
    for cid in sorted(names):
        n = names[cid]
        if counts[n] > 1:
            seen[n] = seen.get(n, 0) + 1
            names[cid] = f"{n} ({seen[n]})"
    return names
