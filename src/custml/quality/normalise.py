"""Normalisation of personal fields and timestamps: e-mails, phones (E.164), names, dates.

Every function is pure, vectorised over a pandas Series, and idempotent (normalising a normalised value gives it
back), so cleaning already-clean data changes nothing. Values that cannot be normalised are returned as null
together with a mask, so that the caller counts them instead of losing them silently.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import phonenumbers

__all__ = [
    "TimestampParse",
    "NICKNAMES",
    "age_band",
    "canonical_given_name",
    "email_match_key",
    "fold_text",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "parse_timestamps",
]

AGE_BANDS = ("<25", "25-34", "35-44", "45-54", "55-64", "65+")
_EMAIL_OK = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$"
)
_OFFSET_RE = re.compile(r"(?:[zZ]|[+\-]\d{2}(?::?\d{2})?)$")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_GMAIL_LIKE = {"gmail.com", "googlemail.com"}


def _str_or_none(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    return str(v)


def _apply_unique(values: pd.Series, func: Callable[[str], str | None]) -> pd.Series:
    """``func`` applied once per distinct non-null value (names and addresses repeat a lot); nulls stay null."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    mapped = np.array([func(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, name=values.name, dtype="str")


def normalise_email(emails: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Lower-cased, NFKC-normalised, whitespace-free e-mails; invalid ones become null.

    Returns
    -------
    (Series, ndarray)
        The normalised e-mails and a boolean mask of values that were present but are not a valid address.

    Examples
    --------
    >>> e, bad = normalise_email(pd.Series([" Ann.Lee@Example.COM ", "not-an-email", None]))
    >>> e.tolist(), bad.tolist()
    (['ann.lee@example.com', nan, nan], [False, True, False])
    """
    present = emails.notna().to_numpy()
    result = _apply_unique(emails, _one_email)
    invalid = present & result.isna().to_numpy()
    return result, invalid


def _one_email(s: str) -> str | None:
    s = "".join(unicodedata.normalize("NFKC", s).split()).lower()
    return s if _EMAIL_OK.match(s) and ".." not in s else None


def email_match_key(emails: pd.Series) -> pd.Series:
    """A key under which e-mails of one mailbox agree: ``+alias`` dropped, dots dropped for Gmail-like domains.

    Used for blocking and comparison only; the stored e-mail keeps its alias.

    Examples
    --------
    >>> email_match_key(pd.Series(["a.nn+shop@gmail.com", "ann@x.org", None])).tolist()
    ['ann@gmail.com', 'ann@x.org', nan]
    """
    return _apply_unique(emails, _one_mailbox)


def _one_mailbox(s: str) -> str | None:
    if "@" not in s:
        return None
    local, _, domain = s.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_LIKE:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


def normalise_phone(
    phones: pd.Series, regions: pd.Series | str, *, require_valid: bool = True
) -> tuple[pd.Series, np.ndarray]:
    """Phones in E.164 (``+14155550123``), parsed per row with the row's country as the default region.

    Numbers written with a ``+`` country code are parsed as such whatever the region. With ``require_valid``
    a number must be valid for its region (``phonenumbers.is_valid_number``), otherwise only possible (length).

    Returns
    -------
    (Series, ndarray)
        E.164 strings (null when missing or unparseable) and a mask of present-but-invalid values.

    Examples
    --------
    >>> p, bad = normalise_phone(pd.Series(["(415) 555-2671", "138 0013 8000", "12"]), pd.Series(["US", "CN", "US"]))
    >>> p.tolist(), bad.tolist()
    (['+14155552671', '+8613800138000', nan], [False, False, True])
    """
    if isinstance(regions, str):
        region_arr = np.full(len(phones), regions, dtype=object)
    else:
        region_arr = regions.to_numpy(dtype=object)
    values = phones.to_numpy(dtype=object)
    out = np.full(len(phones), None, dtype=object)
    cache: dict[tuple[str, str | None], str | None] = {}
    check = phonenumbers.is_valid_number if require_valid else phonenumbers.is_possible_number
    for i, v in enumerate(values):
        s = _str_or_none(v)
        if s is None:
            continue
        s = unicodedata.normalize("NFKC", s).strip()
        region = _str_or_none(region_arr[i])
        region = region.upper() if region else None
        key = (s, region)
        if key not in cache:
            try:
                num = phonenumbers.parse(s, region)
                cache[key] = (
                    phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
                    if check(num)
                    else None
                )
            except phonenumbers.NumberParseException:
                cache[key] = None
        out[i] = cache[key]
    result = pd.Series(out, index=phones.index, name=phones.name, dtype="str")
    invalid = phones.notna().to_numpy() & result.isna().to_numpy()
    return result, invalid


def _case_token(token: str) -> str:
    # Only single-case tokens are re-cased ("ANNA", "anna" -> "Anna"); "McDonald" or "van" stay as written.
    if token.isupper() or token.islower():
        return token.title()
    return token


def normalise_name(names: pd.Series) -> pd.Series:
    """NFKC-normalised names with single spaces and title case for all-upper/all-lower tokens.

    Chinese names (no case) are only Unicode-normalised and written without spaces; an empty name becomes null.

    Examples
    --------
    >>> normalise_name(pd.Series(["  ANNA   de la CRUZ ", "王　伟", "Ian McDonald", "  "])).tolist()
    ['Anna De La Cruz', '王伟', 'Ian McDonald', nan]
    """
    return _apply_unique(names, _one_name)


def _one_name(s: str) -> str | None:
    s = unicodedata.normalize("NFKC", s)
    # Zero-width and other invisible format characters are typing accidents, not part of a name.
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cc") or ch.isspace())
    tokens = s.split()
    if not tokens:
        return None
    # Chinese names are written without spaces: a space between two CJK characters is a typo.
    return _CJK_GAP.sub("", " ".join(_case_token(t) for t in tokens))


def fold_text(values: pd.Series) -> pd.Series:
    """Comparison form of text: NFKD without accents, case-folded, punctuation removed, single spaces.

    Examples
    --------
    >>> fold_text(pd.Series(["José  O'Neil", "王伟"])).tolist()
    ['jose oneil', '王伟']
    """
    return _apply_unique(values, _one_fold)


def _one_fold(s: str) -> str | None:
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    s = "".join(ch for ch in s.casefold() if ch.isalnum() or ch.isspace())
    return " ".join(s.split()) or None


@dataclass(frozen=True)
class TimestampParse:
    """Parsed timestamps (naive UTC) and masks of what happened to each value."""

    values: pd.Series
    unparseable: np.ndarray
    """Present (non-null, non-blank or blank text) but not an ISO-8601 timestamp or an impossible date."""
    with_offset: np.ndarray
    """Carried a time-zone offset and was converted to UTC."""


def parse_timestamps(values: pd.Series) -> TimestampParse:
    """Parse ISO-8601 timestamps (text or datetime) to naive UTC ``datetime64``.

    Text without an offset is taken as UTC; text with an offset (``+08:00``, ``Z``) and tz-aware datetimes are
    converted to UTC and flagged. Values that are present but cannot be parsed (``"2024-02-30"``, ``"n/a"``, ``""``)
    become NaT and are flagged as unparseable; nulls stay NaT without a flag (the schema's null rule sees them).

    Examples
    --------
    >>> r = parse_timestamps(pd.Series(["2024-03-05 14:22:10", "2024-03-05T22:22:10+08:00", "2024-02-30", None]))
    >>> [str(v) for v in r.values], r.unparseable.tolist(), r.with_offset.tolist()
    (['2024-03-05 14:22:10', '2024-03-05 14:22:10', 'NaT', 'NaT'], [False, False, True, False], [False, True, False, False])
    """
    n = len(values)
    present = values.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        tz = getattr(values.dtype, "tz", None)
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else values
        with_offset = present.copy() if tz is not None else np.zeros(n, dtype=bool)
        parsed = parsed.astype("datetime64[us]")
        return TimestampParse(parsed.rename(values.name), np.zeros(n, dtype=bool), with_offset)
    if pd.api.types.is_object_dtype(values.dtype):
        # datetime objects mixed into text keep their offset through isoformat()
        values = values.map(lambda v: v.isoformat() if isinstance(v, datetime.date) else v)
    text = values.astype("str").where(present, None).str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    out = parsed.dt.tz_localize(None).astype("datetime64[us]").rename(values.name)
    unparseable = present & out.isna().to_numpy()
    has_offset = text.str.contains(_OFFSET_RE.pattern, regex=True) & (text.str.len() > 10)
    with_offset = has_offset.fillna(False).to_numpy(dtype=bool) & ~unparseable
    return TimestampParse(out, unparseable, with_offset)


def age_band(birth_date: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Coarse age band at ``as_of`` ("<25", "25-34", ..., "65+"); null when the birth date is missing or invalid.

    Examples
    --------
    >>> age_band(pd.Series(pd.to_datetime(["1990-06-01", "1950-01-01", None])), pd.Timestamp("2025-01-01")).tolist()
    ['25-34', '65+', nan]
    """
    bd = pd.to_datetime(birth_date, errors="coerce")
    as_of = pd.Timestamp(as_of)
    years = (
        as_of.year
        - bd.dt.year
        - ((bd.dt.month > as_of.month) | ((bd.dt.month == as_of.month) & (bd.dt.day > as_of.day)))
    )
    years = years.where((years >= 0) & (years < 120))
    bins = [-1, 24, 34, 44, 54, 64, 200]
    banded = pd.cut(years, bins=bins, labels=list(AGE_BANDS))
    return pd.Series(
        banded.astype(object).where(banded.notna(), None),
        index=birth_date.index,
        dtype="str",
        name="age_band",
    )


# Common English nicknames and short forms -> the given name they stand for (folded, lower case). Used to compare
# given names only; the stored name keeps what the customer wrote.
NICKNAMES: dict[str, str] = {
    "bill": "william", "will": "william", "billy": "william", "bob": "robert", "rob": "robert",
    "bobby": "robert", "dick": "richard", "rick": "richard", "jim": "james", "jimmy": "james", "jack": "john",
    "johnny": "john", "mike": "michael", "tom": "thomas", "tommy": "thomas", "chuck": "charles",
    "charlie": "charles", "joe": "joseph", "dan": "daniel", "danny": "daniel", "matt": "matthew",
    "tony": "anthony", "chris": "christopher", "steve": "steven", "ted": "edward", "ed": "edward",
    "eddie": "edward", "peggy": "margaret", "maggie": "margaret", "liz": "elizabeth", "beth": "elizabeth",
    "betty": "elizabeth", "kate": "katherine", "katie": "katherine", "cathy": "catherine", "jen": "jennifer",
    "jenny": "jennifer", "patty": "patricia", "pat": "patricia", "sue": "susan", "debbie": "deborah",
    "deb": "deborah", "becky": "rebecca", "kim": "kimberly", "sam": "samantha", "alex": "alexander",
    "ben": "benjamin", "nick": "nicholas", "jon": "jonathan", "andy": "andrew", "drew": "andrew",
    "tim": "timothy", "greg": "gregory", "jackie": "jacqueline", "vicky": "victoria", "abby": "abigail",
    "dave": "david", "jeff": "jeffrey", "ken": "kenneth", "larry": "lawrence", "ron": "ronald",
    "don": "donald", "gary": "gary", "josh": "joshua", "zach": "zachary", "nate": "nathan",
}  # fmt: skip


def canonical_given_name(folded: pd.Series) -> pd.Series:
    """Folded given names with common nicknames replaced by the name they stand for (``bill`` -> ``william``).

    Examples
    --------
    >>> canonical_given_name(pd.Series(["bill", "anna", "jen"])).tolist()
    ['william', 'anna', 'jennifer']
    """
    return folded.replace(NICKNAMES)
