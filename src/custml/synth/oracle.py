"""The oracle: the true probability of (no) purchase over a horizon given each person's latent state at a cutoff.

Given the latent state at cutoff ``c`` (stage active / disengaging / dropped out, purchase rate, base hazard,
the hazard offset built by past experiences, the campaign arm once it has been sent), the purchase process and
the dropout process are known. On the path with no purchase after ``c`` no new experience occurs, so the hazard
is a known function of time, and the probability of no purchase in ``(c, c + H]`` follows from a three-state
Markov chain (active -> disengaging -> dropped out, with purchases as the competing exit) integrated day by day
with the exact matrix exponential of each day's constant rates. This uses the same intensity functions as the
simulator (:mod:`custml.synth.calendar`), not Monte Carlo.

Before the campaign is sent the oracle ignores it (the arm is not yet drawn); afterwards it knows the arm. A
behaviour shock (:class:`custml.synth.params.ShockParams`) is known to the oracle only with ``in_oracle=True``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custml.synth.calendar import cumulative_intensity, window
from custml.synth.params import WorldParams
from custml.synth.simulate import campaign_weeks

__all__ = [
    "oracle_at_cutoffs",
    "oracle_at_test_cutoffs",
    "oracle_campaign_uplift",
    "PersonState",
    "oracle_from_state",
    "oracle_probabilities",
]


def _safe_div(num: np.ndarray, den: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """num / den, or ``limit`` where ``den`` is (nearly) zero."""
    small = np.abs(den) < 1e-9
    return np.where(small, limit, num / np.where(small, 1.0, den))


def _no_purchase_chain(
    p_a: np.ndarray, p_d: np.ndarray, rate_a: np.ndarray, rate_d: np.ndarray, h: np.ndarray, nu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One day (length 1) of the no-purchase sub-chain; returns (active, disengaging, dropped) probabilities.

    The generator restricted to the no-purchase states is upper triangular, ``[[-a, h, 0], [0, -b, nu],
    [0, 0, 0]]`` with ``a = rate_a + h`` and ``b = rate_d + nu``; its exponential uses divided differences of
    ``exp`` at ``(-a, -b, 0)``.
    """
    alpha = rate_a + h
    ea = np.exp(-alpha)
    if not np.isfinite(nu):  # immediate dropout: no disengaging stage
        dead = p_a * _safe_div(h, alpha, np.ones_like(h)) * (1.0 - ea)
        return p_a * ea, np.zeros_like(p_a), dead
    beta = rate_d + nu
    eb = np.exp(-beta)
    d12 = _safe_div(ea - eb, beta - alpha, ea)  # f[-a, -b]
    d23 = _safe_div(1.0 - eb, beta, np.ones_like(beta))  # f[-b, 0]
    d123 = _safe_div(d12 - d23, -alpha, 0.5 * eb)  # f[-a, -b, 0]
    new_a = p_a * ea
    new_d = p_a * h * d12 + p_d * eb
    dead = p_a * (h * nu) * d123 + p_d * nu * d23
    return new_a, new_d, dead


@dataclass(frozen=True)
class PersonState:
    """The latent state of persons at a cutoff (vectors over persons): what the oracle starts from.

    ``stage`` 0 active, 1 disengaging, 2 dropped out. ``offset_now`` is the hazard offset of the week holding
    the cutoff, ``offset_next`` the offset at the start of the next week (before decay continues).
    ``camp_effect`` is the offer's log-hazard effect and ``camp_rate`` its purchase-rate multiplier during the
    campaign's effect weeks.
    """

    persona: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    stage: np.ndarray
    offset_now: np.ndarray
    offset_next: np.ndarray
    camp_effect: np.ndarray
    camp_rate: np.ndarray | float = 1.0


def oracle_from_state(
    params: WorldParams,
    cutoff_days: float,
    state: PersonState,
    horizons: tuple[int, ...] = (30, 90),
    window_start: int = 0,
) -> dict[int, np.ndarray]:
    """P(no purchase in (c + window_start, c + H]) for each horizon, from the latent state.

    During the first ``window_start`` days the states evolve without the no-purchase condition (purchases then
    do not count), so the result is the probability of having lapsed by the window: no purchase in its last
    ``H - window_start`` days.
    """
    persona, lam, mu, stage = state.persona, state.lam, state.mu, state.stage
    offset_now, offset_next = state.offset_now, state.offset_next
    camp_effect, camp_rate = state.camp_effect, state.camp_rate
    if not 0 <= window_start < min(horizons):
        raise ValueError(f"window_start must be in [0, shortest horizon), got {window_start}")
    G = cumulative_intensity(params)
    decay = 0.5 ** (7.0 / params.service.half_life_days)
    nu = 1.0 / params.disengage_days_mean if params.disengage_days_mean > 0 else np.inf
    rho = params.disengaged_rate_factor
    _, k0, k1 = campaign_weeks(params)
    kc = int(np.floor(cutoff_days / 7.0))
    p_a = (stage == 0).astype(float)
    p_d = (stage == 1).astype(float)
    p_x = np.zeros(len(stage))
    if not params.service.enabled:
        offset_now = np.zeros_like(offset_now)
        offset_next = np.zeros_like(offset_next)
    out: dict[int, np.ndarray] = {}
    max_day = G.shape[1] - 1
    shock_day, shock_log, shock_rate = _shock_terms(params, persona)
    camp_rate_on = not np.all(np.asarray(camp_rate) == 1.0)
    for m in range(max(horizons)):
        t0, t1 = cutoff_days + m, cutoff_days + m + 1
        if t1 > max_day:
            raise ValueError("oracle: cutoff + horizon goes beyond the simulated calendar")
        i0, i1 = int(np.floor(t0)), int(np.floor(t1))
        g = (G[:, i0] + (t0 - i0) * (G[:, i0 + 1] - G[:, i0])) * -1.0
        g = g + (G[:, i1] + (t1 - i1) * (G[:, min(i1 + 1, max_day)] - G[:, i1]))
        k = int(np.floor((t0 + 0.5) / 7.0))
        shocked = 7.0 * k >= shock_day  # as the simulator: from the first week starting on or after the shock
        rate_a = lam * g[persona] if m >= window_start else np.zeros(len(lam))
        if shocked:
            rate_a = rate_a * shock_rate
        if camp_rate_on and k0 <= k < k1:
            rate_a = rate_a * camp_rate
        off = offset_now if k == kc else offset_next * decay ** (k - kc - 1)
        eff = camp_effect if k0 <= k < k1 else 0.0
        h = mu / 365.25 * np.exp(off + eff + (shock_log if shocked else 0.0))
        p_a, p_d, dead = _no_purchase_chain(p_a, p_d, rate_a, rho * rate_a, h, nu)
        p_x = p_x + dead
        if m + 1 in horizons:
            out[m + 1] = np.where(stage == 2, 1.0, np.clip(p_a + p_d + p_x, 0.0, 1.0))
    return out


def _shock_terms(params: WorldParams, persona: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(shock day, log-hazard and rate multipliers per person) when the oracle knows the shock, else inert."""
    n = len(persona)
    shock = params.shock
    if shock is None or not shock.in_oracle:
        return np.inf, np.zeros(n), np.ones(n)
    start, _, _ = window(params)
    day = (np.datetime64(shock.start) - np.datetime64(start)) / np.timedelta64(1, "D")
    hit = np.isin(np.asarray(list(params.personas)), list(shock.personas))[persona]
    return (
        float(day),
        np.where(hit, np.log(shock.hazard_multiplier), 0.0),
        np.where(hit, shock.rate_multiplier, 1.0),
    )


def _to_days(values: pd.Series, start: pd.Timestamp) -> np.ndarray:
    ts = pd.to_datetime(values)
    return ((ts - start) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.inf)


def _params_of(truth_customers: pd.DataFrame, params: WorldParams | None) -> WorldParams:
    if params is not None:
        return params
    raw = truth_customers.attrs.get("world_params")
    if raw is None:
        raise ValueError("truth customers: no attrs['world_params']; pass params= (the world's WorldParams)")
    return WorldParams.model_validate(raw)


def _latent_state(
    truth_customers: pd.DataFrame, cutoff: pd.Timestamp, params: WorldParams
) -> tuple[pd.DataFrame, float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Persons signed up before ``cutoff`` and their latent state: (rows, c, persona, stage, offsets now/next)."""
    for col in ("customer_id", "person_id", "persona", "lambda_per_year", "mu_per_year", "signup_ts"):
        if col not in truth_customers.columns:
            raise ValueError(f"truth customers: required column '{col}' is missing")
    start, end, _ = window(params)
    if not start < cutoff <= end:
        raise ValueError(f"oracle: cutoff {cutoff} is outside the world's window ({start} .. {end})")
    c = (cutoff - start) / pd.Timedelta(days=1)
    tc = truth_customers
    signup = _to_days(tc["signup_ts"], start)
    keep = signup < c
    tc = tc.loc[keep]
    t_dis = _to_days(tc["disengage_ts"], start)
    t_dead = _to_days(tc["dropout_ts"], start)
    stage = np.where(t_dead <= c, 2, np.where(t_dis <= c, 1, 0))
    names = list(params.personas)
    persona = pd.Categorical(tc["persona"], categories=names).codes.astype(np.int64)
    if (persona < 0).any():
        raise ValueError("truth customers: column 'persona' has values not in the world's personas")

    # hazard offset from experiences before the cutoff (events take effect from the following week)
    decay = 0.5 ** (7.0 / params.service.half_life_days)
    kc = int(np.floor(c / 7.0))
    n = len(tc)
    offset_now = np.zeros(n)
    offset_next = np.zeros(n)
    if n and "experience_days" in tc.columns:
        days_arr = pa.array(tc["experience_days"].tolist(), type=pa.list_(pa.float64()))
        delta_arr = pa.array(tc["experience_delta"].tolist(), type=pa.list_(pa.float64()))
        parent = pc.list_parent_indices(days_arr).to_numpy()
        ed = pc.list_flatten(days_arr).to_numpy(zero_copy_only=False)
        dl = pc.list_flatten(delta_arr).to_numpy(zero_copy_only=False)
        before = ed < c
        wk = np.floor(ed / 7.0).astype(np.int64)
        old = before & (wk < kc)
        offset_now = np.asarray(
            np.bincount(parent[old], dl[old] * decay ** (kc - wk[old] - 1.0), minlength=n), dtype=np.float64
        )
        cur = before & (wk == kc)
        offset_next = offset_now * decay + np.bincount(parent[cur], dl[cur], minlength=n)
    return tc, float(c), persona, stage, offset_now, offset_next


def oracle_probabilities(
    truth_customers: pd.DataFrame, cutoff: str | pd.Timestamp, params: WorldParams | None = None
) -> pd.DataFrame:
    """True P(no purchase in the next 90 days) and P(a purchase in the next 30 days) at ``cutoff``.

    Parameters
    ----------
    truth_customers : DataFrame
        ``truth/customers`` of a world (see :func:`custml.synth.world.truth_columns`).
    cutoff : timestamp
        Any time within the window (events strictly before it form the latent state).
    params : WorldParams, optional
        The world's parameters; defaults to ``truth_customers.attrs["world_params"]`` (set by
        :func:`custml.synth.world.generate_world` and :func:`custml.synth.world.read_truth`).

    Returns
    -------
    DataFrame
        ``customer_id, person_id, p_no_purchase_90d, p_purchase_30d`` for persons signed up before the cutoff.

    Examples
    --------
    >>> from custml.synth import WorldParams, generate_world, oracle_probabilities
    >>> w = generate_world(WorldParams(n_customers=300, seed=1))
    >>> o = oracle_probabilities(w.truth["customers"], "2025-06-01")
    >>> bool(o["p_no_purchase_90d"].between(0, 1).all())
    True
    """
    params = _params_of(truth_customers, params)
    tc, c, persona, stage, offset_now, offset_next = _latent_state(
        truth_customers, pd.Timestamp(cutoff), params
    )
    n = len(tc)
    camp_effect = np.zeros(n)
    camp_rate: np.ndarray | float = 1.0
    sent, _, _ = campaign_weeks(params)
    if "campaign_arm" in tc.columns and c > sent:
        offer = tc["campaign_arm"].to_numpy(dtype=object) == "offer"
        camp_effect = np.where(offer, tc["campaign_log_hazard_effect"].to_numpy(dtype=float), 0.0)
        if "campaign_rate_effect" in tc.columns:
            camp_rate = np.where(offer, tc["campaign_rate_effect"].to_numpy(dtype=float), 1.0)
    state = PersonState(
        persona,
        tc["lambda_per_year"].to_numpy(dtype=float),
        tc["mu_per_year"].to_numpy(dtype=float),
        stage,
        offset_now,
        offset_next,
        camp_effect,
        camp_rate,
    )
    probs = oracle_from_state(params, c, state)
    return pd.DataFrame(
        {
            "customer_id": tc["customer_id"].to_numpy(),
            "person_id": tc["person_id"].to_numpy(),
            "p_no_purchase_90d": probs[90],
            "p_purchase_30d": 1.0 - probs[30],
        }
    )


def oracle_campaign_uplift(
    truth_customers: pd.DataFrame,
    horizon_days: int = 90,
    params: WorldParams | None = None,
    *,
    window_start_days: int = 0,
) -> pd.DataFrame:
    """The true effect of the retention offer on each eligible person's churn, from the latent state at sending.

    At the campaign's send time ``s`` (the latent state then; features see the state at 00:00 of that day, a
    few hours earlier), for every eligible person the oracle gives P(no purchase in ``[s, s + horizon_days)``) twice: without the offer and
    with it (the offer's true log-hazard and purchase-rate effects during its effect window). Their difference is the true uplift
    on churn: positive where the offer saves the customer (persuadable), negative for sleeping dogs, 0 for sure
    things, lost causes and persons already gone. With ``window_start_days`` = a, churn is "lapsed by the end":
    no purchase in ``[s + a, s + horizon_days)`` (the outcome of ``UpliftParams.outcome_window_days``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``person_id``, ``arm``, ``uplift_type``, ``p_churn_control``, ``p_churn_treated``,
        ``true_uplift`` (= control - treated), ``alive_at_send`` (not dropped out at ``s``), one row per eligible
        person.

    Examples
    --------
    >>> from custml.synth import WorldParams, generate_world
    >>> w = generate_world(WorldParams(n_customers=400, seed=1))
    >>> u = oracle_campaign_uplift(w.truth["customers"])
    >>> bool((u.loc[u["uplift_type"] == "persuadable", "true_uplift"] >= 0).all())
    True
    """
    params = _params_of(truth_customers, params)
    if horizon_days <= 0:
        raise ValueError("horizon_days must be positive")
    for col in ("campaign_eligible", "campaign_arm", "campaign_log_hazard_effect", "uplift_type"):
        if col not in truth_customers.columns:
            raise ValueError(f"truth customers: required column '{col}' is missing")
    cutoff = pd.Timestamp(params.campaign.sent)
    tc, c, persona, stage, offset_now, offset_next = _latent_state(truth_customers, cutoff, params)
    eligible = tc["campaign_eligible"].fillna(False).to_numpy(dtype=bool)
    tc, persona, stage = tc.loc[eligible], persona[eligible], stage[eligible]
    offset_now, offset_next = offset_now[eligible], offset_next[eligible]
    control_state = PersonState(
        persona,
        tc["lambda_per_year"].to_numpy(dtype=float),
        tc["mu_per_year"].to_numpy(dtype=float),
        stage,
        offset_now,
        offset_next,
        camp_effect=np.zeros(len(tc)),
    )
    effect = tc["campaign_log_hazard_effect"].to_numpy(dtype=float)
    rate = (
        tc["campaign_rate_effect"].to_numpy(dtype=float)
        if "campaign_rate_effect" in tc.columns
        else np.ones(len(tc))
    )
    control, treated = (
        oracle_from_state(params, c, arm, horizons=(horizon_days,), window_start=window_start_days)[
            horizon_days
        ]
        for arm in (control_state, replace(control_state, camp_effect=effect, camp_rate=rate))
    )
    return pd.DataFrame(
        {
            "customer_id": tc["customer_id"].to_numpy(),
            "person_id": tc["person_id"].to_numpy(),
            "arm": tc["campaign_arm"].astype(object).to_numpy(),
            "uplift_type": tc["uplift_type"].astype(object).to_numpy(),
            "p_churn_control": control,
            "p_churn_treated": treated,
            "true_uplift": control - treated,
            "alive_at_send": stage != 2,
        }
    )


def oracle_at_cutoffs(truth_customers: pd.DataFrame, cutoffs: Iterable[Any]) -> pd.DataFrame:
    """:func:`oracle_probabilities` at each cut-off, stacked with a ``cutoff`` column (evaluation of models
    trained on the synthetic world: the join key of :func:`custml.features.join_oracle`).

    Parameters
    ----------
    truth_customers : pandas.DataFrame
        The world's ``truth/customers`` table.
    cutoffs : iterable of date-likes
        Distinct cut-offs, in the order the parts are stacked.
    """
    parts = []
    for cut in cutoffs:
        o = oracle_probabilities(truth_customers, cut)
        o["cutoff"] = cut
        parts.append(o)
    return pd.concat(parts, ignore_index=True)


def oracle_at_test_cutoffs(
    truth_customers: pd.DataFrame, data_end: Any, horizons_days: Iterable[int]
) -> pd.DataFrame:
    """True probabilities at the test cut-off of each horizon (``data_end`` - horizon, a day), for evaluating
    models trained up to ``data_end`` against the truth (the demo's models: one horizon per task)."""
    end = pd.Timestamp(data_end)
    cutoffs = sorted({(end - pd.Timedelta(days=int(h))).normalize() for h in horizons_days})
    return oracle_at_cutoffs(truth_customers, cutoffs)
