"""Realised and label-free performance of churn scores: did the flagged customers leave, and how good is the model
while the labels are still maturing?

**Realised** (:func:`realised_churn`, :func:`performance_metrics`): once the horizon after a scores file's as-of
date has passed, the outcome of every customer the churn model applies to (an order in the year before the
as-of date, as in training) is known from the orders: churned = no order in ``[as_of, as_of + horizon)``, exactly
:func:`custml.features.churn_labels`. ROC AUC, lift in the top 10 %, ECE and the realised rate use the
definitions of :mod:`custml.models.metrics` (equal-mass ECE bins, stable tie order; the tests check the values
are the same), so they compare one to one with the metrics logged at training.

**Label-free** (:func:`estimate_performance`), in the spirit of NannyML's confidence-based performance
estimation (CBPE). *Assumption:* the probabilities are calibrated on the scored population, i.e. a customer
with probability ``p`` churns with probability ``p``, independently of the others. Then

- the expected ROC AUC is ``E[concordant pos/neg pairs] / E[pos/neg pairs]``
  ``= sum_{i != j} p_i (1 - p_j) [s_i > s_j] / sum_{i != j} p_i (1 - p_j)`` (ties count one half; a ratio of
  expectations, exact in the limit of many customers), computed in one sort;
- its sampling spread is the Hanley-McNeil standard error with ``sum p`` positives and ``sum (1 - p)``
  negatives (``estimated_roc_auc_se``; ``roc_auc_se`` likewise for the realised AUC);
- the expected churn rate is ``mean(p)`` with a 95 % interval ``± 1.96 sqrt(sum p (1 - p)) / n``;
- the expected lift at 10 % is ``mean(p | top 10 %) / mean(p)``;
- ``expected_ece_noise`` is the ECE a perfectly calibrated model would still show from sampling alone
  (per equal-mass bin ``sqrt(2 / pi) sqrt(sum p (1 - p)) / n_bin``), the floor a realised ECE is read against.

The estimate cannot see a change in the relation between features and outcome that leaves the features alone
(concept drift): that is why drift of inputs and scores is reported beside it, and why realised metrics
replace the estimate as soon as the labels exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import SchemaError
from custml.features.labels import order_events

__all__ = [
    "ACTIVE_DAYS",
    "OrderEvents",
    "auc_standard_error",
    "estimate_performance",
    "grouped_performance",
    "performance_metrics",
    "realised_churn",
]

#: A customer is in the churn model's population at a date when they ordered in the year before it.
ACTIVE_DAYS = 365


@dataclass(frozen=True)
class OrderEvents:
    """Non-refund order times per customer, indexed once so that many as-of dates are cheap to label.

    Build it with :meth:`from_orders`. ``end`` is the exclusive end of the observed data: no outcome window
    reaching past it is treated as known.
    """

    ids: np.ndarray  # unique customer ids (object array of str), sorted
    codes: np.ndarray  # per order: position in ``ids``
    ts: np.ndarray  # per order: datetime64[ns]
    end: pd.Timestamp

    @classmethod
    def from_orders(cls, orders: pd.DataFrame, end: Any = None) -> OrderEvents:
        """Index the non-refund orders (``customer_id``, ``order_ts``, optional ``is_refund``).

        Parameters
        ----------
        orders : pandas.DataFrame
            Clean orders (datetimes, pseudonymised ids as in the scores).
        end : datetime-like, optional
            Exclusive end of the observed data (default: the day after the last order). Orders at or after
            ``end`` are dropped, so monitoring "as of" an earlier day sees only what was known then.
        """
        events = order_events(orders)
        ts = events["order_ts"].to_numpy(dtype="datetime64[ns]")
        if end is None:
            if len(ts) == 0:
                raise SchemaError("orders", "order_ts", "no orders: cannot tell when the data ends")
            end = (pd.Timestamp(ts.max()) + pd.Timedelta(days=1)).normalize()
        end = pd.Timestamp(end)
        keep = ts < np.datetime64(end)
        codes, ids = pd.factorize(events["customer_id"].to_numpy()[keep], sort=True)
        ts = ts[keep]
        codes = codes.astype(np.int64)
        # By customer, then time (to the second): one argsort of a combined integer key, much faster than
        # lexsort; a customer's first order after a date is then the first of its run.
        seconds = (ts - ts.min()) // np.timedelta64(1, "s") if len(ts) else np.zeros(0, dtype=np.int64)
        order = np.argsort(codes * (int(seconds.max(initial=0)) + 1) + seconds, kind="stable")
        return cls(np.asarray(ids, dtype=object), codes[order], ts[order], end)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.ids)

    def positions(self, customer_ids: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
        """Position of each customer id in ``ids`` (-1 for a customer without any order)."""
        values = (
            customer_ids.astype(str)
            if isinstance(customer_ids, pd.Series)
            else pd.Series(customer_ids, dtype=str)
        )
        return self._index.get_indexer(values.to_numpy(dtype=object))

    def matured(self, as_of: Any, horizon_days: int) -> bool:
        """Whether the outcome window ``[as_of, as_of + horizon)`` lies inside the observed data."""
        return pd.Timestamp(as_of) + pd.Timedelta(days=horizon_days) <= self.end

    def _window(self, start: pd.Timestamp, stop: pd.Timestamp) -> np.ndarray:
        mask = (self.ts >= np.datetime64(start)) & (self.ts < np.datetime64(stop))
        return np.bincount(self.codes[mask], minlength=len(self.ids)) > 0

    def days_to_next_order(self, as_of: Any, within_days: int) -> np.ndarray:
        """Per id of ``ids``: days from ``as_of`` to the first order in ``[as_of, as_of + within_days)``, inf if none
        (or none yet: orders after ``end`` are unknown)."""
        a = np.datetime64(pd.Timestamp(as_of))
        mask = (self.ts >= a) & (self.ts < a + np.timedelta64(int(within_days), "D"))
        c, t = self.codes[mask], self.ts[mask]
        out = np.full(len(self.ids), np.inf)
        if len(c):
            first = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            out[c[first]] = (t[first] - a) / np.timedelta64(1, "D")
        return out

    def bought(self, as_of: Any, horizon_days: int) -> np.ndarray:
        """Per id of ``ids``: an order in ``[as_of, as_of + horizon_days)``."""
        a = pd.Timestamp(as_of)
        return self._window(a, a + pd.Timedelta(days=horizon_days))

    def active(self, as_of: Any, active_days: int = ACTIVE_DAYS) -> np.ndarray:
        """Per id of ``ids``: an order in ``[as_of - active_days, as_of)``."""
        a = pd.Timestamp(as_of)
        return self._window(a - pd.Timedelta(days=active_days), a)


def realised_churn(
    events: OrderEvents, as_of: Any, horizon_days: int, active_days: int = ACTIVE_DAYS
) -> pd.DataFrame:
    """Realised churn of the customers active at ``as_of`` (same definition as :func:`custml.features.churn_labels`).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``churned`` (bool), one row per active customer, sorted by id.

    Raises
    ------
    SchemaError
        If the outcome window has not passed yet (``as_of + horizon_days`` after the end of the data).

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "order_ts": pd.to_datetime(["2025-09-01", "2025-10-15", "2025-08-01", "2023-01-01"])})
    >>> ev = OrderEvents.from_orders(orders, end="2026-01-01")
    >>> realised_churn(ev, "2025-10-01", 90)
      customer_id  churned
    0           a    False
    1           b     True
    """
    a = pd.Timestamp(as_of)
    if not events.matured(a, horizon_days):
        raise SchemaError(
            "orders",
            "order_ts",
            f"end at {events.end.date()}: the {horizon_days}-day outcome of {a.date()} is not known yet",
        )
    active = events.active(a, active_days)
    bought = events.bought(a, horizon_days)
    keep = np.flatnonzero(active)
    return pd.DataFrame({"customer_id": events.ids[keep].astype(str), "churned": ~bought[keep]})


def _check_probabilities(p: np.ndarray, table: str) -> None:
    bad = int((~np.isfinite(p) | (p < 0) | (p > 1)).sum())
    if bad:
        raise SchemaError(table, "churn_probability", "holds missing values or values outside [0, 1]", bad)


def _runs(p_sorted: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array, plus its length at the end."""
    n = len(p_sorted)
    return np.r_[np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]]), n]


def _top(p_sorted: np.ndarray, bounds: np.ndarray, n_top: int) -> np.ndarray:
    """Positions (in the ascending order) of the ``n_top`` highest values, ties broken by original order.

    Inside a run of equal values the positions are in original order, so a stable descending sort takes the
    first ones of the boundary run: the same customers as ``np.argsort(-p, kind="stable")[:n_top]``.
    """
    n = len(p_sorted)
    cut = n - n_top  # first position of the plain top block
    run = np.searchsorted(bounds, cut, side="right") - 1
    start, stop = bounds[run], bounds[run + 1]
    return np.r_[np.arange(start, start + (stop - cut)), np.arange(stop, n)]


def _sorted_metrics(
    p: np.ndarray, y: np.ndarray | None, n_bins: int, top_fraction: float
) -> dict[str, float]:
    """Every measure of one population from probabilities sorted ascending (ties in original order)."""
    n = len(p)
    out: dict[str, float] = {"n": float(n)}
    bounds = _runs(p)
    n_top = max(1, int(round(top_fraction * n)))
    top = _top(p, bounds, n_top)
    bins = min(n_bins, n)
    ids = (np.arange(n) * bins) // n  # equal-mass bins of custml.models.metrics
    sum_p = np.bincount(ids, weights=p, minlength=bins)
    size = np.bincount(ids, minlength=bins)
    mean = float(p.mean())
    q = 1.0 - p
    # Label-free (CBPE): expected positives/negatives per tied value, concordant pairs, see the module docstring.
    pos = np.add.reduceat(p, bounds[:-1])
    neg = np.add.reduceat(q, bounds[:-1])
    self_pairs = np.add.reduceat(p * q, bounds[:-1])
    concordant = float(np.sum(pos * (np.cumsum(neg) - neg)) + 0.5 * np.sum(pos * neg - self_pairs))
    pairs = float(p.sum() * q.sum() - np.sum(p * q))
    sd = float(np.sqrt(np.sum(p * q)) / n)
    out.update(
        {
            "estimated_roc_auc": concordant / pairs if pairs > 0 else float("nan"),
            "estimated_roc_auc_se": auc_standard_error(
                concordant / pairs if pairs > 0 else float("nan"), float(p.sum()), float(q.sum())
            ),
            "estimated_lift_top10": float(p[top].mean() / mean) if mean > 0 else float("nan"),
            "expected_rate": mean,
            "expected_rate_low": max(0.0, mean - 1.96 * sd),
            "expected_rate_high": min(1.0, mean + 1.96 * sd),
            "expected_ece_noise": float(
                np.sum(np.sqrt(2.0 / np.pi) * np.sqrt(np.bincount(ids, weights=p * q, minlength=bins))) / n
            ),
            "mean_predicted": mean,
        }
    )
    if y is None:
        return out
    positives = float(y.sum())
    out["realised_rate"] = positives / n
    gap = np.abs(sum_p - np.bincount(ids, weights=y, minlength=bins))
    out["ece"] = float(gap[size > 0].sum() / n)
    out["roc_auc"] = out["lift_top10"] = out["roc_auc_se"] = float("nan")
    if 0 < positives < n:
        # Average ranks over ties (ties count one half, as roc_auc_score).
        lengths = np.diff(bounds)
        ranks = np.repeat((bounds[:-1] + bounds[1:] + 1) / 2.0, lengths)
        out["roc_auc"] = float(
            (ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * (n - positives))
        )
        out["lift_top10"] = float(y[top].mean() / (positives / n))
        out["roc_auc_se"] = auc_standard_error(out["roc_auc"], positives, n - positives)
    return out


def auc_standard_error(auc: float, n_pos: float, n_neg: float) -> float:
    """Standard error of a ROC AUC on ``n_pos`` positives and ``n_neg`` negatives (Hanley & McNeil, 1982).

    Examples
    --------
    >>> round(auc_standard_error(0.8, 500, 1000), 4)
    0.013
    """
    if not np.isfinite(auc) or n_pos <= 0 or n_neg <= 0:
        return float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def _sorted(p: np.ndarray) -> np.ndarray:
    return np.argsort(p, kind="stable")


_REALISED_KEYS = ("n", "roc_auc", "roc_auc_se", "lift_top10", "ece", "realised_rate", "mean_predicted")
_ESTIMATED_KEYS = (
    "n",
    "estimated_roc_auc",
    "estimated_roc_auc_se",
    "estimated_lift_top10",
    "expected_rate",
    "expected_rate_low",
    "expected_rate_high",
    "expected_ece_noise",
)


def performance_metrics(
    y: Sequence[float] | np.ndarray,
    p: Sequence[float] | np.ndarray,
    *,
    n_bins: int = 10,
    top_fraction: float = 0.1,
) -> dict[str, float]:
    """Realised ROC AUC, lift at ``top_fraction``, ECE, realised rate and mean prediction of one population.

    AUC and lift are NaN when only one class is present; every value is NaN for an empty population.

    Examples
    --------
    >>> m = performance_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=2)
    >>> round(m["roc_auc"], 2), m["realised_rate"], m["n"]
    (0.75, 0.5, 4.0)
    """
    y_arr = np.asarray(y, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    if len(y_arr) != len(p_arr):
        raise SchemaError(
            "predictions", None, f"labels ({len(y_arr)}) and probabilities ({len(p_arr)}) differ"
        )
    if len(y_arr) == 0:
        return {k: (0.0 if k == "n" else float("nan")) for k in _REALISED_KEYS}
    _check_probabilities(p_arr, "scores")
    order = _sorted(p_arr)
    out = _sorted_metrics(p_arr[order], y_arr[order], n_bins, top_fraction)
    return {k: out[k] for k in _REALISED_KEYS}


def estimate_performance(
    p: Sequence[float] | np.ndarray, *, n_bins: int = 10, top_fraction: float = 0.1
) -> dict[str, float]:
    """Label-free estimate of ROC AUC, lift, churn rate and the calibration noise floor (see the module docstring).

    Examples
    --------
    >>> est = estimate_performance([0.1, 0.1, 0.9, 0.9])
    >>> round(est["estimated_roc_auc"], 3), est["expected_rate"]
    (0.94, 0.5)
    """
    p_arr = np.asarray(p, dtype=float)
    if len(p_arr) == 0:
        return {k: (0.0 if k == "n" else float("nan")) for k in _ESTIMATED_KEYS}
    _check_probabilities(p_arr, "scores")
    out = _sorted_metrics(p_arr[_sorted(p_arr)], None, n_bins, top_fraction)
    return {k: out[k] for k in _ESTIMATED_KEYS}


def grouped_performance(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    label: str | None = "churned",
    probability: str = "churn_probability",
    min_group: int = 1,
) -> pd.DataFrame:
    """Realised (when ``label`` is given) and estimated performance per level of each column of ``by``.

    Columns of ``by`` missing from ``frame`` are skipped (scores files of other versions may lack a segment
    column); missing levels are grouped as ``"(missing)"``. Groups smaller than ``min_group`` are left out.

    Returns
    -------
    pandas.DataFrame
        ``by``, ``group``, ``n``, then :func:`performance_metrics` (when labelled) and
        ``estimated_roc_auc``, ``expected_rate`` columns.
    """
    if probability not in frame.columns:
        raise SchemaError("scores", probability, "required column is missing")
    if label is not None and label not in frame.columns:
        raise SchemaError("scores", label, "required column is missing")
    rows: list[dict[str, object]] = []  # one record per group: its name, size and measures
    p_all = frame[probability].to_numpy(dtype=float)
    _check_probabilities(p_all, "scores")
    y_all = frame[label].to_numpy(dtype=float) if label is not None else None
    by_p = np.argsort(p_all, kind="stable")
    for col in by:
        if col not in frame.columns:
            continue
        codes, found = pd.factorize(frame[col], sort=True)
        uniques = [str(v) for v in found]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(uniques), codes)
            uniques.append("(missing)")
        # One sort per column: by group, then probability, then original order (the stable order of each group).
        order = by_p[np.argsort(codes[by_p].astype(np.int32), kind="stable")]
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        for k, level in enumerate(uniques):
            idx = order[bounds[k] : bounds[k + 1]]
            if len(idx) < min_group or len(idx) == 0:
                continue
            m = _sorted_metrics(p_all[idx], y_all[idx] if y_all is not None else None, 10, 0.1)
            row: dict[str, object] = {"by": col, "group": str(level), "n": len(idx)}
            if y_all is not None:
                row.update({key: m[key] for key in _REALISED_KEYS if key != "n"})
            row["estimated_roc_auc"] = m["estimated_roc_auc"]
            row["expected_rate"] = m["expected_rate"]
            rows.append(row)
    columns = ["by", "group", "n"]
    if label is not None:
        columns += ["roc_auc", "lift_top10", "ece", "realised_rate", "mean_predicted"]
    columns += ["estimated_roc_auc", "expected_rate"]
    return pd.DataFrame(rows, columns=columns)
