"""Customer de-duplication: blocking, scoring, clustering, survivorship and pairwise evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.quality.dedup import (
    COMPARISON_FIELDS,
    DedupParams,
    estimate_prior,
    expected_f1_threshold,
    find_duplicates,
    golden_records,
    pairwise_precision_recall,
    prepare_records,
)

FIRST = [
    "Anna",
    "Bo",
    "Carla",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kate",
    "Liam",
    "Mia",
]
LAST = [
    "Smith",
    "Chen",
    "Diaz",
    "Jones",
    "Brown",
    "Garcia",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Lee",
    "Khan",
]
CN_LAST = list("王李张刘陈杨黄赵吴周")
CN_FIRST = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]


def _typo(s: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, max(2, len(s) - 1)))
    op = rng.integers(0, 3)
    if op == 0:  # swap
        return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :] if i < len(s) else s + "e"
    if op == 1:  # drop
        return s[:i] + s[i + 1 :]
    return s[:i] + "x" + s[i:]  # insert


def synthetic_customers(n_persons: int, dup_share: float, seed: int, cn_share: float = 0.3) -> pd.DataFrame:
    """Records of ``n_persons`` people, ``dup_share`` of whom have a second, dirtied record; truth in person_id."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_persons):
        cn = rng.random() < cn_share
        if cn:
            name = str(rng.choice(CN_LAST)) + "".join(rng.choice(CN_FIRST, size=int(rng.integers(1, 3))))
            phone = f"+861{rng.integers(3, 9)}{rng.integers(0, 10**9):09d}"
            email = f"u{rng.integers(10**7, 10**9)}@qq.com"
            country = "CN"
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            phone = (
                f"+1{rng.choice([212, 415, 617, 312])}{rng.integers(200, 999)}{rng.integers(0, 10**4):04d}"
            )
            email = f"{name.lower().replace(' ', '.')}{rng.integers(1, 10**4)}@gmail.com"
            country = "US"
        bd = pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(rng.integers(0, 20000)))
        signup = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 900)))
        addr = f"{rng.integers(1, 999)} {rng.choice(LAST)} St"
        base = {
            "person_id": f"P{p}",
            "name": name,
            "email": email,
            "phone": phone,
            "birth_date": bd if rng.random() > 0.05 else pd.NaT,
            "address": addr,
            "region": "CA" if not cn else "北京",
            "signup_date": signup,
            "country": country,
        }
        rows.append(base)
        if rng.random() < dup_share:
            d = dict(base)
            d["signup_date"] = signup + pd.Timedelta(days=int(rng.integers(1, 300)))
            change = rng.choice(["name", "email", "phone", "email_alias"], size=2, replace=False)
            for c in change:
                if c == "name":
                    d["name"] = _typo(name, rng) if not cn else name[0] + str(rng.choice(CN_FIRST))
                elif c == "email":
                    d["email"] = email.upper() if rng.random() < 0.5 else None
                elif c == "email_alias":
                    local, dom = email.split("@")
                    d["email"] = f"{local}+shop@{dom}"
                else:
                    d["phone"] = None if rng.random() < 0.5 else phone[:-1] + str((int(phone[-1]) + 1) % 10)
            rows.append(d)
    df = pd.DataFrame(rows)
    df.insert(0, "customer_id", [f"C{i:06d}" for i in rng.permutation(len(df))])
    if "email" in df:
        df["email"] = df["email"].str.lower()
    return df


def test_prepare_records_splits_names_maps_nicknames_and_keys_emails() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "name": ["Bill Smith", "Smith", "王伟", None],
            "email": ["Bill.Smith+x@gmail.com".lower(), "bill.smith@yahoo.com", None, None],
            "birth_date": pd.to_datetime(["1980-02-03", None, "1990-01-01", None]),
            "address": ["12 Elm Street Apt. 3", "12 Elm St # 3", None, None],
        }
    )
    r = prepare_records(df)

    def vals(col: str) -> list[object]:
        return [None if pd.isna(v) else v for v in r[col]]

    assert vals("first_name")[:3] == ["william", None, "伟"]
    assert vals("surname")[:3] == ["smith", "smith", "王"]
    assert vals("email_user")[:2] == ["billsmith", "billsmith"]  # other provider: same local part
    assert r.loc[0, "address"] == r.loc[1, "address"] == "12 elm st 3"
    assert vals("birth_date")[:2] == ["1980-02-03", None]
    assert r["unique_id"].tolist() == ["a", "b", "c", "d"]


def test_prepare_records_fails_without_customer_id() -> None:
    with pytest.raises(ValueError, match="customers: required column 'customer_id' is missing"):
        find_duplicates(pd.DataFrame({"name": ["a", "b"]}))


def test_estimate_prior_is_the_em_fixed_point() -> None:
    weights = np.array([25.0] * 50 + [-8.0] * 5000)
    lam = estimate_prior(weights, 1_000_000, start=1e-3)
    assert lam == pytest.approx(50 / 1_000_000, rel=0.01)
    assert estimate_prior(np.zeros(0), 10, start=0.2) == 0.2


def test_expected_f1_threshold_cuts_between_modes_and_keeps_floor() -> None:
    p = np.array([0.9999] * 100 + [0.95] * 5 + [0.3] * 10 + [0.01] * 1000)
    assert 0.3 < expected_f1_threshold(p) < 0.95  # half-way (in weight) between 0.95 (linked) and 0.3 (not)
    assert expected_f1_threshold(p, floor=0.9) == 0.9
    assert expected_f1_threshold(np.array([0.1, 0.2]), floor=0.5) == 0.5


def test_find_duplicates_links_typos_aliases_and_chinese_names() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "signup_date": pd.to_datetime(
                ["2024-01-01", "2023-01-01", "2023-05-05", "2024-02-02", "2023-03-03", "2023-03-03"]
            ),
            "name": ["Anna Smith", "Anna Smiht", "王伟", "王玮", "Bo Chen", "Carla Diaz"],
            "email": ["anna@x.org", "anna+news@x.org", "1234567@qq.com", None, "bo@y.org", "carla@z.org"],
            "phone": [
                "+14155550101",
                None,
                "+8613800138000",
                "+8613800138000",
                "+12125550199",
                "+13125550123",
            ],
            "birth_date": pd.to_datetime(
                ["1980-02-03", "1980-02-03", "1990-01-01", "1990-01-01", "1970-07-07", "1975-05-05"]
            ),
            "address": [
                "1 Main St",
                "1 Main St",
                "朝阳区建国路1号",
                "朝阳区建国路1号",
                "9 Elm Rd",
                "3 Oak Ave",
            ],
        }
    )
    result = find_duplicates(df)
    assert result.clusters.to_dict() == {"a": "b", "b": "b", "c": "c", "d": "c", "e": "e", "f": "f"}
    assert result.stats["records_merged"] == 2
    assert set(result.pairs.columns) >= {"id_a", "id_b", *COMPARISON_FIELDS, "weight", "probability", "match"}
    assert result.stats["threshold_estimated"] and 0 < float(result.stats["match_prior"]) < 1  # type: ignore[arg-type]


def test_same_name_different_people_are_not_merged() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "name": ["John Smith", "John Smith"],
            "email": ["john@x.org", "jsmith@y.org"],
            "phone": ["+14155550101", "+16175550188"],
            "birth_date": pd.to_datetime(["1980-02-03", "1961-09-12"]),
        }
    )
    assert find_duplicates(df).clusters.nunique() == 2


def test_golden_record_survivorship_rule() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["b", "a", "c"],
            "signup_date": pd.to_datetime(["2023-01-01", "2023-01-01", "2024-06-01"]),
            "name": ["Anna Smith", "Anna Smith", "Anna Smyth"],
            "email": ["old@x.org", None, None],
            "phone": [None, "+14155550101", "+14155550102"],
            "acquisition_channel": [None, "store", "social"],
            "loyalty_member": pd.array([True, False, pd.NA], dtype="boolean"),
        }
    )
    clusters = pd.Series(["a", "a", "a"], index=["b", "a", "c"])
    g = golden_records(df, clusters)
    assert len(g) == 1
    row = g.iloc[0]
    assert row["customer_id"] == "a"  # earliest signup, tie -> smallest raw id
    assert row["signup_date"] == pd.Timestamp("2023-01-01")
    assert row["name"] == "Anna Smyth"  # most recent non-null
    assert row["email"] == "old@x.org"  # the only non-null
    assert row["phone"] == "+14155550102"
    assert row["acquisition_channel"] == "store"  # earliest non-null (a before b on the tie: a's is non-null)
    assert bool(
        row["loyalty_member"]
    )  # c is null; b and a tie on signup, the larger id (b: True) counts as later
    assert row["n_source_records"] == 3


def test_pairwise_precision_recall_counts_pairs() -> None:
    clusters = pd.Series(["a", "a", "a", "d", "e"], index=["a", "b", "c", "d", "e"])
    truth = pd.DataFrame({"customer_id": ["a", "b", "d", "e"], "person_id": ["P1", "P1", "P2", "P2"]})
    m = pairwise_precision_recall(clusters, truth)
    assert m["predicted_pairs"] == 3 and m["true_pairs"] == 2 and m["true_positive_pairs"] == 1
    assert m["precision"] == pytest.approx(1 / 3) and m["recall"] == pytest.approx(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("blocking", ["standard", "wide"])
def test_dedup_quality_on_synthetic_records(blocking: str) -> None:
    df = synthetic_customers(3000, dup_share=0.1, seed=7)
    result = find_duplicates(df.drop(columns=["person_id"]), DedupParams(seed=1, blocking=blocking))
    truth = df[df.duplicated("person_id", keep=False)][["customer_id", "person_id"]]
    m = pairwise_precision_recall(result.clusters, truth)
    assert m["true_pairs"] > 200
    assert m["precision"] >= 0.97, m
    assert m["recall"] >= 0.9, m


def test_dedup_is_deterministic_and_order_independent() -> None:
    df = synthetic_customers(400, dup_share=0.2, seed=3).drop(columns=["person_id"])
    a = find_duplicates(df).clusters.sort_index()
    b = find_duplicates(df.sample(frac=1.0, random_state=5)).clusters.sort_index()
    pd.testing.assert_series_equal(a, b)


def test_splink_validates_our_settings_against_the_prepared_records(caplog: pytest.LogCaptureFixture) -> None:
    """Runs skip Splink's settings validation (75 ms each); here it runs once: every column our comparisons and
    blocking rules use is in the prepared records, and a missing one would be reported."""
    import logging

    from quality_world import raw_world

    from custml.quality.dedup import DedupParams
    from custml.quality.dedup.backends import connect
    from custml.quality.dedup.linking import _linker
    from custml.quality.dedup.records import prepare_records

    records = prepare_records(raw_world()["customers"].reset_index(drop=True))
    api = connect(None, None, 0)
    validator = "splink.internals.settings_validation"
    with caplog.at_level(logging.WARNING, logger=validator):
        _linker(api.register(records), DedupParams(), validate=True)
    assert not [r for r in caplog.records if r.name.startswith(validator)]
    with caplog.at_level(logging.WARNING, logger=validator):
        _linker(api.register(records.drop(columns="surname")), DedupParams(), validate=True)
    assert any("surname" in r.getMessage() for r in caplog.records if r.name.startswith(validator))
