"""Discrete-time survival: how long until a customer lapses, and the metrics that score such predictions.

:class:`DiscreteTimeSurvival` is a scikit-learn estimator of the hazard of an event per period (e.g. the month
in which a customer lapses, :func:`custml.features.labels.lapse_times`). ``fit(X, y, event)`` takes one row
per customer (its features at a cut-off), the observed duration ``y`` in periods (1.3 = during the second
period) and whether the event was observed (``event=0``: censored at ``y``). It expands each row into one row
per period at risk (the person-period table: periods ``1..min(ceil(y), n_periods)``, the last one carrying the
event), adds the period as a feature and fits one LightGBM binary model of the hazard ``h_k(x) = P(event in
period k | at risk at its start, x)``. ``predict_survival`` gives ``S_k(x) = prod_{j<=k} (1 - h_j(x))`` for
``k = 1..n_periods``; ``predict`` the restricted mean survival time ``sum_{k=0}^{K-1} S_k`` (in periods,
``S_0 = 1``), so that a longer expected life is a larger prediction as for any regressor.

Metrics (no survival library is installed; both are checked against hand-computed tables in
``tests/test_alive_survival.py``):

- :func:`concordance_index`: Harrell's C. A pair is comparable when the shorter time is an observed event
  (``t_i < t_j``, ``event_i``); it is concordant when the shorter-lived row has the higher risk; risk ties count
  one half. Rows with equal times are not compared.
- :func:`cumulative_dynamic_auc`: the time-dependent AUC at ``t`` with cumulative cases (event by ``t``) and
  dynamic controls (still event-free after ``t``), cases weighted by the inverse probability of having stayed
  uncensored (Kaplan-Meier of the censoring times, Uno et al. 2007). Without censoring it is the plain ROC AUC
  of "event by ``t``" among all rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from custml.errors import SchemaError
from custml.features import build_features
from custml.features.engines import TableInput
from custml.features.labels import lapse_times, order_events
from custml.frames import isin
from custml.models.candidates import validated_frame
from custml.models.predictor import category_levels, prepare_features

__all__ = [
    "DiscreteTimeSurvival",
    "compare_survival",
    "concordance_index",
    "cumulative_dynamic_auc",
    "person_period",
    "survival_table",
    "truth_dropout_times",
]

_PERIOD = "__period__"


def _survival_inputs(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> tuple[np.ndarray, ...]:
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    r = np.asarray(risk, dtype=float).ravel()
    if not t.size == e.size == r.size:
        raise SchemaError(
            "survival", None, f"time ({t.size}), event ({e.size}) and risk ({r.size}) differ in length"
        )
    if t.size == 0:
        raise SchemaError("survival", None, "is empty")
    bad = int((~np.isfinite(t)).sum() + (~np.isfinite(r)).sum() + np.isnan(e).sum())
    if bad:
        raise SchemaError("survival", "time/risk", "holds missing or infinite values", n_rows=bad)
    n_bad = int(np.count_nonzero((e != 0) & (e != 1)))
    if n_bad:
        raise SchemaError("survival", "event", "must be 0 or 1", n_rows=n_bad)
    return t, e.astype(bool), r


def concordance_index(time: ArrayLike, event: ArrayLike, risk: ArrayLike, chunk: int = 2048) -> float:
    """Harrell's C-index of ``risk`` (higher = earlier event) against right-censored ``time``/``event``.

    Exact over all pairs (in chunks of ``chunk`` events, so memory stays ``chunk x n``).

    Examples
    --------
    >>> concordance_index([1, 2, 3, 4], [1, 1, 0, 1], [4.0, 3.0, 2.0, 1.0])
    1.0
    >>> concordance_index([1, 2, 3], [1, 0, 1], [1.0, 1.0, 2.0])
    0.25
    """
    t, e, r = _survival_inputs(time, event, risk)
    idx = np.flatnonzero(e)
    num = 0.0
    den = 0.0
    for start in range(0, idx.size, chunk):
        i = idx[start : start + chunk]
        comparable = t[None, :] > t[i, None]
        num += float(
            np.sum(comparable & (r[i, None] > r[None, :]))
            + 0.5 * np.sum(comparable & (r[i, None] == r[None, :]))
        )
        den += float(comparable.sum())
    if den == 0:
        raise SchemaError(
            "survival", "time", "has no comparable pair (no event before another time)", n_rows=t.size
        )
    return num / den


def _censoring_survival(t: np.ndarray, e: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Kaplan-Meier estimate of P(still uncensored just before ``at``) from the censoring times (events first)."""
    times = np.unique(t[~e])
    g = np.ones(len(at))
    if times.size == 0:
        return g
    at_risk = np.array([(t >= u).sum() for u in times], dtype=float)
    censored = np.array([((t == u) & ~e).sum() for u in times], dtype=float)
    steps = np.cumprod(1.0 - censored / at_risk)
    pos = np.searchsorted(times, at, side="left")  # censoring strictly before `at`
    return np.where(pos > 0, steps[np.maximum(pos - 1, 0)], 1.0)


def cumulative_dynamic_auc(time: ArrayLike, event: ArrayLike, risk: ArrayLike, at: float) -> float:
    """Time-dependent AUC at ``at``: cases = event at or before ``at`` (IPCW-weighted), controls = time > ``at``.

    ``risk`` may be a single score for all times or, for a model whose ranking changes with time, the score at
    ``at`` (e.g. ``1 - S(at)``).

    Examples
    --------
    >>> cumulative_dynamic_auc([1, 2, 3, 4], [1, 1, 1, 1], [0.9, 0.2, 0.5, 0.1], at=2)
    0.75
    """
    t, e, r = _survival_inputs(time, event, risk)
    case = e & (t <= at)
    control = t > at
    if not case.any() or not control.any():
        raise SchemaError(
            "survival", "time", f"needs events by {at} and rows still at risk after it", n_rows=t.size
        )
    w = 1.0 / np.maximum(_censoring_survival(t, e, t[case]), 1e-12)
    rc, rn = r[case], r[control]
    order = np.sort(rn)
    below = np.searchsorted(order, rc, side="left")
    ties = np.searchsorted(order, rc, side="right") - below
    wins = below + 0.5 * ties
    return float(np.sum(w * wins) / (np.sum(w) * rn.size))


def person_period(
    duration: ArrayLike, event: ArrayLike, n_periods: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The person-period expansion: (row index, period 1..K, hazard label) for each period a row is at risk.

    A row with duration ``d`` (in periods) is at risk in periods ``1..min(ceil(d), n_periods)`` (at least 1);
    the label is 1 in period ``ceil(d)`` when the event was observed and that period is within the horizon.

    Examples
    --------
    >>> rows, period, label = person_period([1.5, 0.4, 3.0], [1, 0, 1], n_periods=2)
    >>> rows.tolist(), period.tolist(), label.tolist()
    ([0, 0, 1, 2, 2], [1, 2, 1, 1, 2], [0, 1, 0, 0, 0])
    """
    d = np.asarray(duration, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel().astype(bool)
    last = np.clip(np.ceil(d), 1, None).astype(np.int64)
    k = np.minimum(last, n_periods)
    rows = np.repeat(np.arange(d.size), k)
    start = np.cumsum(k) - k
    period = np.arange(rows.size) - np.repeat(start, k) + 1
    label = (e[rows] & (period == last[rows])).astype(np.int64)
    return rows, period, label


class DiscreteTimeSurvival(RegressorMixin, BaseEstimator):
    """Discrete-time hazard model (LightGBM on the person-period table); see the module docstring.

    Parameters
    ----------
    n_periods : int
        Horizon in periods (e.g. 12 months); durations beyond it are censored there.
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM settings (no early stopping).
    random_state : int

    Attributes
    ----------
    booster_ : lightgbm.Booster
    n_features_in_ : int
    feature_names_in_ : ndarray (with a DataFrame input)
    event_rate_ : ndarray of shape (n_periods,)
        Observed hazard per period in the training person-period table (the life table).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"risk": rng.normal(size=800)})
    >>> y = rng.exponential(6 * np.exp(-X["risk"].to_numpy()))
    >>> model = DiscreteTimeSurvival(n_periods=6, n_estimators=60).fit(X, y, event=y < 10)
    >>> model.predict_survival(X.head(2)).shape
    (2, 6)
    """

    def __init__(
        self,
        n_periods: int = 12,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        random_state: int = 0,
    ) -> None:
        self.n_periods = n_periods
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.positive_only = True
        # A duration model, not a least-squares fit: R^2 on arbitrary regression targets is not its measure.
        tags.regressor_tags.poor_score = True
        return tags

    def _frame(self, X: Any, reset: bool) -> pd.DataFrame:
        return validated_frame(self, X, reset)

    def fit(self, X: Any, y: ArrayLike | None = None, event: ArrayLike | None = None) -> DiscreteTimeSurvival:
        """Fit on features ``X``, durations ``y`` (periods, >= 0) and ``event`` (1 observed, 0 censored; default 1)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        if self.n_periods < 1:
            raise ValueError(f"n_periods must be at least 1, got {self.n_periods}")
        frame = self._frame(X, reset=True)
        d = column_or_1d(np.asarray(y, dtype=float), warn=True)
        if d.size != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {d.size}")
        if not np.isfinite(d).all() or (d < 0).any():
            raise ValueError("y (durations) must be finite and non-negative")
        e = np.ones(d.size) if event is None else column_or_1d(np.asarray(event, dtype=float))
        if e.size != d.size or not np.isin(e, (0, 1)).all():
            raise ValueError(f"event must hold {d.size} values of 0 or 1")
        numeric: list[str] = []
        categorical: list[str] = []
        for col in frame.columns:
            dtype = frame[col].dtype
            if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
                raise SchemaError(
                    "features", col, f"has dtype {dtype}: convert datetimes to numbers first", len(frame)
                )
            (
                numeric
                if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
                else categorical
            ).append(col)
        self.numeric_features_ = numeric
        self.categorical_levels_ = {c: category_levels(frame[c]) for c in categorical}
        rows, period, label = person_period(d, e, self.n_periods)
        M = self._expand(prepare_features(frame, numeric, self.categorical_levels_), rows, period)
        self.event_rate_ = np.array(
            [
                label[period == k].mean() if (period == k).any() else np.nan
                for k in range(1, self.n_periods + 1)
            ]
        )
        params = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "min_data_in_bin": 1,
            "verbosity": -1,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": 1,
        }
        if label.min() == label.max():  # no events (or only events): a constant hazard is all the data say
            params["boost_from_average"] = False
        categorical_cols = list(self.categorical_levels_)
        data = lgb.Dataset(M, label=label, categorical_feature=categorical_cols or "auto")
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        return self

    @staticmethod
    def _expand(M: pd.DataFrame, rows: np.ndarray, period: np.ndarray) -> pd.DataFrame:
        out = M.iloc[rows].reset_index(drop=True)
        out[_PERIOD] = period.astype(float)
        return out

    def predict_hazard(self, X: Any) -> np.ndarray:
        """Hazard of each period ``1..n_periods`` for each row, shape ``(n_rows, n_periods)``."""
        check_is_fitted(self, "booster_")
        frame = self._frame(X, reset=False)
        M = prepare_features(frame, self.numeric_features_, self.categorical_levels_)
        n, k = len(M), self.n_periods
        rows = np.repeat(np.arange(n), k)
        period = np.tile(np.arange(1, k + 1), n)
        h = np.asarray(self.booster_.predict(self._expand(M, rows, period)), dtype=float)
        return np.clip(h.reshape(n, k), 0.0, 1.0)

    def predict_survival(self, X: Any) -> np.ndarray:
        """``S_k`` = P(no event by the end of period ``k``), ``k = 1..n_periods``, shape ``(n_rows, n_periods)``."""
        return np.cumprod(1.0 - self.predict_hazard(X), axis=1)

    def predict_event_by(self, X: Any, period: int) -> np.ndarray:
        """P(event by the end of ``period``) (``1 - S_period``), one value per row."""
        if not 1 <= period <= self.n_periods:
            raise ValueError(f"period must be in 1..{self.n_periods}, got {period}")
        return 1.0 - self.predict_survival(X)[:, period - 1]

    def predict(self, X: Any) -> np.ndarray:
        """Restricted mean survival time over the horizon, in periods (larger = lapses later)."""
        s = self.predict_survival(X)
        return 1.0 + s[:, :-1].sum(axis=1)


def survival_table(
    tables: Mapping[str, TableInput],
    cutoffs: Iterable[object],
    data_end: object,
    gap_days: int = 90,
    period_days: int = 30,
) -> pd.DataFrame:
    """Features at each cut-off joined with the observable time to lapse (:func:`~custml.features.labels.lapse_times`).

    Only orders up to ``data_end`` define the lapse (so training sets cut at an as-of date see nothing later).
    Adds ``duration`` (``duration_days / period_days``, the periods :class:`DiscreteTimeSurvival` takes) to
    ``customer_id, cutoff, duration_days, lapsed`` and the feature columns; stacked over the cut-offs.
    """
    if "orders" not in tables or not isinstance(tables["orders"], pd.DataFrame):
        raise SchemaError("orders", None, "a pandas orders table is required to build a survival table")
    orders = order_events(tables["orders"])
    parts = []
    for cut in cutoffs:
        lapse = lapse_times(orders, cut, data_end, gap_days=gap_days).drop(columns="cutoff")
        feats = build_features(tables, cut)
        parts.append(feats.merge(lapse, on="customer_id", how="inner", validate="one_to_one"))
    out = pd.concat(parts, ignore_index=True)
    for col in out.columns:
        if isinstance(parts[0][col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("category")
    out["duration"] = out["duration_days"] / period_days
    return out


def truth_dropout_times(truth: pd.DataFrame, customer_ids: ArrayLike, cutoff: object) -> pd.DataFrame:
    """The truth's time from ``cutoff`` to dropout (days; negative = already gone) for ``customer_ids``.

    Returns ``customer_id, dropout_days, dropped`` (``dropped`` False: no dropout within the world, the time is
    then censored at the world's data end, ``truth.attrs["world_params"]`` or the latest dropout seen).
    """
    for col in ("customer_id", "dropout_ts"):
        if col not in truth.columns:
            raise SchemaError("truth customers", col, "required column is missing", len(truth))
    cut = pd.Timestamp(cutoff)
    t = truth.assign(customer_id=truth["customer_id"].astype(str)).set_index("customer_id")
    ids = pd.Index(np.asarray(customer_ids).astype(str))
    unknown = int((~isin(ids, t.index)).sum())
    if unknown:
        raise SchemaError(
            "truth customers", "customer_id", "lacks customers that were scored", n_rows=unknown
        )
    dropout = pd.to_datetime(t["dropout_ts"]).reindex(ids)
    raw = truth.attrs.get("world_params")
    if raw is not None:  # the world's window: start + years (custml.synth.calendar.window)
        end = pd.Timestamp(raw["start"]) + pd.DateOffset(years=int(raw["years"])) - pd.Timedelta(seconds=1)
    else:
        end = pd.to_datetime(truth["dropout_ts"]).max()
    dropped = dropout.notna().to_numpy()
    days = ((dropout.where(dropout.notna(), end) - cut) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return pd.DataFrame({"customer_id": ids.to_numpy(dtype=object), "dropout_days": days, "dropped": dropped})


_OUTCOME = ("duration_days", "lapsed", "duration")


class SurvivalComparison(TypedDict):
    """What :func:`compare_survival` returns (a dict, read by key)."""

    metrics: pd.DataFrame
    model: DiscreteTimeSurvival
    test: pd.DataFrame
    survival: np.ndarray
    n_train: int
    n_test: int


def compare_survival(
    tables: Mapping[str, pd.DataFrame],
    test_cutoff: object,
    data_end: object,
    truth: pd.DataFrame | None = None,
    n_train_cutoffs: int = 12,
    step_days: int = 30,
    gap_days: int = 90,
    period_days: int = 30,
    n_periods: int = 12,
    at_periods: tuple[int, ...] = (3, 6, 12),
    **params: Any,
) -> SurvivalComparison:
    """Fit :class:`DiscreteTimeSurvival` before ``test_cutoff`` and score it on the lapse after it.

    Training: ``n_train_cutoffs`` cut-offs ``step_days`` apart, the latest ``step_days`` before
    ``test_cutoff``, from orders before ``test_cutoff`` only (lapses after it are censored there). Test: the
    customers not yet lapsed at ``test_cutoff``, followed to ``data_end``. Scored with Harrell's C-index and the
    cumulative/dynamic AUC at ``at_periods`` against the observable lapse and, when ``truth`` (the synthetic
    world's ``truth/customers``) is given, against the true dropout times. The model's risk is ``-RMST`` for
    the C-index and ``1 - S(t)`` for the AUC at ``t``; the printed references are ``recency_days`` and
    ``1 - P(alive)`` of Pareto/NBD (customers without a repeat purchase have P(alive) filled with 0).

    Returns
    -------
    SurvivalComparison
        ``"metrics"``: DataFrame ``score, target, metric, value``; ``"model"``; ``"test"``: the test table with
        ``rmst`` and ``p_lapse_<t>`` columns; ``"survival"``: its predicted ``S_k`` (rows x periods); ``"n_train"``, ``"n_test"``.
    """
    from custml.models.alive import btyd_probability_alive, feature_matrix

    test_cut = pd.Timestamp(test_cutoff)
    if any(k > n_periods for k in at_periods):
        raise ValueError(f"at_periods {at_periods} must be within n_periods={n_periods}")
    orders = tables["orders"]
    before = {**tables, "orders": orders.loc[orders["order_ts"] < test_cut]}
    cuts = [test_cut - pd.Timedelta(days=step_days * k) for k in range(n_train_cutoffs, 0, -1)]
    train = survival_table(before, cuts, test_cut, gap_days=gap_days, period_days=period_days)
    params.setdefault("random_state", 0)
    model = DiscreteTimeSurvival(n_periods=n_periods, **params).fit(
        feature_matrix(train.drop(columns=list(_OUTCOME))), train["duration"], train["lapsed"]
    )
    test = survival_table(tables, [test_cut], data_end, gap_days=gap_days, period_days=period_days)
    X = feature_matrix(test.drop(columns=list(_OUTCOME)))
    surv = model.predict_survival(X)
    test = test.assign(rmst=model.predict(X))
    for k in at_periods:
        test[f"p_lapse_{k}"] = 1.0 - surv[:, k - 1]
    pareto = btyd_probability_alive(test)["p_alive"].fillna(0.0).to_numpy()
    recency = pd.to_numeric(test["recency_days"], errors="coerce").to_numpy(dtype=float)
    targets: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "observed lapse": (test["duration"].to_numpy(), test["lapsed"].to_numpy())
    }
    if truth is not None:
        td = truth_dropout_times(truth, test["customer_id"], test_cut)
        targets["true dropout"] = (td["dropout_days"].to_numpy() / period_days, td["dropped"].to_numpy())
    rows = []
    for target, (t, e) in targets.items():
        risks = {
            "survival_model": -test["rmst"].to_numpy(),
            "recency_days": recency,
            "pareto_nbd": 1 - pareto,
        }
        for name, risk in risks.items():
            rows.append((name, target, "c_index", concordance_index(t, e, risk)))
            for k in at_periods:
                r = test[f"p_lapse_{k}"].to_numpy() if name == "survival_model" else risk
                rows.append((name, target, f"auc_{k}", cumulative_dynamic_auc(t, e, r, k)))
    return SurvivalComparison(
        metrics=pd.DataFrame(rows, columns=["score", "target", "metric", "value"]),
        model=model,
        test=test,
        survival=surv,
        n_train=len(train),
        n_test=len(test),
    )
