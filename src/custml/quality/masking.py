"""Masked views of personal fields, for showing examples (notebooks, reviews) without showing personal data.

A masked value keeps just enough to see *why* two records were matched (initials, the e-mail domain, the last two
phone digits, the birth year) and nothing that identifies a person. :func:`mask_frame` masks the direct personal
columns of a customers-like frame; the PII scanner (:func:`custml.privacy.scan_for_pii`) finds none of the masked
values.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["mask_email", "mask_frame", "mask_name", "mask_phone"]

_MASK = "\u2022\u2022\u2022"  # bullets: not a letter, digit or e-mail character


def mask_email(value: object) -> str | None:
    """First character of the mailbox, bullets, and the domain: ``a•••@example.org``.

    Examples
    --------
    >>> mask_email("Anna.Smith+shop@Example.org"), mask_email(None)
    ('a•••@example.org', None)
    """
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    local, at, domain = text.partition("@")
    if not at:
        return (text[:1].lower() + _MASK) if text else _MASK
    return f"{local[:1].lower()}{_MASK}@{domain.lower()}"


def mask_phone(value: object) -> str | None:
    """Bullets and the last two digits: ``•••12``.

    Examples
    --------
    >>> mask_phone("+1 (415) 555-0112")
    '•••12'
    """
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return _MASK + digits[-2:]


def mask_name(value: object) -> str | None:
    """Initials of each name part (CJK names: the first character): ``A. S.``.

    Examples
    --------
    >>> mask_name("Anna  smith"), mask_name("王小明")
    ('A. S.', '王•••')
    """
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if text and not text.isascii() and " " not in text:
        return text[:1] + _MASK
    return " ".join(f"{part[:1].upper()}." for part in text.split())


def mask_frame(
    frame: pd.DataFrame,
    *,
    drop: Iterable[str] = ("address",),
    birth_year_only: bool = True,
) -> pd.DataFrame:
    """A copy of ``frame`` with ``name``, ``email`` and ``phone`` masked, ``birth_date`` reduced to its year and
    the columns in ``drop`` removed. Other columns are kept as they are.

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["Ann Lee"], "email": ["ann@x.org"], "phone": ["+14155550101"],
    ...                    "birth_date": pd.to_datetime(["1980-02-03"]), "address": ["1 Main St"]})
    >>> masked = mask_frame(df)
    >>> masked.iloc[0, :3].tolist(), int(masked.loc[0, "birth_date"]), "address" in masked
    (['A. L.', 'a•••@x.org', '•••01'], 1980, False)
    """
    out = frame.drop(columns=[c for c in drop if c in frame.columns]).copy()
    for col, fn in (("name", mask_name), ("email", mask_email), ("phone", mask_phone)):
        if col in out.columns:
            out[col] = out[col].map(fn).astype("object")
    if birth_year_only and "birth_date" in out.columns:
        out["birth_date"] = pd.to_datetime(out["birth_date"], errors="coerce").dt.year.astype("Int64")
    return out
