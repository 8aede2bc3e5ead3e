"""A realistic, seeded scores table and meta (contracts section 7) to preview the report without the pipeline.

Nothing here is a result: the numbers are drawn from plausible distributions per RFM segment so that notebooks and
tests can render the management report quickly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custml.contracts import (
    CalibrationBin,
    DriftRow,
    Driver,
    ModelMetrics,
    ModelVersionInfo,
    QualityBlock,
    ScoreMeta,
)
from custml.types import JSONObject

__all__ = ["sample_previous_scores", "sample_scores"]

# segment: (weight, mean churn probability, median 12-month value, activity tier probabilities active/normal/dormant,
#           lifecycle stage choices)
_SEGMENTS: dict[str, tuple[float, float, float, tuple[float, float, float], tuple[str, ...]]] = {
    "Champions": (0.08, 0.06, 1400.0, (0.85, 0.15, 0.0), ("loyal", "active")),
    "Loyal": (0.11, 0.12, 800.0, (0.6, 0.4, 0.0), ("loyal", "active")),
    "Potential loyalist": (0.10, 0.22, 420.0, (0.5, 0.5, 0.0), ("active",)),
    "New": (0.06, 0.35, 160.0, (0.7, 0.3, 0.0), ("new",)),
    "Promising": (0.06, 0.30, 230.0, (0.4, 0.6, 0.0), ("new", "active")),
    "Need attention": (0.09, 0.38, 380.0, (0.1, 0.7, 0.2), ("active", "at risk")),
    "About to sleep": (0.09, 0.52, 190.0, (0.0, 0.5, 0.5), ("at risk",)),
    "At risk": (0.10, 0.62, 520.0, (0.0, 0.3, 0.7), ("at risk",)),
    "Cannot lose": (0.04, 0.66, 1500.0, (0.0, 0.2, 0.8), ("at risk",)),
    "Hibernating": (0.13, 0.78, 90.0, (0.0, 0.1, 0.9), ("churned", "at risk")),
    "Lost": (0.11, 0.92, 25.0, (0.0, 0.0, 1.0), ("churned",)),
}
_CLUSTERS = ("Frequent app shoppers", "Bargain hunters", "Occasional big spenders", "Store regulars")
_RISK_REASONS = (
    "No purchase for {d} days (usually every {g})",
    "Spending down {p}% compared with the previous quarter",
    "{c} complaints in the last 90 days",
    "Opened no marketing emails in the last 90 days",
    "Low satisfaction score in the last survey ({s}/5)",
    "Only one purchase so far",
    "No app sessions in the last 30 days",
)
_SAFE_REASONS = (
    "Bought {c} times in the last 90 days",
    "Member of the loyalty programme",
    "Spending up {p}% compared with the previous quarter",
    "Opens most marketing emails",
)
_DRIVERS = (
    ("recency_days", "Days since the last purchase", 0.92),
    ("overdue_ratio", "How overdue the next purchase is compared with the usual gap", 0.61),
    ("orders_90d", "Orders in the last 90 days", 0.44),
    ("revenue_30d_vs_prev90d", "Recent spending compared with the previous quarter", 0.31),
    ("complaints_90d", "Complaints in the last 90 days", 0.22),
    ("email_open_rate_90d", "Share of marketing emails opened in the last 90 days", 0.17),
    ("tenure_days", "How long the customer has been buying", 0.12),
    ("satisfaction_last", "Satisfaction score in the last survey", 0.09),
)


def _reason(rng: np.random.Generator, templates: tuple[str, ...]) -> str:
    t = templates[int(rng.integers(len(templates)))]
    return t.format(
        d=int(rng.integers(60, 400)),
        g=int(rng.integers(20, 90)),
        p=int(rng.integers(20, 80)),
        c=int(rng.integers(2, 6)),
        s=int(rng.integers(1, 3)),
    )


def _calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[CalibrationBin]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        if m.sum() >= 5:
            out.append(
                CalibrationBin(
                    mean_predicted=float(p[m].mean()), observed_rate=float(y[m].mean()), n=int(m.sum())
                )
            )
    return out


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    ranks = pd.Series(p).rank().to_numpy()
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _model_meta(
    name: str, version: str, p: np.ndarray, rng: np.random.Generator, drivers: bool = True
) -> ModelVersionInfo:
    # Simulated outcomes of a slightly over-confident model: the metrics are computed from them, not typed in.
    y = (rng.random(len(p)) < np.clip(0.03 + 0.9 * p, 0, 1)).astype(int)
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, len(p) // 10)]
    capture = float(y[top].sum() / max(1, y.sum()))
    base = float(y.mean())
    metrics = ModelMetrics(
        roc_auc=round(_auc(p, y), 4),
        pr_auc=round(float(np.mean(y[order][: len(p) // 2])), 4),
        brier=round(float(np.mean((p - y) ** 2)), 4),
        ece=round(float(np.mean(np.abs(p - y))) / 5, 4),
        lift_top10=round(float(y[top].mean() / base) if base > 0 else 0.0, 3),
        capture_top10=round(capture, 4),
        test_cutoff="2025-07-03",
        base_rate=round(base, 4),
    )
    top_drivers = (
        [
            Driver(feature=f, description=d, mean_abs_shap=round(s * float(rng.uniform(0.9, 1.1)), 4))
            for f, d, s in _DRIVERS
        ]
        if drivers
        else []
    )
    return ModelVersionInfo(
        name=name, version=version, metrics=metrics, calibration=_calibration(p, y), top_drivers=top_drivers
    )


def _draw_customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Segment, churn probability, 12-month value, activity and lifecycle stage of ``n`` customers."""
    names = list(_SEGMENTS)
    weights = np.array([_SEGMENTS[s][0] for s in names])
    seg = rng.choice(names, size=n, p=weights / weights.sum()).astype(object)
    prospect = rng.random(n) < 0.03
    churn = np.empty(n)
    value = np.empty(n)
    activity = np.empty(n, dtype=object)
    lifecycle = np.empty(n, dtype=object)
    for s in names:
        m = seg == s
        k = int(m.sum())
        if not k:
            continue
        _, mean_p, median_v, act_p, stages = _SEGMENTS[s]
        conc = 8.0
        churn[m] = rng.beta(mean_p * conc, (1 - mean_p) * conc, size=k)
        value[m] = median_v * rng.lognormal(0.0, 0.7, size=k)
        activity[m] = rng.choice(["active", "normal", "dormant"], size=k, p=act_p)
        lifecycle[m] = rng.choice(list(stages), size=k)
    seg[prospect] = None
    churn[prospect] = rng.beta(6, 4, size=int(prospect.sum()))
    value[prospect] = rng.lognormal(3.0, 0.5, size=int(prospect.sum()))
    activity[prospect] = "dormant"
    lifecycle[prospect] = "prospect"
    churn = np.clip(churn, 0.001, 0.999).round(4)
    value = value.round(2)
    q80, q50 = np.quantile(value, [0.8, 0.5])
    tier = np.where(value >= q80, "high", np.where(value >= q50, "medium", "low")).astype(object)
    return pd.DataFrame({"rfm_segment": seg, "churn_probability": churn, "expected_value_12m": value,
                         "value_tier": tier, "activity_tier": activity, "lifecycle_stage": lifecycle})  # fmt: skip


def _actions(c: pd.DataFrame) -> np.ndarray:
    churn = c["churn_probability"].to_numpy()
    tier, lifecycle = c["value_tier"].to_numpy(), c["lifecycle_stage"].to_numpy()
    action = np.full(len(c), "no action", dtype=object)
    action[(churn >= 0.3) & (tier != "high")] = "low-cost reactivation"
    action[(lifecycle == "new") | (lifecycle == "prospect")] = "onboarding offer"
    action[(lifecycle == "loyal") & (churn < 0.3)] = "loyalty reward"
    action[(churn >= 0.4) & (tier == "high")] = "personal outreach"
    action[(lifecycle == "churned") & (tier == "low")] = "no action"
    return action


def _reasons(churn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    reasons = np.empty((len(churn), 3), dtype=object)
    for i in range(len(churn)):
        pool = _RISK_REASONS if churn[i] >= 0.3 else _SAFE_REASONS
        picked = list(dict.fromkeys(_reason(rng, pool) for _ in range(4)))[:3]
        reasons[i, : len(picked)] = picked
    return reasons


def _scores_frame(n: int, ts: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    c = _draw_customers(n, rng)
    churn = c["churn_probability"].to_numpy()
    reasons = _reasons(churn, rng)
    ids = [f"{x:016x}" for x in rng.integers(0, 2**63, size=n, dtype=np.int64)]
    repurchase = np.clip(0.6 * (1 - churn) + rng.normal(0, 0.05, n), 0.001, 0.999).round(4)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "as_of": ts,
            "churn_probability": churn,
            "repurchase_probability": repurchase,
            "expected_value_12m": c["expected_value_12m"].to_numpy(),
            "revenue_at_risk": (churn * c["expected_value_12m"].to_numpy()).round(2),
            "rfm_segment": c["rfm_segment"].to_numpy(),
            "value_tier": c["value_tier"].to_numpy(),
            "activity_tier": c["activity_tier"].to_numpy(),
            "lifecycle_stage": c["lifecycle_stage"].to_numpy(),
            "cluster_name": rng.choice(_CLUSTERS, size=n),
            "reason_1": reasons[:, 0],
            "reason_2": reasons[:, 1],
            "reason_3": reasons[:, 2],
            "recommended_action": _actions(c),
            "churn_model_name": "custml-churn",
            "churn_model_version": "3",
            "repurchase_model_name": "custml-repurchase",
            "repurchase_model_version": "2",
            "scored_at": ts + pd.Timedelta(hours=30, minutes=12),
        }
    )


def _meta(scores: pd.DataFrame, rng: np.random.Generator) -> ScoreMeta:
    n = len(scores)
    by_table = {
        "orders": int(rng.integers(60, 140)),
        "interactions": int(rng.integers(20, 80)),
        "customers": 7,
    }
    # reason codes of custml.quality
    orders, interactions = by_table["orders"], by_table["interactions"]
    by_reason = {
        "unparseable_timestamp": orders // 2 + interactions // 2,
        "future_timestamp": orders // 4 + 3,
        "exact_duplicate_row": orders - orders // 2 - orders // 4 - 3,
        "unknown_customer": interactions - interactions // 2,
        "null_required": by_table["customers"],
    }
    quarantined = sum(by_table.values())
    merged = int(rng.integers(10, 40))
    no_history = int(rng.integers(5, 30))
    customer_rows = n + by_table["customers"] + merged + no_history
    drift = [("recency_days", 0.04, "ok"), ("revenue_90d", 0.13, "warn"), ("email_open_rate_90d", 0.27, "drift"),
             ("tickets_90d", 0.02, "ok")]  # fmt: skip
    return ScoreMeta(
        as_of=scores["as_of"].iloc[0].isoformat(),
        scored_at=scores["scored_at"].iloc[0].isoformat(),
        currency="EUR",
        # top level: customer records; "quality": rows of every input table (as custml score writes them)
        rows_in=customer_rows,
        rows_scored=n,
        rows_quarantined=customer_rows - n,
        rows_not_scored={
            "quarantined_by_quality": by_table["customers"],
            "merged_duplicates": merged,
            "no_features_at_as_of": no_history,
        },  # fmt: skip
        quality=QualityBlock(
            rows_in=customer_rows + 30 * n,
            rows_kept=customer_rows + 30 * n - quarantined,
            rows_quarantined=quarantined,
            quarantined_by_table=by_table,
            quarantined_by_reason=by_reason,
            duplicates_merged=merged,
        ),
        models={
            "churn": _model_meta("custml-churn", "3", scores["churn_probability"].to_numpy(), rng),
            "repurchase": _model_meta(
                "custml-repurchase", "2", scores["repurchase_probability"].to_numpy(), rng
            ),
        },
        drift=[DriftRow(feature=f, psi=psi, status=st, drifted=st == "drift") for f, psi, st in drift],
    )


def sample_scores(n: int = 2000, seed: int = 0, as_of: str = "2025-10-01") -> tuple[pd.DataFrame, JSONObject]:
    """A seeded scores table of ``n`` customers and its sidecar meta, shaped like ``custml score`` output.

    Parameters
    ----------
    n : int
        Number of customers (about 3% are prospects without a segment).
    seed : int
        Random seed; the same seed gives the same frames.
    as_of : str
        Scoring date.

    Returns
    -------
    scores : DataFrame
        Columns of contracts section 7.
    meta : dict
        The sidecar as JSON (a valid :class:`custml.contracts.ScoreMeta`): quality counts, model metrics,
        calibration, drivers and drift.

    Examples
    --------
    >>> scores, meta = sample_scores(100, seed=3)
    >>> len(scores), scores["customer_id"].is_unique, meta["rows_scored"]
    (100, True, 100)
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    scores = _scores_frame(n, pd.Timestamp(as_of), rng)
    meta: JSONObject = _meta(scores, rng).model_dump(mode="json", by_alias=True)
    return scores, meta


def sample_previous_scores(scores: pd.DataFrame, seed: int = 1, days: int = 30) -> pd.DataFrame:
    """An earlier scoring of (mostly) the same customers, to preview the report's movement section.

    About 4% of today's customers are absent (new since), 2% extra customers existed then, about 12% sat in a
    neighbouring segment and risks were a little lower.

    Examples
    --------
    >>> scores, _ = sample_scores(200, seed=0)
    >>> prev = sample_previous_scores(scores, seed=1)
    >>> bool(prev["as_of"].iloc[0] < scores["as_of"].iloc[0])
    True
    """
    rng = np.random.default_rng(seed)
    prev = scores.loc[rng.random(len(scores)) >= 0.04].copy()
    order = list(_SEGMENTS)
    seg = prev["rfm_segment"].to_numpy(dtype=object)
    shift = rng.random(len(prev)) < 0.12
    for i in np.flatnonzero(shift):
        if pd.isna(seg[i]):
            continue
        j = order.index(seg[i]) + int(rng.choice([-2, -1, -1]))
        seg[i] = order[min(max(j, 0), len(order) - 1)]
    prev["rfm_segment"] = seg
    prev["churn_probability"] = np.clip(
        prev["churn_probability"] - rng.normal(0.02, 0.04, len(prev)), 0.001, 0.999
    )
    prev["revenue_at_risk"] = (prev["churn_probability"] * prev["expected_value_12m"]).round(2)
    extra, _ = sample_scores(max(1, len(scores) // 50), seed=seed + 1000)
    prev = pd.concat([prev, extra], ignore_index=True)
    prev["as_of"] = scores["as_of"].iloc[0] - pd.Timedelta(days=days)
    prev["scored_at"] = scores["scored_at"].iloc[0] - pd.Timedelta(days=days)
    return prev.reset_index(drop=True)
