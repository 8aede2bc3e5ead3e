"""Identities (names, e-mails, phones, addresses) from Faker pools, sampled with numpy.

Faker is slow per call, so it is called only to build modest pools (names, streets, cities) once per world,
seeded with ``Faker.seed_instance``; the rows are then drawn from the pools with a numpy generator and glued
together with vectorised Arrow string kernels. Phone numbers are built digit by digit (valid US area codes and
CN mobile prefixes) so that ``phonenumbers`` accepts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

__all__ = ["IdentityPools", "build_pools", "format_phones", "sample_identities"]

# fmt: off
US_AREA_CODES = (
    "201", "202", "203", "205", "206", "207", "208", "210", "212", "213", "214", "215", "216", "217", "218",
    "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251", "252", "253", "254", "256",
    "260", "262", "267", "269", "270", "281", "301", "302", "303", "304", "305", "307", "308", "309", "310",
    "312", "313", "314", "315", "316", "317", "318", "319", "320", "321", "323", "325", "330", "334", "336",
    "337", "339", "347", "351", "352", "360", "361", "385", "386", "401", "402", "404", "405", "406", "407",
    "408", "409", "410", "412", "413", "414", "415", "417", "419", "423", "424", "425", "432", "434", "435",
    "440", "443", "469", "478", "479", "480", "484", "501", "502", "503", "504", "505", "507", "508", "509",
    "510", "512", "513", "515", "516", "517", "518", "520", "530", "540", "541", "551", "559", "561", "562",
    "563", "567", "570", "571", "573", "574", "580", "585", "586", "601", "602", "603", "605", "606", "607",
    "608", "609", "610", "612", "614", "615", "616", "617", "618", "619", "620", "623", "626", "630", "631",
    "636", "641", "646", "650", "651", "660", "661", "662", "678", "682", "701", "702", "703", "704", "706",
    "707", "708", "712", "713", "714", "715", "716", "717", "718", "719", "720", "724", "727", "731", "732",
    "734", "740", "754", "757", "760", "763", "765", "770", "772", "773", "774", "775", "781", "785", "786",
    "801", "802", "803", "804", "805", "806", "808", "810", "812", "813", "814", "815", "816", "817", "818",
    "828", "830", "831", "832", "843", "845", "847", "848", "850", "856", "857", "858", "859", "860", "862",
    "863", "864", "865", "870", "872", "878", "901", "903", "904", "906", "907", "908", "909", "910", "912",
    "913", "914", "915", "916", "917", "918", "919", "920", "925", "928", "931", "936", "937", "940", "941",
    "949", "951", "952", "954", "956", "970", "971", "972", "973", "978", "979", "980", "985", "989",
)
# fmt: on
CN_MOBILE_PREFIXES = tuple(
    str(p)
    for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190), 176, 177, 178)
)
EMAIL_DOMAINS = {
    "en_US": (("gmail.com", 0.45), ("yahoo.com", 0.15), ("outlook.com", 0.12), ("hotmail.com", 0.12),
              ("icloud.com", 0.1), ("aol.com", 0.06)),
    "zh_CN": (("qq.com", 0.4), ("163.com", 0.25), ("126.com", 0.12), ("sina.com", 0.08), ("foxmail.com", 0.07),
              ("gmail.com", 0.08)),
}  # fmt: skip


@dataclass(frozen=True)
class IdentityPools:
    """Pools drawn once from Faker for one locale and seed."""

    locale: str
    first_female: pa.Array
    first_male: pa.Array
    last: pa.Array
    user: pa.Array  # romanised user-name stems for e-mails
    street: pa.Array  # street names; house numbers (and US apartments) are added per row
    city: pa.Array
    region: pa.Array
    name_chars: pa.Array  # characters used for typos in CJK names


def _ascii_stem(values: list[str]) -> list[str]:
    return ["".join(ch for ch in v.lower() if ch.isascii() and ch.isalnum()) or "user" for v in values]


def build_pools(locale: str, seed: int, n_names: int = 4000, n_addresses: int = 8000) -> IdentityPools:
    """Build the Faker pools of a locale (deterministic for a seed; about a second)."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    # one weighted draw per pool from Faker's own name tables (per-call Faker is slow)
    person = fake.provider("faker.providers.person")
    ff = list(fake.random_elements(person.first_names_female, length=n_names, use_weighting=True))
    fm = list(fake.random_elements(person.first_names_male, length=n_names, use_weighting=True))
    last = list(fake.random_elements(person.last_names, length=n_names, use_weighting=True))
    n_cities = max(50, n_addresses // 10)
    n_streets = max(50, n_addresses // 5)
    if locale == "zh_CN":
        user = [fake.user_name() for _ in range(max(50, n_names // 4))]
        street = [f"{fake.district().removesuffix('区')}区{fake.street_name()}" for _ in range(n_streets)]
        city = [fake.city_name() + "市" for _ in range(n_cities)]
        region = [fake.province() for _ in range(n_cities)]
        chars = sorted({c for name in ff + fm for c in name})
    else:
        # e-mail stems from Faker's word list (user names are too slow to draw one by one)
        user = _ascii_stem([fake.word() for _ in range(max(50, n_names // 4))])
        street = [fake.street_name() for _ in range(n_streets)]
        city = [fake.city() for _ in range(n_cities)]
        region = [fake.state_abbr(include_territories=False) for _ in range(n_cities)]
        chars = list("abcdefghijklmnopqrstuvwxyz")
    return IdentityPools(
        locale=locale,
        first_female=pa.array(ff),
        first_male=pa.array(fm),
        last=pa.array(last),
        user=pa.array(user),
        street=pa.array(street),
        city=pa.array(city),
        region=pa.array(region),
        name_chars=pa.array(chars),
    )


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _per_choice(choice: np.ndarray, n_choices: int, build: Any) -> pa.Array:
    """Row ``j`` gets ``build(k, rows)[...]`` for ``k = choice[j]``: each variant is built only for its rows."""
    parts, rows_all = [], []
    for k in range(n_choices):
        rows = np.flatnonzero(choice == k)
        if len(rows):
            parts.append(build(k, pa.array(rows)))
            rows_all.append(rows)
    if not parts:
        return pa.array([], pa.string())
    order = np.concatenate(rows_all)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays([p.cast(pa.string()) for p in parts]).take(pa.array(inverse))


def format_phones(digits: pa.Array, locale: str, style: np.ndarray) -> pa.Array:
    """Write national phone numbers (10 digits US, 11 digits CN mobile) in one of four styles (0..3)."""
    cut = (3, 7) if locale == "zh_CN" else (3, 6)

    def build(k: int, rows: pa.Array) -> pa.Array:
        d = digits.take(rows)
        a = pc.utf8_slice_codeunits(d, 0, cut[0])
        b = pc.utf8_slice_codeunits(d, cut[0], cut[1])
        c = pc.utf8_slice_codeunits(d, cut[1])
        if locale == "zh_CN":
            return (d, _join(a, " ", b, " ", c), _join("+86 ", d), _join("+86-", a, "-", b, "-", c))[k]
        return (
            _join("(", a, ") ", b, "-", c),
            _join(a, "-", b, "-", c),
            _join(a, ".", b, ".", c),
            _join("+1 ", a, " ", b, " ", c),
        )[k]

    return _per_choice(np.asarray(style), 4, build)


def sample_identities(
    pools: IdentityPools, gender: np.ndarray, rng: np.random.Generator
) -> dict[str, pa.Array]:
    """Names, e-mails, phone digits, addresses for persons of the given genders ("female"/"male"/"other").

    Returns Arrow arrays: ``name``, ``first``, ``last``, ``email``, ``phone_digits``, ``phone``, ``address``,
    ``city``, ``region``. E-mails are unique (a collision gets the person's index appended).
    """
    n = len(gender)
    female = (gender == "female") | ((gender == "other") & (rng.random(n) < 0.5))
    # one index into the concatenated (female, male) first-name pool
    n_f = len(pools.first_female)
    fi = rng.integers(0, n_f, n) + np.where(female, 0, n_f)
    first_pool = pa.concat_arrays([pools.first_female, pools.first_male])
    first = first_pool.take(pa.array(fi))
    li = rng.integers(0, len(pools.last), n)
    last = pools.last.take(pa.array(li))
    cjk = pools.locale == "zh_CN"
    name = _join(last, first) if cjk else _join(first, " ", last)
    email = _emails(pools, first_pool, fi, li, rng)
    digits = _phone_digits(pools.locale, n, rng)
    phone = format_phones(digits, pools.locale, rng.integers(0, 4, n))
    city_i = rng.integers(0, len(pools.city), n)
    address = _addresses(pools, n, rng)
    return {
        "name": name,
        "first": first,
        "last": last,
        "email": email,
        "phone_digits": digits,
        "phone": phone,
        "address": address,
        "city": pools.city.take(city_i),
        "region": pools.region.take(city_i),
    }


def _emails(
    pools: IdentityPools, first_pool: pa.Array, fi: np.ndarray, li: np.ndarray, rng: np.random.Generator
) -> pa.Array:
    """Unique e-mails: a local part from the name (or a user name, a QQ number in zh_CN) at a common provider."""
    n = len(fi)
    cjk = pools.locale == "zh_CN"
    # e-mails
    dom_names, dom_p = zip(*EMAIL_DOMAINS[pools.locale], strict=True)
    dom_i = rng.choice(len(dom_names), n, p=dom_p)
    num = rng.integers(1, 1000, n)
    pattern = rng.integers(0, 4, n)
    user_i = rng.integers(0, len(pools.user), n)
    qq_num = rng.integers(10_000_000, 3_000_000_000, n)
    if cjk:
        dom_i = np.where(pattern == 0, dom_names.index("qq.com"), dom_i)
    domain = pa.array(dom_names).take(pa.array(dom_i))
    first_stem = pa.array(_ascii_stem(first_pool.to_pylist()))
    last_stem = pa.array(_ascii_stem(pools.last.to_pylist()))

    def local_part(k: int, rows: pa.Array) -> pa.Array:
        numstr = pc.cast(pa.array(num).take(rows), pa.string())
        if cjk:
            if k == 0:
                return pc.cast(pa.array(qq_num).take(rows), pa.string())
            return _join(pools.user.take(pa.array(user_i).take(rows)), numstr)
        f = first_stem.take(pa.array(fi).take(rows))
        lst = last_stem.take(pa.array(li).take(rows))
        if k == 0:
            return _join(f, ".", lst)
        if k == 1:
            return _join(f, lst, numstr)
        if k == 2:
            return _join(pc.utf8_slice_codeunits(f, 0, 1), lst, numstr)
        return _join(pools.user.take(pa.array(user_i).take(rows)), numstr)

    local = _per_choice(pattern, 4, local_part)
    email = _join(local, "@", domain)
    # make e-mails unique: a repeated address gets the person's index appended to the local part
    codes = pc.dictionary_encode(email).indices.to_numpy()
    _, first_pos = np.unique(codes, return_index=True)
    dup = np.ones(n, dtype=bool)
    dup[first_pos] = False
    if dup.any():
        rows = pa.array(np.flatnonzero(dup))
        fixed = _join(local.take(rows), "x", pc.cast(rows, pa.string()), "@", domain.take(rows))
        email = _per_choice(dup.astype(np.int8), 2, lambda k, r: email.take(r) if k == 0 else fixed)

    return email


def _phone_digits(locale: str, n: int, rng: np.random.Generator) -> pa.Array:
    """National phone numbers as digits: a mobile prefix (zh_CN) or an area code and exchange (en_US)."""
    cjk = locale == "zh_CN"
    # phones: national digits
    if cjk:
        prefix = pa.array(CN_MOBILE_PREFIXES).take(pa.array(rng.integers(0, len(CN_MOBILE_PREFIXES), n)))
        digits = _join(prefix, _digits(rng.integers(0, 100_000_000, n), 8))
    else:
        area = pa.array(US_AREA_CODES).take(pa.array(rng.integers(0, len(US_AREA_CODES), n)))
        exch = rng.integers(200, 1000, n)
        exch = np.where(exch % 100 == 11, exch + 1, exch)  # no N11 exchanges
        exch = np.where(exch == 555, 556, exch)
        digits = _join(area, _digits(exch, 3), _digits(rng.integers(0, 10_000, n), 4))
    return digits


def _addresses(pools: IdentityPools, n: int, rng: np.random.Generator) -> pa.Array:
    """A street and house number (and an apartment for some en_US addresses)."""
    cjk = pools.locale == "zh_CN"
    address = pools.street.take(rng.integers(0, len(pools.street), n))
    number = pc.cast(pa.array(rng.integers(1, 300 if cjk else 20_000, n)), pa.string())
    if cjk:
        address = _join(address, number, "号")
    else:
        apt = _join(" Apt. ", pc.cast(pa.array(rng.integers(1, 999, n)), pa.string()))
        address = _join(number, " ", address)
        address = pc.if_else(pa.array(rng.random(n) < 0.3), _join(address, apt), address)
    return address
