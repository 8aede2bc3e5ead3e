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

from custml.quality.dedup.backends import spark_backend, splink_spark_jar
from custml.quality.dedup.comparisons import BLOCKING_PRESETS, COMPARISON_FIELDS, LEVEL_PRIORS, comparisons
from custml.quality.dedup.evaluation import pairwise_precision_recall
from custml.quality.dedup.golden import golden_records, stable_golden_ids
from custml.quality.dedup.linking import DedupParams, DedupResult, find_duplicates
from custml.quality.dedup.records import prepare_records
from custml.quality.dedup.scoring import estimate_prior, expected_f1_threshold

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
