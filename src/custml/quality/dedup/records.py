"""Preparation of customer records for Splink: names split, e-mails reduced to their mailbox, addresses folded."""

from __future__ import annotations

import re

import pandas as pd

from custml.quality.normalise import canonical_given_name, email_match_key, fold_text

__all__ = ["prepare_records"]

_ADDRESS_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "suite": "ste", "drive": "dr", "apartment": "apt",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "highway": "hwy", "north": "n",
    "south": "s", "east": "e", "west": "w",
}  # fmt: skip
_CJK_NAME = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


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
