"""The recommended-action table: documented rules, as data, that turn scores and segments into one action.

Rules are evaluated in order and the first rule whose conditions all hold wins; a customer no rule matches gets
the table's ``default`` action (``"no action"``), so every customer gets exactly one action. A condition on a
missing value is false. The table is a pydantic model, so it can be loaded from YAML with
:func:`custml.config.load_params` (``ActionTable``) and printed for the documentation with
:func:`action_table_frame`.

Each rule also says which model's reasons explain it (``explain``): the churn model where a person acts or a
message is personalised on the risk (outreach talking points, a win-back message: why is this customer at
risk?), the repurchase model for the onboarding journey (why is a second purchase unlikely?), or none for
standard automated actions whose rule is its own explanation (a retention offer to medium-value customers at
risk, a low-cost reactivation of dormant low-value customers, a loyalty reward). Reason codes are computed only
for customers whose action asks for them (see :mod:`custml.scoring.score`).

Default table (first match wins):

==========================  ====================================================================  ===========
action                      when                                                                  reasons
==========================  ====================================================================  ===========
personal outreach           value tier high, churn probability >= 0.5, not churned/prospect       churn
retention offer             value tier medium, churn probability >= 0.5, not churned/prospect     none
onboarding offer            lifecycle new, repurchase probability < 0.25                          repurchase
win-back offer              value tier high or medium, activity dormant, not churned/prospect     churn
low-cost reactivation       value tier low, activity dormant or lifecycle churned                  none
loyalty reward              lifecycle loyal, churn probability < 0.2                              none
no action                   everyone else                                                         none
==========================  ====================================================================  ===========
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, field_validator, model_validator

from custml.conditions import Condition
from custml.errors import SchemaError
from custml.settings import Settings

__all__ = [
    "DEFAULT_ACTION_TABLE",
    "NO_ACTION",
    "ActionCondition",
    "ActionRule",
    "ActionTable",
    "action_table_frame",
    "assign_actions",
    "match_action_rules",
]

NO_ACTION = "no action"


class _Model(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)


# An action rule's condition is the segment rules' condition: one ``column op value`` semantics for both.
ActionCondition = Condition


class ActionRule(_Model):
    """One row of the action table: the action, when it applies (all conditions), why, and what explains it."""

    action: str
    when: tuple[ActionCondition, ...]
    description: str = ""
    explain: Literal["churn", "repurchase"] | None = None

    @field_validator("action")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("action must be a non-empty name")
        return v


class ActionTable(_Model):
    """Ordered action rules (first match wins) and the default action for everyone else."""

    rules: tuple[ActionRule, ...]
    default: str = NO_ACTION

    @model_validator(mode="after")
    def _default_not_a_rule(self) -> ActionTable:
        if not self.default.strip():
            raise ValueError("default action must be a non-empty name")
        return self

    @property
    def actions(self) -> list[str]:
        """Every action the table can give, in rule order, the default last (without repeats)."""
        return list(dict.fromkeys([*(r.action for r in self.rules), self.default]))

    @property
    def columns(self) -> list[str]:
        """Columns the conditions read."""
        return list(dict.fromkeys(c.column for r in self.rules for c in r.when))


def _c(column: str, op: str, value: Any) -> ActionCondition:
    return ActionCondition(column=column, op=op, value=value)


_NOT_GONE = _c("lifecycle_stage", "not_in", ["churned", "prospect"])

DEFAULT_ACTION_TABLE = ActionTable(
    rules=(
        ActionRule(
            action="personal outreach",
            when=(_c("value_tier", "==", "high"), _c("churn_probability", ">=", 0.5), _NOT_GONE),
            description="High-value customer at high risk of churning: a personal call or message from the "
            "account team, with the reasons below as talking points.",
            explain="churn",
        ),
        ActionRule(
            action="retention offer",
            when=(_c("value_tier", "==", "medium"), _c("churn_probability", ">=", 0.5), _NOT_GONE),
            description="Medium-value customer at high risk of churning: the standard retention offer "
            "(automated; the segment's drivers are in the report).",
        ),
        ActionRule(
            action="onboarding offer",
            when=(_c("lifecycle_stage", "==", "new"), _c("repurchase_probability", "<", 0.25)),
            description="New customer unlikely to buy again soon: an onboarding journey with a second-order "
            "incentive.",
            explain="repurchase",
        ),
        ActionRule(
            action="win-back offer",
            when=(
                _c("value_tier", "in", ["high", "medium"]),
                _c("activity_tier", "==", "dormant"),
                _NOT_GONE,
            ),
            description="Valuable customer who has gone quiet against their own rhythm: a win-back offer.",
            explain="churn",
        ),
        ActionRule(
            action="low-cost reactivation",
            when=(_c("value_tier", "==", "low"), _c("activity_tier", "==", "dormant")),
            description="Dormant low-value customer: an automated low-cost reactivation email, no discount.",
        ),
        ActionRule(
            action="low-cost reactivation",
            when=(_c("value_tier", "==", "low"), _c("lifecycle_stage", "==", "churned")),
            description="Churned low-value customer: an automated low-cost reactivation email, no discount.",
        ),
        ActionRule(
            action="loyalty reward",
            when=(_c("lifecycle_stage", "==", "loyal"), _c("churn_probability", "<", 0.2)),
            description="Loyal customer at low risk: a thank-you reward (no discount needed).",
        ),
    ),
    default=NO_ACTION,
)


def _check_columns(frame: pd.DataFrame, table: ActionTable) -> None:
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise SchemaError("scores", missing[0], f"is needed by the action table but missing (all: {missing})")


def match_action_rules(frame: pd.DataFrame, table: ActionTable = DEFAULT_ACTION_TABLE) -> np.ndarray:
    """Index of the first rule that matches each row (``len(table.rules)`` for the default action).

    Raises
    ------
    SchemaError
        If a column a condition reads is missing from ``frame``.
    """
    _check_columns(frame, table)
    n_rules = len(table.rules)
    index = np.full(len(frame), n_rules, dtype=np.int64)
    undecided = np.ones(len(frame), dtype=bool)
    for i, rule in enumerate(table.rules):
        hit = undecided.copy()
        for cond in rule.when:
            hit &= cond.mask(frame)
        index[hit] = i
        undecided &= ~hit
    return index


def assign_actions(frame: pd.DataFrame, table: ActionTable = DEFAULT_ACTION_TABLE) -> pd.Series:
    """The recommended action of every row of ``frame`` (first matching rule, else ``table.default``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Scores and segments: the columns the conditions read (by default ``churn_probability``,
        ``repurchase_probability``, ``value_tier``, ``activity_tier``, ``lifecycle_stage``).
    table : ActionTable
        The ordered rules.

    Returns
    -------
    pandas.Series
        Action names (object dtype), aligned with ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"value_tier": ["high", "low"], "churn_probability": [0.8, 0.1],
    ...     "repurchase_probability": [0.3, 0.1], "activity_tier": ["normal", "active"],
    ...     "lifecycle_stage": ["active", "active"]})
    >>> assign_actions(frame).tolist()
    ['personal outreach', 'no action']
    """
    index = match_action_rules(frame, table)
    names = np.array([r.action for r in table.rules] + [table.default], dtype=object)
    return pd.Series(names[index], index=frame.index, dtype=object, name="recommended_action")


def action_table_frame(table: ActionTable = DEFAULT_ACTION_TABLE) -> pd.DataFrame:
    """The table for documentation: order, action, conditions in words, reasons from, description."""
    rows = [
        {
            "order": i + 1,
            "action": r.action,
            "when": " and ".join(c.describe() for c in r.when),
            "reasons_from": r.explain or "",
            "description": r.description,
        }
        for i, r in enumerate(table.rules)
    ]
    rows.append(
        {
            "order": len(table.rules) + 1,
            "action": table.default,
            "when": "no rule above matches",
            "reasons_from": "",
            "description": "No action recommended.",
        }
    )
    return pd.DataFrame(rows)
