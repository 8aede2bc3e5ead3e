"""Turn simulated persons, orders and interactions into contract tables, clean or dirty.

With ``dirty = 0`` every person has one customer record and timestamps are ``datetime64``. With ``dirty > 0``
(rates in :class:`custml.synth.params.DirtParams`, each multiplied by ``dirty``):

- duplicate customer records of one person: a later signup, a new ``customer_id`` (ids follow record signup
  order, so duplicates are not at the end), a one-character typo or a case/whitespace change in the name
  (zh_CN: a character swapped for another from the name pool, or a space inserted), a reformatted phone, an
  upper-case or ``+alias`` e-mail; the person's orders and interactions after the second signup are split at
  random across both records (a refund follows its order);
- invalid e-mails and phones, missing optional values;
- ``order_ts`` and ``ts`` written as ISO text, a few malformed (``2024-02-30 10:00:00``, ``""``, ``n/a``),
  future-dated (year 2099) or written with a ``+08:00`` zone offset (the same UTC instant);
- exact duplicated order rows and a few non-refund orders with negative amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custml.synth.identities import EMAIL_DOMAINS, format_phones
from custml.synth.params import DirtParams, WorldParams

__all__ = [
    "NICKNAMES",
    "Column",
    "People",
    "Records",
    "build_records",
    "heavy_corruption",
    "interactions_frame",
    "orders_frame",
    "typo",
]

_US_ABBREV = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Suite", "Ste"),
    ("Apt.", "#"),
    ("Drive", "Dr"),
)


def typo(text: str, rng: np.random.Generator, alphabet: list[str]) -> str:
    """One random character edit: substitute, delete, insert or transpose (CJK: substitute or insert a space)."""
    if not text:
        return text
    cjk = not text.isascii()
    i = int(rng.integers(0, len(text)))
    op = int(rng.integers(0, 2 if cjk else 4))
    if cjk:
        if op == 0 or len(text) < 2:
            return text[:i] + alphabet[int(rng.integers(0, len(alphabet)))] + text[i + 1 :]
        j = max(1, i)
        return text[:j] + " " + text[j:]
    if text[i] == " ":
        i = max(0, i - 1)
    ch = alphabet[int(rng.integers(0, len(alphabet)))]
    if text[i].isupper():
        ch = ch.upper()
    if op == 0:
        return text[:i] + ch + text[i + 1 :]
    if op == 1 and len(text) > 3:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + ch + text[i:]
    if i + 1 < len(text) and text[i + 1] != " ":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + ch + text[i + 1 :]


def _case_change(text: str, rng: np.random.Generator) -> str:
    if not text.isascii():
        return " " + text if rng.random() < 0.5 else text + " "
    k = int(rng.integers(0, 4))
    return (text.upper(), text.lower(), "  ".join(text.split(" ")), f" {text} ")[k]


def _alias(email: str, rng: np.random.Generator) -> str:
    local, _, domain = email.partition("@")
    if rng.random() < 0.5:
        return email.upper() if rng.random() < 0.5 else local.capitalize() + "@" + domain.upper()
    tag = ("shop", "promo", "store", "deals", "1")[int(rng.integers(0, 5))]
    return f"{local}+{tag}@{domain}"


def _invalid_email(email: str, rng: np.random.Generator) -> str:
    local, _, domain = email.partition("@")
    k = int(rng.integers(0, 5))
    return (
        f"{local}{domain}",
        f"{local}@@{domain}",
        f"{local}@{domain.split('.')[0]}",
        f"{local} @{domain}",
        f"{local}@{domain}.",
    )[k]


# Common English nicknames; other given names are shortened to their first 3-4 letters ("Jennifer" -> "Jenn").
NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Richard": "Dick", "James": "Jim", "John": "Jack", "Michael": "Mike",
    "Thomas": "Tom", "Charles": "Chuck", "Joseph": "Joe", "Daniel": "Dan", "Matthew": "Matt",
    "Anthony": "Tony", "Christopher": "Chris", "Steven": "Steve", "Edward": "Ted", "Margaret": "Peggy",
    "Elizabeth": "Liz", "Katherine": "Kate", "Catherine": "Cathy", "Jennifer": "Jen", "Patricia": "Patty",
    "Susan": "Sue", "Deborah": "Debbie", "Rebecca": "Becky", "Kimberly": "Kim", "Samantha": "Sam",
    "Alexander": "Alex", "Benjamin": "Ben", "Nicholas": "Nick", "Jonathan": "Jon", "Andrew": "Andy",
    "Timothy": "Tim", "Gregory": "Greg", "Jacqueline": "Jackie", "Victoria": "Vicky", "Abigail": "Abby",
}  # fmt: skip


def _nickname(first: str) -> str:
    if first in NICKNAMES:
        return NICKNAMES[first]
    return first[:4] if len(first) > 5 else first[:3]


def _birth_date_typo(day: Any, rng: np.random.Generator) -> Any:
    """Day and month swapped (when both are valid months) or one digit of the date mistyped."""
    text = str(pd.Timestamp(day).date())  # YYYY-MM-DD
    y, m, d = text[:4], text[5:7], text[8:10]
    if rng.random() < 0.4 and d != m and int(d) <= 12:
        cand = f"{y}-{d}-{m}"
    else:
        pos = (2, 3, 6, 9)[
            int(rng.integers(0, 4))
        ]  # a year, month or day digit that keeps the date plausible
        digits = list(text)
        digits[pos] = str((int(digits[pos]) + int(rng.integers(1, 9))) % 10)
        cand = "".join(digits)
    try:
        return pd.Timestamp(cand).to_datetime64().astype("datetime64[us]")
    except ValueError:  # an impossible date (2001-02-30): fall back to a day off by one
        return (pd.Timestamp(day) + pd.Timedelta(days=1)).to_datetime64().astype("datetime64[us]")


def heavy_corruption(
    first: list[str],
    last: list[str],
    other_last: list[str],
    emails: list[str | None],
    domains: tuple[str, ...],
    rng: np.random.Generator,
    d: DirtParams,
    alphabet: list[str],
    cjk: bool,
) -> tuple[list[str | None], list[str | None], list[str]]:
    """Names and e-mails of duplicate records under the heavier dirt kinds, and the kinds applied per record.

    Returns new names (``None``: keep the record's light-dirt name), new e-mails (``None``: keep) and a
    ``+``-joined list of kinds per record (``""`` when none). Name kinds are exclusive (``DirtParams`` order).
    """
    n = len(first)
    u_name = rng.random(n)
    u_mail = rng.random(n)
    bounds = np.cumsum([d.name_swap, d.given_name_missing, d.name_typos_both, d.surname_replaced, d.nickname])
    kind = np.searchsorted(bounds, u_name, side="right")  # 5 = no name kind
    names: list[str | None] = []
    mails: list[str | None] = []
    kinds: list[str] = []
    for j in range(n):
        f, la = first[j], last[j]
        k = int(kind[j])
        applied = []
        if k == 0:
            names.append(f + la if cjk else f"{la} {f}")
            applied.append("name_swap")
        elif k == 1:
            names.append(la)
            applied.append("given_name_missing")
        elif k == 2:
            f2, l2 = typo(f, rng, alphabet), typo(la, rng, alphabet)
            names.append(l2 + f2 if cjk else f"{f2} {l2}")
            applied.append("name_typos_both")
        elif k == 3:
            names.append(other_last[j] + f if cjk else f"{f} {other_last[j]}")
            applied.append("surname_replaced")
        elif k == 4 and not cjk:
            names.append(f"{_nickname(f)} {la}")
            applied.append("nickname")
        else:
            names.append(None)
        e = emails[j]
        if e is not None and u_mail[j] < d.email_other_provider:
            local, _, domain = e.partition("@")
            others = [x for x in domains if x != domain.lower()]
            mails.append(f"{local}@{others[int(rng.integers(0, len(others)))]}")
            applied.append("email_other_provider")
        else:
            mails.append(None)
        kinds.append("+".join(applied))
    return names, mails, kinds


_INVALID_PHONES = ("n/a", "000-000-0000", "12345", "none", "1234567890123456", "tel")


def _ts_text(ts: np.ndarray, rng: np.random.Generator, dirty: float, params: WorldParams) -> pa.Array:
    """ISO text timestamps with a few malformed, future-dated and zone-offset values.

    Only the anomalous rows are rewritten (Arrow casts are fast, ``strftime`` is not).
    """
    d = params.dirt
    n = len(ts)
    ts = ts.astype("datetime64[s]")
    text = pc.cast(pa.array(ts), pa.string())
    u = rng.random(n)
    p_off, p_fut, p_bad = dirty * d.offset_ts, dirty * d.future_ts, dirty * d.malformed_ts
    kind = np.select([u < p_off, u < p_off + p_fut, u < p_off + p_fut + p_bad], [1, 2, 3], 0)
    rows = np.flatnonzero(kind > 0)
    if len(rows) == 0:
        return text
    k = kind[rows]
    sub = text.take(pa.array(rows)).to_pylist()
    local = pc.cast(pa.array(ts[rows] + np.timedelta64(8, "h")), pa.string()).to_pylist()
    bad_kind = rng.integers(0, 3, len(rows))
    out = []
    for j, (kk, base) in enumerate(zip(k, sub, strict=True)):
        if kk == 1:  # the same instant written in UTC+8 with an explicit offset
            out.append(local[j].replace(" ", "T") + "+08:00")
        elif kk == 2:  # future-dated
            out.append("2099" + base[4:])
        else:  # malformed
            out.append((base[:5] + "02-30" + base[10:], "", "n/a")[int(bad_kind[j])])
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(text, pa.array(mask), pa.array(out, pa.string()))


def _null_some(values: Any, rate: float, rng: np.random.Generator) -> Any:
    """Null a share ``rate`` of an Arrow array or a numpy/pandas column (returns a pandas-friendly column)."""
    n = len(values)
    mask = rng.random(n) < rate
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)
    s = pd.Series(values)
    if s.dtype == bool:
        s = s.astype("boolean")
    elif pd.api.types.is_integer_dtype(s.dtype):
        s = s.astype("Int64")
    return s.mask(mask)


def _as_series(values: Any, rows: np.ndarray | None = None) -> pd.Series:
    """A pandas column from an Arrow array or a numpy/pandas column, optionally taking ``rows``."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        if rows is not None:
            values = values.take(pa.array(rows))
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            chunked = pa.chunked_array([values]) if isinstance(values, pa.Array) else values
            return pd.Series(pd.arrays.ArrowStringArray(chunked))
        return pd.Series(values.to_pandas())
    s = pd.Series(values) if rows is None else pd.Series(values).take(rows).reset_index(drop=True)
    if s.dtype == object:
        return s.astype("str")
    return s


def _frame(cols: dict[str, Column], rows: np.ndarray | None = None) -> pd.DataFrame:
    """Build a frame column by column, releasing each source column once converted (lower peak memory)."""
    out: dict[str, pd.Series] = {}
    for key in list(cols):
        out[key] = _as_series(cols.pop(key), rows)
    return pd.DataFrame(out, copy=False)


#: A column as the generator builds it: an Arrow array (text) or a NumPy or pandas array (numbers, dates, flags).
Column: TypeAlias = pa.Array | pa.ChunkedArray | np.ndarray | pd.api.extensions.ExtensionArray | pd.Series


@dataclass
class People:
    """Person-level identity and profile columns, in person order (what :func:`build_records` turns into records).

    The identity columns (:func:`custml.synth.identities.sample_identities`) and ``name_chars`` (the characters
    a typo may use) are Arrow arrays; the profile columns NumPy arrays.
    """

    name: pa.Array
    first: pa.Array
    last: pa.Array
    email: pa.Array
    phone_digits: pa.Array
    phone: pa.Array
    address: pa.Array
    city: pa.Array
    region: pa.Array
    name_chars: pa.Array
    signup_date: np.ndarray
    country: np.ndarray
    birth_date: np.ndarray
    gender: np.ndarray
    acquisition_channel: np.ndarray
    loyalty_member: np.ndarray
    marketing_consent: np.ndarray


@dataclass
class Records:
    """Customer records: the customers frame and how records map to persons.

    ``record_person``: person index of each record (the first ``n_persons`` records are the originals, in
    person order); ``ids``: the records' customer ids (same order); ``dup_record``/``dup_days``: per person, the
    index of its duplicate record (-1 if none) and the day it was created (inf if none); ``dup_dirt``: per
    duplicate record, the heavier dirt kinds applied to it.
    """

    customers: pd.DataFrame
    record_person: np.ndarray
    ids: pa.Array
    dup_record: np.ndarray
    dup_days: np.ndarray
    dup_dirt: np.ndarray | None = None  # per duplicate record: the heavier dirt kinds applied ("+"-joined)

    def split(self, person: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Record of each event: the duplicate record, at random half the time, once it exists."""
        rec = person.copy()
        if (self.dup_record >= 0).any():
            move = (
                (self.dup_record[person] >= 0)
                & (t >= self.dup_days[person])
                & (rng.random(len(person)) < 0.5)
            )
            rec[move] = self.dup_record[person[move]]
        return rec


def build_records(
    params: WorldParams,
    people: People,
    start: pd.Timestamp,
    end_days: float,
    rng: np.random.Generator,
) -> Records:
    """The customers table (one record per person, plus duplicate and dirty records when ``dirty > 0``)."""
    dirty = params.dirty
    d = params.dirt
    n = len(people.signup_date)
    signup_days = (people.signup_date - np.datetime64(start, "us")) / np.timedelta64(1, "D")

    # --- duplicate records -------------------------------------------------------------------------------
    n_dup = int(round(min(1.0, dirty * d.duplicate_persons) * n)) if dirty > 0 else 0
    dup_p = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, np.int64)
    dup_days = np.floor(np.minimum(signup_days[dup_p] + rng.exponential(200.0, n_dup), end_days - 1))
    dup_days = np.maximum(dup_days, signup_days[dup_p])
    record_person = np.concatenate([np.arange(n), dup_p])
    rec_days = np.concatenate([signup_days, dup_days])
    id_order = np.lexsort((np.arange(n + n_dup), rec_days))
    id_num = np.empty(n + n_dup, np.int64)
    id_num[id_order] = np.arange(1, n + n_dup + 1)
    rec_ids = pc.binary_join_element_wise(
        "C", pc.utf8_lpad(pc.cast(pa.array(id_num), pa.string()), 8, "0"), ""
    )

    def take(col: str) -> Column:
        v = getattr(people, col)
        if isinstance(v, pa.Array):
            return pa.concat_arrays([v, v.take(pa.array(dup_p))])
        return np.concatenate([v, v[dup_p]])

    contact = {col: take(col) for col in ("name", "email", "phone", "address", "birth_date")}
    dup_dirt: list[str] = [""] * n_dup
    if n_dup:
        dup_dirt = _duplicate_contacts(params, people, dup_p, contact, rng)
    if dirty > 0:
        _invalid_contacts(contact, dirty, d, rng)
    cols: dict[str, Column] = {
        "customer_id": rec_ids,
        "signup_date": np.datetime64(start, "us")
        + (rec_days * 86400).astype(np.int64).astype("timedelta64[s]"),
        "name": contact["name"],
        "email": contact["email"],
        "phone": contact["phone"],
        "address": contact["address"],
        "city": take("city"),
        "region": take("region"),
        "country": take("country"),
        "birth_date": contact["birth_date"],
        "gender": take("gender"),
        "acquisition_channel": take("acquisition_channel"),
        "loyalty_member": take("loyalty_member"),
        "marketing_consent": take("marketing_consent"),
    }
    if dirty > 0:
        weights = {"name": 0.05, "email": 0.3, "phone": 0.3, "address": 0.3, "city": 0.1, "region": 0.1,
                   "birth_date": 0.6, "gender": 0.5, "acquisition_channel": 0.3, "loyalty_member": 0.1,
                   "marketing_consent": 0.1}  # fmt: skip
        for col, w in weights.items():
            cols[col] = _null_some(cols[col], dirty * d.missing_optional * w, rng)
    customers = _frame(cols)
    customers["signup_date"] = customers["signup_date"].astype("datetime64[us]")
    customers["birth_date"] = customers["birth_date"].astype("datetime64[us]")
    customers = customers.iloc[id_order].reset_index(drop=True)
    dup_rec = np.full(n, -1, np.int64)
    dup_rec[dup_p] = n + np.arange(n_dup)
    dup_t = np.full(n, np.inf)
    dup_t[dup_p] = dup_days
    return Records(customers, record_person, rec_ids, dup_rec, dup_t, np.asarray(dup_dirt, dtype=object))


def _duplicate_contacts(
    params: WorldParams,
    people: People,
    dup_p: np.ndarray,
    contact: dict[str, Column],
    rng: np.random.Generator,
) -> list[str]:
    """Write the duplicate records' name, e-mail, address and phone (a typo, a case change, an alias, another
    format...) into ``contact`` (the records' columns: originals first, then the duplicates); returns the heavier
    dirt kinds each duplicate carries."""
    n_dup = len(dup_p)
    locale = params.locale
    alphabet = [str(c) for c in people.name_chars.to_pylist()]
    names = people.name.take(pa.array(dup_p)).to_pylist()
    emails = people.email.take(pa.array(dup_p)).to_pylist()
    addrs = people.address.take(pa.array(dup_p)).to_pylist()
    u = rng.random((4, n_dup))
    new_names = [
        typo(x, rng, alphabet) if u[0, j] < 0.5 else (_case_change(x, rng) if u[0, j] < 0.75 else x)
        for j, x in enumerate(names)
    ]
    new_emails = [
        _alias(x, rng) if u[1, j] < 0.6 else (None if u[1, j] < 0.7 else x) for j, x in enumerate(emails)
    ]
    new_addrs = _abbreviated(addrs, u[2], locale == "zh_CN")
    dphone = format_phones(people.phone_digits.take(pa.array(dup_p)), locale, rng.integers(0, 4, n_dup))
    dphone = pc.if_else(pa.array(u[3] < 0.1), pa.scalar(None, pa.string()), dphone)
    dup_dirt: list[str] = [""] * n_dup
    if params.dirt.heavy_kinds:  # drawn only when switched on, so a light world's random stream is unchanged
        new_names, new_emails, dup_dirt = _heavy_duplicates(
            params, people, dup_p, contact["birth_date"], new_names, new_emails, new_addrs, alphabet, rng
        )
    contact["name"] = pa.concat_arrays([people.name, pa.array(new_names, pa.string())])
    contact["email"] = pa.concat_arrays([people.email, pa.array(new_emails, pa.string())])
    contact["address"] = pa.concat_arrays([people.address, pa.array(new_addrs, pa.string())])
    contact["phone"] = pa.concat_arrays([people.phone, dphone.cast(pa.string())])
    return dup_dirt


def _abbreviated(addrs: list[str], u: np.ndarray, cjk: bool) -> list[str]:
    """Addresses written another way: a space after the district (zh_CN) or US street words abbreviated."""
    if cjk:
        return [x.replace("区", "区 ", 1) if u[j] < 0.3 else x for j, x in enumerate(addrs)]
    new_addrs = []
    for j, x in enumerate(addrs):
        if u[j] < 0.4:
            for long, short in _US_ABBREV:
                x = x.replace(long, short)
        new_addrs.append(x)
    return new_addrs


def _heavy_duplicates(
    params: WorldParams,
    people: People,
    dup_p: np.ndarray,
    birth: Column,
    new_names: list[str],
    new_emails: list[str | None],
    new_addrs: list[str],
    alphabet: list[str],
    rng: np.random.Generator,
) -> tuple[list[str], list[str | None], list[str]]:
    """The heavier corruptions of :class:`DirtParams` on the duplicate records: names and e-mails (returned),
    birth dates (in ``birth``) and addresses (in ``new_addrs``); returns the kinds each record carries."""
    n, n_dup = len(people.signup_date), len(dup_p)
    d = params.dirt
    names_h, emails_h, dup_dirt = heavy_corruption(
        people.first.take(pa.array(dup_p)).to_pylist(),
        people.last.take(pa.array(dup_p)).to_pylist(),
        people.last.take(pa.array(rng.integers(0, n, n_dup))).to_pylist(),
        new_emails,
        tuple(dom for dom, _ in EMAIL_DOMAINS[params.locale]),
        rng,
        d,
        alphabet,
        params.locale == "zh_CN",
    )
    new_names = [h if h is not None else x for h, x in zip(names_h, new_names, strict=True)]
    new_emails = [h if h is not None else x for h, x in zip(emails_h, new_emails, strict=True)]
    bd_typo = rng.random(n_dup) < d.birth_date_typo
    addr_typo = rng.random(n_dup) < d.address_typo
    for j in np.flatnonzero(bd_typo).tolist():
        birth[n + j] = _birth_date_typo(birth[n + j], rng)
    for j in np.flatnonzero(addr_typo).tolist():
        new_addrs[j] = typo(new_addrs[j], rng, alphabet)
    extra = np.where(bd_typo, "birth_date_typo", "")
    extra = np.char.add(extra, np.where(bd_typo & addr_typo, "+", ""))
    extra = np.char.add(extra, np.where(addr_typo, "address_typo", ""))
    dup_dirt = ["+".join(k for k in (a, str(b)) if k) for a, b in zip(dup_dirt, extra, strict=True)]
    return new_names, new_emails, dup_dirt


def _invalid_contacts(
    contact: dict[str, Column], dirty: float, d: DirtParams, rng: np.random.Generator
) -> None:
    """Malformed e-mails and phones on a share of the records (in ``contact``)."""
    email: pa.Array = contact["email"]  # Arrow text, like the phones
    phone: pa.Array = contact["phone"]
    n_rec = len(email)
    bad_e = (rng.random(n_rec) < dirty * d.invalid_email) & pc.is_valid(email).to_numpy(zero_copy_only=False)
    broken = [_invalid_email(x, rng) for x in email.filter(pa.array(bad_e)).to_pylist()]
    contact["email"] = pc.replace_with_mask(email, pa.array(bad_e), pa.array(broken, pa.string()))
    bad_p = rng.random(n_rec) < dirty * d.invalid_phone
    contact["phone"] = pc.if_else(
        pa.array(bad_p),
        pa.array(np.asarray(_INVALID_PHONES, dtype=object)[rng.integers(0, len(_INVALID_PHONES), n_rec)]),
        phone,
    )


def orders_frame(
    params: WorldParams,
    orders: dict[str, np.ndarray],
    records: Records,
    start: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The orders table: rows split across duplicate records, with dirt when ``dirty > 0`` (consumes ``orders``)."""
    dirty = params.dirty
    d = params.dirt
    rec_ids = records.ids
    o_rec = records.split(orders["person"], orders["t"], rng)
    ref = orders["refund_of"] >= 0
    o_rec[ref] = o_rec[orders["refund_of"][ref]]
    m = len(o_rec)
    order_ids = pc.binary_join_element_wise(
        "O", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, m + 1)), pa.string()), 9, "0"), ""
    )
    refund_of = pc.if_else(
        pa.array(ref),
        order_ids.take(pa.array(np.maximum(orders["refund_of"], 0))),
        pa.scalar(None, pa.string()),
    )
    o_ts = np.datetime64(start, "s") + np.floor(orders["t"] * 86400).astype(np.int64).astype("timedelta64[s]")
    ocols: dict[str, Column] = {
        "order_id": order_ids,
        "customer_id": rec_ids.take(pa.array(o_rec)),
        "order_ts": o_ts.astype("datetime64[us]"),
        "channel": orders["channel"],
        "n_items": orders["n_items"],
        "gross_amount": orders["gross_amount"],
        "discount_amount": orders["discount_amount"],
        "net_amount": orders["net_amount"],
        "category": orders["category"],
        "is_refund": orders["is_refund"],
        "refund_of_order_id": refund_of,
    }
    if dirty > 0:
        neg = (~orders["is_refund"]) & (rng.random(m) < dirty * d.negative_amount)
        ocols["net_amount"] = np.where(neg, -orders["net_amount"], orders["net_amount"])
        ocols["gross_amount"] = np.where(neg, -orders["gross_amount"], orders["gross_amount"])
        for col in ("channel", "category", "n_items"):
            ocols[col] = _null_some(ocols[col], dirty * d.missing_optional * 0.2, rng)
        ocols["order_ts"] = _ts_text(o_ts, rng, dirty, params)
    orders.clear()  # consumed: the columns now live in ocols only
    rows = None
    if dirty > 0:  # exact duplicated rows
        rows = np.repeat(np.arange(m), 1 + (rng.random(m) < dirty * d.duplicate_order_rows))
    orders_df = _frame(ocols, rows)
    if dirty == 0 and len(orders_df):
        orders_df["order_ts"] = orders_df["order_ts"].astype("datetime64[us]")
    return orders_df


def interactions_frame(
    params: WorldParams,
    inter: dict[str, np.ndarray],
    records: Records,
    start: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The interactions table: rows split across duplicate records, text timestamps when ``dirty > 0``.

    Consumes ``inter`` (emptied, to release memory).
    """
    dirty = params.dirty
    rec_ids = records.ids
    i_rec = records.split(inter["person"], inter["t"], rng)
    k = len(i_rec)
    i_ts = np.datetime64(start, "s") + np.floor(inter["t"] * 86400).astype(np.int64).astype("timedelta64[s]")
    resolved = pd.array(inter["resolved"], dtype="boolean")
    resolved[~inter["has_resolved"]] = pd.NA
    icols: dict[str, Column] = {
        "interaction_id": pc.binary_join_element_wise(
            "I", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, k + 1)), pa.string()), 10, "0"), ""
        ),
        "customer_id": rec_ids.take(pa.array(i_rec)),
        "ts": _ts_text(i_ts, rng, dirty, params) if dirty > 0 else i_ts.astype("datetime64[us]"),
        "kind": inter["kind"],
        "score": inter["score"],
        "resolved": resolved,
        "resolution_hours": inter["resolution_hours"],
    }
    inter.clear()  # consumed
    interactions = _frame(icols)
    if dirty == 0 and len(interactions):
        interactions["ts"] = interactions["ts"].astype("datetime64[us]")
    return interactions
