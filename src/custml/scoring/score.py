"""Batch scoring: one row per customer with probabilities, value, segments, reasons and a recommended action.

:func:`score_customers` is pure: it takes the feature table at the as-of date, the two models, the rule-based
segments, the expected 12-month value and (optionally) the cluster names, and returns the scores table of the
data contract (:data:`SCORE_COLUMNS`). It works in chunks of rows so that a million customers fit in memory
comfortably, and can show a progress bar.

**Expected 12-month value** (:func:`expected_value_12m`): BG/NBD (purchase days) and Gamma-Gamma (spend per
purchase day) are fitted at scoring time on the scored population's ``btyd_*`` features, then the discounted
value of the next 12 months is computed per customer. Fitting at the as-of date rather than reusing the
training run's fit is deliberate: the BTYD models use no labels, so they can use every customer's history up to
the as-of date (the training fit stops a label horizon earlier), a fit on hundreds of thousands of customers
takes seconds (identical histories are collapsed), and the same inputs always give the same fit. A customer
without any order (prospect) has no purchase history for BTYD to extrapolate: their value is 0.
:func:`chosen_expected_value_12m` (what ``custml score`` uses) first chooses the purchase model on a held-out
period among the registered value candidates of :mod:`custml.models.value` (BG/NBD, Pareto/NBD, Pareto/NBD with
static covariates: acquisition channel, region, Christmas cohort, retention offer received), and says which and
why in the scores' metadata (``meta["value_model"]``).

**Reason codes** (the policy). Reason codes are exact TreeSHAP attributions (LightGBM ``pred_contrib``) of the
model that drives the customer's recommended action, turned into words with the feature catalogue's
templates. ``pred_contrib`` costs 0.2-1 ms per row on this two-core machine for a 100-200-tree model (measured:
0.4 ms for the 99-tree churn model of the 50k demo), i.e. minutes for a million rows, while prediction costs
microseconds. Reasons exist to let a person act on a recommendation, so by default (``reasons="actioned"``)
they are computed only for customers whose action rule asks for them
(:attr:`custml.scoring.actions.ActionRule.explain`): personal outreach and win-back get the features that push
the churn probability *up*, the onboarding journey gets the features that push the repurchase probability
*down*; standard automated actions (retention offer, low-cost reactivation, loyalty reward) and "no action" get
none (null reasons). About one customer in ten is explained. This keeps the attribution exact (no surrogate
model, no truncated trees) and spends the cost where a reason is read. ``max_explained`` caps the number of
explained customers (highest revenue at risk first) when a hard time budget matters; ``reasons="all"`` explains
every customer (churn model unless the rule says otherwise), ``"none"`` nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from custml.contracts import ValueModelChoice
from custml.errors import ConfigError, SchemaError
from custml.scoring.actions import DEFAULT_ACTION_TABLE, ActionTable, match_action_rules
from custml.settings import Settings

__all__ = [
    "REASON_COLUMNS",
    "SCORE_COLUMNS",
    "SEGMENT_COLUMNS",
    "ClvParams",
    "ScoreParams",
    "ScoringModel",
    "chosen_expected_value_12m",
    "expected_value_12m",
    "score_customers",
    "value_inputs_at",
]

logger = logging.getLogger(__name__)

SEGMENT_COLUMNS: tuple[str, ...] = ("rfm_segment", "value_tier", "activity_tier", "lifecycle_stage")
REASON_COLUMNS: tuple[str, ...] = ("reason_1", "reason_2", "reason_3")
#: The scores table of the data contract, in column order.
SCORE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "as_of",
    "churn_probability",
    "repurchase_probability",
    "expected_value_12m",
    "revenue_at_risk",
    *SEGMENT_COLUMNS,
    "cluster_name",
    *REASON_COLUMNS,
    "recommended_action",
    "churn_model_name",
    "churn_model_version",
    "repurchase_model_name",
    "repurchase_model_version",
    "scored_at",
)
# Weeks per month in the CLV sum (the lifetimes convention, as custml.models.btyd uses).
_WEEKS_PER_MONTH = 4.345

Direction = Literal["up", "down"]
#: Explains why the probability is high ("up") or low ("down"): frame -> DataFrame[reason_1..top_k].
Explainer = Callable[[pd.DataFrame, Direction, int], pd.DataFrame]
# Expected purchases up to each horizon (weeks) of the rows at some positions: (horizons, positions) -> array.
Cumulative = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ScoringModel:
    """A model as scoring needs it: its registry name and version, probabilities, and reasons in words.

    Parameters
    ----------
    name, version : str
        Written on every output row (``version`` may be ``""`` for a model loaded from a plain URI).
    predict : callable
        ``predict(features) -> array`` of probabilities of the positive class (churn, or repurchase).
    explain : callable, optional
        ``explain(features, direction, top_k) -> DataFrame`` with ``top_k`` reason columns (strings or None),
        ``direction="up"`` for what raises the probability, ``"down"`` for what lowers it. Without it the
        model's reasons are null.
    """

    name: str
    version: str
    predict: Callable[[pd.DataFrame], np.ndarray]
    explain: Explainer | None = None


class _Params(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClvParams(_Params):
    """Expected-value model settings (BG/NBD + Gamma-Gamma at the as-of date)."""

    horizon_months: int = Field(12, ge=1)
    monthly_discount_rate: float = Field(0.01, ge=0)
    penalizer_coef: float = Field(0.0, ge=0)
    # Gamma-Gamma is fitted on a seeded random sample of this many repeat buyers (None: all): a hundred
    # thousand customers pin three parameters down far more tightly than the data's own uncertainty, and a
    # million continuous spend values would otherwise take half a minute to fit.
    fit_sample_size: int | None = Field(100_000, ge=100)
    seed: int = 0
    # The purchase model is chosen on a held-out period (custml.models.value): BG/NBD, Pareto/NBD, Pareto/NBD
    # with static covariates, fitted on a seeded sample of choice_sample_size customers.
    choose_model: bool = True
    holdout_days: int = Field(180, ge=7)
    choice_sample_size: int | None = Field(10_000, ge=100)
    value_candidates: tuple[str, ...] | None = None  # restrict the choice to these registered names


class ScoreParams(_Params):
    """Scoring settings: chunk size, reason-code policy (see module docstring), the action table, the
    currency of the amounts written in the meta when the data does not say (a source mapping's ``currency``
    wins), and whether to show a progress bar."""

    chunk_size: int = Field(100_000, ge=1)
    reasons: Literal["actioned", "all", "none"] = "actioned"
    max_explained: int | None = Field(None, ge=0)
    top_k: int = Field(3, ge=1, le=3)
    actions: ActionTable = DEFAULT_ACTION_TABLE
    currency: str = Field("USD", min_length=1)
    progress: bool = Field(False, description="Show a progress bar while scoring (a terminal display only).")


# --------------------------------------------------------------------------------------------------------
# Expected value (BTYD)
# --------------------------------------------------------------------------------------------------------


def _btyd_arrays(features: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """(x, t_x, T in weeks, mean repeat spend, buyer mask, repeat-buyer mask) from the ``btyd_*`` columns."""
    from custml.models.hybrid import BTYD_INPUT_COLUMNS

    missing = [c for c in ("customer_id", *BTYD_INPUT_COLUMNS) if c not in features.columns]
    if missing:
        raise SchemaError(
            "features", missing[0], f"is needed for the expected value but missing (all: {missing})"
        )
    x, t_x, big_t, m = (
        pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for c in BTYD_INPUT_COLUMNS
    )
    buyer = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(big_t) & (big_t > 0)
    # Clip small inconsistencies (recency beyond age) rather than fail the whole batch.
    t_x = np.where(buyer, np.clip(t_x, 0, big_t), 0.0)
    x = np.where(buyer, np.maximum(np.round(x), 0), 0.0)
    big_t = np.where(buyer, big_t, 1.0)
    repeat = buyer & (x > 0) & np.isfinite(m) & (m > 0)
    if int(repeat.sum()) < 2:
        raise SchemaError(
            "features",
            "btyd_frequency",
            "fewer than two customers with a repeat purchase: cannot fit the expected-value model",
            int(repeat.sum()),
        )
    # Weeks keep the rate parameters near 1 (as the hybrid model features do).
    return x, t_x / 7.0, big_t / 7.0, m, buyer, repeat


def _discounted(cumulative: Cumulative, keys: pd.DataFrame, params: ClvParams) -> np.ndarray:
    """Discounted expected purchases over ``params.horizon_months`` per row of ``keys``.

    ``cumulative(t, rows)`` gives the expected purchases in the next ``t[k]`` weeks (one row per horizon) of
    the rows at positions ``rows``; each distinct row of ``keys`` (history and covariates) is evaluated once
    (774k customers have 294k distinct histories).
    """
    codes_arr = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    first = np.unique(codes_arr, return_index=True)[1]
    months = np.arange(1, params.horizon_months + 1)
    cumulative_by_month = np.asarray(cumulative(months * _WEEKS_PER_MONTH, first), dtype=float)
    per_month = np.diff(cumulative_by_month, axis=0, prepend=0.0)
    discount = (1.0 + params.monthly_discount_rate) ** months.astype(float)
    purchases = (per_month / discount[:, None]).sum(axis=0)
    return purchases[codes_arr]


def _spend(x: np.ndarray, m: np.ndarray, repeat: np.ndarray, params: ClvParams) -> tuple[np.ndarray, object]:
    """Expected spend per purchase day (Gamma-Gamma, fitted in units of the median repeat spend so that the fit
    does not depend on the currency) and the fit's parameters; a repeat buyer whose mean repeat value is not
    positive (refunds) is valued at the population mean spend."""
    from custml.models.btyd import GammaGammaFitter

    scale = float(np.median(m[repeat]))
    fit_repeat = _fit_sample(repeat, params)
    x_spend = np.where(repeat, x, 0.0)
    m_spend = np.where(repeat, m / scale, 0.0)
    try:
        ggf = GammaGammaFitter(penalizer_coef=params.penalizer_coef, standard_errors=False).fit(
            x[fit_repeat], m_spend[fit_repeat]
        )
    except ConfigError as exc:  # q <= 1: the population mean spend is infinite under the model
        logger.warning("Gamma-Gamma unusable (%s): spend = own mean repeat spend, else the median", exc)
        return np.where(repeat, m, scale), "fallback: own mean repeat spend"
    spend = np.asarray(ggf.conditional_expected_average_profit(x_spend, m_spend), dtype=float) * scale
    return spend, ggf.params_


def _bgnbd_purchases(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, buyer: np.ndarray, params: ClvParams
) -> tuple[Cumulative, object]:
    """BG/NBD's expected purchases up to each horizon (it collapses identical histories, so it fits on every
    buyer) and its parameters."""
    from custml.models.btyd import BetaGeoFitter

    bgf = BetaGeoFitter(penalizer_coef=params.penalizer_coef, standard_errors=False).fit(
        x[buyer], t_x[buyer], big_t[buyer]
    )

    def cumulative(ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        expected = bgf.conditional_expected_number_of_purchases_up_to_time
        return np.stack([np.asarray(expected(t, x[rows], t_x[rows], big_t[rows]), dtype=float) for t in ts])

    return cumulative, bgf.params_


def _candidate_purchases(
    purchase_model: Any, z: pd.DataFrame, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> Cumulative:
    """A chosen value candidate's expected purchases up to each horizon, given the covariates ``z``."""
    from custml.models.value import ValueHistories

    def cumulative(ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        hist = ValueHistories(pd.RangeIndex(len(rows)), x[rows], t_x[rows], big_t[rows], z.iloc[rows])
        return np.asarray(purchase_model.expected_purchases(ts, hist), dtype=float)

    return cumulative


def expected_value_12m(
    features: pd.DataFrame,
    params: ClvParams | None = None,
    *,
    purchase_model: Any = None,
    covariates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Expected discounted value of each customer's purchases over the next months (BG/NBD + Gamma-Gamma).

    Both models are fitted on ``features`` itself (the scored population at the as-of date; Gamma-Gamma on a
    seeded sample of ``params.fit_sample_size`` repeat buyers; see the module docstring). Durations are the
    features' ``btyd_*`` columns in days. Customers without an order get 0. With ``purchase_model`` (a fitted
    :class:`custml.models.value.FittedValueModel`, the held-out choice of :func:`chosen_expected_value_12m`)
    the expected purchases are that model's, given ``covariates`` (one row per row of ``features``), instead
    of BG/NBD's.

    Parameters
    ----------
    features : pandas.DataFrame
        ``customer_id`` and ``btyd_frequency``, ``btyd_recency_days``, ``btyd_T_days``, ``btyd_monetary``.
    params : ClvParams, optional

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``expected_value_12m`` (same row order as ``features``).

    Raises
    ------
    SchemaError
        If a ``btyd_*`` column is missing, or fewer than two customers have a repeat purchase.
    """
    params = params or ClvParams()
    x, t_x, big_t, m, buyer, repeat = _btyd_arrays(features)
    spend, spend_model = _spend(x, m, repeat, params)
    # Discounted expected purchases depend on the history (and covariates) alone: each distinct one once.
    keys = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t})
    if purchase_model is None:
        cumulative, purchase_params = _bgnbd_purchases(x, t_x, big_t, buyer, params)
    else:
        z = (covariates if covariates is not None else pd.DataFrame(index=features.index)).reset_index(
            drop=True
        )
        keys = pd.concat([keys, z.add_prefix("z:")], axis=1)
        cumulative = _candidate_purchases(purchase_model, z, x, t_x, big_t)
        purchase_params = {"model": purchase_model.name, **purchase_model.model.params_}
    purchases = _discounted(cumulative, keys, params)
    value = np.where(buyer, np.maximum(spend * purchases, 0.0), 0.0)
    logger.info(
        "expected value: purchases %s, Gamma-Gamma %s on %d buyers (%d repeat)",
        purchase_params,
        spend_model,
        int(buyer.sum()),
        int(repeat.sum()),
    )
    return pd.DataFrame(
        {"customer_id": features["customer_id"].to_numpy(), "expected_value_12m": value}, index=features.index
    )


def chosen_expected_value_12m(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: Any,
    *,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    params: ClvParams | None = None,
) -> tuple[pd.DataFrame, ValueModelChoice]:
    """:func:`expected_value_12m` with the purchase model chosen on a held-out period, and why.

    The registered value candidates (:mod:`custml.models.value`: BG/NBD, Pareto/NBD, Pareto/NBD with static
    covariates from ``customers`` and ``campaigns``) are fitted on ``orders`` up to ``params.holdout_days``
    before ``as_of`` and compared on the days after (held-out log-likelihood and MAE of purchases; the simpler
    model wins a tie). The chosen one is refitted on the histories at ``as_of`` and gives the expected
    purchases; spend is Gamma-Gamma's as before. BG/NBD chosen gives exactly :func:`expected_value_12m`.
    Without enough history for a held-out period (or ``params.choose_model`` off) BG/NBD is used and the
    metadata says why.

    Returns
    -------
    (pandas.DataFrame, ValueModelChoice)
        ``customer_id``, ``expected_value_12m`` (rows as ``features``); the choice for the scores' metadata
        (``model``, ``reason``, held-out figures of each candidate).
    """
    from custml.models.value import ValueChoiceParams, choose_value_model, fit_value_model, value_split

    params = params or ClvParams()
    if not params.choose_model:
        return expected_value_12m(features, params), ValueModelChoice(model="bgnbd", reason="choice disabled")
    choice_params = ValueChoiceParams(
        holdout_days=params.holdout_days,
        sample_size=params.choice_sample_size,
        seed=params.seed,
        candidates=params.value_candidates,
    )
    try:
        split = value_split(orders, as_of, customers=customers, campaigns=campaigns, params=choice_params)
        choice = choose_value_model(split, choice_params)
    except (SchemaError, ConfigError) as exc:
        logger.warning("value model: no held-out comparison (%s): BG/NBD", exc)
        reason = f"no held-out comparison ({exc})"
        return expected_value_12m(features, params), ValueModelChoice(model="bgnbd", reason=reason)
    meta = ValueModelChoice.model_validate(choice.to_meta())
    logger.info("value model: %s", choice.reason)
    if choice.chosen == "bgnbd":
        return expected_value_12m(features, params), meta
    histories, z = value_inputs_at(
        features,
        as_of,
        customers=customers,
        campaigns=campaigns,
        columns=choice.fitted[choice.chosen].columns,
        params=choice_params,
    )
    try:
        fitted = fit_value_model(choice.chosen, histories, choice_params)
        why = fitted.degenerate()
    except (SchemaError, ConfigError, FloatingPointError) as exc:
        why = str(exc)
    if why is not None:
        logger.warning(
            "value model: %s could not be refitted at the as-of date (%s): BG/NBD", choice.chosen, why
        )
        meta.reason += f"; refit at the as-of date failed ({why}): BG/NBD used"
        meta.model = "bgnbd"
        return expected_value_12m(features, params), meta
    meta.params = {k: float(v) for k, v in fitted.model.params_.items()}
    return expected_value_12m(features, params, purchase_model=fitted, covariates=z), meta


def value_inputs_at(
    features: pd.DataFrame,
    as_of: Any,
    *,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    columns: Sequence[str] = (),
    params: Any = None,
) -> tuple[Any, pd.DataFrame]:
    """The buyers' histories at ``as_of`` from the ``btyd_*`` features (weeks) with the static covariates
    ``columns`` (:func:`custml.models.value.value_covariates`), and those covariates for every row of
    ``features``: what a value candidate is refitted on and predicts from."""
    from custml.models.value import ValueHistories, value_covariates

    x, t_x, big_t, _, buyer, _ = _btyd_arrays(features)
    ids = pd.Index(features["customer_id"].astype(str).to_numpy())
    end = pd.Timestamp(as_of).normalize()
    days = pd.to_numeric(features["btyd_T_days"], errors="coerce").to_numpy(dtype=float)
    first = pd.Series(
        end - pd.Timedelta(days=1) - pd.to_timedelta(np.nan_to_num(days), unit="D"), index=ids
    ).where(np.isfinite(days))
    z = value_covariates(
        ids, first, end, profile=customers, campaigns=campaigns, params=params, columns=columns
    ).reset_index(drop=True)
    rows = np.flatnonzero(buyer)
    return ValueHistories(ids[rows], x[rows], t_x[rows], big_t[rows], z.iloc[rows]), z


def _fit_sample(mask: np.ndarray, params: ClvParams) -> np.ndarray:
    """Positions of the rows to fit on: all of ``mask``, or a seeded sample of ``fit_sample_size`` of them."""
    rows = np.flatnonzero(mask)
    if params.fit_sample_size is None or len(rows) <= params.fit_sample_size:
        return rows
    rng = np.random.default_rng(params.seed)
    return np.sort(rng.choice(rows, size=params.fit_sample_size, replace=False))


# --------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class _Progress:
    """A rich progress bar when asked for, otherwise nothing (library code never prints)."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def task(self, description: str, total: int) -> Callable[[int], None]:
        if self._bar is None:
            return lambda _n: None
        task_id = self._bar.add_task(description, total=total)
        return lambda n: self._bar.advance(task_id, n)


def _lookup(table: pd.DataFrame, ids: np.ndarray, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    """Rows of ``table`` (keyed by ``customer_id``) in the order of ``ids``; every id must be present.

    Inputs built from the same feature table come in the same order, which is checked first (a vectorised
    comparison); otherwise rows are matched through a hash index.
    """
    missing_cols = [c for c in ("customer_id", *columns) if c not in table.columns]
    if missing_cols:
        raise SchemaError(name, missing_cols[0], f"is missing (all: {missing_cols})")
    keys = table["customer_id"].astype(str).to_numpy(dtype=object)
    if len(keys) == len(ids) and np.array_equal(keys, ids):
        return table[list(columns)].reset_index(drop=True)
    index = pd.Index(keys)
    if not index.is_unique:
        raise SchemaError(name, "customer_id", "has duplicated customers", int(index.duplicated().sum()))
    pos = index.get_indexer(ids)
    absent = int((pos < 0).sum())
    if absent:
        raise SchemaError(name, "customer_id", "has no row for some scored customers", absent)
    return table[list(columns)].iloc[pos].reset_index(drop=True)


def _plain(values: pd.Series) -> np.ndarray:
    """Object array of plain Python strings/None (categoricals and pandas strings flattened)."""
    arr = values.astype(object).to_numpy()
    return np.asarray(np.where(pd.isna(arr), np.array(None, dtype=object), arr), dtype=object)


def _in_id_order(features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The feature rows in customer-id order (so output order and bytes do not depend on input order) and the
    ids; checks there is a row and no customer twice."""
    if "customer_id" not in features.columns:
        raise SchemaError("features", "customer_id", "is missing")
    if len(features) == 0:
        raise SchemaError("features", None, "is empty: nothing to score")
    raw_ids = features["customer_id"].astype(str).to_numpy(dtype=object)
    if not pd.Index(raw_ids).is_unique:
        dup = int(pd.Index(raw_ids).duplicated().sum())
        raise SchemaError("features", "customer_id", "has duplicated customers", dup)
    # the feature table usually comes sorted already, which saves sorting and copying a million rows
    if bool(np.all(raw_ids[1:] > raw_ids[:-1])):
        return features.reset_index(drop=True), raw_ids
    order = np.argsort(raw_ids, kind="stable")
    return features.iloc[order].reset_index(drop=True), raw_ids[order]


def _probabilities(
    feats: pd.DataFrame,
    ids: np.ndarray,
    models: tuple[ScoringModel, ScoringModel],
    probabilities: pd.DataFrame | None,
    params: ScoreParams,
    bar: _Progress,
) -> tuple[np.ndarray, np.ndarray]:
    """Churn and repurchase probabilities per row: computed elsewhere (``probabilities``), else by the models
    in chunks."""
    if probabilities is not None:
        probs = _lookup(probabilities, ids, ("churn_probability", "repurchase_probability"), "probabilities")
        return probs["churn_probability"].to_numpy(dtype=float), probs["repurchase_probability"].to_numpy(
            dtype=float
        )
    churn, repurchase = np.empty(len(feats)), np.empty(len(feats))
    advance = bar.task("Scoring (both models)", len(feats))
    for sl in _chunks(len(feats), params.chunk_size):
        chunk = feats.iloc[sl]
        churn[sl] = np.asarray(models[0].predict(chunk), dtype=float)
        repurchase[sl] = np.asarray(models[1].predict(chunk), dtype=float)
        advance(sl.stop - sl.start)
    return churn, repurchase


def score_customers(
    features: pd.DataFrame,
    churn_model: ScoringModel,
    repurchase_model: ScoringModel,
    segments: pd.DataFrame,
    clv: pd.DataFrame,
    clusters: pd.DataFrame | None = None,
    *,
    as_of: Any,
    scored_at: Any,
    params: ScoreParams | None = None,
    probabilities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The scores table: one row per customer of ``features`` (contract section 7, :data:`SCORE_COLUMNS`),
    sorted by ``customer_id``.

    ``segments`` has ``customer_id`` and :data:`SEGMENT_COLUMNS` (:func:`custml.segment.assign_segments`);
    ``clv`` ``customer_id`` and ``expected_value_12m`` (:func:`expected_value_12m`); ``clusters`` (optional)
    ``customer_id`` and ``cluster_name``. ``as_of`` and ``scored_at`` are written on every row (a fixed
    ``scored_at`` reproduces a run byte for byte). ``params``: chunk size, reason policy, action table and the
    progress bar. ``probabilities`` (``customer_id``, ``churn_probability``, ``repurchase_probability``,
    computed elsewhere, e.g. by the Spark engine) replaces the models' ``predict``.

    Raises
    ------
    SchemaError
        If ``features`` is empty or has duplicated customers, or an input lacks a customer or a column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> f = pd.DataFrame({"customer_id": ["b", "a"], "x": [0.9, 0.1]})
    >>> m = ScoringModel("m", "1", lambda d: d["x"].to_numpy())
    >>> seg = pd.DataFrame({"customer_id": ["a", "b"], "rfm_segment": ["Lost", "Champions"],
    ...     "value_tier": ["low", "high"], "activity_tier": ["dormant", "active"],
    ...     "lifecycle_stage": ["churned", "active"]})
    >>> clv = pd.DataFrame({"customer_id": ["a", "b"], "expected_value_12m": [0.0, 100.0]})
    >>> out = score_customers(f, m, m, seg, clv, as_of="2025-10-01", scored_at="2025-10-02")
    >>> out[["customer_id", "revenue_at_risk", "recommended_action"]].values.tolist()
    [['a', 0.0, 'low-cost reactivation'], ['b', 90.0, 'personal outreach']]
    """
    params = params or ScoreParams()
    feats, ids = _in_id_order(features)
    out = pd.DataFrame({"customer_id": ids})
    out["as_of"] = pd.Timestamp(as_of)
    with _Progress(params.progress) as bar:
        churn, repurchase = _probabilities(
            feats, ids, (churn_model, repurchase_model), probabilities, params, bar
        )
        out["churn_probability"] = churn
        out["repurchase_probability"] = repurchase
        value = _lookup(clv, ids, ("expected_value_12m",), "clv")["expected_value_12m"].to_numpy(dtype=float)
        out["expected_value_12m"] = value
        out["revenue_at_risk"] = churn * value
        seg = _lookup(segments, ids, SEGMENT_COLUMNS, "segments")
        for col in SEGMENT_COLUMNS:
            out[col] = _plain(seg[col])
        named = _lookup(clusters, ids, ("cluster_name",), "clusters") if clusters is not None else None
        out["cluster_name"] = _plain(named["cluster_name"]) if named is not None else None
        rule_index = match_action_rules(out, params.actions)
        names = np.array([r.action for r in params.actions.rules] + [params.actions.default], dtype=object)
        out["recommended_action"] = names[rule_index]
        reasons = _reasons(feats, out, rule_index, churn_model, repurchase_model, params, bar)
        for col in REASON_COLUMNS:
            out[col] = reasons[col]
    for task, model in (("churn", churn_model), ("repurchase", repurchase_model)):
        out[f"{task}_model_name"] = model.name
        out[f"{task}_model_version"] = str(model.version)
    out["scored_at"] = pd.Timestamp(scored_at)
    return out[list(SCORE_COLUMNS)]


def _explain_targets(rule_index: np.ndarray, params: ScoreParams) -> np.ndarray:
    """Per row: "churn", "repurchase" or None, the model whose reasons this row gets (before any cap)."""
    per_rule = [r.explain for r in params.actions.rules] + [None]
    target = np.array(per_rule, dtype=object)[rule_index]
    if params.reasons == "none":
        return np.full(len(rule_index), None, dtype=object)
    if params.reasons == "all":
        return np.where(pd.isna(target), "churn", target)
    return target


def _reasons(
    feats: pd.DataFrame,
    scores: pd.DataFrame,
    rule_index: np.ndarray,
    churn_model: ScoringModel,
    repurchase_model: ScoringModel,
    params: ScoreParams,
    bar: _Progress,
) -> dict[str, np.ndarray]:
    n = len(feats)
    out = {col: np.full(n, None, dtype=object) for col in REASON_COLUMNS}
    target = _explain_targets(rule_index, params)
    wanted = np.flatnonzero(pd.notna(target))
    if params.max_explained is not None and len(wanted) > params.max_explained:
        # Highest revenue at risk first; ties by customer id (rows are sorted by id, so by position).
        risk = scores["revenue_at_risk"].to_numpy(dtype=float)[wanted]
        keep = np.lexsort((wanted, -np.nan_to_num(risk, nan=-np.inf)))[: params.max_explained]
        logger.info("reason codes capped at %d of %d customers", params.max_explained, len(wanted))
        wanted = np.sort(wanted[keep])
    jobs: list[tuple[ScoringModel, Direction, np.ndarray]] = [
        (churn_model, "up", wanted[target[wanted] == "churn"]),
        (repurchase_model, "down", wanted[target[wanted] == "repurchase"]),
    ]
    total = sum(len(rows) for model, _, rows in jobs if model.explain is not None)
    if total == 0:
        return out
    advance = bar.task("Reason codes (TreeSHAP)", total)
    for model, direction, rows in jobs:
        if model.explain is None or len(rows) == 0:
            continue
        for sl in _chunks(len(rows), params.chunk_size):
            idx = rows[sl]
            words = model.explain(feats.iloc[idx], direction, params.top_k)
            for k, col in enumerate(REASON_COLUMNS[: params.top_k]):
                if k < words.shape[1]:
                    out[col][idx] = _plain(words.iloc[:, k])
            advance(len(idx))
    return out
