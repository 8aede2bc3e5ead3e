"""Latent persons: persona membership and the individual parameters each person draws from its persona."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custml.synth.calendar import seasonality, window
from custml.synth.params import ACQ_NAMES, WorldParams

__all__ = ["Latent", "categorical", "draw_latent", "weights_matrix"]


@dataclass
class Latent:
    """Per-person latent parameters (arrays of length n_customers; times in days since the start).

    ``lam`` purchases per year while active, ``mu`` base hazard of starting to drop out per year, ``t_signup``,
    ``first_order`` (orders at signup), ``item_price`` (USD), ``satisfaction`` (baseline CSAT level),
    ``email_open``/``email_click`` probabilities, ``app_user``, ``consent``, ``loyalty``, ``age``, ``gender``,
    ``acquisition``, ``uplift`` (index into UPLIFT_TYPES), ``wave`` (the acquisition wave, -1 for none).
    """

    persona: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    t_signup: np.ndarray
    first_order: np.ndarray
    item_price: np.ndarray
    satisfaction: np.ndarray
    email_open: np.ndarray
    email_click: np.ndarray
    app_user: np.ndarray
    consent: np.ndarray
    loyalty: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    acquisition: np.ndarray
    uplift: np.ndarray
    wave: np.ndarray | None = (
        None  # index into params.acquisition_waves, -1 = steady sign-ups (None: no waves)
    )


def weights_matrix(params: WorldParams, attr: str, names: tuple[str, ...]) -> np.ndarray:
    """Row-normalised preference matrix (n_personas, len(names)) of one persona weight dict."""
    w = np.array([[getattr(p, attr).get(k, 0.0) for k in names] for p in params.personas.values()])
    if attr == "channel_weights":
        mult = params.locale_params.channel_multipliers
        w = w * np.array([mult.get(k, 1.0) for k in names])[None, :]
    s = w.sum(axis=1, keepdims=True)
    if (s == 0).any():
        raise ValueError(f"personas: {attr} sums to zero for a persona")
    return w / s


def categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one category per element, element ``j`` with probabilities ``probs[rows[j]]`` (vectorised).

    One uniform per element, inverted through the cumulative probabilities of its row (memory O(len(rows))).
    """
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    for k in range(probs.shape[0]):
        sel = rows == k
        out[sel] = np.searchsorted(cum[k], u[sel], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def _beta_around(rng: np.random.Generator, mean: np.ndarray, concentration: float = 8.0) -> np.ndarray:
    m = np.clip(mean, 1e-4, 1 - 1e-4)
    return rng.beta(m * concentration, (1 - m) * concentration)


def _reflect(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fold values outside [low, high] back inside (a smooth density, no spike at the bounds)."""
    x = np.where(x < low, 2 * low - x, x)
    x = np.where(x > high, 2 * high - x, x)
    return np.clip(x, low, high)


def draw_latent(params: WorldParams, rng: np.random.Generator) -> Latent:
    """Draw persona and individual parameters for ``params.n_customers`` persons.

    Signup times grow exponentially over the window (rate ratio ``signup_growth_per_year`` per year) and end
    30 days before the data end. Persons are returned in signup order.
    """
    n = params.n_customers
    ps = list(params.personas.values())
    share = np.array([p.share for p in ps])
    start, end, _ = window(params)
    span = (end - start) / np.timedelta64(1, "D") - 30.0
    c = np.log(params.signup_growth_per_year) / 365.25
    wave = None
    if params.acquisition_waves or params.signup_seasonality > 0:
        persona, t_signup, wave = _cohorts(params, rng, span, c)
    else:  # the original draws, kept in this order so that a default world stays byte-identical
        persona = rng.choice(len(ps), n, p=share / share.sum())

    def per(attr: str) -> np.ndarray:
        return np.array([getattr(p, attr) for p in ps])[persona]

    rate_shape, hazard_shape = per("rate_shape"), per("hazard_shape")
    lam = rng.gamma(rate_shape, per("rate_mean") / rate_shape) * params.purchase_rate_scale
    mu = rng.gamma(hazard_shape, per("hazard_mean") / hazard_shape)

    if wave is None:
        u = rng.random(n)
        t_signup = np.log1p(u * np.expm1(c * span)) / c if abs(c) > 1e-12 else u * span
        t_signup = np.sort(t_signup)
        # sorting keeps persons in signup order; persona and the draws above are exchangeable across persons
    first_order = rng.random(n) < params.p_first_order
    item_price = np.exp(np.log(per("item_price_median")) + per("item_price_sigma") * rng.standard_normal(n))
    satisfaction = per("satisfaction_mean") + params.service.satisfaction_sigma * rng.standard_normal(n)
    email_open = _beta_around(rng, per("email_open"))
    email_click = _beta_around(rng, per("email_click"))
    app_user = rng.random(n) < per("app_user")
    consent = rng.random(n) < per("consent_rate")
    loyalty = rng.random(n) < per("loyalty_rate")
    # Reflect at the bounds instead of clipping: clipping piled every draw under 18 onto one birth date.
    age = _reflect(per("age_mean") + 12.0 * rng.standard_normal(n), 18.0, 88.0)
    gender = np.array(["female", "male", "other"], dtype=object)[rng.choice(3, n, p=[0.49, 0.49, 0.02])]
    acquisition = categorical(rng, weights_matrix(params, "acquisition_weights", ACQ_NAMES), persona)

    pw = np.array([p.uplift_weights.get("persuadable", 0.0) for p in ps])[persona]
    sw = np.array([p.uplift_weights.get("sleeping_dog", 0.0) for p in ps])[persona]
    v = rng.random(n)
    # the rest are sure things (below the persona's mean base hazard) or lost causes (above)
    rest = np.where(mu < per("hazard_mean"), 1, 2)
    uplift = np.where(v < pw, 0, np.where(v < pw + sw, 3, rest))
    return Latent(
        persona=persona,
        lam=lam,
        mu=mu,
        t_signup=t_signup,
        first_order=first_order,
        item_price=item_price,
        satisfaction=satisfaction,
        email_open=email_open,
        email_click=email_click,
        app_user=app_user,
        consent=consent,
        loyalty=loyalty,
        age=age,
        gender=gender,
        acquisition=acquisition,
        uplift=uplift,
        wave=wave,
    )


def _cohorts(
    params: WorldParams, rng: np.random.Generator, span: float, c: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Persona, sign-up time and wave per person, in sign-up order, when the cohort mix changes over time.

    Steady sign-ups have the density ``exp(c t) * (1 + signup_seasonality * (season(t) - 1))`` on
    ``[0, span]`` (drawn by inverting its cumulative on a daily grid) and the personas' own shares; each
    acquisition wave adds ``round(share * n)`` persons, evenly within its dates and drawn from its persona mix.
    """
    n = params.n_customers
    names = list(params.personas)
    base_share = np.array([p.share for p in params.personas.values()])
    start, _, _ = window(params)
    counts = [round(w.share * n) for w in params.acquisition_waves]
    n_base = n - sum(counts)
    grid = np.arange(int(np.ceil(span)) + 1, dtype=float)
    grid[-1] = span
    season = seasonality(params)[: len(grid)]
    dens = np.exp(c * grid) * np.maximum(1.0 + params.signup_seasonality * (season - 1.0), 0.05)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    times = [np.interp(rng.random(n_base) * cum[-1], cum, grid)]
    personas = [rng.choice(len(names), n_base, p=base_share / base_share.sum())]
    waves = [np.full(n_base, -1)]
    for k, (w, m) in enumerate(zip(params.acquisition_waves, counts, strict=True)):
        a = (np.datetime64(w.start) - np.datetime64(start)) / np.timedelta64(1, "D")
        lo, hi = np.clip([a, a + w.days], 0.0, span)
        if hi <= lo:
            raise ValueError(f"acquisition wave {w.name!r}: its dates fall outside the sign-up window")
        weights = (
            np.array([w.persona_weights.get(p, 0.0) for p in names]) if w.persona_weights else base_share
        )
        times.append(lo + rng.random(m) * (hi - lo))
        personas.append(rng.choice(len(names), m, p=weights / weights.sum()))
        waves.append(np.full(m, k))
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    return np.concatenate(personas)[order], t[order], np.concatenate(waves)[order]
