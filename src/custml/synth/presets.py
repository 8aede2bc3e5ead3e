"""Named synthetic worlds: :func:`world_preset` returns the :class:`WorldParams` of a preset, with overrides.

``default``: :class:`WorldParams()` as it is (a nearly stationary world; many tests pin its figures).

``retail``: a shop whose numbers move with the calendar, set beside a real UK online retailer's year
(``online_retail_II``, 2009-2010) and CDNOW by ``benchmarks/realism_retail.py``:

- **a Q4 peak**: a month-by-month demand profile (``monthly_demand``) that, with each persona's
  ``season_strength`` and the Christmas sign-ups, makes November about 1.7 times the monthly mean order count
  (the last 12 months) and January-February the trough;
- **gift shoppers and trade-like buyers**: ``occasional`` buyers (47 %) shop mostly for Christmas
  (``season_strength`` 3) and ``trade_buyer`` s (12 %) buy large cheap baskets about once a month, steadily,
  so that among active customers the 90-day churn base rate is about 0.50 at a September cut-off (the peak
  lies ahead), about 0.68 at a December cut-off (the trough lies ahead, and the autumn's new customers are
  mostly one-off) and about 0.6 in spring (the real shop: 0.42 and 0.51 in September, 0.67 in December);
- **growth and acquisition waves**: sign-ups grow by half a year and follow the season
  (``signup_seasonality``), and four waves bring cohorts of their own mix (a spring paid-social push of
  bargain hunters and one-timers in 2024, Christmas-gift waves in 2024 and 2025, a trade fair of trade buyers
  in February 2025), so the cohort mix changes over time (``truth/customers.acquisition_wave``);
- **one dated shift**: a price rise on 1 March 2025 (``shock``) doubles the dropout hazard of bargain hunters,
  occasional buyers and one-timers and cuts their purchase rate by a fifth; the manifest records it
  (``manifest["shock"]``, with the date it takes effect), the truth marks who is hit (``shock_hit``) and the
  oracle knows it (``in_oracle``);
- **a retention campaign whose effect differs by customer** (sent 1 June 2025, acting 180 days): for
  persuadables the offer cuts the dropout hazard (log -3) and doubles the purchase rate while it acts, for
  sleeping dogs it raises the hazard (log +1.5) and cuts purchases by 30 %; loyal regulars, big spenders and
  trade buyers are mostly persuadable, occasional buyers often, bargain hunters are often sleeping dogs (the
  reaction follows behaviour that purchase history reveals, as in
  ``custml.uplift.experiment.heterogeneous_campaign_world``), and ``truth/campaign_uplift`` holds each eligible
  customer's true uplift on the churn outcome of ``custml.uplift.UpliftParams`` (no order in the last 90 of
  180 days).
"""

from __future__ import annotations

from typing import Any

from custml.synth.params import (
    AcquisitionWave,
    CampaignParams,
    PersonaParams,
    ShockParams,
    WorldParams,
    default_personas,
)

__all__ = ["PRESETS", "RETAIL_MONTHLY_DEMAND", "retail_personas", "world_preset"]

#: Monthly demand multipliers of the retail preset (January first), before growth, promotions and each
#: persona's ``season_strength`` (which, with the Christmas sign-ups, makes November about 1.7x the mean).
RETAIL_MONTHLY_DEMAND: tuple[float, ...] = (0.72, 0.78, 0.95, 0.88, 0.9, 0.92, 0.9, 0.88, 1.08, 1.2, 1.12, 0.85)  # fmt: skip

PRESETS = ("default", "retail")


def retail_personas() -> dict[str, PersonaParams]:
    """The default personas re-weighted for a retail shop, with gift-shopping occasionals and trade buyers.

    ``occasional`` (47 %): a few orders a year, mostly for Christmas (``season_strength`` 3), rarely leaving
    for good: the customers whose 90-day churn depends on the season ahead. ``trade_buyer`` (12 %): small shops
    and resellers buying cheap items by the dozen about once a month, steadily (``season_strength`` 0.5) and
    seldom leaving, like the wholesale customers of the UK online retailer. Loyal regulars are steadier than
    the calendar (0.7), bargain hunters and one-timers follow it twice as strongly; big spenders leave more
    readily than in the default world (hazard 0.6 a year). Uplift types follow behaviour that purchase history
    reveals: loyal regulars, big spenders and trade buyers are mostly persuadable (85 %), occasional buyers
    often (40 %), bargain hunters often sleeping dogs (50 %).
    """
    base = default_personas()
    # name: (share, rate_mean, rate_shape, hazard_mean, season_strength, persuadable, sleeping_dog)
    retail = {
        "bargain_hunter": (0.16, 3.0, 1.5, 0.5, 2.0, 0.1, 0.5),
        "loyal_regular": (0.10, 7.0, 2.5, 0.15, 0.7, 0.85, 0.05),
        "big_spender": (0.05, 4.0, 2.0, 0.6, 1.2, 0.85, 0.05),
        "occasional": (0.47, 2.5, 4.0, 0.2, 3.0, 0.4, 0.05),
        "one_timer": (0.10, 1.0, 1.0, 3.0, 2.0, 0.05, 0.05),
    }
    out = {
        name: base[name].model_copy(
            update={
                "share": share,
                "rate_mean": rate,
                "rate_shape": rate_shape,
                "hazard_mean": hazard,
                "season_strength": season,
                "uplift_weights": {"persuadable": persuadable, "sleeping_dog": sleeping_dog},
            }
        )
        for name, (share, rate, rate_shape, hazard, season, persuadable, sleeping_dog) in retail.items()
    }
    out["trade_buyer"] = base["loyal_regular"].model_copy(
        update={
            "share": 0.12,
            "rate_mean": 14.0,
            "rate_shape": 2.0,
            "hazard_mean": 0.4,
            "hazard_shape": 2.0,
            "season_strength": 0.5,
            "item_price_median": 4.0,
            "item_price_sigma": 0.4,
            "items_mean": 24.0,
            "discount_sensitivity": 0.3,
            "coupon_rate": 0.05,
            "first_order_coupon": 0.05,
            "return_rate": 0.02,
            "channel_weights": {"web": 6.0, "app": 1.0, "store": 0.5, "marketplace": 0.5},
            "app_user": 0.3,
            "email_open": 0.45,
            "email_click": 0.25,
            "loyalty_rate": 0.6,
            "consent_rate": 0.9,
            "acquisition_weights": {"organic": 3, "paid_search": 2, "referral": 4},
            "uplift_weights": {"persuadable": 0.85, "sleeping_dog": 0.05},
        }
    )
    return out


def _retail(n_customers: int = 50_000, seed: int = 0) -> WorldParams:
    return WorldParams(
        n_customers=n_customers,
        seed=seed,
        personas=retail_personas(),
        monthly_demand=RETAIL_MONTHLY_DEMAND,
        signup_seasonality=1.0,
        acquisition_waves=(
            AcquisitionWave(
                name="spring-social-2024",
                start="2024-03-01",
                days=61,
                share=0.06,
                persona_weights={"bargain_hunter": 2.0, "one_timer": 3.0},
            ),
            *(
                AcquisitionWave(
                    name=f"christmas-gifts-{year}",
                    start=f"{year}-10-15",
                    days=55,
                    share=share,
                    persona_weights={"occasional": 1.0, "one_timer": 2.0},
                )
                for year, share in ((2024, 0.05), (2025, 0.05))
            ),
            AcquisitionWave(
                name="trade-fair-2025",
                start="2025-02-01",
                days=30,
                share=0.03,
                persona_weights={"trade_buyer": 3.0, "big_spender": 1.0},
            ),
        ),
        shock=ShockParams(
            start="2025-03-01",
            name="price-rise",
            description="prices up 8 %: price-sensitive customers buy less and leave sooner",
            personas=("bargain_hunter", "occasional", "one_timer"),
            hazard_multiplier=2.0,
            rate_multiplier=0.8,
            in_oracle=True,
        ),
        campaign=CampaignParams(
            campaign_id="RET-2025-06",
            sent="2025-06-01 09:00:00",
            effect_days=180,
            effect_persuadable=-3.0,
            effect_sleeping_dog=1.5,
            rate_effect_persuadable=2.0,
            rate_effect_sleeping_dog=0.7,
            uplift_truth=True,
        ),
    )


def world_preset(name: str, **overrides: Any) -> WorldParams:
    """The :class:`WorldParams` of a named preset (``default`` or ``retail``), with fields overridden.

    Overrides replace whole fields (``n_customers=10_000``, ``seed=3``, ``shock=None``) and are validated.

    Examples
    --------
    >>> from custml.synth import world_preset
    >>> p = world_preset("retail", n_customers=1_000, seed=2)
    >>> p.n_customers, round(p.monthly_demand[10], 2), p.shock.name
    (1000, 1.12, 'price-rise')
    >>> world_preset("retail").campaign.uplift_truth
    True
    """
    if name == "default":
        base = WorldParams()
    elif name == "retail":
        base = _retail()
    else:
        raise ValueError(f"unknown world preset {name!r} (known: {', '.join(PRESETS)})")
    return WorldParams.model_validate({**base.model_dump(), **overrides})
