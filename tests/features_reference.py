"""A small, deliberately naive pure-pandas reference for a subset of the feature catalogue.

Written from the definitions in docs/features.md with per-customer Python loops, sharing no code with the SQL,
so that agreement between the two is evidence that the SQL says what the catalogue means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def _age(ts: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    return (cutoff - ts) / DAY


def reference_features(
    orders: pd.DataFrame,
    cutoff: object,
    customers: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Reference values, one row per customer (same population rule as build_features), sorted by id."""
    cutoff = pd.Timestamp(cutoff)
    o = orders[orders["order_ts"] < cutoff].copy()
    o["age"] = _age(o["order_ts"], cutoff)
    o["refund"] = o["is_refund"].fillna(False).astype(bool) if "is_refund" in o else False
    ids = set(o["customer_id"])
    signup_age: dict[str, float] = {}
    if customers is not None:
        c = customers[customers["signup_date"] < cutoff]
        ids |= set(c["customer_id"])
        signup_age = dict(zip(c["customer_id"], _age(c["signup_date"], cutoff), strict=True))
    last_day = (cutoff - pd.Timedelta(microseconds=1)).normalize()
    rows = []
    for cid in sorted(ids):
        mine = o[o["customer_id"] == cid]
        buys = mine[~mine["refund"]]
        r: dict[str, object] = {"customer_id": cid}
        r["recency_days"] = buys["age"].min() if len(buys) else np.nan
        r["frequency_orders"] = float(len(buys))
        days = sorted(buys["order_ts"].dt.normalize().unique())
        r["frequency_days"] = float(len(days))
        r["monetary_total"] = float(mine["net_amount"].sum())
        r["monetary_mean"] = buys["net_amount"].mean() if len(buys) else np.nan
        r["tenure_days"] = buys["age"].max() if len(buys) else np.nan
        if customers is not None:
            r["days_since_signup"] = signup_age.get(cid, np.nan)
        for w in (30, 90, 180, 365):
            in_w = mine[mine["age"] <= w]
            buys_w = in_w[~in_w["refund"]]
            r[f"orders_{w}d"] = float(len(buys_w))
            r[f"revenue_{w}d"] = float(in_w["net_amount"].sum())
            r[f"items_{w}d"] = float(buys_w["n_items"].sum())
            gross = buys_w["gross_amount"].sum()
            r[f"discount_share_{w}d"] = buys_w["discount_amount"].sum() / gross if gross != 0 else np.nan
            r[f"refunds_{w}d"] = float(in_w["refund"].sum())
        last30 = mine.loc[mine["age"] <= 30, "net_amount"].sum()
        prev90 = mine.loc[(mine["age"] > 30) & (mine["age"] <= 120), "net_amount"].sum()
        r["revenue_30d_vs_prev90d"] = last30 / (prev90 / 3) if prev90 > 0 else np.nan
        # Monthly spend slope: explicit 30-day periods, least squares on the period's position in time.
        if len(buys):
            n = min(12, math.ceil(buys["age"].max() / 30))
            if n >= 2:
                period = np.ceil(mine["age"] / 30).astype(int) - 1
                spend = [mine.loc[period == j, "net_amount"].sum() for j in range(n)]
                x = -np.arange(n, dtype=float)
                r["monthly_spend_slope"] = float(np.polyfit(x, spend, 1)[0])
            else:
                r["monthly_spend_slope"] = np.nan
        else:
            r["monthly_spend_slope"] = np.nan
        gaps = np.diff(np.array(days, dtype="datetime64[ns]")) / np.timedelta64(1, "D")
        r["gap_mean_days"] = float(gaps.mean()) if len(gaps) else np.nan
        r["gap_std_days"] = float(gaps.std()) if len(gaps) else np.nan
        r["overdue_ratio"] = r["recency_days"] / gaps.mean() if len(gaps) else np.nan
        cats = buys["category"].dropna().value_counts()
        r["n_categories"] = float(len(cats))
        if len(cats):
            p = cats.to_numpy() / cats.sum()
            r["category_entropy"] = float(-(p * np.log(p)).sum())
            r["top_category_share"] = float(p.max())
        else:
            r["category_entropy"] = r["top_category_share"] = np.nan
        r["share_channel_web"] = float((buys["channel"] == "web").mean()) if len(buys) else np.nan
        if days:
            per_day = buys.groupby(buys["order_ts"].dt.normalize())["net_amount"].sum().sort_index()
            r["btyd_frequency"] = float(len(days) - 1)
            r["btyd_recency_days"] = float((days[-1] - days[0]) / DAY)
            r["btyd_T_days"] = float((last_day - days[0]) / DAY)
            r["btyd_monetary"] = float(per_day.iloc[1:].mean()) if len(days) > 1 else 0.0
        else:
            r["btyd_frequency"] = r["btyd_recency_days"] = r["btyd_T_days"] = r["btyd_monetary"] = np.nan
        if interactions is not None:
            r.update(_reference_service(interactions, cid, cutoff))
        rows.append(r)
    return pd.DataFrame(rows)


def _reference_service(interactions: pd.DataFrame, cid: str, cutoff: pd.Timestamp) -> dict[str, float]:
    i = interactions[(interactions["customer_id"] == cid) & (interactions["ts"] < cutoff)].copy()
    i["age"] = _age(i["ts"], cutoff)
    out: dict[str, float] = {}
    complaints = i[i["kind"] == "complaint"]
    out["tickets_90d"] = float(((i["kind"] == "support_ticket") & (i["age"] <= 90)).sum())
    out["complaints_365d"] = float((complaints["age"] <= 365).sum())
    out["days_since_last_complaint"] = complaints["age"].min() if len(complaints) else np.nan
    n_open = 0
    resolved_hours = []
    for _, row in i[i["kind"].isin(["support_ticket", "complaint"])].iterrows():
        resolved = not pd.isna(row["resolved"]) and bool(row["resolved"])
        hours = row["resolution_hours"]
        resolved_before = resolved and (pd.isna(hours) or row["ts"] + pd.Timedelta(hours=hours) < cutoff)
        if row["kind"] == "complaint" and not resolved_before:
            n_open += 1
        if resolved and not pd.isna(hours) and row["ts"] + pd.Timedelta(hours=hours) < cutoff:
            resolved_hours.append(hours)
    out["open_complaints"] = float(n_open)
    out["resolution_hours_mean"] = float(np.mean(resolved_hours)) if resolved_hours else np.nan
    surveys = i[(i["kind"] == "survey") & i["score"].notna()].sort_values("ts")
    out["satisfaction_last"] = float(surveys["score"].iloc[-1]) if len(surveys) else np.nan
    out["satisfaction_mean"] = float(surveys["score"].mean()) if len(surveys) else np.nan
    recent = i[i["age"] <= 90]
    sent = (recent["kind"] == "email_sent").sum()
    opened = (recent["kind"] == "email_open").sum()
    out["email_open_rate_90d"] = min(1.0, opened / sent) if sent else np.nan
    out["app_sessions_30d"] = float(((i["kind"] == "app_session") & (i["age"] <= 30)).sum())
    return out
