"""The purchase model behind the 12-month value, chosen on a held-out period among registered BTYD candidates.

Each registered value candidate (:func:`register_value_candidate`: a name, a fitter and whether it takes the
static covariates) is fitted on a calibration period (customers' purchases up to ``holdout_days`` before the
as-of date) and scored on the held-out days that follow: the predictive log-likelihood of the held-out purchases
(``log_likelihood(full history) - log_likelihood(calibration)``, each customer's density of the holdout
purchase times given the calibration ones) and the mean absolute error of the number of purchase days per
customer. :func:`choose_value_model` walks the candidates in registry order (simplest first) and moves to a
later one only when it beats the current pick on held-out log-likelihood by more than ``ll_margin_se`` paired
standard errors and is not worse on MAE (beyond ``mae_tolerance``, relative): the simpler model wins a tie.

Registered (in that order): ``bgnbd`` (BG/NBD, the value model scoring used before), ``pareto_nbd`` and
``pareto_nbd_covariates`` (Pareto/NBD with static covariates on the purchase and the dropout process:
one-hot acquisition channel and region, acquired in the fourth quarter, retention offer received; whichever
the data has, :func:`value_covariates`). Adding a candidate is one registration::

    register_value_candidate(ValueCandidate("my_bgnbd", lambda p: BetaGeoFitter(penalizer_coef=0.01)))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from custml.errors import ConfigError, SchemaError
from custml.models.btyd import BetaGeoFitter, ParetoNBDFitter, rfm_summary
from custml.models.registry import Registry
from custml.settings import Settings

__all__ = [
    "CATEGORICAL_COVARIATES",
    "MAX_GAMMA_SHAPE",
    "FittedValueModel",
    "ValueCandidate",
    "ValueChoice",
    "ValueChoiceParams",
    "ValueHistories",
    "ValueSplit",
    "choose_value_model",
    "fit_value_model",
    "register_value_candidate",
    "registered_value_candidate",
    "value_candidate_names",
    "value_covariates",
    "value_split",
]

# Weeks: the time unit of every value model (rate parameters near 1, as the scoring value and the hybrid use).
_UNIT_DAYS = 7.0
#: A fitted gamma shape above this is a degenerate (homogeneous-rate) fit; the candidate is left out.
MAX_GAMMA_SHAPE = 1_000.0
#: Categorical customer columns that become static covariates when the data has them.
CATEGORICAL_COVARIATES: tuple[str, ...] = ("acquisition_channel", "region")


class ValueChoiceParams(Settings):
    """How the value model is chosen.

    ``holdout_days``: length of the held-out period before the as-of date. ``sample_size``: the candidates
    (and the chosen model's final fit) are fitted on a seeded sample of this many customers (None: all): tens
    of thousands pin a handful of parameters down well, and a covariate Pareto/NBD fit costs seconds per 20,000
    customers. ``ll_margin_se``: a later candidate must beat the current pick's held-out log-likelihood by more
    than this many paired standard errors of the sum. ``mae_tolerance``: and its MAE of purchases may exceed the
    current pick's by at most this share. ``eval_sample_size``: the held-out figures are taken over a seeded sample of
    this many calibration customers (None: all; a hundred thousand give standard errors far below the margins
    that matter, and keep the closed-form likelihoods to seconds at a million customers). ``min_level_share`` / ``max_levels``: a categorical level becomes a
    dummy when at least this share of customers has it (at most ``max_levels`` per column; the most frequent
    level is the reference). ``candidates``: restrict to these registered names (None: all).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout_days: int = Field(180, ge=7)
    sample_size: int | None = Field(10_000, ge=100)
    seed: int = 0
    ll_margin_se: float = Field(2.0, ge=0)
    mae_tolerance: float = Field(0.02, ge=0)
    min_level_share: float = Field(0.05, gt=0, lt=1)
    max_levels: int = Field(6, ge=1)
    min_customers: int = Field(200, ge=10)
    eval_sample_size: int | None = Field(100_000, ge=100)
    candidates: tuple[str, ...] | None = None


# ---------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ValueHistories:
    """Customers' purchase histories in weeks with their static covariates (one row per customer).

    ``covariates`` is indexed like ``customers`` and holds numeric columns only (possibly none).
    """

    customers: pd.Index
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    covariates: pd.DataFrame

    def __len__(self) -> int:
        return len(self.customers)

    def take(self, rows: np.ndarray) -> ValueHistories:
        """The histories of the rows at positions ``rows``."""
        return ValueHistories(
            self.customers[rows],
            self.frequency[rows],
            self.recency[rows],
            self.T[rows],
            self.covariates.iloc[rows],
        )


@dataclass(frozen=True)
class ValueSplit:
    """A calibration period and the held-out days after it, for the customers who bought in calibration.

    ``calibration`` and ``full`` share customers and covariates (known at the calibration end); ``full`` adds
    the holdout purchases to the histories. ``holdout_purchases``: purchase days per customer in the holdout,
    which lasts ``holdout_weeks``.
    """

    calibration: ValueHistories
    full: ValueHistories
    holdout_purchases: np.ndarray
    holdout_weeks: float
    calibration_end: pd.Timestamp


def _level_dummies(values: pd.Series, name: str, params: ValueChoiceParams) -> pd.DataFrame:
    """One-hot columns ``<name>=<level>`` of the frequent levels (the most frequent one is the reference)."""
    text = values.astype("string")
    shares = text.value_counts(normalize=True, dropna=True)
    levels = [str(v) for v, share in shares.items() if share >= params.min_level_share]
    kept = levels[1 : 1 + params.max_levels]
    return pd.DataFrame(
        {f"{name}={level}": (text == level).fillna(False).to_numpy(dtype=float) for level in kept},
        index=values.index,
    )


def value_covariates(
    customer_ids: pd.Index,
    first_purchase: pd.Series,
    end: pd.Timestamp,
    *,
    profile: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    params: ValueChoiceParams | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Static covariates of the value models, one row per customer of ``customer_ids``.

    - ``<column>=<level>``: one-hot of :data:`CATEGORICAL_COVARIATES` in ``profile`` (``customer_id`` and the
      columns it has; frequent levels only, see :class:`ValueChoiceParams`);
    - ``acquired_q4``: the first purchase (``first_purchase``, by customer id) fell in October-December (the
      Christmas cohorts buy less often afterwards);
    - ``offer_received``: a campaign row with ``arm == "offer"`` (or no ``arm`` column) sent before ``end``.

    With ``columns`` (the fitted model's), exactly those columns are returned (a level absent now is all 0).
    Columns that are constant are left out.
    """
    params = params or ValueChoiceParams()
    out = pd.DataFrame(index=customer_ids)
    if profile is not None and "customer_id" in profile.columns:
        prof = profile.drop_duplicates("customer_id")
        prof = prof.set_axis(pd.Index(prof["customer_id"].astype(str)), axis=0).reindex(customer_ids)
        for col in CATEGORICAL_COVARIATES:
            if col in prof.columns:
                out = out.join(_level_dummies(prof[col], col, params))
    first = pd.to_datetime(first_purchase).reindex(customer_ids)
    out["acquired_q4"] = first.dt.month.isin([10, 11, 12]).to_numpy(dtype=float)
    if campaigns is not None and {"customer_id", "sent_ts"} <= set(campaigns.columns):
        sent_ts = pd.to_datetime(campaigns["sent_ts"], errors="coerce")
        if sent_ts.dt.tz is not None:
            sent_ts = sent_ts.dt.tz_convert("UTC").dt.tz_localize(None)
        sent = sent_ts < end
        offered = (
            sent & (campaigns["arm"].astype("string") == "offer").fillna(False)
            if "arm" in campaigns
            else sent
        )
        ids = set(campaigns.loc[offered.to_numpy(dtype=bool), "customer_id"].astype(str))
        out["offer_received"] = customer_ids.astype(str).isin(ids).astype(float)
    if columns is not None:
        return out.reindex(columns=list(columns), fill_value=0.0).astype(float)
    varying = [c for c in out.columns if out[c].nunique(dropna=False) > 1]
    return out[varying].astype(float)


def _purchase_days(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Orders before ``end`` (refunds out), as the features count purchase days."""
    for col in ("customer_id", "order_ts"):
        if col not in orders.columns:
            raise SchemaError("orders", col, "is needed for the value model but missing")
    ts = pd.to_datetime(orders["order_ts"], errors="coerce")
    if ts.dt.tz is not None:  # as the features and labels: UTC days
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    keep = ts.notna() & orders["customer_id"].notna() & (ts < end)
    if "is_refund" in orders.columns:
        keep &= ~orders["is_refund"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "customer_id": orders.loc[keep, "customer_id"].astype(str).to_numpy(),
            "order_ts": ts[keep].to_numpy(),
        }
    )


def value_split(
    orders: pd.DataFrame,
    as_of: Any,
    *,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    params: ValueChoiceParams | None = None,
) -> ValueSplit:
    """The calibration period and the ``params.holdout_days`` held out before ``as_of`` (orders strictly before
    it, refunds excluded, one purchase per customer and day).

    Raises
    ------
    SchemaError
        If ``orders`` lacks ``customer_id`` or ``order_ts``, or has no purchase in the calibration period.
    """
    params = params or ValueChoiceParams()
    end = pd.Timestamp(as_of).normalize()
    last_day = end - pd.Timedelta(days=1)
    cal_end = last_day - pd.Timedelta(days=params.holdout_days)
    days = _purchase_days(orders, end)
    summary = rfm_summary(
        days, "customer_id", "order_ts", None, observation_end=last_day, calibration_end=cal_end, freq="W"
    )
    full = rfm_summary(days, "customer_id", "order_ts", None, observation_end=last_day, freq="W")
    full = full.reindex(summary.index)
    first = days.groupby("customer_id")["order_ts"].min()
    cov = value_covariates(
        pd.Index(summary.index.astype(str)),
        first,
        cal_end + pd.Timedelta(days=1),
        profile=customers,
        campaigns=campaigns,
        params=params,
    )
    ids = pd.Index(summary.index.astype(str))
    cov.index = ids

    def hist(frame: pd.DataFrame) -> ValueHistories:
        return ValueHistories(
            ids,
            frame["frequency"].to_numpy(dtype=float),
            frame["recency"].to_numpy(dtype=float),
            frame["T"].to_numpy(dtype=float),
            cov,
        )

    return ValueSplit(
        hist(summary),
        hist(full),
        summary["frequency_holdout"].to_numpy(dtype=float),
        float(summary["duration_holdout"].iloc[0]),
        cal_end,
    )


# ---------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ValueCandidate:
    """One registered value candidate.

    Attributes
    ----------
    name : str
    build : callable
        ``build(params) -> fitter`` (unfitted; a BTYD fitter with ``fit(frequency, recency, T,
        purchase_covariates=, dropout_covariates=)``, ``log_likelihood`` and
        ``conditional_expected_number_of_purchases_up_to_time`` taking the same covariates).
    covariates : bool
        Takes the static covariates on both processes (left out when the data has none).
    description : str
    """

    name: str
    build: Callable[[ValueChoiceParams], Any]
    covariates: bool = False
    description: str = ""


_VALUE_REGISTRY: Registry[ValueCandidate] = Registry("value candidate")


def register_value_candidate(candidate: ValueCandidate) -> ValueCandidate:
    """Add a value candidate (after the registered ones: it wins only by beating them); a name is refused twice."""
    return _VALUE_REGISTRY.register(candidate)


def registered_value_candidate(candidate: ValueCandidate) -> AbstractContextManager[ValueCandidate]:
    """Register ``candidate`` for the duration of a ``with`` block (tests, experiments)."""
    return _VALUE_REGISTRY.registered(candidate)


def value_candidate_names() -> list[str]:
    """Registered value candidates, simplest first (the tie-break order).

    Examples
    --------
    >>> value_candidate_names()
    ['bgnbd', 'pareto_nbd', 'pareto_nbd_covariates']
    """
    return _VALUE_REGISTRY.names()


# ---------------------------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class FittedValueModel:
    """A fitted value candidate and the covariate columns it was fitted with (empty: none)."""

    name: str
    model: Any
    columns: tuple[str, ...] = ()

    def _kw(self, histories: ValueHistories) -> dict[str, pd.DataFrame]:
        if not self.columns:
            return {}
        z = histories.covariates.reindex(columns=list(self.columns), fill_value=0.0).reset_index(drop=True)
        return {"purchase_covariates": z, "dropout_covariates": z}

    def log_likelihood(self, histories: ValueHistories) -> np.ndarray:
        """Each customer's log-likelihood of their history."""
        ll = self.model.log_likelihood(
            histories.frequency, histories.recency, histories.T, **self._kw(histories)
        )
        return np.asarray(ll, dtype=float)

    def expected_purchases(self, t: float | np.ndarray, histories: ValueHistories) -> np.ndarray:
        """Expected purchase days in the next ``t`` weeks per customer; with ``t`` an array of horizons, one
        row per horizon (the probability of being alive, the costly part, is computed once)."""
        horizons = np.asarray(t, dtype=float)
        out = self.model.conditional_expected_number_of_purchases_up_to_time(
            horizons[:, None] if horizons.ndim else horizons,
            histories.frequency,
            histories.recency,
            histories.T,
            **self._kw(histories),
        )
        return np.asarray(out, dtype=float)

    def degenerate(self) -> str | None:
        """Why the fit cannot be used (None: it can): a gamma shape (``r``, ``s``) beyond
        :data:`MAX_GAMMA_SHAPE` means the rates are all but homogeneous, where Pareto/NBD's closed-form
        hypergeometric terms lose all precision (and take seconds)."""
        params = getattr(self.model, "params_", {})
        for name in ("r", "s"):
            if params.get(name, 0.0) > MAX_GAMMA_SHAPE:
                return f"degenerate fit: {name} = {params[name]:.3g} (homogeneous rates)"
        return None


def _sample(n: int, params: ValueChoiceParams) -> np.ndarray:
    if params.sample_size is None or n <= params.sample_size:
        return np.arange(n)
    return np.sort(np.random.default_rng(params.seed).choice(n, size=params.sample_size, replace=False))


def fit_value_model(
    name: str, histories: ValueHistories, params: ValueChoiceParams | None = None
) -> FittedValueModel:
    """Fit the registered candidate ``name`` on (a seeded sample of) ``histories``."""
    params = params or ValueChoiceParams()
    candidate = _VALUE_REGISTRY.get(name)
    fit_on = histories.take(_sample(len(histories), params))
    columns: tuple[str, ...] = ()
    if candidate.covariates:
        z = fit_on.covariates
        columns = tuple(c for c in z.columns if z[c].nunique() > 1)
        if not columns:
            raise SchemaError("value_covariates", None, f"no varying covariate for {name}", len(fit_on))
    fitted = FittedValueModel(name, candidate.build(params), columns)
    fitted.model.fit(fit_on.frequency, fit_on.recency, fit_on.T, **fitted._kw(fit_on))
    return fitted


# ---------------------------------------------------------------------------------------------- choice


@dataclass
class ValueChoice:
    """The chosen value model and why: ``table`` holds each candidate's held-out figures."""

    chosen: str
    reason: str
    table: pd.DataFrame
    holdout_days: int
    calibration_end: pd.Timestamp | None
    n_customers: int
    fitted: dict[str, FittedValueModel] = field(default_factory=dict, repr=False)

    def to_meta(self) -> dict[str, Any]:
        """JSON-ready summary for the scores' metadata (``scoring.score`` adds to it and the report reads it:
        typed there, with the score meta's contract)."""
        rows = {
            str(name): {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
            for name, row in self.table.iterrows()
        }
        chosen = rows.get(self.chosen, {})
        return {
            "model": self.chosen,
            "reason": self.reason,
            "holdout_days": self.holdout_days,
            "calibration_end": None if self.calibration_end is None else str(self.calibration_end.date()),
            "customers": self.n_customers,
            "holdout_log_likelihood": chosen.get("holdout_log_likelihood"),
            "holdout_mae_purchases": chosen.get("mae_purchases"),
            "candidates": rows,
        }


def _evaluate(fitted: FittedValueModel, split: ValueSplit) -> tuple[np.ndarray, float]:
    with np.errstate(all="ignore"):
        ll = fitted.log_likelihood(split.full) - fitted.log_likelihood(split.calibration)
        pred = fitted.expected_purchases(split.holdout_weeks, split.calibration)
    return ll, float(np.mean(np.abs(pred - split.holdout_purchases)))


def choose_value_model(split: ValueSplit, params: ValueChoiceParams | None = None) -> ValueChoice:
    """Fit every registered candidate on the calibration period and choose on the held-out one.

    The rule (module docstring): registry order, a later candidate replaces the current pick when its total
    held-out log-likelihood is higher by more than ``ll_margin_se`` paired standard errors and its MAE of
    purchases is at most ``(1 + mae_tolerance)`` times the pick's. A candidate that cannot be fitted on these
    data (no covariate, a failed fit) is listed with its reason and left out.

    Raises
    ------
    SchemaError
        If fewer than ``params.min_customers`` customers bought in the calibration period.
    """
    params = params or ValueChoiceParams()
    n = len(split.calibration)
    if n < params.min_customers:
        raise SchemaError(
            "orders",
            "order_ts",
            f"too few customers in the calibration period (need {params.min_customers})",
            n,
        )
    split = _evaluation_sample(split, params)
    n = len(split.calibration)
    names = [c for c in value_candidate_names() if params.candidates is None or c in params.candidates]
    if not names:
        raise ConfigError(f"no registered value candidate among {params.candidates}")
    scored = _score_candidates(names, split, params)
    if not scored.rows:
        raise SchemaError("orders", None, f"no value candidate could be fitted: {scored.skipped}", n)
    pick, reason = _pick(scored, names, params)
    table = pd.DataFrame.from_dict(scored.rows, orient="index")
    for name, why in scored.skipped.items():
        table.loc[name, "holdout_log_likelihood"] = np.nan
        reason += f"; {name} left out ({why})"
    return ValueChoice(pick, reason, table, params.holdout_days, split.calibration_end, n, scored.fitted)


def _evaluation_sample(split: ValueSplit, params: ValueChoiceParams) -> ValueSplit:
    """``split`` on a seeded sample of ``params.eval_sample_size`` customers (all when fewer)."""
    n = len(split.calibration)
    if params.eval_sample_size is None or n <= params.eval_sample_size:
        return split
    kept = np.sort(
        np.random.default_rng(params.seed + 1).choice(n, size=params.eval_sample_size, replace=False)
    )
    return ValueSplit(
        split.calibration.take(kept),
        split.full.take(kept),
        split.holdout_purchases[kept],
        split.holdout_weeks,
        split.calibration_end,
    )


@dataclass
class _Scored:
    """The candidates' held-out figures (``rows``), per-customer log-likelihoods, fits and reasons left out."""

    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    lls: dict[str, np.ndarray] = field(default_factory=dict)
    fitted: dict[str, FittedValueModel] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _score_candidates(names: list[str], split: ValueSplit, params: ValueChoiceParams) -> _Scored:
    """Fit each candidate on the calibration period and score it on the held-out one; note who is left out."""
    out = _Scored()
    for name in names:
        try:
            model = fit_value_model(name, split.calibration, params)
            why = model.degenerate()
            if why is not None:
                out.skipped[name] = why
                continue
            ll, mae = _evaluate(model, split)
        except (SchemaError, ConfigError, ValueError, FloatingPointError) as exc:
            out.skipped[name] = str(exc)
            continue
        if not np.all(np.isfinite(ll)):
            out.skipped[name] = "non-finite held-out log-likelihood"
            continue
        out.fitted[name], out.lls[name] = model, ll
        out.rows[name] = {
            "holdout_log_likelihood": float(ll.sum()),
            "holdout_ll_per_customer": float(ll.mean()),
            "mae_purchases": mae,
            "n_covariates": float(len(model.columns)),
        }
    return out


def _pick(scored: _Scored, names: list[str], params: ValueChoiceParams) -> tuple[str, str]:
    """The rule of :func:`choose_value_model` over the scored candidates: the pick and why.

    Adds each later candidate's ``ll_gain_vs_previous_pick`` and ``ll_gain_se`` to its row.
    """
    rows, lls = scored.rows, scored.lls
    pick = next(iter(rows))
    reason = f"{pick}: the simplest candidate"
    for name in list(rows)[1:]:
        diff = lls[name] - lls[pick]
        gain, se = float(diff.sum()), float(np.std(diff, ddof=1) * np.sqrt(len(diff)))
        mae_ok = rows[name]["mae_purchases"] <= rows[pick]["mae_purchases"] * (1.0 + params.mae_tolerance)
        rows[name]["ll_gain_vs_previous_pick"] = gain
        rows[name]["ll_gain_se"] = se
        if gain > params.ll_margin_se * se and mae_ok:
            reason = (
                f"{name}: held-out log-likelihood {gain:+.1f} over {pick} (> {params.ll_margin_se:g} SE = "
                f"{params.ll_margin_se * se:.1f}), MAE of purchases {rows[name]['mae_purchases']:.4f} vs "
                f"{rows[pick]['mae_purchases']:.4f}"
            )
            pick = name
    if pick == names[0] and len(rows) > 1:
        reason = f"{pick}: no other candidate beat it on held-out log-likelihood by {params.ll_margin_se:g} SE with MAE no worse"
    return pick, reason


# ---------------------------------------------------------------------------------------------- built-ins


register_value_candidate(
    ValueCandidate(
        "bgnbd",
        lambda p: BetaGeoFitter(standard_errors=False),
        description="BG/NBD without covariates (the value model before issue 26)",
    )
)
register_value_candidate(
    ValueCandidate(
        "pareto_nbd",
        lambda p: ParetoNBDFitter(standard_errors=False),
        description="Pareto/NBD without covariates",
    )
)
register_value_candidate(
    ValueCandidate(
        "pareto_nbd_covariates",
        lambda p: ParetoNBDFitter(standard_errors=False),
        covariates=True,
        description="Pareto/NBD with static covariates on purchase and dropout (value_covariates)",
    )
)
