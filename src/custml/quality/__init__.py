"""The quality stage: validation with quarantine, normalisation, customer de-duplication and pseudonymisation.

The entry point is :func:`clean_tables`; the pieces (:func:`validate_tables`, :func:`find_duplicates`, the
normalisers) are usable on their own.
"""

from custml.quality.dedup import (
    DedupParams,
    DedupResult,
    find_duplicates,
    golden_records,
    pairwise_precision_recall,
)
from custml.quality.pipeline import (
    CLEAN_CUSTOMERS,
    CleanResult,
    QualityParams,
    clean_tables,
    is_clean_customers,
)
from custml.quality.validate import (
    REASONS,
    ReconciliationError,
    ValidationResult,
    validate_table,
    validate_tables,
)

__all__ = [
    "CLEAN_CUSTOMERS",
    "REASONS",
    "CleanResult",
    "DedupParams",
    "DedupResult",
    "QualityParams",
    "ReconciliationError",
    "ValidationResult",
    "clean_tables",
    "find_duplicates",
    "golden_records",
    "is_clean_customers",
    "pairwise_precision_recall",
    "validate_table",
    "validate_tables",
]
