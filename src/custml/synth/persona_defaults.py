"""The five default personas as data (:func:`custml.synth.params.default_personas` returns copies of them).

See :func:`custml.synth.params.default_personas` for what each persona stands for.
"""

from __future__ import annotations

from custml.synth.params import CATEGORIES, PersonaParams

__all__ = ["DEFAULT_PERSONAS"]

# every category at weight 1, before a persona's preferences
_ALL_CATEGORIES = dict.fromkeys(CATEGORIES, 1.0)

_BARGAIN_HUNTER = PersonaParams(
    share=0.2,
    rate_mean=3.0,
    rate_shape=1.5,
    hazard_mean=0.9,
    hazard_shape=1.2,
    item_price_median=12.0,
    item_price_sigma=0.3,
    items_mean=2.0,
    discount_sensitivity=2.5,
    coupon_rate=0.55,
    first_order_coupon=0.6,
    return_rate=0.06,
    category_weights={
        **_ALL_CATEGORIES,
        "fashion": 4.0,
        "beauty": 3.0,
        "home": 2.0,
        "grocery": 2.0,
        "electronics": 0.3,
        "books": 0.5,
    },
    # store share kept at 5 % (see the docstring)
    channel_weights={"web": 2.5, "app": 1.5, "store": 0.5, "marketplace": 5.5},
    app_user=0.45,
    app_sessions_per_month=1.5,
    email_open=0.4,
    email_click=0.3,
    satisfaction_mean=3.6,
    age_mean=33,
    loyalty_rate=0.3,
    consent_rate=0.8,
    acquisition_weights={"organic": 1, "paid_search": 1, "social": 4, "referral": 1, "affiliate": 4},
    uplift_weights={"persuadable": 0.45, "sleeping_dog": 0.05},
)

_LOYAL_REGULAR = PersonaParams(
    share=0.12,
    rate_mean=7.0,
    rate_shape=2.5,
    hazard_mean=0.2,
    hazard_shape=1.5,
    item_price_median=28.0,
    item_price_sigma=0.25,
    items_mean=2.2,
    discount_sensitivity=0.4,
    coupon_rate=0.12,
    first_order_coupon=0.1,
    return_rate=0.03,
    category_weights={
        **_ALL_CATEGORIES,
        "grocery": 4.0,
        "home": 2.5,
        "books": 2.0,
        "beauty": 1.5,
        "electronics": 0.5,
    },
    channel_weights={"web": 1.3, "app": 5.0, "store": 2.0, "marketplace": 0.2},
    app_user=0.85,
    app_sessions_per_month=4.0,
    email_open=0.55,
    email_click=0.35,
    satisfaction_mean=4.2,
    age_mean=44,
    loyalty_rate=0.9,
    consent_rate=0.8,
    acquisition_weights={"organic": 4, "paid_search": 1, "social": 1, "referral": 3, "store": 3},
    uplift_weights={"persuadable": 0.2, "sleeping_dog": 0.12},
)

_BIG_SPENDER = PersonaParams(
    share=0.06,
    rate_mean=4.0,
    rate_shape=2.0,
    hazard_mean=0.3,
    hazard_shape=1.5,
    item_price_median=150.0,
    item_price_sigma=0.4,
    items_mean=3.0,
    discount_sensitivity=0.2,
    coupon_rate=0.02,
    first_order_coupon=0.03,
    return_rate=0.05,
    category_weights={
        **_ALL_CATEGORIES,
        "electronics": 5.0,
        "home": 3.0,
        "fashion": 2.0,
        "sports": 1.5,
        "grocery": 0.1,
        "books": 0.3,
        "toys": 0.5,
    },
    channel_weights={"web": 4.0, "app": 1.0, "store": 3.0, "marketplace": 0.5},
    app_user=0.35,
    app_sessions_per_month=1.0,
    email_open=0.25,
    email_click=0.12,
    satisfaction_mean=3.9,
    age_mean=47,
    loyalty_rate=0.45,
    consent_rate=0.5,
    acquisition_weights={"organic": 3, "paid_search": 2, "referral": 2, "store": 4},
    uplift_weights={"persuadable": 0.25, "sleeping_dog": 0.1},
)

_OCCASIONAL = PersonaParams(
    share=0.3,
    rate_mean=1.5,
    rate_shape=1.5,
    hazard_mean=0.7,
    hazard_shape=1.2,
    item_price_median=55.0,
    item_price_sigma=0.35,
    items_mean=1.3,
    discount_sensitivity=0.8,
    coupon_rate=0.08,
    first_order_coupon=0.15,
    return_rate=0.04,
    category_weights={
        **_ALL_CATEGORIES,
        "toys": 3.0,
        "books": 2.5,
        "beauty": 2.0,
        "fashion": 1.5,
        "grocery": 0.3,
    },
    channel_weights={"web": 4.5, "app": 0.5, "store": 2.0, "marketplace": 1.0},
    app_user=0.12,
    app_sessions_per_month=0.3,
    email_open=0.15,
    email_click=0.08,
    satisfaction_mean=3.8,
    age_mean=40,
    loyalty_rate=0.12,
    consent_rate=0.55,
    acquisition_weights={"organic": 3, "paid_search": 3, "social": 1, "referral": 2},
    uplift_weights={"persuadable": 0.3, "sleeping_dog": 0.08},
)

_ONE_TIMER = PersonaParams(
    share=0.32,
    rate_mean=1.0,
    rate_shape=1.0,
    hazard_mean=4.0,
    hazard_shape=1.5,
    item_price_median=22.0,
    item_price_sigma=0.4,
    items_mean=1.05,
    discount_sensitivity=1.0,
    coupon_rate=0.15,
    first_order_coupon=0.75,
    return_rate=0.05,
    category_weights={**_ALL_CATEGORIES, "fashion": 2.0, "toys": 2.0, "electronics": 1.5, "grocery": 0.5},
    channel_weights={"web": 3.5, "app": 0.3, "store": 1.0, "marketplace": 2.7},
    app_user=0.05,
    app_sessions_per_month=0.15,
    email_open=0.06,
    email_click=0.03,
    satisfaction_mean=3.5,
    age_mean=36,
    loyalty_rate=0.03,
    consent_rate=0.4,
    acquisition_weights={"organic": 1, "paid_search": 4, "social": 3, "affiliate": 4},
    uplift_weights={"persuadable": 0.15, "sleeping_dog": 0.05},
)

#: The default personas by name (shares sum to 1); treat as read-only.
DEFAULT_PERSONAS: dict[str, PersonaParams] = {
    "bargain_hunter": _BARGAIN_HUNTER,
    "loyal_regular": _LOYAL_REGULAR,
    "big_spender": _BIG_SPENDER,
    "occasional": _OCCASIONAL,
    "one_timer": _ONE_TIMER,
}
