"""Generate a whole synthetic world (contract tables, truth, manifest) and write or read it.

:func:`generate_world` is pure (parameters in, frames out); :func:`write_world` and :func:`read_truth` are the
thin file wrappers. Random numbers come from one ``numpy.random.SeedSequence(seed)`` spawned into independent
streams per component, so the same parameters give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custml import __version__
from custml.config import ProjectPaths
from custml.io import read_json, read_table, write_json, write_table
from custml.synth.calendar import promo_depth, window
from custml.synth.dirt import Column, People, Records, build_records, interactions_frame, orders_frame
from custml.synth.identities import build_pools, sample_identities
from custml.synth.oracle import oracle_campaign_uplift, oracle_probabilities
from custml.synth.params import ACQ_NAMES, CATEGORIES, CHANNEL_NAMES, UPLIFT_TYPES, WorldParams
from custml.synth.personas import Latent, categorical, draw_latent, weights_matrix
from custml.synth.simulate import Engagement, Simulation, simulate_engagement, simulate_purchases
from custml.types import JSONObject

__all__ = [
    "GENERATOR_VERSION",
    "TABLES",
    "ShockRecord",
    "World",
    "WorldManifest",
    "generate_world",
    "read_truth",
    "truth_columns",
    "write_world",
]

GENERATOR_VERSION = f"custml.synth/{__version__}+sim5"
TABLES = ("customers", "orders", "interactions", "campaigns")
KINDS = ("email_sent", "email_open", "email_click", "app_session")

_TRUTH_DOC = {
    "customer_id": "the person's original customer record",
    "person_id": "the real person (P + 7 digits)",
    "persona": "latent persona",
    "lambda_per_year": "purchase rate while active (orders per year before seasonality and promotions)",
    "mu_per_year": "base hazard of starting to drop out (per year, before experiences and campaign)",
    "item_price_usd": "typical item price (USD)",
    "satisfaction_baseline": "latent baseline satisfaction on the CSAT scale",
    "email_open_p": "e-mail open probability while active",
    "app_user": "uses the app",
    "signup_ts": "signup time",
    "disengage_ts": "start of disengagement (NaT: not within the window)",
    "dropout_ts": "true dropout time: no purchases after it (NaT: not within the window)",
    "alive_at_end": "not dropped out at the data end",
    "n_purchases": "purchases made (all records of the person, refunds excluded)",
    "uplift_type": "reaction to the retention offer: persuadable, sure_thing, lost_cause, sleeping_dog",
    "campaign_eligible": "eligible for the retention campaign",
    "campaign_arm": "offer / control / null (not eligible)",
    "campaign_log_hazard_effect": "true effect of the offer on the log dropout hazard if treated",
    "campaign_rate_effect": "true purchase-rate multiplier of the offer during its effect if treated",
    "experience_days": "order times (days since start) of bad/good service experiences",
    "experience_delta": "their log-hazard deltas (effective from the next week, decaying)",
    "acquisition_wave": "the acquisition wave the person signed up in (null: steady sign-ups)",
    "shock_hit": "the person's persona is hit by the world's behaviour shock (manifest 'shock')",
}


def truth_columns() -> dict[str, str]:
    """Documentation of the columns of ``truth/customers``."""
    return dict(_TRUTH_DOC)


class ShockRecord(TypedDict):
    """What the manifest says of the behaviour shock: what, for whom, and from when it takes effect."""

    name: str
    description: str
    start: str
    effective_from: str
    personas: list[str]
    hazard_multiplier: float
    rate_multiplier: float
    in_oracle: bool


class WorldManifest(TypedDict, total=False):
    """``manifest.json`` of a world: how it was generated, its window, row counts and the truth's documentation.

    ``shock``, ``acquisition_waves`` (persons per wave) and ``campaign_uplift`` are there when the world has them;
    ``parameters`` is the :class:`WorldParams` as JSON (read back with ``WorldParams.model_validate``).
    """

    generator_version: str
    seed: int
    locale: str
    dirty: float
    currency: str
    start: str
    end: str
    reference_cutoff: str
    campaign_id: str
    campaign_sent: str
    n_persons: int
    row_counts: dict[str, int]
    timestamps_as_text: bool
    oracle: str
    truth_columns: dict[str, str]
    parameters: JSONObject
    shock: ShockRecord
    acquisition_waves: dict[str, int]
    campaign_uplift: str


@dataclass
class World:
    """A generated world: the four contract tables, the truth tables and the manifest."""

    customers: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame
    campaigns: pd.DataFrame
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: WorldManifest = field(default_factory=lambda: WorldManifest())

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def _ts(days: np.ndarray, start: pd.Timestamp) -> np.ndarray:
    """Float days since start -> datetime64[us], truncated to whole seconds."""
    secs = np.floor(np.asarray(days) * 86400.0).astype(np.int64)
    return np.asarray(np.datetime64(start, "s") + secs.astype("timedelta64[s]"))


def _ts_or_nat(days: np.ndarray, start: pd.Timestamp, end_days: float) -> np.ndarray:
    ok = np.isfinite(days) & (days <= end_days)
    out = _ts(np.where(ok, days, 0.0), start).astype("datetime64[us]")
    out[~ok] = np.datetime64("NaT")
    return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pc.binary_join_element_wise(
        prefix, pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0"), ""
    )


def _str_col(values: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([values]).cast(pa.large_string())))


def _person_customers(
    params: WorldParams, lat: Latent, start: pd.Timestamp, rng: np.random.Generator
) -> People:
    """Person-level identity and profile columns (Arrow/NumPy), in person order."""
    pools = build_pools(params.locale, params.seed, params.name_pool, params.address_pool)
    ident = sample_identities(pools, lat.gender, rng)
    n = len(lat.lam)
    birth = np.asarray(
        np.datetime64(start, "D") - (lat.age * 365.25).astype(np.int64).astype("timedelta64[D]")
    )
    return People(
        **ident,
        name_chars=pools.name_chars,
        signup_date=_ts(np.floor(lat.t_signup), start).astype("datetime64[us]"),
        country=np.full(n, params.locale_params.country, dtype=object),
        birth_date=birth.astype("datetime64[us]"),
        gender=lat.gender,
        acquisition_channel=np.asarray(ACQ_NAMES, dtype=object)[lat.acquisition],
        loyalty_member=lat.loyalty,
        marketing_consent=lat.consent,
    )


def _orders(
    params: WorldParams, lat: Latent, sim: Simulation, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Purchase and refund rows as arrays (person index, time in days, amounts...), sorted by time.

    Temporaries are released as soon as possible: at a million persons there are some 15 million rows.
    """
    ps = list(params.personas.values())
    cur = params.locale_params.currency_rate
    m = len(sim.o_t)
    person = sim.o_cust
    pp = lat.persona[person].astype(np.int8)

    def per(attr: str) -> np.ndarray:
        return np.array([getattr(p, attr) for p in ps])[pp]

    category = categorical(rng, weights_matrix(params, "category_weights", CATEGORIES), pp).astype(np.int8)
    n_items = (1 + rng.poisson(np.maximum(per("items_mean") - 1.0, 0.0))).astype(np.int32)
    sigma = per("order_price_sigma")
    gross = lat.item_price[person] * np.exp(sigma * rng.standard_normal(m) - 0.5 * sigma**2)
    del sigma
    gross = np.round(n_items * gross * cur, 2)
    rate = promo_depth(params)[np.floor(sim.o_t).astype(np.int64)]
    # a person's first purchase may carry a welcome coupon (the larger of the two shares applies)
    first_t = np.full(len(lat.lam), np.inf)
    np.minimum.at(first_t, person, sim.o_t)
    coupon_p = per("coupon_rate")
    is_first = sim.o_t == first_t[person]
    del first_t
    coupon_p = np.where(is_first, np.maximum(coupon_p, per("first_order_coupon")), coupon_p)
    del is_first
    coupon = rng.random(m) < coupon_p
    del coupon_p
    coupon_rate = rng.choice([0.05, 0.1, 0.15, 0.2], m)
    rate = np.where(rate > 0, rate, np.where(coupon, coupon_rate, 0.0))
    del coupon, coupon_rate
    discount = np.round(gross * rate, 2)
    del rate
    net = np.round(gross - discount, 2)
    # refunds: most defects, plus ordinary returns
    refund = rng.random(m) < per("return_rate")
    refund |= sim.o_defect & (rng.random(m) < params.service.p_refund_defect)
    r_t = sim.o_t + np.where(sim.o_defect, 1.0 + 9.0 * rng.random(m), 2.0 + 18.0 * rng.random(m))
    r = np.flatnonzero(refund & (r_t <= sim.end_days))
    del refund
    t = np.concatenate([sim.o_t, r_t[r]])
    del r_t
    is_ref = np.concatenate([np.zeros(m, bool), np.ones(len(r), bool)])
    order = np.lexsort((is_ref, np.concatenate([person, person[r]]), t))
    t = t[order]
    src = np.concatenate([np.arange(m), r])[order]  # the purchase row each output row comes from
    is_ref = is_ref[order]
    pos_of_purchase = np.empty(m, np.int64)
    pos_of_purchase[order[order < m]] = np.flatnonzero(~is_ref)
    del order, r
    refund_of = np.where(is_ref, pos_of_purchase[src], -1)
    del pos_of_purchase
    out: dict[str, np.ndarray] = {"person": person[src], "t": t, "is_refund": is_ref, "refund_of": refund_of}
    out["channel"] = pa.array(CHANNEL_NAMES).take(pa.array(sim.o_channel[src]))
    out["category"] = pa.array(CATEGORIES).take(pa.array(category[src]))
    del category
    out["n_items"] = n_items[src]
    del n_items
    out["gross_amount"] = np.where(is_ref, -net[src], gross[src])
    del gross
    out["discount_amount"] = np.where(is_ref, 0.0, discount[src])
    del discount
    out["net_amount"] = np.where(is_ref, -1.0, 1.0) * net[src]
    return out


def _interactions(sim: Simulation, eng: Engagement, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Service and engagement rows (person index, time, kind...), sorted by time; beyond the end dropped."""
    nt, ns, ne = len(sim.tk_t), len(sim.sv_t), len(eng.t)
    kind_names = pa.array(
        ["support_ticket", "complaint", "survey", "email_sent", "email_open", "email_click", "app_session"]
    )
    kind = np.concatenate([sim.tk_complaint.astype(np.int8), np.full(ns, 2, np.int8), eng.kind + 3])
    person = np.concatenate([sim.tk_cust, sim.sv_cust, eng.cust])
    t = np.concatenate([sim.tk_t, sim.sv_t, eng.t])
    score = np.concatenate([np.full(nt, np.nan), sim.sv_score, np.full(ne, np.nan)])
    resolved = np.concatenate([sim.tk_resolved, np.zeros(ns + ne, bool)])
    has_res = np.concatenate([np.ones(nt, bool), np.zeros(ns + ne, bool)])
    hours = np.concatenate(
        [np.where(sim.tk_resolved, np.round(sim.tk_hours, 1), np.nan), np.full(ns + ne, np.nan)]
    )
    keep = np.flatnonzero(t <= sim.end_days)
    order = keep[np.argsort(t[keep], kind="stable")]
    return {
        "person": person[order],
        "t": t[order],
        "kind": kind_names.take(pa.array(kind[order])),
        "score": score[order],
        "resolved": resolved[order],
        "has_resolved": has_res[order],
        "resolution_hours": hours[order],
    }


def _list_column(values: np.ndarray, parent: np.ndarray, n: int) -> pd.Series:
    order = np.argsort(parent, kind="stable")
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(parent, minlength=n), out=offsets[1:])
    arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values[order], pa.float64()))
    # object column of float arrays: round-trips through parquet with any pandas reader
    return arr.to_pandas()


def generate_world(params: WorldParams) -> World:
    """Simulate a world: contract tables (clean or dirty), truth and manifest.

    Examples
    --------
    >>> from custml.synth import WorldParams, generate_world
    >>> w = generate_world(WorldParams(n_customers=200, seed=3))
    >>> sorted(w.tables), sorted(w.truth)
    (['campaigns', 'customers', 'interactions', 'orders'], ['customers', 'duplicates', 'oracle_reference'])
    """
    ss = np.random.SeedSequence(params.seed)
    r_lat, r_sim, r_eng, r_id, r_ord, r_int, r_dirt = (np.random.default_rng(s) for s in ss.spawn(7))
    start, end, _ = window(params)
    lat = draw_latent(params, r_lat)
    sim = simulate_purchases(params, lat, r_sim)
    eng = simulate_engagement(params, lat, sim, r_eng)
    # build one table at a time and drop its inputs, to keep the peak memory low at a million persons
    people = _person_customers(params, lat, start, r_id)
    records = build_records(params, people, start, sim.end_days, r_dirt)
    del people
    n_purch = np.bincount(sim.o_cust, minlength=len(lat.lam))
    orders_df = orders_frame(params, _orders(params, lat, sim, r_ord), records, start, r_dirt)
    sim.o_cust = sim.o_t = sim.o_channel = sim.o_stage = sim.o_late = sim.o_defect = np.zeros(0)
    interactions_df = interactions_frame(params, _interactions(sim, eng, r_int), records, start, r_dirt)
    del eng
    n = len(lat.lam)
    orig_ids = records.ids[:n]
    campaigns = _campaigns(params, sim, orig_ids)
    person_ids = _ids("P", np.arange(1, n + 1), 7)
    truth_customers = _truth_customers(params, lat, sim, orig_ids, person_ids, n_purch, start)
    duplicates = _duplicates(params, records, person_ids, n)
    oracle_ref = oracle_probabilities(truth_customers, params.reference_cutoff, params)
    truth = {"customers": truth_customers, "duplicates": duplicates, "oracle_reference": oracle_ref}
    cp = params.campaign
    if cp.enabled and cp.uplift_truth:
        truth["campaign_uplift"] = oracle_campaign_uplift(
            truth_customers, cp.uplift_horizon_days, params, window_start_days=cp.uplift_window_start_days
        )
    world = World(records.customers, orders_df, interactions_df, campaigns, truth, {})
    world.manifest = _manifest(params, world, lat, start, end)
    return world


def _campaigns(params: WorldParams, sim: Simulation, orig_ids: Column) -> pd.DataFrame:
    """The campaigns table: one row per eligible person, on the person's original record."""
    camp_people = np.flatnonzero(sim.eligible)
    cp = params.campaign
    return pd.DataFrame(
        {
            "campaign_id": _str_col(pa.array(np.full(len(camp_people), cp.campaign_id, dtype=object))),
            "customer_id": _str_col(orig_ids.take(pa.array(camp_people))),
            "sent_ts": np.full(len(camp_people), np.datetime64(pd.Timestamp(cp.sent), "us")),
            "arm": _str_col(pa.array(np.where(sim.treated[camp_people], "offer", "control").astype(object))),
            "offer_cost": np.where(
                sim.treated[camp_people], cp.offer_cost_usd * params.locale_params.currency_rate, 0.0
            ),
        }
    )


def _truth_customers(
    params: WorldParams,
    lat: Latent,
    sim: Simulation,
    orig_ids: Column,
    person_ids: Column,
    n_purch: np.ndarray,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """``truth/customers``: each person's persona, latent parameters, dropout and campaign (:func:`truth_columns`)."""
    n = len(lat.lam)
    cp = params.campaign
    persona_names = np.asarray(list(params.personas), dtype=object)
    effects = np.array([cp.effect_persuadable, 0.0, 0.0, cp.effect_sleeping_dog])
    rate_effects = np.array([cp.rate_effect_persuadable, 1.0, 1.0, cp.rate_effect_sleeping_dog])
    ev_order = np.argsort(sim.e_cust, kind="stable")
    truth_customers = pd.DataFrame(
        {
            "customer_id": _str_col(orig_ids),
            "person_id": _str_col(person_ids),
            "persona": _str_col(pa.array(persona_names[lat.persona])),
            "lambda_per_year": lat.lam,
            "mu_per_year": lat.mu,
            "item_price_usd": lat.item_price,
            "satisfaction_baseline": lat.satisfaction,
            "email_open_p": lat.email_open,
            "app_user": lat.app_user,
            "signup_ts": _ts(lat.t_signup, start).astype("datetime64[us]"),
            "disengage_ts": _ts_or_nat(sim.t_dis, start, sim.end_days),
            "dropout_ts": _ts_or_nat(sim.t_dead, start, sim.end_days),
            "alive_at_end": ~(sim.t_dead <= sim.end_days),
            "n_purchases": n_purch,
            "uplift_type": _str_col(pa.array(np.asarray(UPLIFT_TYPES, dtype=object)[lat.uplift])),
            "campaign_eligible": sim.eligible,
            "campaign_arm": pd.Series(
                np.where(
                    sim.eligible, np.where(sim.treated, "offer", "control"), np.array(None, dtype=object)
                ),
                dtype="str",
            ),
            "campaign_log_hazard_effect": effects[lat.uplift],
            "campaign_rate_effect": rate_effects[lat.uplift],
            "experience_days": _list_column(sim.e_t[ev_order], sim.e_cust[ev_order], n),
            "experience_delta": _list_column(sim.e_delta[ev_order], sim.e_cust[ev_order], n),
            "acquisition_wave": _wave_names(params, lat),
            "shock_hit": np.isin(persona_names[lat.persona], list(params.shock.personas))
            if params.shock is not None
            else np.zeros(n, dtype=bool),
        }
    )
    truth_customers.attrs["world_params"] = params.model_dump(mode="json")
    return truth_customers


def _duplicates(params: WorldParams, records: Records, person_ids: Column, n: int) -> pd.DataFrame:
    """``truth/duplicates``: every record of a person with several records (and the heavier dirt it carries)."""
    record_person = records.record_person
    multi = np.unique(record_person[n:])
    dup_rows = np.flatnonzero(np.isin(record_person, multi))
    dup_rows = dup_rows[np.lexsort((dup_rows, record_person[dup_rows]))]
    duplicates = pd.DataFrame(
        {
            "customer_id": _str_col(records.ids.take(pa.array(dup_rows))),
            "person_id": _str_col(person_ids.take(pa.array(record_person[dup_rows]))),
        }
    )
    if params.dirt.heavy_kinds and records.dup_dirt is not None:
        # the heavier dirt kinds each duplicate record carries ("" for originals and light dirt)
        kinds = np.concatenate([np.full(n, "", dtype=object), records.dup_dirt])[dup_rows]
        duplicates["dirt"] = pd.Series(kinds, dtype="str")
    return duplicates


def _manifest(
    params: WorldParams, world: World, lat: Latent, start: pd.Timestamp, end: pd.Timestamp
) -> WorldManifest:
    """The world's manifest (:class:`WorldManifest`)."""
    cp = params.campaign
    manifest: WorldManifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": params.seed,
        "locale": params.locale,
        "dirty": params.dirty,
        "currency": params.locale_params.currency,
        "start": str(start),
        "end": str(end),
        "reference_cutoff": str(pd.Timestamp(params.reference_cutoff)),
        "campaign_id": cp.campaign_id,
        "campaign_sent": str(pd.Timestamp(cp.sent)),
        "n_persons": len(lat.lam),
        "row_counts": {name: len(df) for name, df in world.tables.items()}
        | {f"truth/{k}": len(v) for k, v in world.truth.items()},
        "timestamps_as_text": params.dirty > 0,
        "oracle": "truth/oracle_reference.parquet = oracle_probabilities(truth/customers, reference_cutoff): "
        "p_no_purchase_90d, p_purchase_30d given the latent state at the cutoff",
        "truth_columns": truth_columns(),
        "parameters": params.model_dump(mode="json"),
    }
    if params.shock is not None:
        manifest["shock"] = _shock_record(params)
    if params.acquisition_waves:
        manifest["acquisition_waves"] = {
            w.name: int(np.sum(np.asarray(lat.wave) == k)) for k, w in enumerate(params.acquisition_waves)
        }
    if "campaign_uplift" in world.truth:
        manifest["campaign_uplift"] = (
            "truth/campaign_uplift = oracle_campaign_uplift(truth/customers, "
            f"{cp.uplift_horizon_days}, window_start_days={cp.uplift_window_start_days}): true_uplift = "
            "P(churn | control) - P(churn | offer) per eligible person"
        )
    return manifest


def _wave_names(params: WorldParams, lat: Latent) -> pd.Series:
    """Each person's acquisition wave name (null: steady sign-ups)."""
    n = len(lat.lam)
    if lat.wave is None or not params.acquisition_waves:
        return pd.Series(np.full(n, None, dtype=object), dtype="str")
    names = np.asarray([w.name for w in params.acquisition_waves] + [None], dtype=object)
    return pd.Series(names[lat.wave], dtype="str")


def _shock_record(params: WorldParams) -> ShockRecord:
    """What the manifest says of the behaviour shock: what, for whom, and from when it takes effect."""
    shock = params.shock
    assert shock is not None
    start, _, _ = window(params)
    day = (pd.Timestamp(shock.start) - start) / pd.Timedelta(days=1)
    effective = start + pd.Timedelta(days=7 * int(np.ceil(day / 7.0)))
    return {
        "name": shock.name,
        "description": shock.description,
        "start": str(pd.Timestamp(shock.start)),
        "effective_from": str(effective),
        "personas": list(shock.personas),
        "hazard_multiplier": shock.hazard_multiplier,
        "rate_multiplier": shock.rate_multiplier,
        "in_oracle": shock.in_oracle,
    }


def write_world(world: World, out_dir: Path | str) -> dict[str, Path]:
    """Write the tables, truth and manifest of ``world`` under ``out_dir``; return the paths written."""
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for name, df in world.tables.items():
        paths[name] = write_table(df, ProjectPaths.table_in(out, name))
    for name, df in world.truth.items():
        paths[f"truth/{name}"] = write_table(df, ProjectPaths.truth_table_in(out, name))
    paths["manifest"] = write_json(world.manifest, ProjectPaths.manifest_in(out))
    return paths


def read_truth(world_dir: Path | str) -> dict[str, pd.DataFrame]:
    """Read ``truth/*.parquet`` of a written world (``campaign_uplift`` when the world has it);
    ``customers.attrs['world_params']`` comes from the manifest."""
    folder = Path(world_dir)
    manifest = read_json(ProjectPaths.manifest_in(folder))
    truth = {
        name: read_table(ProjectPaths.truth_table_in(folder, name), f"truth/{name}")
        for name in ("customers", "duplicates", "oracle_reference")
    }
    if ProjectPaths.truth_table_in(folder, "campaign_uplift").is_file():
        truth["campaign_uplift"] = read_table(
            ProjectPaths.truth_table_in(folder, "campaign_uplift"), "truth/campaign_uplift"
        )
    truth["customers"].attrs["world_params"] = manifest["parameters"]
    return truth
