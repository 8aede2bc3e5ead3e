"""The vectorised simulation: purchases, bad experiences, dropout, campaign, e-mails and app sessions.

The loop runs over weeks (about 160 for three years), never over persons or orders: within a week every
person's dropout hazard is constant (``mu * exp(offset + campaign)``), purchase times are drawn exactly from the
non-homogeneous Poisson process by inverting the cumulative intensity (:mod:`custml.synth.calendar`), and the
experiences of this week's orders change the hazard offset from the next week on. Times are float days since
the world's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from custml.synth.calendar import cumulative_intensity, window
from custml.synth.params import CHANNEL_NAMES, WorldParams
from custml.synth.personas import Latent, categorical, weights_matrix

__all__ = ["Engagement", "Simulation", "campaign_weeks", "simulate_engagement", "simulate_purchases"]

STORE = CHANNEL_NAMES.index("store")


@dataclass
class Simulation:
    """Output of :func:`simulate_purchases` (all arrays; ``o_*`` per purchase, ``tk_*`` per ticket/complaint)."""

    o_cust: np.ndarray
    o_t: np.ndarray
    o_channel: np.ndarray
    o_stage: np.ndarray  # 0 active, 1 disengaging
    o_late: np.ndarray
    o_defect: np.ndarray
    e_cust: np.ndarray  # experience events: person, order time, log-hazard delta
    e_t: np.ndarray
    e_delta: np.ndarray
    tk_cust: np.ndarray
    tk_t: np.ndarray
    tk_complaint: np.ndarray
    tk_resolved: np.ndarray
    tk_hours: np.ndarray
    sv_cust: np.ndarray
    sv_t: np.ndarray
    sv_score: np.ndarray
    t_dis: np.ndarray  # start of disengagement (inf: never within the window)
    t_dead: np.ndarray  # dropout (may lie beyond the window end; inf: never)
    eligible: np.ndarray
    treated: np.ndarray
    camp_effect: np.ndarray  # log-hazard effect for treated persons (0 otherwise)
    camp_rate: np.ndarray  # purchase-rate multiplier for treated persons during the effect (1 otherwise)
    end_days: float
    extras: dict = field(default_factory=dict)


def campaign_weeks(params: WorldParams) -> tuple[float, int, int]:
    """(sent time in days, first week with the effect, first week after the effect)."""
    start, _, _ = window(params)
    sent = (np.datetime64(params.campaign.sent) - np.datetime64(start)) / np.timedelta64(1, "D")
    k0 = int(np.floor(sent / 7.0)) + 1
    return float(sent), k0, k0 + round(params.campaign.effect_days / 7.0)


class _Intensity:
    """Evaluate and invert the persona cumulative intensities ``G_p`` (piecewise linear in days)."""

    def __init__(self, params: WorldParams) -> None:
        self.G = cumulative_intensity(params)
        n_p, d1 = self.G.shape
        self.off = float(self.G[:, -1].max()) + 1.0
        self.flat = (self.G + self.off * np.arange(n_p)[:, None]).ravel()
        self.tflat = np.tile(np.arange(d1, dtype=float), n_p)
        self.max_day = d1 - 1

    def value(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        t = np.clip(t, 0.0, self.max_day - 1e-9)
        i = t.astype(np.int64)
        lo = self.G[p, i]
        return lo + (t - i) * (self.G[p, i + 1] - lo)

    def inverse(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.interp(y + self.off * p, self.flat, self.tflat)


def _draw_times(
    rng: np.random.Generator, inten: _Intensity, idx: np.ndarray, p: np.ndarray, ys: np.ndarray, ye: np.ndarray,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    rep = np.repeat(np.arange(len(idx)), counts)
    y = ys[rep] + rng.random(len(rep)) * (ye[rep] - ys[rep])
    return idx[rep], inten.inverse(p[rep], y)


def simulate_purchases(params: WorldParams, lat: Latent, rng: np.random.Generator) -> Simulation:
    """Run the weekly loop: purchases while active/disengaging, experiences, hazards, dropout and campaign."""
    run = _Run.of(params)
    state = _State.start(len(lat.lam))
    events = _Events()
    for k in range(int(np.ceil(run.end_days / 7.0))):
        ws, we = 7.0 * k, min(7.0 * k + 7.0, run.end_days)
        state.offset *= run.decay
        state.offset += state.pending
        state.pending[:] = 0.0
        idx = np.flatnonzero((lat.t_signup < we) & (state.t_dead > ws))
        if len(idx) == 0:
            continue
        in_campaign = params.campaign.enabled and run.k_camp0 <= k < run.k_camp1
        a = np.maximum(ws, lat.t_signup[idx])
        _start_dropouts(params, run, lat, state, idx, a, (ws, we), in_campaign, rng)
        cust, t, stage = _week_purchases(params, run, lat, state, idx, a, (ws, we), in_campaign, rng)
        if len(cust) == 0:
            continue
        _week_service(params, run, lat, state, events, cust, t, stage, rng)
        if params.campaign.enabled and ws <= run.sent:
            _campaign_week(params, run, lat, state, cust, t, we, rng)
    return events.simulation(state, run.end_days)


@dataclass(frozen=True)
class _Run:
    """The constants of a run of the weekly loop."""

    inten: _Intensity
    chan_p: np.ndarray
    decay: float
    sent: float
    k_camp0: int
    k_camp1: int
    effects: np.ndarray
    rate_effects: np.ndarray
    rate_effect_on: bool
    shock_day: float
    shock_log: np.ndarray
    shock_rate: np.ndarray
    end_days: float

    @classmethod
    def of(cls, params: WorldParams) -> _Run:
        camp = params.campaign
        start, end, _ = window(params)
        sent, k_camp0, k_camp1 = campaign_weeks(params)
        rate_effects = np.array([camp.rate_effect_persuadable, 1.0, 1.0, camp.rate_effect_sleeping_dog])
        shock_day, shock_log, shock_rate = (
            np.inf,
            np.zeros(len(params.personas)),
            np.ones(len(params.personas)),
        )
        if params.shock is not None:
            shock_day = (np.datetime64(params.shock.start) - np.datetime64(start)) / np.timedelta64(1, "D")
            hit = np.isin(list(params.personas), list(params.shock.personas))
            shock_log = np.where(hit, np.log(params.shock.hazard_multiplier), 0.0)
            shock_rate = np.where(hit, params.shock.rate_multiplier, 1.0)
        return cls(
            inten=_Intensity(params),
            chan_p=weights_matrix(params, "channel_weights", CHANNEL_NAMES),
            decay=0.5 ** (7.0 / params.service.half_life_days),
            sent=sent,
            k_camp0=k_camp0,
            k_camp1=k_camp1,
            effects=np.array([camp.effect_persuadable, 0.0, 0.0, camp.effect_sleeping_dog]),
            rate_effects=rate_effects,
            rate_effect_on=bool((rate_effects != 1.0).any()),
            shock_day=shock_day,
            shock_log=shock_log,
            shock_rate=shock_rate,
            end_days=(end - start) / np.timedelta64(1, "D"),
        )


@dataclass
class _State:
    """What the loop carries per person from week to week."""

    t_dis: np.ndarray
    t_dead: np.ndarray
    offset: np.ndarray  # the experiences' log-hazard offset (decaying)
    pending: np.ndarray  # this week's experiences: in the offset from next week on
    last_before_sent: np.ndarray
    eligible: np.ndarray
    treated: np.ndarray
    camp_effect: np.ndarray
    camp_rate: np.ndarray

    @classmethod
    def start(cls, n: int) -> _State:
        return cls(
            t_dis=np.full(n, np.inf),
            t_dead=np.full(n, np.inf),
            offset=np.zeros(n),
            pending=np.zeros(n),
            last_before_sent=np.full(n, -np.inf),
            eligible=np.zeros(n, dtype=bool),
            treated=np.zeros(n, dtype=bool),
            camp_effect=np.zeros(n),
            camp_rate=np.ones(n),
        )


class _Events:
    """The rows of every week, concatenated at the end."""

    _KEYS = (
        "oc",
        "ot",
        "ost",
        "och",
        "ol",
        "od",
        "ec",
        "et",
        "ed",
        "kc",
        "kt",
        "kk",
        "kr",
        "kh",
        "sc",
        "st",
        "ss",
    )

    def __init__(self) -> None:
        self.out: dict[str, list[np.ndarray]] = {k: [] for k in self._KEYS}

    def add(self, **week: np.ndarray) -> None:
        for key, val in week.items():
            self.out[key].append(val)

    def _cat(self, key: str, dtype: type) -> np.ndarray:
        return np.concatenate(self.out[key]) if self.out[key] else np.zeros(0, dtype)

    def simulation(self, state: _State, end_days: float) -> Simulation:
        cat = self._cat
        return Simulation(
            o_cust=cat("oc", np.int64),
            o_t=cat("ot", float),
            o_channel=cat("och", np.int8),
            o_stage=cat("ost", np.int8),
            o_late=cat("ol", bool),
            o_defect=cat("od", bool),
            e_cust=cat("ec", np.int64),
            e_t=cat("et", float),
            e_delta=cat("ed", float),
            tk_cust=cat("kc", np.int64),
            tk_t=cat("kt", float),
            tk_complaint=cat("kk", bool),
            tk_resolved=cat("kr", bool),
            tk_hours=cat("kh", float),
            sv_cust=cat("sc", np.int64),
            sv_t=cat("st", float),
            sv_score=cat("ss", float),
            t_dis=state.t_dis,
            t_dead=state.t_dead,
            eligible=state.eligible,
            treated=state.treated,
            camp_effect=state.camp_effect,
            camp_rate=state.camp_rate,
            end_days=float(end_days),
        )


def _start_dropouts(
    params: WorldParams,
    run: _Run,
    lat: Latent,
    state: _State,
    idx: np.ndarray,
    a: np.ndarray,
    week: tuple[float, float],
    in_campaign: bool,
    rng: np.random.Generator,
) -> None:
    """Active persons start disengaging with hazard h (constant within the week), and drop out after a delay."""
    ws, we = week
    dmean = params.disengage_days_mean
    log_h = state.offset[idx] if params.service.enabled else np.zeros(len(idx))
    if in_campaign:
        log_h = log_h + state.camp_effect[idx]
    # the behaviour change (ShockParams): a persona's hazard is multiplied from then on
    if ws >= run.shock_day:
        log_h = log_h + run.shock_log[lat.persona[idx]]
    h = lat.mu[idx] / 365.25 * np.exp(log_h)
    e = rng.exponential(size=len(idx)) / h
    d_extra = rng.exponential(dmean, size=len(idx)) if dmean > 0 else np.zeros(len(idx))
    new = np.isinf(state.t_dis[idx]) & (a + e < we)
    state.t_dis[idx[new]] = a[new] + e[new]
    state.t_dead[idx[new]] = a[new] + e[new] + d_extra[new]


def _week_purchases(
    params: WorldParams,
    run: _Run,
    lat: Latent,
    state: _State,
    idx: np.ndarray,
    a: np.ndarray,
    week: tuple[float, float],
    in_campaign: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This week's orders (person, time, stage 0 active / 1 disengaging): first orders at sign-up, then the
    active part ``[a, min(we, t_dis)]`` and the disengaging part ``[max(a, t_dis), min(we, t_dead)]``."""
    ws, we = week
    p = lat.persona[idx]
    inten = run.inten
    td, tdead = state.t_dis[idx], state.t_dead[idx]
    ea = np.minimum(we, td)
    ga0, ga1 = inten.value(p, a), inten.value(p, np.maximum(ea, a))
    sd = np.maximum(a, td)
    ed = np.maximum(np.minimum(we, tdead), sd)
    gd0, gd1 = inten.value(p, sd), inten.value(p, ed)
    lam = lat.lam[idx] * run.shock_rate[p] if ws >= run.shock_day else lat.lam[idx]
    if run.rate_effect_on and in_campaign:
        lam = lam * state.camp_rate[idx]
    na = rng.poisson(lam * (ga1 - ga0))
    nd = rng.poisson(params.disengaged_rate_factor * lam * (gd1 - gd0))
    ca, ta = _draw_times(rng, inten, idx, p, ga0, ga1, na)
    cd, tdd = _draw_times(rng, inten, idx, p, gd0, gd1, nd)
    su = idx[(lat.t_signup[idx] >= ws) & lat.first_order[idx]]
    cust = np.concatenate([su, ca, cd])
    t = np.concatenate([lat.t_signup[su], ta, tdd])
    stage = np.concatenate([np.zeros(len(su) + len(ca), np.int8), np.ones(len(cd), np.int8)])
    return cust, t, stage


def _week_service(
    params: WorldParams,
    run: _Run,
    lat: Latent,
    state: _State,
    events: _Events,
    cust: np.ndarray,
    t: np.ndarray,
    stage: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Channels and service of this week's orders: late deliveries, defects, tickets and complaints, their
    experiences (in ``state.pending``) and the satisfaction surveys; all rows go to ``events``."""
    svc = params.service
    m = len(cust)
    channel = categorical(rng, run.chan_p, lat.persona[cust]).astype(np.int8)
    u = rng.random((6, m))
    late = (channel != STORE) & (u[0] < svc.p_late) & svc.enabled
    defect = (u[1] < svc.p_defect) & svc.enabled
    contact = defect | (late & (u[2] < svc.p_ticket_late))
    complaint = contact & (u[3] < svc.p_complaint)
    resolved = contact & (u[4] < np.where(complaint, svc.p_resolve_complaint, svc.p_resolve_ticket))
    hours = np.exp(np.log(svc.resolution_hours_median) + svc.resolution_hours_sigma * rng.standard_normal(m))
    hours = np.where(complaint, hours * 2.5, hours)
    delta = np.select(
        [
            late & ~contact,
            contact & ~complaint & resolved & (hours <= svc.fast_resolution_hours),
            contact & ~complaint & resolved,
            contact & ~complaint,
            complaint & resolved,
            complaint,
        ],
        [
            svc.delta_late_silent,
            svc.delta_ticket_fast,
            svc.delta_ticket_resolved,
            svc.delta_ticket_unresolved,
            svc.delta_complaint_resolved,
            svc.delta_complaint_unresolved,
        ],
        0.0,
    )
    ev = delta != 0
    if ev.any():
        np.add.at(state.pending, cust[ev], delta[ev])
    # satisfaction surveys read the latent satisfaction (baseline minus the current offset) with noise
    sat_now = lat.satisfaction[cust] - svc.satisfaction_per_offset * state.offset[cust]
    sv1 = u[5] < svc.survey_after_order
    tk_t = t + np.where(defect, 1.0 + 7.0 * u[2], 4.0 + 6.0 * u[2])
    sv2 = contact & (rng.random(m) < svc.survey_after_ticket)
    sv_t = np.concatenate([t[sv1] + 1.0 + 3.0 * u[3][sv1], tk_t[sv2] + hours[sv2] / 24.0 + 1.0])
    sv_base = np.concatenate([sat_now[sv1], sat_now[sv2] - svc.satisfaction_per_offset * delta[sv2]])
    sv_score = np.clip(np.rint(sv_base + svc.survey_noise * rng.standard_normal(len(sv_base))), 1, 5)
    events.add(
        oc=cust, ot=t, ost=stage, och=channel, ol=late, od=defect,
        ec=cust[ev], et=t[ev], ed=delta[ev],
        kc=cust[contact], kt=tk_t[contact], kk=complaint[contact], kr=resolved[contact], kh=hours[contact],
        sc=np.concatenate([cust[sv1], cust[sv2]]), st=sv_t, ss=sv_score,
    )  # fmt: skip


def _campaign_week(
    params: WorldParams,
    run: _Run,
    lat: Latent,
    state: _State,
    cust: np.ndarray,
    t: np.ndarray,
    we: float,
    rng: np.random.Generator,
) -> None:
    """Track each person's last order before sending; in the week of sending, randomise the campaign among
    persons active in the year before."""
    camp = params.campaign
    before = t < run.sent
    np.maximum.at(state.last_before_sent, cust[before], t[before])
    if run.sent < we:
        state.eligible = (state.last_before_sent >= run.sent - camp.eligible_active_days) & (
            lat.t_signup < run.sent
        )
        state.treated = state.eligible & (rng.random(len(lat.lam)) < camp.treat_share)
        state.camp_effect = np.where(state.treated, run.effects[lat.uplift], 0.0)
        state.camp_rate = np.where(state.treated, run.rate_effects[lat.uplift], 1.0)


@dataclass
class Engagement:
    """E-mails (sent/open/click) and app sessions: person, time, kind code."""

    cust: np.ndarray
    t: np.ndarray
    kind: np.ndarray  # 0 email_sent, 1 email_open, 2 email_click, 3 app_session


def _stage_factor(
    t: np.ndarray, t_dis: np.ndarray, t_dead: np.ndarray, f_dis: float, f_dead: float
) -> np.ndarray:
    return np.where(t < t_dis, 1.0, np.where(t < t_dead, f_dis, f_dead))


def simulate_engagement(
    params: WorldParams, lat: Latent, sim: Simulation, rng: np.random.Generator
) -> Engagement:
    """Monthly newsletters (plus the campaign e-mail to the offer arm) and app sessions.

    Open probability is the person's ``email_open`` times 1 (active), ``disengaged_email_factor``
    (disengaging) or ``dead_email_factor`` (dropped out); clicks are conditional on opens. Persons unsubscribe
    at a constant rate, and an exponential time after dropping out. App users' sessions are thinned by the same
    stage factors.
    """
    start, _, _ = window(params)
    end_days = sim.end_days
    months = np.arange(params.years * 12)
    send_days = (
        (
            np.array([np.datetime64(start, "M") + int(m) for m in months]).astype("datetime64[D]")
            - np.datetime64(start, "D")
        ).astype(float)
        + 4.0
        + 10.0 / 24.0
    )  # the 5th of each month, 10:00
    n = len(lat.lam)
    unsub = sim.t_dead + rng.exponential(params.unsubscribe_days_after_dropout, n)
    if params.unsubscribe_per_year > 0:
        unsub = np.minimum(unsub, lat.t_signup + rng.exponential(365.25 / params.unsubscribe_per_year, n))
    f_dis, f_dead = params.disengaged_email_factor, params.dead_email_factor
    cs, ts, ks = [], [], []
    sends = [
        (s, np.flatnonzero(lat.consent & (lat.t_signup < s) & (unsub > s))) for s in send_days if s < end_days
    ]
    if params.campaign.enabled:
        sent, _, _ = campaign_weeks(params)
        sends.append((sent, np.flatnonzero(sim.treated)))
    for s, who in sends:
        m = len(who)
        f = _stage_factor(np.full(m, s), sim.t_dis[who], sim.t_dead[who], f_dis, f_dead)
        u = rng.random((4, m))
        opened = u[0] < lat.email_open[who] * f
        clicked = opened & (u[1] < lat.email_click[who])
        t_open = s + rng.exponential(0.6, m)
        t_click = t_open + u[2] * 0.02
        cs += [who, who[opened], who[clicked]]
        ts += [np.full(m, s), t_open[opened], t_click[clicked]]
        ks += [np.zeros(m, np.int8), np.ones(opened.sum(), np.int8), np.full(clicked.sum(), 2, np.int8)]
    # app sessions: candidate sessions at the persona rate while signed up, thinned by stage
    rate = np.array([p.app_sessions_per_month for p in params.personas.values()])[lat.persona] * lat.app_user
    exposure = np.maximum(end_days - lat.t_signup, 0.0) / 30.4375
    cnt = rng.poisson(rate * exposure)
    c = np.repeat(np.arange(len(cnt)), cnt)
    t = lat.t_signup[c] + rng.random(len(c)) * (end_days - lat.t_signup[c])
    keep = rng.random(len(c)) < _stage_factor(t, sim.t_dis[c], sim.t_dead[c], f_dis, 0.03)
    cs.append(c[keep])
    ts.append(t[keep])
    ks.append(np.full(int(keep.sum()), 3, np.int8))
    t_all = np.concatenate(ts)
    ok = t_all <= end_days
    return Engagement(cust=np.concatenate(cs)[ok], t=t_all[ok], kind=np.concatenate(ks)[ok])
