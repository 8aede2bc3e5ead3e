"""What Splink compares and which pairs it compares at all: the comparison levels with their starting m and u,
and the blocking presets."""

from __future__ import annotations

from typing import Any

__all__ = ["BLOCKING_PRESETS", "COMPARISON_FIELDS", "LEVEL_PRIORS", "blocking_rules", "comparisons"]

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

    return [
        cl.CustomComparison(
            output_column_name="name",
            comparison_description="given name and surname",
            comparison_levels=_with_priors("name", _name_levels(cll)),
        ),
        *(
            cl.CustomComparison(output_column_name=field, comparison_levels=_with_priors(field, levels))
            for field, levels in _field_levels(cll).items()
        ),
    ]


def _name_levels(cll: Any) -> list[Any]:
    """Name: exact, swapped, fuzzy on either part, one part only."""
    return [
        cll.Or(cll.NullLevel("surname"), cll.And(cll.NullLevel("first_name"), cll.NullLevel("surname"))),
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
    ]


def _field_levels(cll: Any) -> dict[str, list[Any]]:
    """The levels of the other fields, in the order of :data:`COMPARISON_FIELDS`."""
    swapped_day_month = cll.CustomLevel(
        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
    )
    return {
        "birth_date": [
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.Or(cll.DamerauLevenshteinLevel("birth_date", 1), swapped_day_month).configure(
                label_for_charts="one digit off or day and month swapped"
            ),
            cll.ElseLevel(),
        ],
        "email": [
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ExactMatchLevel("mailbox").configure(label_for_charts="same mailbox (alias, dots, case)"),
            cll.ExactMatchLevel("email_user").configure(label_for_charts="same local part, another provider"),
            cll.ElseLevel(),
        ],
        "phone": [
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.DamerauLevenshteinLevel("phone", 1),
            cll.ElseLevel(),
        ],
        "address": [
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address"),
            cll.DamerauLevenshteinLevel("address", 2),
            cll.And(cll.ExactMatchLevel("house_number"), cll.JaroWinklerLevel("address", 0.9)),
            cll.ElseLevel(),
        ],
        "place": [
            cll.And(cll.NullLevel("city"), cll.NullLevel("region")),
            cll.ExactMatchLevel("city"),
            cll.ExactMatchLevel("region"),
            cll.ElseLevel(),
        ],
    }


def blocking_rules(preset: str) -> list[Any]:
    """Splink's blocking rules of a preset of :data:`BLOCKING_PRESETS`."""
    from splink import block_on

    rules: list[Any] = []
    for key in BLOCKING_PRESETS[preset]:
        if key == ("birth_date", "swapped_name"):  # given name and surname swapped
            rules.append("l.birth_date = r.birth_date AND l.first_name = r.surname")
        else:
            rules.append(block_on(*key))
    return rules
