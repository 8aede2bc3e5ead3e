"""Expected-profit targeting under a budget, and its comparison with risk-based and random targeting.

For a customer and an action: **expected saved value = uplift x 12-month value x margin - cost of the
action**, where uplift is the estimated reduction of the churn probability by the action. The rule that
chooses who gets what under a budget (:func:`plan_contacts`):

1. per customer, the action with the highest expected profit per unit of cost (profit itself for a free
   action); customers whose best profit is not positive get nothing;
2. customers are taken in decreasing order of that ratio while the budget lasts; one whose action no longer
   fits is skipped and cheaper ones after it can still be taken (greedy knapsack).

With one action of one cost this contacts the customers of highest expected profit until the budget is spent
or no contact is expected to pay. The other policies (:func:`policy_table`) contact, in their own order, as
many customers as the budget buys, whatever the expected profit: churn risk, value x risk (revenue at risk)
and random.

**Random targeting** is valued at its expectation, not at one draw: ``k`` customers taken at random earn on
average ``k`` times the mean profit over all customers (expected, and true when the truth is known). It is a
baseline, and a drawn sample would add noise of its own to every comparison with it. This is the one
definition: the management report's "Who to save" section shows this module's :func:`policy_table` and
:func:`profit_curve` (:mod:`custml.report.sections.who`), and the uplift experiments compare with the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custml.errors import SchemaError

__all__ = [
    "CONTACT_COLUMNS",
    "NO_CONTACT",
    "ActionOffer",
    "contact_list",
    "expected_profit",
    "plan_contacts",
    "policy_table",
    "profit_curve",
]

NO_CONTACT = "no action"


@dataclass(frozen=True)
class ActionOffer:
    """An action that can be sent: its name, its cost per customer, and the column holding its uplift."""

    name: str
    cost: float
    uplift_column: str = "uplift"

    def __post_init__(self) -> None:
        if not np.isfinite(self.cost) or self.cost < 0:
            raise ValueError(f"action {self.name!r}: cost must be a finite number >= 0, got {self.cost}")


def expected_profit(uplift: np.ndarray, value: np.ndarray, margin: float, cost: float) -> np.ndarray:
    """``uplift * value * margin - cost`` per customer (missing uplift or value: ``-cost``).

    Examples
    --------
    >>> expected_profit(np.array([0.1, 0.0]), np.array([500.0, 900.0]), 0.3, 10.0).tolist()
    [5.0, -10.0]
    """
    u = np.nan_to_num(np.asarray(uplift, dtype=float), nan=0.0)
    v = np.nan_to_num(np.asarray(value, dtype=float), nan=0.0)
    return u * v * margin - cost


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError("scores", missing[0], f"is needed for targeting but missing (all: {missing})")


def plan_contacts(
    frame: pd.DataFrame,
    budget: float,
    actions: Sequence[ActionOffer],
    *,
    margin: float,
    value_column: str = "expected_value_12m",
) -> pd.DataFrame:
    """Who gets which action under ``budget`` (the rule is in the module docstring).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``frame``: ``chosen_action`` (``"no action"`` if none), ``expected_profit`` of the best
        action (also for those not contacted), ``action_cost`` (0 if not contacted), ``contact_rank`` (1 =
        first taken; null if not contacted).

    Raises
    ------
    SchemaError
        If a column is missing. ValueError: negative budget or no action.

    Examples
    --------
    >>> f = pd.DataFrame({"uplift": [0.2, 0.05, 0.3], "expected_value_12m": [500.0, 500.0, 100.0]})
    >>> plan_contacts(f, 20.0, [ActionOffer("offer", 10.0)], margin=0.5)["chosen_action"].tolist()
    ['offer', 'no action', 'offer']
    """
    if np.isnan(budget) or budget < 0:
        raise ValueError(f"budget must be a number >= 0 (inf: no limit), got {budget}")
    if not actions:
        raise ValueError("plan_contacts needs at least one action")
    _require(frame, [value_column, *dict.fromkeys(a.uplift_column for a in actions)])
    n = len(frame)
    value = frame[value_column].to_numpy(dtype=float, na_value=np.nan)
    profits = np.column_stack([expected_profit(frame[a.uplift_column].to_numpy(dtype=float, na_value=np.nan),
                                               value, margin, a.cost) for a in actions])  # fmt: skip
    costs = np.array([a.cost for a in actions])
    # profit per unit of cost; a free action with a positive profit comes first (ties: row order)
    paid = np.where(costs > 0, costs, 1.0)
    ratio = np.where(costs > 0, profits / paid, np.where(profits > 0, np.inf, -np.inf))
    best = np.argmax(ratio, axis=1) if n else np.zeros(0, dtype=int)
    best_profit = profits[np.arange(n), best] if n else np.zeros(0)
    best_ratio = ratio[np.arange(n), best] if n else np.zeros(0)
    best_cost = costs[best] if n else np.zeros(0)
    candidates = np.flatnonzero(best_profit > 0)
    order = candidates[np.lexsort((candidates, -best_ratio[candidates]))]
    chosen = np.zeros(n, dtype=bool)
    rank = np.full(n, np.nan)
    order_cost = best_cost[order]
    if len(order) and np.all(order_cost == order_cost[0]):
        # one cost: once an offer does not fit, none after it does (the loop below, vectorised)
        take = order[np.cumsum(order_cost) <= budget + 1e-9]
        chosen[take] = True
        rank[take] = np.arange(1, len(take) + 1)
    else:
        spent, taken = 0.0, 0
        for i in order:
            if spent + best_cost[i] <= budget + 1e-9:
                spent += best_cost[i]
                taken += 1
                chosen[i] = True
                rank[i] = taken
    names = np.array([a.name for a in actions], dtype=object)
    return pd.DataFrame(
        {
            "chosen_action": np.where(chosen, names[best] if n else names[:0], NO_CONTACT),
            "expected_profit": best_profit,
            "action_cost": np.where(chosen, best_cost, 0.0),
            "contact_rank": pd.array(rank, dtype="Float64").astype("Int64"),
        },
        index=frame.index,
    )


def _take_by(score: np.ndarray, n_contacts: int, seed_order: np.ndarray) -> np.ndarray:
    """Mask of the ``n_contacts`` rows of highest ``score`` (ties broken by ``seed_order``)."""
    order = np.lexsort((seed_order, -np.nan_to_num(score, nan=-np.inf)))
    mask = np.zeros(len(score), dtype=bool)
    mask[order[:n_contacts]] = True
    return mask


def policy_table(
    frame: pd.DataFrame,
    budget: float,
    cost: float,
    *,
    margin: float,
    uplift_column: str = "uplift",
    true_uplift_column: str | None = None,
    value_column: str = "expected_value_12m",
    risk_column: str = "churn_probability",
    seed: int = 0,
) -> pd.DataFrame:
    """Profit of the expected-profit plan against churn-risk, value x risk and random targeting, same budget.

    The plan stops where expected profit turns negative; the others contact as many customers as the budget
    buys. For a like-for-like count, ``expected profit, whole budget`` takes the plan's ranking down to the
    budget, and ``value`` ranks by 12-month value alone. ``random`` is the expectation of a random pick of as
    many customers (their number times the mean profit; see the module docstring). Ties in a ranking are broken
    in an order drawn with ``seed``. A missing uplift or value counts as no effect (the profit is ``-cost``).

    Each row: ``policy``, ``contacted``, ``cost``, ``expected_profit`` (from the estimated uplift) and, with
    ``true_uplift_column`` (the synthetic truth), ``true_profit`` and an ``oracle`` row (targeting by the true
    expected profit: the best any plan could do).

    Examples
    --------
    >>> f = pd.DataFrame({"uplift": [0.2, 0.0, 0.1], "expected_value_12m": [500.0, 100.0, 400.0],
    ...     "churn_probability": [0.3, 0.9, 0.5]})
    >>> policy_table(f, 10.0, 10.0, margin=0.5)[["policy", "contacted", "expected_profit"]].values.tolist()[:2]
    [['expected profit', 1, 40.0], ['churn risk', 1, -10.0]]
    """
    if cost <= 0:
        raise ValueError(f"cost must be positive to compare policies under a budget, got {cost}")
    cols = [uplift_column, value_column, risk_column] + ([true_uplift_column] if true_uplift_column else [])
    _require(frame, cols)
    n = len(frame)
    value = frame[value_column].to_numpy(dtype=float, na_value=np.nan)
    risk = frame[risk_column].to_numpy(dtype=float, na_value=np.nan)
    est = expected_profit(frame[uplift_column].to_numpy(dtype=float, na_value=np.nan), value, margin, cost)
    n_budget = min(int(np.floor(budget / cost + 1e-9)), n)
    rng = np.random.default_rng(seed)
    tiebreak = rng.permutation(n)
    plan = plan_contacts(frame, budget, [ActionOffer("offer", cost, uplift_column)], margin=margin,
                         value_column=value_column)["chosen_action"].to_numpy() != NO_CONTACT  # fmt: skip
    policies: dict[str, np.ndarray] = {
        "expected profit": plan,
        "churn risk": _take_by(risk, n_budget, tiebreak),
        "value x risk": _take_by(risk * np.nan_to_num(value, nan=0.0), n_budget, tiebreak),
        # the same ranking as the plan, but spending the whole budget (same contacts as the others)
        "expected profit, whole budget": _take_by(est, n_budget, tiebreak),
        "value": _take_by(np.nan_to_num(value, nan=0.0), n_budget, tiebreak),
    }
    true = None
    if true_uplift_column:
        true = expected_profit(
            frame[true_uplift_column].to_numpy(dtype=float, na_value=np.nan), value, margin, cost
        )
        oracle = _take_by(true, n_budget, tiebreak) & (true > 0)
        policies["oracle"] = oracle
    rows = [_policy_row(name, mask, cost, est, true) for name, mask in policies.items()]
    rows.insert(3, _random_row(n_budget, cost, est, true))
    return pd.DataFrame(rows)


def _policy_row(
    name: str, mask: np.ndarray, cost: float, est: np.ndarray, true: np.ndarray | None
) -> dict[str, str | int | float]:
    row: dict[str, str | int | float] = {
        "policy": name,
        "contacted": int(mask.sum()),
        "cost": float(mask.sum() * cost),
        "expected_profit": float(est[mask].sum()),
    }
    if true is not None:
        row["true_profit"] = float(true[mask].sum())
    return row


def _random_row(
    k: int, cost: float, est: np.ndarray, true: np.ndarray | None
) -> dict[str, str | int | float]:
    """Random targeting of ``k`` customers, at its expectation: ``k`` times the mean profit."""
    row: dict[str, str | int | float] = {
        "policy": "random",
        "contacted": k,
        "cost": float(k * cost),
        "expected_profit": float(est.mean()) * k if k else 0.0,
    }
    if true is not None:
        row["true_profit"] = float(true.mean()) * k if k else 0.0
    return row


def profit_curve(
    frame: pd.DataFrame,
    cost: float,
    *,
    margin: float,
    order_column: str = "expected_profit",
    uplift_column: str = "uplift",
    profit_uplift_column: str | None = None,
    value_column: str = "expected_value_12m",
    points: int = 101,
) -> pd.DataFrame:
    """Cumulative profit when contacting the top share of customers ranked by ``order_column``.

    The profit is computed from ``profit_uplift_column`` (default ``uplift_column``: the expected profit; pass
    the true uplift to see what a ranking really earns). Returns ``share``, ``contacted``, ``cost``,
    ``profit`` at ``points`` evenly spaced shares from 0 to 1.
    """
    profit_uplift_column = profit_uplift_column or uplift_column
    need = [value_column, profit_uplift_column] + ([] if order_column in frame.columns else [uplift_column])
    _require(frame, need)
    value = frame[value_column].to_numpy(dtype=float, na_value=np.nan)
    if order_column in frame.columns:
        score = frame[order_column].to_numpy(dtype=float, na_value=np.nan)
    else:
        score = expected_profit(frame[uplift_column].to_numpy(dtype=float), value, margin, cost)
    profit = expected_profit(
        frame[profit_uplift_column].to_numpy(dtype=float, na_value=np.nan), value, margin, cost
    )
    order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(profit[order])])
    n = len(frame)
    counts = np.unique(np.round(np.linspace(0, n, points)).astype(int))
    return pd.DataFrame(
        {"share": counts / max(n, 1), "contacted": counts, "cost": counts * cost, "profit": cum[counts]}
    )


#: Columns of the contact list, in order.
CONTACT_COLUMNS: tuple[str, ...] = (
    "contact_rank",
    "customer_id",
    "chosen_action",
    "action_cost",
    "expected_profit",
    "uplift",
    "churn_probability",
    "expected_value_12m",
)


def contact_list(
    scores: pd.DataFrame, budget: float, *, cost: float, margin: float, action: str = "retention offer"
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Who to contact under ``budget`` from a scores table with ``uplift``, and the plan's totals.

    Returns
    -------
    (pandas.DataFrame, dict)
        The contacted customers in the order they were taken (:data:`CONTACT_COLUMNS`), and
        ``customers_scored``, ``contacted``, ``budget``, ``spend``, ``expected_profit``, ``expected_return``
        (expected profit per unit spent; NaN when nothing is spent).

    Raises
    ------
    SchemaError
        If ``uplift`` is missing or entirely null (the scores were made without campaign data).
    """
    _require(scores, ["customer_id", "uplift", "expected_value_12m"])
    if scores["uplift"].notna().sum() == 0:
        raise SchemaError(
            "scores", "uplift", "is empty: scored without campaign data, so there is no uplift to plan with",
            len(scores),
        )  # fmt: skip
    frame = scores.reset_index(drop=True)
    plan = plan_contacts(frame, budget, [ActionOffer(action, cost)], margin=margin)
    chosen = plan["chosen_action"].to_numpy() != NO_CONTACT
    out = pd.concat([frame.drop(columns=[c for c in plan.columns if c in frame.columns]), plan], axis=1)
    out = out.loc[chosen].sort_values("contact_rank").reset_index(drop=True)
    out = out.reindex(columns=[c for c in CONTACT_COLUMNS if c in out.columns])
    spend = float(out["action_cost"].sum())
    profit = float(out["expected_profit"].sum())
    totals = {
        "customers_scored": float(len(frame)),
        "contacted": float(len(out)),
        "budget": float(budget),
        "spend": spend,
        "expected_profit": profit,
        "expected_return": profit / spend if spend > 0 else float("nan"),
    }
    return out, totals
