"""``column op value`` conditions over a table: the one rule language of tag rules and action rules.

Tag rules (:mod:`custml.segment.rules`) and action rules (:mod:`custml.scoring.actions`) both say "all of these
conditions hold"; the condition, its operators and how missing values are treated live here once, so that
scoring does not import segmentation for it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, model_validator

from custml.settings import Settings

__all__ = ["Condition"]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


class Condition(Settings):
    """``column op value``, the condition of a tag rule and of an action rule (:mod:`custml.segment.rules`, :mod:`custml.scoring.actions`).

    ``op`` is one of ``>= > <= < == != in not_in``; ``in``/``not_in`` take a list. A missing value never
    satisfies a condition. With a numeric ``value`` the column is compared as numbers (non-numeric entries
    count as missing); with a string or boolean one, as objects (categoricals by their labels).

    Examples
    --------
    >>> c = Condition(column="churn_probability", op=">=", value=0.5)
    >>> c.mask(pd.DataFrame({"churn_probability": [0.7, 0.2, None]})).tolist()
    [True, False, False]
    >>> Condition(column="value_tier", op="in", value=["high", "medium"]).describe()
    'value_tier in {high, medium}'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in"]
    value: float | str | bool | list[float | str]

    @model_validator(mode="after")
    def _list_ops(self) -> Condition:
        if (self.op in {"in", "not_in"}) != isinstance(self.value, list):
            raise ValueError("ops 'in'/'not_in' need a list value, and only they take a list")
        return self

    def describe(self) -> str:
        """The condition in words, e.g. ``churn_probability >= 0.5``."""
        if isinstance(self.value, list):
            words = "in" if self.op == "in" else "not in"
            return f"{self.column} {words} {{{', '.join(map(str, self.value))}}}"
        return f"{self.column} {self.op} {self.value}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean array: rows of ``frame`` where the condition holds (missing values give False)."""
        col = frame[self.column]
        present = col.notna().to_numpy(dtype=bool)
        if isinstance(self.value, list):
            hit = col.isin(self.value).to_numpy(dtype=bool)
            hit = hit if self.op == "in" else ~hit
        elif isinstance(self.value, (str, bool)):
            ok = _OPS[self.op](col.astype(object), self.value)
            hit = pd.Series(ok, index=frame.index).fillna(False).to_numpy(dtype=bool)
        else:
            num = pd.to_numeric(col, errors="coerce").astype(float)
            hit = _OPS[self.op](num, float(self.value)).fillna(False).to_numpy(dtype=bool)
        return present & hit
