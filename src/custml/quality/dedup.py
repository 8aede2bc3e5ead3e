"""Customer de-duplication with Splink (Fellegi-Sunter): our normalisation in, clusters and golden records out.

Records of one real person (typos in either name, given name and surname swapped, a missing given name, a new
surname, a nickname, a mistyped birth date, the phone written differently, an upper-case, ``+alias`` or
other-provider e-mail, a new customer id) are found in four steps:

1. **Preparation** (ours, :func:`prepare_records`): names split into a given name (nicknames mapped to the name
   they stand for) and a surname, e-mails reduced to the mailbox key and its local part, address words
   abbreviated one way and the house number taken apart.
2. **Blocking** (Splink): candidate pairs share one of the keys of the blocking preset (:data:`BLOCKING_PRESETS`).
3. **Scoring** (Splink): each pair gets a comparison level per field (:func:`comparisons`): the name (exact,
   swapped, fuzzy on either part, one part only), birth date (exact, one digit or day/month swapped), e-mail
   (exact, same mailbox, same local part at another provider), phone (exact, one digit off), address (exact, a
   typo, same house number and a similar street) and place (city, region). The ``u`` probabilities come from
   random record pairs, the ``m`` probabilities from expectation maximisation on blocked pairs (tables under
   ``min_records_to_train`` records use :data:`LEVEL_PRIORS`), the prior share of matching pairs is the EM fixed
   point over the scored pairs (:func:`estimate_prior`), and the match threshold is the one that maximises the
   expected F1 under the model's own probabilities (:func:`expected_f1_threshold`) unless one is set. The
   steward's decisions (``labels``) override the model on the pairs they name.
4. **Clustering**: linked pairs form a graph whose connected components (scipy) are the persons.

Survivorship (:func:`golden_records`): the golden id is the raw id of the record with the earliest
``signup_date`` (ties: the smallest raw id); ``signup_date`` is the earliest, ``acquisition_channel`` the earliest
non-null one, and every other field the most recent non-null value (records ordered by ``signup_date``, the latest
first; ties: the larger raw id first). Across runs, :func:`stable_golden_ids` keeps earlier golden ids.

Splink works in a DuckDB database (or a Spark session); the tables it builds hold personal data, so the caller
passes a folder inside the private folder for anything DuckDB writes (``work_dir``), and nothing is written
without one.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from custml.quality.normalise import canonical_given_name, email_match_key, fold_text
from custml.settings import Settings

__all__ = [
    "BLOCKING_PRESETS",
    "COMPARISON_FIELDS",
    "LEVEL_PRIORS",
    "DedupParams",
    "DedupResult",
    "comparisons",
    "estimate_prior",
    "expected_f1_threshold",
    "find_duplicates",
    "golden_records",
    "pairwise_precision_recall",
    "prepare_records",
    "spark_backend",
    "splink_spark_jar",
    "stable_golden_ids",
]

log = logging.getLogger(__name__)

# The comparisons' output names, in the order of the pairs table's level columns.
COMPARISON_FIELDS = ("name", "birth_date", "email", "phone", "address", "place")

# Blocking presets: each is a list of keys (columns of prepare_records, joined by AND); a pair is a candidate when
# it agrees on any one key. "standard" is the default; "narrow" is cheaper and misses more; "wide" adds keys for
# records that share little but a birth date or a house number.
BLOCKING_PRESETS: dict[str, tuple[tuple[str, ...], ...]] = {
    "narrow": (("mailbox",), ("phone",), ("first_name", "surname"), ("birth_date", "surname_initial")),
    "standard": (
        ("mailbox",),
        ("email_user",),
        ("phone",),
        ("address",),
        ("first_name", "surname", "city"),
        ("first_name", "birth_date"),
        ("surname", "birth_date"),
        ("birth_date", "first_initial", "surname_initial"),
        ("birth_date", "swapped_name"),
        ("surname", "house_number"),
        ("first_name", "house_number"),
    ),
    "wide": (
        ("mailbox",),
        ("email_user",),
        ("phone",),
        ("address",),
        ("first_name", "surname"),
        ("birth_date",),
        ("house_number", "city"),
        ("surname", "house_number"),
        ("first_name", "house_number"),
        ("surname", "city"),
    ),
}
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
_ADDRESS_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "suite": "ste", "drive": "dr", "apartment": "apt",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "highway": "hwy", "north": "n",
    "south": "s", "east": "e", "west": "w",
}  # fmt: skip
_CJK_NAME = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


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
    model: dict[str, Any] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)
    uncertain: pd.DataFrame = field(default_factory=pd.DataFrame)


def _col(customers: pd.DataFrame, name: str) -> pd.Series:
    if name in customers.columns:
        return customers[name]
    return pd.Series([None] * len(customers), index=customers.index, dtype="object")


def _fold(values: pd.Series) -> pd.Series:
    """:func:`custml.quality.normalise.fold_text`, vectorised for ASCII text (the bulk), as Arrow strings."""
    text = values.astype("str")
    ascii_ = text.str.match(r"^[\x00-\x7f]*$").fillna(True).astype(bool)
    fast = (
        text.str.lower()
        .str.replace(r"[^a-z0-9\s]", "", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )
    if (~ascii_).any():
        fast = fast.where(ascii_, fold_text(text[~ascii_]).reindex(text.index).astype("str"))
    return _blank_to_na(fast)


def _blank_to_na(text: pd.Series) -> pd.Series:
    return text.mask(text == "")  # (replace("", None) would turn Arrow strings into slow objects)


def prepare_records(customers: pd.DataFrame) -> pd.DataFrame:
    """The columns Splink compares, one row per record (``unique_id`` = the raw customer id, ``name`` as written).

    ``first_name`` (folded, nicknames mapped), ``surname``, their initials, ``birth_date`` (``YYYY-MM-DD``), ``email``, ``mailbox``
    (:func:`custml.quality.normalise.email_match_key`), ``email_user`` (its local part without dots),
    ``phone``, ``address`` (folded, street words abbreviated), ``house_number``, ``city``, ``region``.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "b"], "name": ["Bill O'Neil", "王伟"],
    ...                   "email": ["b.oneil+x@gmail.com", None], "address": ["12 Elm Street Apt. 3", None]})
    >>> prepare_records(c)[["first_name", "surname", "email_user", "address", "house_number"]].values.tolist()
    [['william', 'oneil', 'boneil', '12 elm st 3', '12'], ['伟', '王', nan, nan, nan]]
    """
    c = customers
    folded = _fold(_col(c, "name"))
    # Chinese names: surname first, no spaces; others: the last word is the surname, the rest the given name
    cjk = folded.str.contains(_CJK_NAME.pattern, regex=True).fillna(False).astype(bool)
    compact = folded.str.replace(" ", "", regex=False)
    surname = folded.str.replace(r"^.*\s", "", regex=True).where(~cjk, compact.str.slice(0, 1))
    given = _blank_to_na(folded.str.replace(r"\s*\S+$", "", regex=True).where(~cjk, compact.str.slice(1)))
    first = canonical_given_name(given)
    email = _col(c, "email").astype("str")
    mailbox = email_match_key(email).astype("str")
    user = _blank_to_na(mailbox.str.replace(r"@.*$", "", regex=True).str.replace(".", "", regex=False))
    bd = pd.to_datetime(_col(c, "birth_date"), errors="coerce")
    address = _fold(_col(c, "address")).str.replace(r"\b(?:apt|unit|no)\b", " ", regex=True)
    for word, short in _ADDRESS_WORDS.items():
        address = address.str.replace(rf"\b{word}\b", short, regex=True)
    address = _blank_to_na(address.str.replace(r"\s+", " ", regex=True).str.strip())
    house = address.str.replace(r"^\D*", "", regex=True).str.replace(r"\D.*$", "", regex=True)
    out = pd.DataFrame(
        {
            "unique_id": c["customer_id"].astype("str"),
            "name": _col(c, "name").astype("str"),  # as written (normalised): shown to the steward only
            "first_name": first,
            "surname": surname,
            "first_initial": first.str.slice(0, 1),
            "surname_initial": surname.str.slice(0, 1),
            "birth_date": bd.dt.strftime("%Y-%m-%d"),
            "email": email,
            "mailbox": mailbox,
            "email_user": user,
            "phone": _col(c, "phone").astype("str"),
            "address": address,
            "house_number": _blank_to_na(house),
            "city": _fold(_col(c, "city")),
            "region": _fold(_col(c, "region")),
        }
    ).reset_index(drop=True)
    out = out.astype({col: "str" for col in out.columns})  # Arrow strings: DuckDB reads them without copies
    return out


# Starting m and u probabilities of each comparison level (the null level excepted), most specific first: what
# a table too small to train on uses (fewer than min_records_to_train records), and where EM or random sampling
# leave a level unobserved. Rounded from models trained on 100k-record worlds.
LEVEL_PRIORS: dict[str, tuple[tuple[float, float], ...]] = {
    "name": ((0.55, 2e-5), (0.03, 1e-6), (0.12, 2e-5), (0.08, 3e-5), (0.08, 2e-5), (0.04, 2e-5), (0.04, 0.003),
             (0.04, 0.005), (0.02, 0.99)),
    "birth_date": ((0.85, 7e-5), (0.13, 0.002), (0.02, 0.998)),
    "email": ((0.45, 1e-6), (0.25, 1e-6), (0.2, 1e-5), (0.1, 0.99998)),
    "phone": ((0.85, 1e-6), (0.05, 1e-5), (0.1, 0.99999)),
    "address": ((0.75, 2e-5), (0.2, 2e-5), (0.02, 1e-5), (0.03, 0.99995)),
    "place": ((0.95, 0.0013), (0.03, 0.02), (0.02, 0.9787)),
}  # fmt: skip


def _with_priors(field: str, levels: list[Any]) -> list[Any]:
    """The levels with their starting m and u (:data:`LEVEL_PRIORS`); the first level is the null level."""
    priors = LEVEL_PRIORS[field]
    if len(priors) != len(levels) - 1:  # pragma: no cover - a guard for whoever adds a level
        raise ValueError(f"LEVEL_PRIORS[{field!r}]: {len(priors)} priors for {len(levels) - 1} levels")
    return [levels[0]] + [
        lv.configure(m_probability=m, u_probability=u) for lv, (m, u) in zip(levels[1:], priors, strict=True)
    ]


def comparisons() -> list[Any]:
    """Splink comparisons for customer records (output names :data:`COMPARISON_FIELDS`); levels from most to least
    specific, the first of each is "a value is missing" (no evidence)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="given name and surname",
        comparison_levels=_with_priors(
            "name",
            [
                cll.Or(
                    cll.NullLevel("surname"), cll.And(cll.NullLevel("first_name"), cll.NullLevel("surname"))
                ),
                cll.And(cll.ExactMatchLevel("first_name"), cll.ExactMatchLevel("surname")),
                cll.ColumnsReversedLevel("first_name", "surname", symmetrical=True),
                cll.And(cll.ExactMatchLevel("surname"), cll.JaroWinklerLevel("first_name", 0.88)),
                cll.And(cll.ExactMatchLevel("first_name"), cll.DamerauLevenshteinLevel("surname", 2)),
                cll.And(cll.JaroWinklerLevel("first_name", 0.88), cll.JaroWinklerLevel("surname", 0.88)),
                cll.And(cll.ExactMatchLevel("surname"), cll.NullLevel("first_name")).configure(
                    label_for_charts="surname equal, a given name missing"
                ),
                cll.ExactMatchLevel("surname"),
                cll.ExactMatchLevel("first_name"),
                cll.ElseLevel(),
            ],
        ),
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=_with_priors(
            "birth_date",
            [
                cll.NullLevel("birth_date"),
                cll.ExactMatchLevel("birth_date"),
                cll.Or(
                    cll.DamerauLevenshteinLevel("birth_date", 1),
                    cll.CustomLevel(
                        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
                    ),
                ).configure(label_for_charts="one digit off or day and month swapped"),
                cll.ElseLevel(),
            ],
        ),
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=_with_priors(
            "email",
            [
                cll.NullLevel("email"),
                cll.ExactMatchLevel("email"),
                cll.ExactMatchLevel("mailbox").configure(label_for_charts="same mailbox (alias, dots, case)"),
                cll.ExactMatchLevel("email_user").configure(
                    label_for_charts="same local part, another provider"
                ),
                cll.ElseLevel(),
            ],
        ),
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=_with_priors(
            "phone",
            [
                cll.NullLevel("phone"),
                cll.ExactMatchLevel("phone"),
                cll.DamerauLevenshteinLevel("phone", 1),
                cll.ElseLevel(),
            ],
        ),
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=_with_priors(
            "address",
            [
                cll.NullLevel("address"),
                cll.ExactMatchLevel("address"),
                cll.DamerauLevenshteinLevel("address", 2),
                cll.And(cll.ExactMatchLevel("house_number"), cll.JaroWinklerLevel("address", 0.9)),
                cll.ElseLevel(),
            ],
        ),
    )
    place = cl.CustomComparison(
        output_column_name="place",
        comparison_levels=_with_priors(
            "place",
            [
                cll.And(cll.NullLevel("city"), cll.NullLevel("region")),
                cll.ExactMatchLevel("city"),
                cll.ExactMatchLevel("region"),
                cll.ElseLevel(),
            ],
        ),
    )
    return [name, birth, email, phone, address, place]


def _blocking_rules(preset: str) -> list[Any]:
    from splink import block_on

    rules: list[Any] = []
    for key in BLOCKING_PRESETS[preset]:
        if key == ("birth_date", "swapped_name"):  # given name and surname swapped
            rules.append("l.birth_date = r.birth_date AND l.first_name = r.surname")
        else:
            rules.append(block_on(*key))
    return rules


def _logit2(p: float) -> float:
    return float(np.log2(p / (1 - p)))


def _probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def estimate_prior(bayes_weight: np.ndarray, total_pairs: int, start: float, iterations: int = 200) -> float:
    """The prior probability that two random records match, as the fixed point of the EM update on the scored pairs.

    ``bayes_weight`` is each scored pair's match weight without the prior (log2 Bayes factor); pairs never
    scored (not blocked together) count as non-matches. The update is ``lambda = sum(p_i(lambda)) / total_pairs``.

    Examples
    --------
    >>> w = np.array([20.0] * 10 + [-10.0] * 1000)
    >>> round(estimate_prior(w, 10_000, 1e-3) * 10_000, 1)
    10.0
    """
    if total_pairs <= 0 or len(bayes_weight) == 0:
        return start
    lam = float(np.clip(start, 1e-12, 0.5))
    for _ in range(iterations):
        new = float(np.clip(_probability(bayes_weight + _logit2(lam)).sum() / total_pairs, 1e-12, 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam


def expected_f1_threshold(probability: np.ndarray, floor: float = 0.5) -> float:
    """The match threshold that maximises the expected F1 when the probabilities are taken at their word.

    At a threshold ``t`` the expected true links are ``sum(p >= t)`` of ``p``, the links ``count(p >= t)`` and the
    true pairs ``sum(p)``; F1 = 2 TP / (links + true pairs). The cut is placed half-way (in match weight) between
    the last pair linked and the first pair left out, and never below ``floor`` (nor when every pair is linked).

    Examples
    --------
    >>> round(expected_f1_threshold(np.array([0.999, 0.98, 0.9, 0.4, 0.01])), 3)
    0.71
    >>> expected_f1_threshold(np.array([0.9999, 0.9998]))
    0.5
    """
    p = np.sort(np.asarray(probability, dtype=float))[::-1]
    if len(p) == 0:
        return floor
    tp = np.cumsum(p)
    f1 = 2 * tp / (np.arange(1, len(p) + 1) + p.sum())
    best = int(np.argmax(f1))
    if best + 1 >= len(p):
        return floor
    lo, hi = np.clip([p[best + 1], p[best]], 1e-12, 1 - 1e-12)
    mid = (np.log2(lo / (1 - lo)) + np.log2(hi / (1 - hi))) / 2
    return float(max(floor, 1.0 / (1.0 + np.exp2(-mid))))


def spark_backend(spark: Any, work_dir: Path | None = None) -> Any:
    """Splink's Spark back end on a session started with :func:`splink_spark_jar` among its jars.

    Splink breaks Spark's lineage between steps: with ``work_dir`` (inside the private folder: the tables hold
    personal data) by checkpoints written there, else by persisting in memory.
    """
    from splink import SparkAPI

    if work_dir is None:
        return SparkAPI(spark_session=spark, break_lineage_method="persist")
    checkpoints = work_dir / "spark_checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir(str(checkpoints))
    return SparkAPI(spark_session=spark, break_lineage_method="checkpoint")


def splink_spark_jar() -> str:
    """The jar of Splink's string-similarity functions (Jaro-Winkler, Damerau-Levenshtein) for Spark sessions."""
    from splink.internals.spark.jar_location import similarity_jar_location

    return str(similarity_jar_location())


def _connect(db_api: Any | None, work_dir: Path | None, seed: int) -> Any:
    """A Splink DuckDB API whose spill files (personal data) go to ``work_dir`` only (none without it)."""
    import duckdb
    from splink import DuckDBAPI

    if db_api is not None:
        return db_api
    con = duckdb.connect(":memory:")
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{(work_dir / 'duckdb_tmp').as_posix()}'").fetchall()
    else:
        con.execute(
            "SET temp_directory = ''"
        ).fetchall()  # no spilling to disk: nothing personal leaves memory
    con.execute(f"SELECT setseed({(seed % 1000) / 1000.0})").fetchall()
    return DuckDBAPI(connection=con)


def _level_columns(pred: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=pred.index)
    for f in COMPARISON_FIELDS:
        out[f] = pred[f"gamma_{f}"].astype("int8")
    return out


def _m_u(model: dict[str, Any]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        name = comp["output_column_name"]
        m[name] = [round(float(lv.get("m_probability", float("nan"))), 5) for lv in levels]
        u[name] = [round(float(lv.get("u_probability", float("nan"))), 6) for lv in levels]
    return m, u


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
    from splink import Linker, SettingsCreator, block_on
    from splink.internals.exceptions import EMTrainingException, SplinkException

    params = params or DedupParams()
    if "customer_id" not in customers.columns:
        raise ValueError("customers: required column 'customer_id' is missing")
    t0 = time.perf_counter()
    ids = customers["customer_id"].astype("str").to_numpy(dtype=object)
    n = len(ids)
    if pd.Series(ids).duplicated().any():
        raise ValueError(
            f"customers: customer_id has {int(pd.Series(ids).duplicated().sum()):,} repeated values"
        )
    records = prepare_records(customers.reset_index(drop=True))
    api = _connect(db_api, work_dir, params.seed)
    frame = api.register(records)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=_blocking_rules(params.blocking),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,  # the gamma (level) columns come with them
        max_iterations=params.em_iterations,
        additional_columns_to_retain=["name"],
    )
    linker = Linker(frame, settings, log_level=None)
    splink_log = logging.getLogger("splink")
    level = splink_log.level
    # Splink warns about every level EM did not observe (common on small tables: they keep their defaults)
    splink_log.setLevel(max(level, logging.ERROR))
    timing: dict[str, float] = {}
    t_phase = time.perf_counter()
    stats: dict[str, object] = {"records": n, "backend": type(api).__name__, "blocking": params.blocking}
    trained = n >= params.min_records_to_train
    stats["trained"] = trained
    if trained:
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
    # the match weight without the prior: the Bayes factor of each pair's comparison levels
    bayes = pred["match_weight"].to_numpy(dtype=float) - _logit2(first_prior) if len(pred) else np.zeros(0)
    prior = first_prior if params.prior is not None else estimate_prior(bayes, n * (n - 1) // 2, first_prior)
    prob = _probability(bayes + _logit2(prior))
    keep = prob >= params.keep_pairs_above
    pred, bayes, prob = pred[keep].reset_index(drop=True), bayes[keep], prob[keep]
    threshold = (
        params.threshold
        if params.threshold is not None
        else expected_f1_threshold(prob, params.min_threshold)
    )
    match = prob >= threshold
    pair_a = (
        pred["unique_id_l"].astype("str").to_numpy(dtype=object) if len(pred) else np.array([], dtype=object)
    )
    pair_b = (
        pred["unique_id_r"].astype("str").to_numpy(dtype=object) if len(pred) else np.array([], dtype=object)
    )
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
    position = pd.Series(np.arange(n), index=pd.Index(ids))
    ia = position.reindex(np.r_[pair_a[match], forced_a]).to_numpy()
    ib = position.reindex(np.r_[pair_b[match], forced_b]).to_numpy()
    graph = coo_matrix((np.ones(len(ia)), (ia, ib)), shape=(n, n))
    _, components = connected_components(graph, directed=False)
    clusters = _golden_of_clusters(customers, ids, components)
    lo, hi = params.review_band
    uncertain = _uncertain_pairs(pred, prob, bayes + _logit2(prior), (prob >= lo) & (prob < hi))

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
    pairs["weight"] = bayes + _logit2(prior)
    pairs["probability"] = prob
    pairs["match"] = match
    pairs = pairs.sort_values(["id_a", "id_b"], kind="stable").reset_index(drop=True)
    model = linker.misc.save_model_to_json(overwrite=True)
    m, u = _m_u(model)
    sizes = pd.Series(components).value_counts()
    stats.update(
        {
            "scored_pairs": len(pred),
            "matched_pairs": int(match.sum()),
            "uncertain_pairs": int(((prob >= lo) & (prob < hi)).sum()),
            "clusters_with_duplicates": int((sizes > 1).sum()),
            "records_merged": int(n - len(sizes)),
            "largest_cluster": int(sizes.max()) if len(sizes) else 0,
            "match_prior": float(f"{prior:.4g}"),
            "match_prior_first_guess": float(f"{first_prior:.4g}"),
            "threshold": round(float(threshold), 4),
            "threshold_estimated": params.threshold is None,
            "m": m,
            "u": u,
            "seconds": round(time.perf_counter() - t0, 3),
            "seconds_by_phase": {k: round(v, 2) for k, v in timing.items()},
        }
    )
    chart_html: dict[str, str] = {}
    if charts:
        chart_html["match_weights"] = linker.visualisations.match_weights_chart().to_html(inline=True)
    log.info("dedup: %s", {k: v for k, v in stats.items() if k not in ("m", "u")})
    return DedupResult(
        clusters=clusters, pairs=pairs, stats=stats, model=model, charts=chart_html, uncertain=uncertain
    )


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
    cols: dict[str, Any] = {
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


def _golden_of_clusters(customers: pd.DataFrame, ids: np.ndarray, labels: np.ndarray) -> pd.Series:
    """Raw id -> golden raw id: per cluster the record with the earliest sign-up (ties: the smallest id)."""
    n = len(ids)
    signup = (
        pd.to_datetime(customers["signup_date"]).to_numpy()
        if "signup_date" in customers
        else np.zeros(n, dtype="datetime64[us]")
    )
    order = pd.DataFrame({"label": labels, "signup": signup, "id": ids}).sort_values(
        ["label", "signup", "id"]
    )
    golden_of_label = order.drop_duplicates("label").set_index("label")["id"]
    clusters = pd.Series(golden_of_label.reindex(labels).to_numpy(), index=pd.Index(ids, name="customer_id"))
    clusters.name = "golden_id"
    return clusters


def golden_records(customers: pd.DataFrame, clusters: pd.Series) -> pd.DataFrame:
    """One row per person: the golden record built from its cluster by the survivorship rule (module docstring).

    Returns the customers' columns with ``customer_id`` = golden raw id, plus ``n_source_records``.
    """
    df = customers.copy()
    df["_golden"] = clusters.reindex(df["customer_id"].astype("str")).to_numpy()
    df["_signup"] = pd.to_datetime(df["signup_date"])
    latest_first = df.sort_values(["_golden", "_signup", "customer_id"], ascending=[True, False, False])
    attrs = [c for c in customers.columns if c not in ("customer_id", "signup_date", "acquisition_channel")]
    g = latest_first.groupby("_golden", sort=True)
    out = g[attrs].first() if attrs else pd.DataFrame(index=g.size().index)
    earliest = df.sort_values(["_golden", "_signup", "customer_id"]).groupby("_golden", sort=True)
    out["signup_date"] = earliest["signup_date"].first()
    if "acquisition_channel" in customers.columns:
        out["acquisition_channel"] = earliest["acquisition_channel"].first()
    out["n_source_records"] = g.size().astype("int64")
    out = out.reset_index().rename(columns={"_golden": "customer_id"})
    cols = [c for c in customers.columns if c in out.columns] + ["n_source_records"]
    out = out[cols]
    for c in out.columns:  # groupby().first() may widen dtypes; keep the input's
        if c in customers.columns and out[c].dtype != customers[c].dtype:
            out[c] = out[c].astype(customers[c].dtype)
    return out


def stable_golden_ids(
    clusters: pd.Series, previous: pd.DataFrame | None, signup: pd.Series | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Keep the golden ids of an earlier run: each new cluster takes the earlier golden id of its members.

    Parameters
    ----------
    clusters : Series
        This run's raw id -> golden raw id (:attr:`DedupResult.clusters`).
    previous : DataFrame or None
        The earlier id map (``raw_customer_id``, ``golden_raw_id``).
    signup : Series, optional
        Raw id -> sign-up date, to choose the surviving id when clusters merge (the earliest sign-up, ties the
        smallest id); without it the smallest id survives.

    Returns
    -------
    (Series, DataFrame)
        The clusters with stable golden ids, and the merges: one row per earlier golden id absorbed into another
        (``absorbed_golden_raw_id``, ``surviving_golden_raw_id``). A cluster without an earlier golden id keeps
        this run's; a cluster holding several keeps the surviving one and records the others. An earlier
        cluster split by this run keeps its id on the part holding its golden record; the other part gets its
        own id from this run (never an id already in use).

    Examples
    --------
    >>> prev = pd.DataFrame({"raw_customer_id": ["a", "b", "c"], "golden_raw_id": ["a", "b", "c"]})
    >>> now = pd.Series(["b", "b", "c", "c"], index=["a", "b", "c", "d"])
    >>> ids, merges = stable_golden_ids(now, prev)
    >>> ids.tolist(), merges.values.tolist()
    (['a', 'a', 'c', 'c'], [['b', 'a']])
    """
    empty = pd.DataFrame(
        {
            "absorbed_golden_raw_id": pd.Series([], dtype="str"),
            "surviving_golden_raw_id": pd.Series([], dtype="str"),
        }
    )
    if previous is None or previous.empty:
        return clusters, empty
    raw = pd.Index(clusters.index.astype(str))
    old_golden = (
        previous.assign(raw_customer_id=previous["raw_customer_id"].astype(str))
        .drop_duplicates("raw_customer_id")
        .set_index("raw_customer_id")["golden_raw_id"]
        .astype(str)
    )
    df = pd.DataFrame({"raw": raw, "cluster": clusters.astype(str).to_numpy()})
    df["old"] = old_golden.reindex(raw).to_numpy(dtype=object)
    # an earlier golden id is carried by the member that *was* that golden record, else by any earlier member
    carrier = df[df["old"].notna()]
    holds_record = carrier[carrier["raw"] == carrier["old"]]
    candidates = pd.concat([holds_record, carrier[~carrier["old"].isin(holds_record["old"])]])
    candidates = candidates.drop_duplicates("old")  # one cluster per earlier id: where its record is
    if signup is not None:
        s = pd.to_datetime(signup)
        s.index = s.index.astype(str)
        candidates = candidates.assign(_signup=s.reindex(candidates["old"]).to_numpy())
    else:
        candidates = candidates.assign(_signup=pd.NaT)
    candidates = candidates.sort_values(["cluster", "_signup", "old"], na_position="last")
    surviving = candidates.drop_duplicates("cluster").set_index("cluster")["old"]
    absorbed = candidates[~candidates["old"].isin(surviving.to_numpy())]
    merges = pd.DataFrame(
        {
            "absorbed_golden_raw_id": absorbed["old"].astype("str").to_numpy(),
            "surviving_golden_raw_id": surviving.reindex(absorbed["cluster"]).astype("str").to_numpy(),
        }
    )
    new = surviving.reindex(df["cluster"]).to_numpy(dtype=object)
    # a cluster without an earlier golden id keeps this run's id, unless that id is an earlier golden id in use
    # elsewhere: then its earliest member not in use
    in_use = set(surviving.to_numpy()) | set(old_golden.to_numpy())
    fresh = pd.isna(new)
    if fresh.any():
        own = df.loc[fresh, "cluster"].to_numpy(dtype=object)
        clash = np.array([o in in_use for o in own])
        if clash.any():
            members = df.loc[fresh].assign(_own=own)
            for cl_id in set(own[clash]):
                free = sorted(r for r in members.loc[members["_own"] == cl_id, "raw"] if r not in in_use)
                own[own == cl_id] = free[0] if free else cl_id
        new[fresh] = own
    out = pd.Series(new, index=clusters.index, name=clusters.name).astype(str)
    return out, merges.sort_values("absorbed_golden_raw_id").reset_index(drop=True)


def pairwise_precision_recall(clusters: pd.Series, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall of ``clusters`` (raw id -> cluster id) against true persons.

    ``truth`` has ``customer_id`` and ``person_id`` for every record of a person with more than one record
    (``truth/duplicates.parquet``); other records are their own person. Only records present in ``clusters`` count.

    Examples
    --------
    >>> c = pd.Series(["a", "a", "c", "c"], index=["a", "b", "c", "d"])
    >>> t = pd.DataFrame({"customer_id": ["a", "b", "c"], "person_id": ["P1", "P1", "P2"]})
    >>> pairwise_precision_recall(c, t)["precision"], pairwise_precision_recall(c, t)["recall"]
    (0.5, 1.0)
    """
    df = pd.DataFrame({"customer_id": clusters.index.astype(str), "cluster": clusters.astype(str).to_numpy()})
    person = truth.assign(customer_id=truth["customer_id"].astype(str)).set_index("customer_id")["person_id"]
    df["person"] = person.reindex(df["customer_id"]).to_numpy(dtype=object)
    df["person"] = df["person"].where(df["person"].notna(), "self:" + df["customer_id"])

    def n_pairs(sizes: pd.Series) -> int:
        s = sizes.to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    predicted = n_pairs(df.groupby("cluster").size())
    true = n_pairs(df.groupby("person").size())
    tp = n_pairs(df.groupby(["cluster", "person"]).size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": tp,
        "predicted_pairs": predicted,
        "true_pairs": true,
    }
