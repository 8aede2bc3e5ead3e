"""Linking records with Splink: train the model, score the blocked pairs, apply the steward's decisions and cluster
the linked pairs into persons."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from custml.quality.dedup.backends import connect
from custml.quality.dedup.comparisons import COMPARISON_FIELDS, blocking_rules, comparisons
from custml.quality.dedup.golden import golden_of_clusters
from custml.quality.dedup.records import prepare_records
from custml.quality.dedup.scoring import estimate_prior, expected_f1_threshold, logit2, probability
from custml.settings import Settings

__all__ = ["DedupParams", "DedupResult", "SplinkModel", "find_duplicates"]

log = logging.getLogger(__name__)

# EM training: each rule trains the comparisons whose columns it does not use (the birth date trains all but the
# birth date, the name trains the birth date). Blocks where nearly every pair matches (a phone, a mailbox) leave
# EM nothing to separate (its prior runs to 1), so the rules mix matches and namesakes or birthday twins.
_EM_RULES: tuple[tuple[str, ...], ...] = (("birth_date",), ("first_name", "surname"))
_EM_MAX_PAIRS = 1_000_000
# Near-certain rules for a first guess of the prior (Splink's direct estimate); refined by estimate_prior.
_DETERMINISTIC_RULES: list[Any] = [
    "l.phone = r.phone AND l.birth_date = r.birth_date",
    "l.mailbox = r.mailbox AND l.birth_date = r.birth_date",
    "l.first_name = r.first_name AND l.surname = r.surname AND l.birth_date = r.birth_date",
]
# Pairs scored below this probability (at the first guess of the prior) are not pulled out of the database.
_SCORE_FLOOR = 1e-4


class DedupParams(Settings):
    """Settings of the de-duplication (defaults are what the benchmark measures)."""

    threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Minimum match probability to link a pair; None: the threshold maximising expected F1.",
    )
    prior: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Probability that two random records are one person; None: estimated by EM.",
    )
    blocking: Literal["narrow", "standard", "wide"] = Field(
        "standard", description="Blocking preset (BLOCKING_PRESETS): which pairs are compared at all."
    )
    u_max_pairs: int = Field(300_000, ge=1000, description="Random pairs used to estimate u probabilities.")
    em_iterations: int = Field(25, ge=1)
    min_records_to_train: int = Field(
        1000,
        ge=2,
        description=(
            "Smaller tables are scored with the documented starting m and u (LEVEL_PRIORS): random pairs and EM "
            "need thousands of pairs to say anything."
        ),
    )
    min_threshold: float = Field(
        0.5, gt=0, lt=1, description="The estimated threshold never goes below this probability."
    )
    keep_pairs_above: float = Field(
        0.01, ge=0, lt=1, description="Scored pairs with a lower probability are not returned."
    )
    review_band: tuple[float, float] = Field(
        (0.2, 0.99), description="Pairs with a probability in this band are the steward's uncertain pairs."
    )
    seed: int = 0


@dataclass
class SplinkLevel(TypedDict, total=False):
    """The part of a comparison level of Splink's saved model that we read."""

    is_null_level: bool
    m_probability: float
    u_probability: float


class SplinkComparison(TypedDict, total=False):
    """The part of a comparison of Splink's saved model that we read."""

    output_column_name: str
    comparison_levels: list[SplinkLevel]


class SplinkModel(TypedDict, total=False):
    """Splink's saved model (settings with trained parameters, JSON-ready): the part we read; the rest is
    written as is."""

    comparisons: list[SplinkComparison]


@dataclass
class DedupResult:
    """Outcome of :func:`find_duplicates`.

    ``clusters`` maps every input record's raw id to its cluster's golden raw id; ``pairs`` holds the scored
    pairs above ``keep_pairs_above`` (``id_a``, ``id_b``, a comparison level per field of
    :data:`COMPARISON_FIELDS` (-1: a value missing), ``weight``, ``probability``, ``match``); ``stats`` counts,
    the prior, the threshold and the fitted m/u probabilities; ``model`` is Splink's model (settings with
    trained parameters, JSON-ready); ``charts`` Splink's charts as self-contained HTML; ``uncertain`` the pairs
    whose probability is in ``review_band``, with the compared values of both records and an empty ``is_match``
    column for the steward's decision (fed back through ``labels``).
    """

    clusters: pd.Series
    pairs: pd.DataFrame
    stats: dict[str, object]
    model: SplinkModel = field(default_factory=lambda: SplinkModel())
    charts: dict[str, str] = field(default_factory=dict)
    uncertain: pd.DataFrame = field(default_factory=pd.DataFrame)


def find_duplicates(
    customers: pd.DataFrame,
    params: DedupParams | None = None,
    *,
    work_dir: Path | None = None,
    db_api: Any | None = None,
    charts: bool = False,
    labels: pd.DataFrame | None = None,
) -> DedupResult:
    """Cluster customer records of one person with Splink; every record maps to a golden raw id.

    Parameters
    ----------
    customers : DataFrame
        Validated customers with normalised ``name``, ``email``, ``phone`` (E.164) and, when present,
        ``birth_date``, ``address``, ``city``, ``region``; ``customer_id`` unique; ``signup_date`` for
        survivorship.
    params : DedupParams
    work_dir : Path, optional
        A folder inside the private folder for DuckDB's spill files (they hold personal data); without one
        DuckDB keeps everything in memory.
    db_api : splink DatabaseAPI, optional
        Another Splink back end (``splink.SparkAPI(spark_session=...)``); default DuckDB in memory.
    charts : bool
        Also return Splink's match-weights chart as HTML (``result.charts["match_weights"]``).
    labels : DataFrame, optional
        The steward's decisions (``id_a``, ``id_b``, ``is_match``: true/false, yes/no, 1/0): a decided pair is
        linked or not linked whatever its probability (a "yes" links it even when blocking never paired it; a
        "no" removes the pair's own link, though a third record linked to both still joins them). Pairs naming
        unknown ids are ignored.

    Returns
    -------
    DedupResult

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "signup_date": pd.to_datetime(["2023-01-01", "2024-01-01", "2023-06-01"]),
    ...     "name": ["Anna Smith", "Anna Smyth", "Bo Chen"],
    ...     "email": ["anna@x.org", "anna+shop@x.org", "bo@y.org"],
    ...     "phone": ["+14155550101", "+14155550101", None],
    ...     "birth_date": pd.to_datetime(["1980-02-03", "1980-02-03", "1990-01-01"])})
    >>> find_duplicates(c).clusters.tolist()
    ['a', 'a', 'c']
    """
    params = params or DedupParams()
    ids = _record_ids(customers)
    t0 = time.perf_counter()
    n = len(ids)
    api = connect(db_api, work_dir, params.seed)
    linker = _linker(api.register(prepare_records(customers.reset_index(drop=True))), params)
    timing: dict[str, float] = {}
    stats: dict[str, object] = {"records": n, "backend": type(api).__name__, "blocking": params.blocking}
    pred, first_prior = _trained_predictions(linker, params, n, stats, timing)
    scored = _rescored(pred, first_prior, n, params)
    pred, prob, weight = scored.pred, scored.probability, scored.weight
    pair_a, pair_b = scored.ids("unique_id_l"), scored.ids("unique_id_r")
    match, forced_a, forced_b = _with_decisions(prob >= scored.threshold, pair_a, pair_b, labels, ids, stats)
    components = _components(ids, np.r_[pair_a[match], forced_a], np.r_[pair_b[match], forced_b])
    lo, hi = params.review_band
    in_band = (prob >= lo) & (prob < hi)
    model: SplinkModel = linker.misc.save_model_to_json(overwrite=True)
    stats.update(
        _link_stats(len(pred), match, in_band, components)
        | _model_stats(scored, first_prior, params, model)
        | {
            "seconds": round(time.perf_counter() - t0, 3),
            "seconds_by_phase": {k: round(v, 2) for k, v in timing.items()},
        }
    )
    chart_html = (
        {"match_weights": linker.visualisations.match_weights_chart().to_html(inline=True)} if charts else {}
    )
    log.info("dedup: %s", {k: v for k, v in stats.items() if k not in ("m", "u")})
    clusters = golden_of_clusters(customers, ids, components)
    pairs, uncertain = _pairs_table(pred, weight, prob, match), _uncertain_pairs(pred, prob, weight, in_band)
    return DedupResult(clusters, pairs, stats, model, chart_html, uncertain)


def _linker(frame: Any, params: DedupParams, validate: bool = False) -> Any:
    """Splink's linker over the registered records, with our comparisons and the preset's blocking rules.

    Splink's settings validation (``validate=True``) parses every comparison's SQL against the input's columns,
    about 75 ms a run; our settings and records are fixed, so it is checked once by a test
    (``tests/test_dedup.py``), not on every run.
    """
    from splink import Linker, SettingsCreator

    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(params.blocking),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,  # the gamma (level) columns come with them
        max_iterations=params.em_iterations,
        additional_columns_to_retain=["name"],
    )
    return Linker(frame, settings, log_level=None, validate_settings=validate)


def _trained_predictions(
    linker: Any, params: DedupParams, n: int, stats: dict[str, object], timing: dict[str, float]
) -> tuple[pd.DataFrame, float]:
    """Train the model (tables of ``min_records_to_train`` records or more), set the first guess of the prior and
    score the blocked pairs above :data:`_SCORE_FLOOR`; returns the scored pairs and that prior."""
    splink_log = logging.getLogger("splink")
    level = splink_log.level
    # Splink warns about every level EM did not observe (common on small tables: they keep their defaults)
    splink_log.setLevel(max(level, logging.ERROR))
    t_phase = time.perf_counter()
    trained = n >= params.min_records_to_train
    stats["trained"] = trained
    if trained:
        _train(linker, params, n, stats, timing, t_phase)
    if params.prior is not None:
        linker._settings_obj._probability_two_random_records_match = params.prior
    else:
        # a first guess from near-certain rules, refined below on the scored pairs
        guess = 0.0
        if trained:
            linker.training.estimate_probability_two_random_records_match(_DETERMINISTIC_RULES, recall=0.8)
            guess = float(linker._settings_obj._probability_two_random_records_match)
        if not 0 < guess < 1:  # small tables, or no pair meets the rules: one duplicate per 50 records
            linker._settings_obj._probability_two_random_records_match = min(0.5, 0.04 / max(n - 1, 1))
    first_prior = float(linker._settings_obj._probability_two_random_records_match)
    t_phase = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=_SCORE_FLOOR).as_pandas_dataframe()
    timing["predict"] = time.perf_counter() - t_phase
    splink_log.setLevel(level)
    return pred, first_prior


def _train(
    linker: Any,
    params: DedupParams,
    n: int,
    stats: dict[str, object],
    timing: dict[str, float],
    t_phase: float,
) -> None:
    """``u`` from random pairs, then ``m`` by EM per rule of :data:`_EM_RULES` (a rule that fails is skipped)."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException, SplinkException

    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(params.u_max_pairs, n * (n - 1) // 2), seed=params.seed
    )
    timing["u"] = time.perf_counter() - t_phase
    em_skipped = []
    for key in _EM_RULES:
        saved = copy.deepcopy(linker._settings_obj)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*key), max_pairs=_EM_MAX_PAIRS
            )
        except (EMTrainingException, SplinkException, ValueError):
            linker._settings_obj = saved  # a failed session may leave its blocked comparison out
            # no pair agrees on the key, an m underflowed to 0 (Splink refuses it) or the prior ran to 1: the
            # comparisons this session would train keep the previous session's m or LEVEL_PRIORS
            em_skipped.append("+".join(key))
    if em_skipped:
        stats["em_skipped"] = em_skipped
    timing["em"] = time.perf_counter() - t_phase - timing["u"]


@dataclass(frozen=True)
class _Scored:
    """The scored pairs kept (probability at least ``keep_pairs_above``) under the final prior and threshold."""

    pred: pd.DataFrame
    weight: np.ndarray
    probability: np.ndarray
    prior: float
    threshold: float

    def ids(self, column: str) -> np.ndarray:
        """The record ids of one side of the pairs (``unique_id_l`` or ``unique_id_r``)."""
        pred = self.pred
        return pred[column].astype("str").to_numpy(dtype=object) if len(pred) else np.array([], dtype=object)


def _rescored(pred: pd.DataFrame, first_prior: float, n: int, params: DedupParams) -> _Scored:
    """Re-weight Splink's pairs under the prior's EM fixed point (unless set), keep the likely ones and choose the
    threshold (unless set)."""
    # the match weight without the prior: the Bayes factor of each pair's comparison levels
    bayes = pred["match_weight"].to_numpy(dtype=float) - logit2(first_prior) if len(pred) else np.zeros(0)
    prior = first_prior if params.prior is not None else estimate_prior(bayes, n * (n - 1) // 2, first_prior)
    prob = probability(bayes + logit2(prior))
    keep = prob >= params.keep_pairs_above
    pred, bayes, prob = pred[keep].reset_index(drop=True), bayes[keep], prob[keep]
    threshold = (
        params.threshold
        if params.threshold is not None
        else expected_f1_threshold(prob, params.min_threshold)
    )
    return _Scored(pred, bayes + logit2(prior), prob, prior, threshold)


def _record_ids(customers: pd.DataFrame) -> np.ndarray:
    """The raw customer ids as text; they must be present and unique."""
    if "customer_id" not in customers.columns:
        raise ValueError("customers: required column 'customer_id' is missing")
    ids = customers["customer_id"].astype("str").to_numpy(dtype=object)
    if pd.Series(ids).duplicated().any():
        raise ValueError(
            f"customers: customer_id has {int(pd.Series(ids).duplicated().sum()):,} repeated values"
        )
    return ids


def _link_stats(
    n_scored: int, match: np.ndarray, in_band: np.ndarray, components: np.ndarray
) -> dict[str, object]:
    """The pairs scored, linked and left to the steward, and the clusters they form."""
    sizes = pd.Series(components).value_counts()
    return {
        "scored_pairs": n_scored,
        "matched_pairs": int(match.sum()),
        "uncertain_pairs": int(in_band.sum()),
        "clusters_with_duplicates": int((sizes > 1).sum()),
        "records_merged": int(len(components) - len(sizes)),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
    }


def _components(ids: np.ndarray, linked_a: np.ndarray, linked_b: np.ndarray) -> np.ndarray:
    """The connected component of each record in the graph of linked pairs."""
    n = len(ids)
    position = pd.Series(np.arange(n), index=pd.Index(ids))
    ia = position.reindex(linked_a).to_numpy()
    ib = position.reindex(linked_b).to_numpy()
    graph = coo_matrix((np.ones(len(ia)), (ia, ib)), shape=(n, n))
    _, components = connected_components(graph, directed=False)
    return np.asarray(components)


def _model_stats(
    scored: _Scored, first_prior: float, params: DedupParams, model: SplinkModel
) -> dict[str, object]:
    """The prior, the threshold and the fitted m and u probabilities, for the stats."""
    m, u = _m_u(model)
    return {
        "match_prior": float(f"{scored.prior:.4g}"),
        "match_prior_first_guess": float(f"{first_prior:.4g}"),
        "threshold": round(float(scored.threshold), 4),
        "threshold_estimated": params.threshold is None,
        "m": m,
        "u": u,
    }


def _with_decisions(
    match: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    labels: pd.DataFrame | None,
    ids: np.ndarray,
    stats: dict[str, object],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The steward's decisions over the model's: the links of the scored pairs, and the pairs a "yes" links
    that were never scored (``forced_a``, ``forced_b``)."""
    decided = _decisions(labels, set(ids.tolist()))
    forced_a, forced_b = np.array([], dtype=object), np.array([], dtype=object)
    if len(decided):
        key = pd.Series(np.minimum(pair_a, pair_b) + "\x1f" + np.maximum(pair_a, pair_b), dtype=object)
        verdict = decided.set_index("key")["is_match"]
        known = key.isin(verdict.index).to_numpy()
        match = match.copy()
        match[known] = verdict.reindex(key[known]).to_numpy(dtype=bool)
        unseen = decided[decided["is_match"] & ~decided["key"].isin(key)]
        forced_a, forced_b = unseen["id_a"].to_numpy(dtype=object), unseen["id_b"].to_numpy(dtype=object)
        stats["labelled_pairs"] = len(decided)
    return match, forced_a, forced_b


def _pairs_table(pred: pd.DataFrame, weight: np.ndarray, prob: np.ndarray, match: np.ndarray) -> pd.DataFrame:
    """The scored pairs: ids, a level per comparison field, weight, probability and the link decision."""
    pairs = pd.DataFrame(
        {
            "id_a": pred["unique_id_l"].astype("str").to_numpy() if len(pred) else np.array([], dtype=object),
            "id_b": pred["unique_id_r"].astype("str").to_numpy() if len(pred) else np.array([], dtype=object),
        }
    )
    if len(pred):
        pairs = pd.concat([pairs, _level_columns(pred).reset_index(drop=True)], axis=1)
    else:
        for f in COMPARISON_FIELDS:
            pairs[f] = pd.Series([], dtype="int8")
    pairs["weight"] = weight
    pairs["probability"] = prob
    pairs["match"] = match
    return pairs.sort_values(["id_a", "id_b"], kind="stable").reset_index(drop=True)


def _level_columns(pred: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=pred.index)
    for f in COMPARISON_FIELDS:
        out[f] = pred[f"gamma_{f}"].astype("int8")
    return out


def _m_u(model: SplinkModel) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        name = comp["output_column_name"]
        m[name] = [round(float(lv.get("m_probability", float("nan"))), 5) for lv in levels]
        u[name] = [round(float(lv.get("u_probability", float("nan"))), 6) for lv in levels]
    return m, u


def _decisions(labels: pd.DataFrame | None, known_ids: set[str]) -> pd.DataFrame:
    """The steward's decisions as ``id_a``, ``id_b`` (ordered), ``is_match`` and a pair ``key``; unknown ids dropped."""
    if labels is None or labels.empty:
        return pd.DataFrame(columns=["id_a", "id_b", "is_match", "key"])
    for col in ("id_a", "id_b", "is_match"):
        if col not in labels.columns:
            raise ValueError(f"dedup labels: required column '{col}' is missing")
    a = labels["id_a"].astype("str").to_numpy(dtype=object)
    b = labels["id_b"].astype("str").to_numpy(dtype=object)
    truthy = labels["is_match"].astype("str").str.strip().str.lower().isin(["true", "1", "yes", "y"])
    out = pd.DataFrame({"id_a": np.minimum(a, b), "id_b": np.maximum(a, b), "is_match": truthy.to_numpy()})
    out = out[out["id_a"].isin(known_ids) & out["id_b"].isin(known_ids) & (out["id_a"] != out["id_b"])]
    out = out.drop_duplicates(["id_a", "id_b"], keep="last").reset_index(drop=True)
    out["key"] = out["id_a"] + "\x1f" + out["id_b"]
    return out


# Values shown side by side for each uncertain pair (Splink's *_l / *_r columns).
_REVIEW_VALUES = (
    "name",
    "first_name",
    "surname",
    "birth_date",
    "email",
    "phone",
    "address",
    "city",
    "region",
)


def _uncertain_pairs(
    pred: pd.DataFrame, prob: np.ndarray, weight: np.ndarray, mask: np.ndarray
) -> pd.DataFrame:
    """Pairs for the steward: ids, probability, weight, level per field and the compared values of both records."""
    cols: dict[str, np.ndarray | list[object]] = {
        "id_a": pred["unique_id_l"].astype("str").to_numpy(dtype=object)[mask] if len(pred) else [],
        "id_b": pred["unique_id_r"].astype("str").to_numpy(dtype=object)[mask] if len(pred) else [],
        "probability": prob[mask],
        "weight": weight[mask],
    }
    for f in COMPARISON_FIELDS:
        cols[f"level_{f}"] = pred[f"gamma_{f}"].to_numpy()[mask] if len(pred) else np.array([], dtype="int8")
    for v in _REVIEW_VALUES:
        for side, suffix in (("a", "_l"), ("b", "_r")):
            col = f"{v}{suffix}"
            cols[f"{v}_{side}"] = (
                pred[col].astype("object").to_numpy()[mask]
                if col in pred.columns
                else [None] * int(mask.sum())
            )
    out = pd.DataFrame(cols)
    out["is_match"] = pd.Series([None] * len(out), dtype="object")  # for the steward to fill in
    return out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
