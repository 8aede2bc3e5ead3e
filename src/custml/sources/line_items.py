"""Invoice-line exports: lines aggregated to orders."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def _order_groups(order_id: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(stripped order keys, group ids): a line without a key is its own order under a private group id."""
    key = order_id.astype("str").where(order_id.notna(), None).str.strip()
    key = key.where(key != "", None)
    own = "\0line:" + pd.Series(np.arange(len(key)).astype(str), index=key.index)
    return key, key.where(key.notna(), own).to_numpy(dtype=object)


def aggregate_line_items(lines: pd.DataFrame, refund_prefix: str | None = None) -> pd.DataFrame:
    """One order per ``order_id`` from order lines (contract column names, one row per line).

    ``net_amount`` (and ``gross_amount``/``discount_amount`` when present) are summed, ``n_items`` is the total
    quantity (as a count of items, so positive on refunds), ``order_ts`` is the earliest line's, ``customer_id``
    the first non-null one, ``category`` the one with the most revenue (absolute) in the order. ``is_refund`` is
    true when the order key starts with ``refund_prefix``, the net amount is negative, or (when mapped) any line
    says so. Lines without an order key stay one order each (their null id is quarantined downstream). Returns
    the orders with ``n_lines``.

    Examples
    --------
    >>> lines = pd.DataFrame({"order_id": ["A1", "A1", "C2"], "customer_id": ["7", "7", "7"],
    ...     "order_ts": pd.to_datetime(["2024-01-02 10:00", "2024-01-02 10:00", "2024-01-03 09:00"]),
    ...     "n_items": [2.0, 1.0, -1.0], "net_amount": [5.0, 2.5, -2.5], "category": ["x", "y", "y"]})
    >>> aggregate_line_items(lines, refund_prefix="C")[["order_id", "n_items", "net_amount", "category", "is_refund"]]
      order_id  n_items  net_amount category  is_refund
    0       A1        3         7.5        x      False
    1       C2        1        -2.5        y       True
    """
    df = lines.reset_index(drop=True).copy()
    key, df["_group"] = _order_groups(df["order_id"])
    g = df.groupby("_group", sort=False)
    out = pd.DataFrame(index=g.size().index)
    out["order_id"] = key.groupby(df["_group"], sort=False).first()
    out["customer_id"] = g["customer_id"].first() if "customer_id" in df else None
    if "order_ts" in df:
        out["order_ts"] = g["order_ts"].min()
    for col in ("net_amount", "gross_amount", "discount_amount"):
        if col in df:
            out[col] = g[col].sum(min_count=1)
    if "gross_amount" not in df and "net_amount" in df:
        out["gross_amount"] = out["net_amount"]
    if "n_items" in df:
        out["n_items"] = g["n_items"].sum(min_count=1).abs().round().astype("Int64")
    if "category" in df and "net_amount" in df:
        rev = df.assign(_rev=df["net_amount"].abs()).groupby(["_group", "category"], sort=False)["_rev"].sum()
        top = rev.reset_index().sort_values(["_group", "_rev"], ascending=[True, False], kind="stable")
        out["category"] = top.drop_duplicates("_group").set_index("_group")["category"]
    for col in ("channel",):
        if col in df:
            out[col] = g[col].first()
    refund = (
        (out["net_amount"] < 0).fillna(False) if "net_amount" in out else pd.Series(False, index=out.index)
    )
    if refund_prefix:
        refund |= out["order_id"].fillna("").str.startswith(refund_prefix)
    if "is_refund" in df:
        flag = df["is_refund"].astype("str").str.strip().str.lower().isin(["true", "1", "yes", "y", "t"])
        refund |= flag.groupby(df["_group"], sort=False).any()
    out["is_refund"] = refund.astype(bool)
    out["n_lines"] = g.size().astype("int64")
    return out.reset_index(drop=True)


def line_accounting(lines: pd.DataFrame, duplicate: np.ndarray, dropped: bool) -> dict[str, object]:
    """What a line-item export holds, in its own lines (contract column names, one row per line).

    ``duplicate`` marks the lines identical in every source column to an earlier line; ``dropped`` says they
    were left out of the orders (``duplicate_lines: drop``) rather than summed in (``keep``). Returns lines in,
    lines without a customer id and their net amount (they reach no customer's history), the exact duplicate
    lines and their net amount, and the policy applied.

    Examples
    --------
    >>> lines = pd.DataFrame({"customer_id": ["7", None, "7", " "], "net_amount": [5.0, 2.5, 5.0, 1.0]})
    >>> line_accounting(lines, np.array([False, False, True, False]), dropped=False)["lines_without_customer"]
    2
    """
    net = (
        lines["net_amount"].astype("float64").fillna(0.0)
        if "net_amount" in lines
        else pd.Series(0.0, index=lines.index)
    )
    if "customer_id" in lines:
        ids = lines["customer_id"].astype("str").where(lines["customer_id"].notna(), None).str.strip()
        missing = (ids.isna() | (ids == "")).to_numpy()
    else:
        missing = np.ones(len(lines), dtype=bool)
    duplicate = np.asarray(duplicate, dtype=bool)
    return {
        "lines_in": len(lines),
        "lines_without_customer": int(missing.sum()),
        "net_amount_lines_without_customer": round(float(net[missing].sum()), 2),
        "lines_exact_duplicate": int(duplicate.sum()),
        "net_amount_duplicate_lines": round(float(net[duplicate].sum()), 2),
        "duplicate_lines_policy": "dropped" if dropped else "kept (summed into their orders)",
        "net_amount_all_lines": round(float(net.sum()), 2),
    }


def source_accounting(table_report: Mapping[str, Any]) -> dict[str, object]:
    """The figures of one table in the source's own units (``lines`` of a line-item export, else ``rows``),
    from its sources report (:func:`custml.sources.read_sources` and the clean step's lines kept/quarantined):
    units in, left out by the mapping's filter, without a customer id (and their net amount), exact
    duplicates (and the policy applied), kept and quarantined.

    Examples
    --------
    >>> source_accounting({"rows_read": 10, "rows_excluded": 2, "currency": "BRL"})
    {'unit': 'rows', 'in': 10, 'excluded_by_filter': 2, 'currency': 'BRL'}
    """
    lines = "lines_in" in table_report
    out: dict[str, object] = {
        "unit": "lines" if lines else "rows",
        "in": int(table_report.get("lines_in", table_report.get("rows_read", 0))),
        "excluded_by_filter": int(table_report.get("rows_excluded", 0)),
    }
    if lines:
        for key, name in (
            ("lines_without_customer", "without_customer"),
            ("net_amount_lines_without_customer", "net_amount_without_customer"),
            ("lines_exact_duplicate", "exact_duplicates"),
            ("net_amount_duplicate_lines", "net_amount_exact_duplicates"),
            ("duplicate_lines_policy", "exact_duplicates_policy"),
            ("net_amount_all_lines", "net_amount_in"),
            ("lines_kept", "kept"),
            ("lines_quarantined", "quarantined"),
        ):
            if key in table_report:
                out[name] = table_report[key]
    elif "rows_exact_duplicate" in table_report:
        out["exact_duplicates"] = table_report["rows_exact_duplicate"]
        out["exact_duplicates_policy"] = "quarantined as exact_duplicate_row"
    if table_report.get("currency"):
        out["currency"] = table_report["currency"]
    return out
