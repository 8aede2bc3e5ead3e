"""Parameters of the synthetic customer world: typed, documented, YAML-able (``WorldParams.model_dump()``).

Every behaviour the simulator has is a number here, with its default and its meaning. Rates are per year,
durations in days, amounts in US dollars (scaled by :attr:`LocaleParams.currency_rate` for other locales).

The model in one paragraph: each person belongs to a latent persona and draws individual parameters from it
(purchase rate ``lambda``, base dropout hazard ``mu``, spend, discount sensitivity, satisfaction). While *active*,
the person buys as a Poisson process with intensity ``lambda * season(t) * (1 + kappa * promo(t))``. The person
becomes *disengaging* with hazard ``mu * exp(experience(t) + campaign(t))`` (piecewise constant per week):
``experience`` rises after bad experiences (late delivery, defects, tickets, complaints; unresolved complaints
weigh most), falls after quickly resolved tickets and decays with a half-life. A disengaging person buys at a
reduced rate, opens fewer e-mails and uses the app less, and drops out for good after an exponential time
(mean ``disengage_days_mean``; 0 means dropout is immediate, a pure buy-till-you-die process).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from custml.settings import Settings

__all__ = [
    "CATEGORIES",
    "AcquisitionWave",
    "CampaignParams",
    "DirtParams",
    "LocaleParams",
    "PersonaParams",
    "ServiceParams",
    "ShockParams",
    "WorldParams",
    "default_personas",
]

CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "grocery", "toys")
CHANNEL_NAMES = ("web", "app", "store", "marketplace")
ACQ_NAMES = ("organic", "paid_search", "social", "referral", "affiliate", "store")
UPLIFT_TYPES = ("persuadable", "sure_thing", "lost_cause", "sleeping_dog")


class _Model(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonaParams(_Model):
    """One latent persona: the population share and the distributions its members draw from.

    ``rate_mean``/``rate_shape``: the individual purchase rate (orders per year while active) is
    Gamma(shape, mean) distributed. ``hazard_mean``/``hazard_shape``: the individual base hazard of starting to
    drop out (per year) is Gamma distributed. ``item_price_median``/``item_price_sigma``: log-normal typical item
    price of the person (USD); each order varies around it with ``order_price_sigma``. ``items_mean``: mean
    number of items per order (1 + Poisson). ``discount_sensitivity`` (kappa): purchase intensity is multiplied by
    ``1 + kappa`` on promotion days. ``coupon_rate``: share of non-promotion orders with a coupon;
    ``first_order_coupon``: share of first orders (off promotion) with a welcome coupon (the larger of the two
    applies to a first order). ``return_rate``: share of orders returned for reasons other than defects.
    ``category_weights`` and
    ``channel_weights``: preferences (normalised). ``app_user``: share using the app; ``app_sessions_per_month``:
    their mean sessions while active. ``email_open``/``email_click``: base probabilities per e-mail while active.
    ``satisfaction_mean``: latent baseline satisfaction on the CSAT scale. ``age_mean``: mean age in years.
    ``loyalty_rate``/``consent_rate``: share in the loyalty programme / consenting to marketing.
    ``acquisition_weights``: acquisition channel mix. ``uplift_weights``: probabilities of persuadable and
    sleeping-dog reactions to the retention offer (the rest are sure things or lost causes, split by base hazard).
    ``season_strength``: how strongly the persona follows the world's seasonal calendar (1 = as the calendar,
    0 = evenly over the year, 2 = twice the swing around the mean, e.g. gift shoppers who buy for Christmas).
    """

    share: float = Field(gt=0)
    rate_mean: float = Field(gt=0)
    rate_shape: float = Field(gt=0)
    hazard_mean: float = Field(gt=0)
    hazard_shape: float = Field(gt=0)
    item_price_median: float = Field(gt=0)
    item_price_sigma: float = Field(ge=0)
    order_price_sigma: float = Field(default=0.35, ge=0)
    items_mean: float = Field(ge=0)
    discount_sensitivity: float = Field(ge=0)
    coupon_rate: float = Field(ge=0, le=1)
    first_order_coupon: float = Field(default=0.0, ge=0, le=1)
    return_rate: float = Field(ge=0, le=1)
    category_weights: dict[str, float]
    channel_weights: dict[str, float]
    app_user: float = Field(ge=0, le=1)
    app_sessions_per_month: float = Field(ge=0)
    email_open: float = Field(ge=0, le=1)
    email_click: float = Field(ge=0, le=1)
    satisfaction_mean: float = Field(ge=1, le=5)
    age_mean: float = Field(gt=15, lt=90)
    loyalty_rate: float = Field(ge=0, le=1)
    consent_rate: float = Field(ge=0, le=1)
    acquisition_weights: dict[str, float]
    uplift_weights: dict[str, float] = Field(
        default_factory=lambda: {"persuadable": 0.3, "sleeping_dog": 0.08},
        description="probabilities of 'persuadable' and 'sleeping_dog'",
    )
    season_strength: float = Field(
        default=1.0, ge=0, description="scales the seasonal swing (1: as the calendar)"
    )

    @model_validator(mode="after")
    def _check_keys(self) -> PersonaParams:
        for name, allowed, weights in (
            ("category_weights", CATEGORIES, self.category_weights),
            ("channel_weights", CHANNEL_NAMES, self.channel_weights),
            ("acquisition_weights", ACQ_NAMES, self.acquisition_weights),
            ("uplift_weights", ("persuadable", "sleeping_dog"), self.uplift_weights),
        ):
            unknown = set(weights) - set(allowed)
            if unknown:
                raise ValueError(f"{name}: unknown keys {sorted(unknown)} (allowed: {list(allowed)})")
            if any(v < 0 for v in weights.values()):
                raise ValueError(f"{name}: weights must be non-negative")
        if sum(self.uplift_weights.values()) > 1:
            raise ValueError("uplift_weights: persuadable + sleeping_dog must not exceed 1")
        return self


def default_personas() -> dict[str, PersonaParams]:
    """The five default personas (shares sum to 1).

    Purchase and dropout dynamics (rates, hazards, promotion sensitivity kappa) define churn and are what the
    oracle and the models are measured against. The static spending style (prices, basket size, coupons,
    categories, channels, app, e-mail, loyalty, acquisition) follows common retail segment descriptions and is
    visible from the first order on; each persona keeps its share of store orders (store orders are never
    late, so the mix of bad experiences is unchanged).

    - ``bargain_hunter``: buys on promotions (kappa 2.5) and with coupons, cheap items in fashion/beauty/home,
      marketplace first, acquired by affiliates and social media, opens and clicks deal e-mails.
    - ``loyal_regular``: frequent, long-lived, loyalty members using the app, steady mid-priced grocery/home
      baskets, the most e-mail engaged.
    - ``big_spender``: expensive electronics/home baskets of several items, web and store, rarely discounted.
    - ``occasional``: a few gift-like orders a year (toys, books, beauty), web, little engagement.
    - ``one_timer``: rarely comes back (short expected lifetime); acquired through paid search, affiliates and
      social media with a welcome coupon, almost no e-mail or app engagement.
    """
    from custml.synth.persona_defaults import DEFAULT_PERSONAS  # the data module imports this one

    return {name: persona.model_copy(deep=True) for name, persona in DEFAULT_PERSONAS.items()}


class ServiceParams(_Model):
    """Bad experiences, tickets, complaints and their effect on the dropout hazard (log scale).

    Per order: delivery is late with ``p_late`` (store orders never), the product is defective with
    ``p_defect``. A late order raises a ticket with ``p_ticket_late``; a defect always raises a ticket; either
    escalates to a complaint with ``p_complaint``. Tickets are resolved with ``p_resolve_ticket``, complaints
    with ``p_resolve_complaint`` (resolution hours log-normal). Each experience adds ``delta_*`` to the person's
    log-hazard offset from the start of the following week; the offset decays with ``half_life_days``.
    A ticket resolved within ``fast_resolution_hours`` lowers the hazard (service recovery).
    """

    p_late: float = Field(default=0.07, ge=0, le=1)
    p_defect: float = Field(default=0.025, ge=0, le=1)
    p_ticket_late: float = Field(default=0.35, ge=0, le=1)
    p_complaint: float = Field(default=0.25, ge=0, le=1)
    p_resolve_ticket: float = Field(default=0.85, ge=0, le=1)
    p_resolve_complaint: float = Field(default=0.65, ge=0, le=1)
    p_refund_defect: float = Field(default=0.7, ge=0, le=1)
    resolution_hours_median: float = Field(default=20.0, gt=0)
    resolution_hours_sigma: float = Field(default=1.0, ge=0)
    fast_resolution_hours: float = Field(default=12.0, ge=0)
    delta_late_silent: float = 0.15
    delta_ticket_fast: float = -0.25
    delta_ticket_resolved: float = 0.25
    delta_ticket_unresolved: float = 0.7
    delta_complaint_resolved: float = 0.5
    delta_complaint_unresolved: float = 1.4
    half_life_days: float = Field(default=180.0, gt=0)
    survey_after_order: float = Field(default=0.08, ge=0, le=1)
    survey_after_ticket: float = Field(default=0.5, ge=0, le=1)
    satisfaction_sigma: float = Field(default=0.45, ge=0, description="person-level spread of satisfaction")
    satisfaction_per_offset: float = Field(default=1.0, ge=0, description="CSAT points lost per unit offset")
    survey_noise: float = Field(default=0.6, ge=0)
    enabled: bool = True


class CampaignParams(_Model):
    """The randomised retention campaign and its true heterogeneous effect on the dropout hazard.

    Eligible: persons with at least one order in the ``eligible_active_days`` before ``sent`` (an observable
    rule: some eligible persons have already dropped out, as in a real campaign). Half of them are drawn into
    the ``offer`` arm. For treated persons the dropout hazard is multiplied by ``exp(effect)`` during
    ``effect_days`` from the first week boundary after ``sent``: persuadable ``effect_persuadable``, sleeping dog
    ``effect_sleeping_dog``, sure thing and lost cause 0. During the same weeks a treated person's purchase rate
    is multiplied by ``rate_effect_persuadable`` / ``rate_effect_sleeping_dog`` (1 = the offer changes only
    the dropout hazard; 1.5 = a voucher that brings persuadables' purchases forward).

    ``uplift_truth``: also write ``truth/campaign_uplift``, each eligible person's true uplift on churn
    (:func:`custml.synth.oracle_campaign_uplift` with ``uplift_horizon_days`` and ``uplift_window_start_days``:
    by default the outcome of ``custml.uplift.UpliftParams``, no order in the last 90 of the 180 days after
    sending).
    """

    campaign_id: str = "RET-2025-07"
    sent: str = "2025-07-01 09:00:00"
    eligible_active_days: int = Field(default=365, gt=0)
    treat_share: float = Field(default=0.5, gt=0, lt=1)
    offer_cost_usd: float = Field(default=10.0, ge=0)
    effect_days: int = Field(default=180, gt=0)
    effect_persuadable: float = -1.2
    effect_sleeping_dog: float = 0.7
    rate_effect_persuadable: float = Field(default=1.0, gt=0)
    rate_effect_sleeping_dog: float = Field(default=1.0, gt=0)
    enabled: bool = True
    uplift_truth: bool = False
    uplift_horizon_days: int = Field(default=180, gt=0)
    uplift_window_start_days: int = Field(default=90, ge=0)

    @model_validator(mode="after")
    def _window(self) -> CampaignParams:
        if self.uplift_window_start_days >= self.uplift_horizon_days:
            raise ValueError(
                f"uplift_window_start_days ({self.uplift_window_start_days}) must be shorter than "
                f"uplift_horizon_days ({self.uplift_horizon_days})"
            )
        return self


class DirtParams(_Model):
    """How the ``dirty`` rate turns into anomalies: each entry is multiplied by ``dirty``.

    ``duplicate_persons`` share of persons get a second customer record; ``invalid_email``/``invalid_phone``
    share of records get a malformed value; ``missing_optional`` share of optional cells become null;
    ``duplicate_order_rows`` share of order rows appear twice; ``negative_amount`` share of non-refund orders
    get a negative amount; ``malformed_ts``/``future_ts``/``offset_ts`` shares of timestamps are malformed,
    future-dated or written with a ``+08:00`` zone offset.

    The heavier corruption of duplicate records (shares of duplicate records, not multiplied by ``dirty``; all 0 by
    default, so a light world is what it always was): ``name_swap`` given name and surname swapped,
    ``given_name_missing`` only the surname, ``name_typos_both`` a typo in each name, ``surname_replaced`` another
    surname (marriage), ``nickname`` a nickname or short form for the given name (these five are exclusive, in that
    order); independently ``birth_date_typo`` day and month swapped or one digit off, ``address_typo`` one
    character off, ``email_other_provider`` the same local part at another provider. :meth:`preset` names the
    ``light`` (default) and ``heavy`` settings.
    """

    duplicate_persons: float = 1.0
    invalid_email: float = 0.3
    invalid_phone: float = 0.3
    missing_optional: float = 0.5
    duplicate_order_rows: float = 0.1
    negative_amount: float = 0.02
    malformed_ts: float = 0.02
    future_ts: float = 0.01
    offset_ts: float = 0.1
    name_swap: float = Field(0.0, ge=0, le=1)
    given_name_missing: float = Field(0.0, ge=0, le=1)
    name_typos_both: float = Field(0.0, ge=0, le=1)
    surname_replaced: float = Field(0.0, ge=0, le=1)
    nickname: float = Field(0.0, ge=0, le=1)
    birth_date_typo: float = Field(0.0, ge=0, le=1)
    address_typo: float = Field(0.0, ge=0, le=1)
    email_other_provider: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _check_name_kinds(self) -> DirtParams:
        total = (
            self.name_swap
            + self.given_name_missing
            + self.name_typos_both
            + self.surname_replaced
            + self.nickname
        )
        if total > 1:
            raise ValueError(
                f"dirt: the name corruption shares add up to {total:.3g} > 1 (they are exclusive)"
            )
        return self

    @property
    def heavy_kinds(self) -> bool:
        """Whether any of the heavier duplicate-record corruptions is switched on."""
        return any(getattr(self, k) > 0 for k in HEAVY_DIRT_KINDS)

    @classmethod
    def preset(cls, name: str) -> DirtParams:
        """``light`` (the defaults) or ``heavy`` (what real CRMs hold: 5x the duplicates, and most duplicate
        records carry one of the name corruptions plus birth-date, address and e-mail changes).

        Examples
        --------
        >>> DirtParams.preset("heavy").name_swap, DirtParams.preset("light").name_swap
        (0.1, 0.0)
        """
        if name == "light":
            return cls()
        if name == "heavy":
            return cls(
                duplicate_persons=5.0,
                name_swap=0.1,
                given_name_missing=0.08,
                name_typos_both=0.15,
                surname_replaced=0.08,
                nickname=0.1,
                birth_date_typo=0.15,
                address_typo=0.2,
                email_other_provider=0.25,
            )
        raise ValueError(f"dirt preset: unknown {name!r} (known: {', '.join(DIRT_PRESETS)})")


DIRT_PRESETS = ("light", "heavy")
HEAVY_DIRT_KINDS = (
    "name_swap",
    "given_name_missing",
    "name_typos_both",
    "surname_replaced",
    "nickname",
    "birth_date_typo",
    "address_typo",
    "email_other_provider",
)


class LocaleParams(_Model):
    """Locale-specific settings: currency, channel tilt and shopping calendar."""

    faker_locale: str
    country: str
    currency: str
    currency_rate: float = Field(gt=0, description="local currency per USD for amounts")
    channel_multipliers: dict[str, float]

    @staticmethod
    def for_locale(locale: str) -> LocaleParams:
        if locale == "zh_CN":
            return LocaleParams(
                faker_locale="zh_CN",
                country="CN",
                currency="CNY",
                currency_rate=7.0,
                channel_multipliers={"web": 0.4, "app": 2.0, "store": 0.7, "marketplace": 2.5},
            )
        return LocaleParams(
            faker_locale="en_US",
            country="US",
            currency="USD",
            currency_rate=1.0,
            channel_multipliers={"web": 1.0, "app": 1.0, "store": 1.0, "marketplace": 1.0},
        )


class ShockParams(_Model):
    """A behaviour change from a date on (off unless set): e.g. a price rise that lifts dropout for some personas.

    From the first simulated week that starts on or after ``start``, the dropout hazard of every person of the
    ``personas`` listed is multiplied by ``hazard_multiplier`` (on top of experiences and the campaign) and their
    purchase rate by ``rate_multiplier`` (a price rise: fewer purchases at once, more dropout over time). Without a
    shock (``WorldParams.shock=None``, the default) the simulation is exactly what it was before this setting
    existed; with one, the random streams diverge once the hazard changes who drops out, so compare a shocked
    world with itself before ``start`` rather than with an unshocked twin. By default the oracle
    (:mod:`custml.synth.oracle`) does not know about the shock: it describes the world before the change, which
    is what a model trained before it has learnt; ``in_oracle=True`` makes the oracle (and the truth's campaign
    uplift) exact after the change too. ``name`` and ``description`` say what happened (the manifest's
    ``shock`` entry records them with the date the change takes effect).
    """

    start: str
    name: str = "shock"
    description: str = ""
    in_oracle: bool = False
    personas: tuple[str, ...] = Field(min_length=1)
    hazard_multiplier: float = Field(default=3.0, gt=0)
    rate_multiplier: float = Field(default=1.0, gt=0)


class AcquisitionWave(_Model):
    """A burst of sign-ups on top of the steady growth: ``share`` of all persons sign up evenly within
    ``[start, start + days)`` (e.g. a paid-social push or a marketplace launch), drawn from ``persona_weights``
    (persona name -> weight; empty = the personas' own shares), so the cohort mix changes over time. The truth
    records each person's wave (``truth/customers.acquisition_wave``).
    """

    name: str
    start: str
    days: int = Field(gt=0)
    share: float = Field(gt=0, lt=1)
    persona_weights: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _weights(self) -> AcquisitionWave:
        if any(v < 0 for v in self.persona_weights.values()) or (
            self.persona_weights and sum(self.persona_weights.values()) <= 0
        ):
            raise ValueError(
                f"acquisition wave {self.name!r}: persona_weights must be non-negative, not all 0"
            )
        return self


class WorldParams(_Model):
    """Everything that defines a synthetic world; same parameters and seed give byte-identical tables.

    ``start`` + ``years`` is the observation window (data end = last second of the window). Signups grow by
    ``signup_growth_per_year`` (ratio of the signup rate one year later). ``p_first_order`` of signups order at
    signup; the others are prospects until their purchase process yields an order. ``seasonality`` scales the
    seasonal swing (0 = flat); ``promotions`` switches promotion days on or off. ``disengage_days_mean`` is
    the mean time from starting to disengage to dropping out (0 = immediate). ``disengaged_rate_factor`` is the
    purchase rate factor while disengaging. ``purchase_rate_scale`` multiplies all purchase rates (a denser
    world for benchmarks: about 6 gives some 15 orders per person). Marketing e-mails stop when a person unsubscribes: at
    ``unsubscribe_per_year`` while buying, and an exponential time (mean ``unsubscribe_days_after_dropout``) after
    dropping out.

    The calendar and the cohorts (all off by default): ``monthly_demand`` (12 values, January first) replaces
    the built-in holiday shape of the demand calendar by a month-by-month profile (the weekly rhythm and the
    promotion days stay); ``signup_seasonality`` makes sign-ups follow the demand calendar (0 = growth only,
    1 = as much as purchases); ``acquisition_waves`` add bursts of sign-ups with their own persona mix.
    :func:`world_preset` returns named worlds (``retail``: a shop whose churn base rate moves with the season).
    """

    n_customers: int = Field(default=50_000, gt=0, description="number of real persons")
    seed: int = Field(default=0, ge=0)
    locale: Literal["en_US", "zh_CN"] = "en_US"
    dirty: float = Field(default=0.0, ge=0, le=0.5)
    start: str = "2023-01-01"
    years: int = Field(default=3, ge=1, le=10)
    reference_cutoff: str = "2025-10-01"
    signup_growth_per_year: float = Field(default=1.5, gt=0)
    p_first_order: float = Field(default=0.92, ge=0, le=1)
    purchase_rate_scale: float = Field(
        default=1.0, gt=0, description="multiplies every persona's purchase rate"
    )
    seasonality: float = Field(default=1.0, ge=0)
    promotions: bool = True
    disengage_days_mean: float = Field(default=45.0, ge=0)
    disengaged_rate_factor: float = Field(default=0.35, ge=0, le=1)
    disengaged_email_factor: float = Field(default=0.3, ge=0, le=1)
    dead_email_factor: float = Field(default=0.05, ge=0, le=1)
    unsubscribe_days_after_dropout: float = Field(default=120.0, gt=0)
    unsubscribe_per_year: float = Field(default=0.25, ge=0, description="list churn of persons still buying")
    personas: dict[str, PersonaParams] = Field(default_factory=default_personas)
    service: ServiceParams = Field(default_factory=ServiceParams)
    campaign: CampaignParams = Field(default_factory=CampaignParams)
    dirt: DirtParams = Field(default_factory=DirtParams)
    name_pool: int = Field(default=2000, gt=10)
    address_pool: int = Field(default=8000, gt=10)
    shock: ShockParams | None = Field(default=None, description="behaviour change from a date on (off: None)")
    monthly_demand: tuple[float, ...] | None = Field(
        default=None, description="12 monthly demand multipliers (Jan..Dec) replacing the holiday shape"
    )
    signup_seasonality: float = Field(default=0.0, ge=0, description="sign-ups follow the demand calendar")
    acquisition_waves: tuple[AcquisitionWave, ...] = Field(default=(), description="bursts of sign-ups")

    @model_validator(mode="after")
    def _check(self) -> WorldParams:
        if not self.personas:
            raise ValueError("personas: at least one persona is required")
        if self.monthly_demand is not None and (
            len(self.monthly_demand) != 12 or min(self.monthly_demand) <= 0
        ):
            raise ValueError("monthly_demand: give 12 positive values (January to December)")
        for wave in self.acquisition_waves:
            unknown = [p for p in wave.persona_weights if p not in self.personas]
            if unknown:
                raise ValueError(
                    f"acquisition_waves[{wave.name!r}].persona_weights: unknown persona(s) {unknown} "
                    f"(known: {list(self.personas)})"
                )
        if sum(w.share for w in self.acquisition_waves) >= 1:
            raise ValueError("acquisition_waves: the shares must sum to less than 1")
        if self.shock is not None:
            unknown = [p for p in self.shock.personas if p not in self.personas]
            if unknown:
                raise ValueError(
                    f"shock.personas: unknown persona(s) {unknown} (known: {list(self.personas)})"
                )
        return self

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> WorldParams:
        """The parameters of a named world (:func:`custml.synth.presets.world_preset`), fields overridden."""
        from custml.synth.presets import world_preset

        return world_preset(name, **overrides)

    @property
    def locale_params(self) -> LocaleParams:
        return LocaleParams.for_locale(self.locale)
