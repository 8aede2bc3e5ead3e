"""Time-based split of a stacked training table: train cut-offs < validation cut-offs < test cut-off (latest).

Early stopping and probability calibration use the validation rows only (the season calibration's shape:
out-of-fold training rows, :mod:`custml.models.season`); the test rows (latest cut-off) are
touched once, for the final evaluation. With ``purge=True`` a cut-off is only used for training (validation)
if its label window ends by the earliest validation (the test) cut-off, so no label of an earlier role looks
into the outcome period of a later one.

Several validation cut-offs (``n_validation_cutoffs``) pool their rows: a calibrator fitted on one month
inherits that month's own deviation of the base rate (on the 50k synthetic world the booster's monthly bias
moves by +-0.01-0.02 from month to month), and pooling a few months averages it out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TypedDict

import pandas as pd

from custml.errors import ConfigError, SchemaError

__all__ = [
    "CutoffPlan",
    "SplitDescription",
    "TimeSplit",
    "minimum_history_days",
    "plan_cutoffs",
    "split_by_plan",
    "time_split",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CutoffPlan:
    """Cut-off dates for each role, oldest training cut-off first."""

    train: list[pd.Timestamp]
    validation: list[pd.Timestamp]
    test: pd.Timestamp
    note: str = ""
    """Empty, or how the plan was shrunk to fit the data (e.g. "3 of 12 training cut-offs ...")."""
    train_gap_days: int | None = None
    """Days between the last training and the first validation cut-off (``None``: not planned from data)."""

    @property
    def all(self) -> list[pd.Timestamp]:
        """Every cut-off of the plan, in time order."""
        return [*self.train, *self.validation, self.test]

    @property
    def roles(self) -> list[str]:
        """``"train"``, ``"validation"`` or ``"test"`` for each cut-off of :attr:`all`."""
        return ["train"] * len(self.train) + ["validation"] * len(self.validation) + ["test"]


class SplitDescription(TypedDict):
    """Row counts and cut-off dates (ISO strings) of a :class:`TimeSplit`."""

    rows_train: int
    rows_validation: int
    rows_test: int
    train_cutoffs: list[str]
    validation_cutoffs: list[str]
    test_cutoff: str
    dropped_cutoffs: list[str]


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of each role in the stacked table, and the cut-offs they come from."""

    train_idx: pd.Index
    validation_idx: pd.Index
    test_idx: pd.Index
    train_cutoffs: list[pd.Timestamp]
    validation_cutoffs: list[pd.Timestamp]
    test_cutoff: pd.Timestamp
    dropped_cutoffs: list[pd.Timestamp] = field(default_factory=list)

    @property
    def validation_cutoff(self) -> pd.Timestamp:
        """The latest validation cut-off."""
        return self.validation_cutoffs[-1]

    def describe(self) -> SplitDescription:
        """Row counts and cut-off dates (ISO strings) for logging."""
        return {
            "rows_train": len(self.train_idx),
            "rows_validation": len(self.validation_idx),
            "rows_test": len(self.test_idx),
            "train_cutoffs": [c.date().isoformat() for c in self.train_cutoffs],
            "validation_cutoffs": [c.date().isoformat() for c in self.validation_cutoffs],
            "test_cutoff": self.test_cutoff.date().isoformat(),
            "dropped_cutoffs": [c.date().isoformat() for c in self.dropped_cutoffs],
        }


def plan_cutoffs(
    test_cutoff: object,
    horizon_days: int,
    n_train_cutoffs: int = 6,
    step_days: int = 30,
    purge: bool = True,
    n_validation_cutoffs: int = 1,
    data_start: object | None = None,
    min_history_days: int = 0,
    min_train_cutoffs: int = 3,
) -> CutoffPlan:
    """Cut-off dates that :func:`time_split` will use without dropping any.

    With ``data_start``, no cut-off comes before ``data_start + min_history_days``. On short data the plan
    shrinks (fewer validation cut-offs, then training labels overlapping the validation window, then fewer
    training cut-offs; the test cut-off stays purged) and its :attr:`CutoffPlan.note` says in one line what
    it kept (also logged as a warning). With no plan possible the error names the dates and the minimum
    history (:func:`minimum_history_days`).

    Parameters
    ----------
    test_cutoff : date-like
        The latest cut-off whose label window is fully observed (``data_end - horizon``).
    horizon_days : int
        Label horizon.
    n_train_cutoffs, n_validation_cutoffs : int
        Numbers of training and validation cut-offs, each ``step_days`` apart; the validation ones are pooled
        for early stopping and calibration.
    step_days : int
        Spacing of the training cut-offs and of the validation cut-offs (and of validation/test when
        ``purge`` is off).
    purge : bool
        Space the latest validation cut-off from the test cut-off, and the last training cut-off from the
        earliest validation cut-off, by the horizon.
    data_start : date-like, optional
        First day of the data (e.g. the earliest order).
    min_history_days : int
        Days of data a cut-off needs before it (the feature window the features must see).
    min_train_cutoffs : int
        Below this many training cut-offs the training/validation gap shrinks to ``step_days`` (short data).

    Raises
    ------
    custml.errors.ConfigError
        Non-positive settings, or no plan fits the data: the message names the earliest allowed cut-off
        and the dates the plan needed.

    Examples
    --------
    >>> plan = plan_cutoffs("2025-10-01", horizon_days=90, n_train_cutoffs=2)
    >>> [c.date().isoformat() for c in plan.all]
    ['2025-03-05', '2025-04-04', '2025-07-03', '2025-10-01']
    >>> plan = plan_cutoffs("2025-10-01", horizon_days=90, n_train_cutoffs=1, n_validation_cutoffs=2)
    >>> list(zip(plan.roles, [c.date().isoformat() for c in plan.all]))
    [('train', '2025-03-05'), ('validation', '2025-06-03'), ('validation', '2025-07-03'), ('test', '2025-10-01')]

    A 13-month export (churn, 90 days): one validation cut-off, and training labels that may overlap it.

    >>> plan = plan_cutoffs("2010-09-09", 90, n_train_cutoffs=12, n_validation_cutoffs=3,
    ...                     data_start="2009-12-01", min_history_days=90)
    >>> [c.date().isoformat() for c in plan.train], plan.validation[0].date().isoformat(), plan.train_gap_days
    (['2010-03-13', '2010-04-12', '2010-05-12'], '2010-06-11', 30)
    """
    if horizon_days <= 0 or step_days <= 0 or n_train_cutoffs < 1 or n_validation_cutoffs < 1:
        raise ConfigError(
            "plan_cutoffs: horizon_days, step_days, n_train_cutoffs and n_validation_cutoffs must be positive"
        )
    test = pd.Timestamp(test_cutoff).normalize()
    gap = pd.Timedelta(days=horizon_days if purge else step_days)
    step = pd.Timedelta(days=step_days)
    validation = _spaced(test - gap, step, n_validation_cutoffs)
    if data_start is None:
        return CutoffPlan(
            train=_spaced(validation[0] - gap, step, n_train_cutoffs), validation=validation, test=test
        )
    if min_history_days < 0:
        raise ConfigError(f"plan_cutoffs: min_history_days must be non-negative, got {min_history_days}")
    limit = _DataLimit(pd.Timestamp(data_start).normalize(), min_history_days, horizon_days, step_days, test)
    limit.check(validation, gap)
    return _fit_to_data(validation, gap, step, n_train_cutoffs, min_train_cutoffs if purge else 0, limit)


def _fit_to_data(
    validation: list[pd.Timestamp],
    gap: pd.Timedelta,
    step: pd.Timedelta,
    n_train_cutoffs: int,
    min_train_cutoffs: int,
    limit: _DataLimit,
) -> CutoffPlan:
    """The plan of :func:`plan_cutoffs` within the data: no cut-off before ``limit.earliest``.

    It shrinks in this order: validation cut-offs are given up (oldest first, keeping one); then, when fewer
    than ``min_train_cutoffs`` training cut-offs would remain (0 without purge), the gap between the last
    training and the first validation cut-off shrinks from ``gap`` to ``step`` (training labels may then
    overlap the validation window; the test cut-off stays purged, so the test figures stay honest); then
    training cut-offs are left out (at least one must remain).

    Examples
    --------
    >>> plan = plan_cutoffs("2025-10-01", 90, n_train_cutoffs=6, data_start="2025-01-01", min_history_days=30)
    >>> len(plan.train), plan.note
    (3, 'the cut-off plan was shrunk to fit the data: 3 of 6 training cut-offs (none before 2025-01-31, the data start 2025-01-01 + 30 days of history)')
    """
    kept_validation = [c for c in validation if c >= limit.earliest]
    # Give up validation cut-offs (oldest first, keeping one) before giving up the plan.
    while len(kept_validation) > 1 and kept_validation[0] - gap < limit.earliest:
        kept_validation = kept_validation[1:]
    train_gap, kept_train = gap, _spaced(kept_validation[0] - gap, step, n_train_cutoffs, limit.earliest)
    if len(kept_train) < min(n_train_cutoffs, min_train_cutoffs) and step < gap:
        # Short data: let training labels overlap the validation window rather than train on one month.
        relaxed = _spaced(kept_validation[0] - step, step, n_train_cutoffs, limit.earliest)
        if len(relaxed) > len(kept_train):
            train_gap, kept_train = step, relaxed
    if not kept_train:
        raise limit.too_short(
            f"the latest training cut-off would be {(kept_validation[0] - step).date()} "
            f"(validation {kept_validation[0].date()} - {step.days} days)"
        )
    shrunk = [
        (len(kept_validation), len(validation), "validation cut-offs"),
        (len(kept_train), n_train_cutoffs, "training cut-offs"),
    ]
    notes = [f"{kept} of {wanted} {what}" for kept, wanted, what in shrunk if kept < wanted]
    if train_gap != gap:
        notes.append(
            f"training labels overlapping the validation window (gap {step.days} days, not {gap.days})"
        )
    note = ""
    if notes:
        note = f"the cut-off plan was shrunk to fit the data: {' and '.join(notes)} (none before {limit.earliest.date()}, {limit.history})"
        logger.warning(note)
    return CutoffPlan(
        train=kept_train,
        validation=kept_validation,
        test=limit.test,
        note=note,
        train_gap_days=train_gap.days,
    )


def _spaced(
    last: pd.Timestamp, step: pd.Timedelta, n: int, earliest: pd.Timestamp | None = None
) -> list[pd.Timestamp]:
    """``n`` cut-offs ``step`` apart ending at ``last``, oldest first (those before ``earliest`` left out)."""
    dates = [last - i * step for i in range(n)][::-1]
    return dates if earliest is None else [c for c in dates if c >= earliest]


@dataclass(frozen=True)
class _DataLimit:
    """The earliest cut-off the data allows (``data_start + min_history_days``) and the words for it."""

    data_start: pd.Timestamp
    min_history_days: int
    horizon_days: int
    step_days: int
    test: pd.Timestamp

    @property
    def earliest(self) -> pd.Timestamp:
        return self.data_start + pd.Timedelta(days=self.min_history_days)

    @property
    def history(self) -> str:
        return f"the data start {self.data_start.date()} + {self.min_history_days} days of history"

    def check(self, validation: list[pd.Timestamp], gap: pd.Timedelta) -> None:
        """Fail unless the test cut-off and the latest ``validation`` cut-off (``gap`` before it) fit the data."""
        test = self.test
        if test < self.earliest:
            raise ConfigError(
                f"plan_cutoffs: the test cut-off {test.date()} is before the earliest usable cut-off "
                f"{self.earliest.date()} ({self.history})"
            )
        if validation[-1] < self.earliest:
            raise self.too_short(
                f"the latest validation cut-off would be {validation[-1].date()} (test {test.date()} - {gap.days} days)"
            )

    def too_short(self, what: str) -> ConfigError:
        """The error of a plan that does not fit: ``what`` would fall before the earliest usable cut-off."""
        needed = minimum_history_days(self.horizon_days, self.min_history_days, self.step_days)
        has = (self.test + pd.Timedelta(days=self.horizon_days) - self.data_start).days
        return ConfigError(
            f"plan_cutoffs: cannot build a plan: {what}, before the earliest usable cut-off "
            f"{self.earliest.date()} ({self.history}); the data needs at least {needed} days from its first "
            f"order to its end (it has {has}): use more data, a shorter horizon or a smaller min_history_days "
            "(train: min_history_days in a --config YAML)"
        )


def time_split(
    frame: pd.DataFrame,
    horizon_days: int,
    purge: bool = True,
    cutoff_col: str = "cutoff",
    n_validation_cutoffs: int = 1,
) -> TimeSplit:
    """Assign the rows of a stacked customer x cut-off table to train, validation and test by cut-off.

    Test = the latest cut-off. Validation = the ``n_validation_cutoffs`` latest earlier cut-offs (with
    ``purge``: the latest ones at least ``horizon_days`` before the test cut-off). Train = the cut-offs before
    the earliest validation cut-off (with ``purge``: at least ``horizon_days`` before it). Rows of cut-offs in
    the purged gaps are dropped and reported.

    Raises
    ------
    custml.errors.SchemaError
        If ``cutoff_col`` is missing or there are not enough cut-offs for the three roles.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cutoff": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"] * 2)})
    >>> s = time_split(df, horizon_days=30, purge=False)
    >>> (len(s.train_idx), len(s.validation_idx), len(s.test_idx))
    (2, 2, 2)
    """
    if cutoff_col not in frame.columns:
        raise SchemaError("training_set", cutoff_col, "is missing")
    if n_validation_cutoffs < 1:
        raise ConfigError(f"time_split: n_validation_cutoffs must be at least 1, got {n_validation_cutoffs}")
    cut = pd.to_datetime(frame[cutoff_col])
    cutoffs = sorted(pd.Timestamp(c) for c in cut.dropna().unique())
    if len(cutoffs) < 2 + n_validation_cutoffs:
        raise SchemaError(
            "training_set",
            cutoff_col,
            f"needs at least {2 + n_validation_cutoffs} distinct cut-offs "
            f"(train, {n_validation_cutoffs} validation, test), found {len(cutoffs)}",
            n_rows=len(frame),
        )
    horizon = pd.Timedelta(days=horizon_days)
    test = cutoffs[-1]
    earlier = [c for c in cutoffs[:-1] if (not purge) or c + horizon <= test]
    if len(earlier) < n_validation_cutoffs:
        raise SchemaError(
            "training_set",
            cutoff_col,
            f"needs {n_validation_cutoffs} cut-off(s) ending their {horizon_days}-day label window by the test "
            f"cut-off {test.date()}, found {len(earlier)} (build more cut-offs or lower n_validation_cutoffs)",
            n_rows=len(frame),
        )
    validation = earlier[-n_validation_cutoffs:]
    first_val = validation[0]
    train = [c for c in cutoffs if c < first_val and ((not purge) or c + horizon <= first_val)]
    if not train:
        raise SchemaError(
            "training_set",
            cutoff_col,
            f"no training cut-off ends its {horizon_days}-day label window by the earliest validation cut-off "
            f"{first_val.date()} (build earlier cut-offs or lower n_validation_cutoffs)",
            n_rows=len(frame),
        )
    dropped = [c for c in cutoffs if c not in train and c not in validation and c != test]
    train_idx = frame.index[cut.isin(train).to_numpy()]
    val_idx = frame.index[cut.isin(validation).to_numpy()]
    test_idx = frame.index[(cut == test).to_numpy()]
    # The roles must never share a row: this is the leakage guard the tests rely on.
    assert not (set(train_idx) & set(val_idx)) and not (set(val_idx) & set(test_idx)), "split roles overlap"
    assert max(train) < first_val and validation[-1] < test
    return TimeSplit(train_idx, val_idx, test_idx, train, validation, test, dropped)


def minimum_history_days(horizon_days: int, min_history_days: int, step_days: int = 30) -> int:
    """Days from the first order to the data end that the shortest cut-off plan needs.

    One training cut-off after ``min_history_days`` of history, one validation cut-off ``step_days`` later
    (short-data plans let training labels overlap it), the test cut-off a horizon after that, and the test
    labels' own horizon.

    Examples
    --------
    >>> minimum_history_days(90, 90), minimum_history_days(30, 90)
    (300, 180)
    """
    return min_history_days + step_days + 2 * horizon_days


def split_by_plan(frame: pd.DataFrame, plan: CutoffPlan, cutoff_col: str = "cutoff") -> TimeSplit:
    """Assign the rows of a stacked table to the roles of ``plan`` (rows of other cut-offs are dropped).

    Unlike :func:`time_split`, which infers the roles from the cut-offs present, this keeps the plan's own
    gaps (e.g. a short-data plan whose training labels overlap the validation window).

    Raises
    ------
    custml.errors.SchemaError
        If ``cutoff_col`` is missing or a role of the plan has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> plan = CutoffPlan(train=[pd.Timestamp("2025-01-01")], validation=[pd.Timestamp("2025-02-01")],
    ...                   test=pd.Timestamp("2025-05-01"))
    >>> df = pd.DataFrame({"cutoff": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-05-01"])})
    >>> s = split_by_plan(df, plan)
    >>> list(s.train_idx), list(s.validation_idx), list(s.test_idx), [c.date().isoformat() for c in s.dropped_cutoffs]
    ([0], [1], [3], ['2025-03-01'])
    """
    if cutoff_col not in frame.columns:
        raise SchemaError("training_set", cutoff_col, "is missing")
    cut = pd.to_datetime(frame[cutoff_col])
    idx = {}
    for role, dates in (("training", plan.train), ("validation", plan.validation), ("test", [plan.test])):
        rows = frame.index[cut.isin(dates).to_numpy()]
        if len(rows) == 0:
            raise SchemaError(
                "training_set",
                cutoff_col,
                f"has no rows at the {role} cut-off(s) {', '.join(str(d.date()) for d in dates)}",
                n_rows=len(frame),
            )
        idx[role] = rows
    if not (max(plan.train) < min(plan.validation) and max(plan.validation) < plan.test):
        raise ConfigError(
            f"split_by_plan: roles out of order: training up to {max(plan.train).date()}, validation "
            f"{min(plan.validation).date()}..{max(plan.validation).date()}, test {plan.test.date()}"
        )
    planned = set(plan.all)
    present = sorted(pd.Timestamp(c) for c in cut.dropna().unique())
    dropped = [c for c in present if c not in planned]
    return TimeSplit(
        idx["training"],
        idx["validation"],
        idx["test"],
        list(plan.train),
        list(plan.validation),
        plan.test,
        dropped,
    )
