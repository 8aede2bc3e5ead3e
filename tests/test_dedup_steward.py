"""De-duplication across runs and for the data steward: stable golden ids, merges, labels, the private report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custml.cli import main
from custml.config import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE, ProjectPaths
from custml.privacy import scan_for_pii
from custml.quality import QualityParams, clean_tables, pairwise_precision_recall
from custml.quality.dedup import DedupParams, find_duplicates, stable_golden_ids
from custml.synth import DirtParams, WorldParams, generate_world, write_world

KEY = b"steward-test-key-0123456789"


@pytest.fixture(scope="module")
def heavy_world(cached_world):
    return cached_world(n_customers=2000, seed=4, dirty=0.02, dirt=DirtParams.preset("heavy"))


def test_heavy_dirt_has_its_truth_and_a_light_world_is_unchanged() -> None:
    heavy = generate_world(WorldParams(n_customers=600, seed=2, dirty=0.02, dirt=DirtParams.preset("heavy")))
    kinds = heavy.truth["duplicates"]["dirt"]
    assert len(heavy.truth["duplicates"]) == 2 * 60  # 5x the light duplicates: 10% of persons at dirty 0.02
    assert kinds.str.contains("name_swap|given_name_missing|name_typos_both|surname_replaced|nickname").any()
    light = generate_world(WorldParams(n_customers=600, seed=2, dirty=0.02))
    again = generate_world(WorldParams(n_customers=600, seed=2, dirty=0.02, dirt=DirtParams.preset("light")))
    pd.testing.assert_frame_equal(light.tables["customers"], again.tables["customers"])
    assert (light.truth["duplicates"].get("dirt", pd.Series([""])) == "").all()
    with pytest.raises(ValueError, match="dirt preset: unknown 'medium'"):
        DirtParams.preset("medium")
    with pytest.raises(ValueError, match="name corruption shares add up to"):
        DirtParams(name_swap=0.6, nickname=0.6)


@pytest.mark.slow
def test_cli_clean_on_heavy_dirt_prints_truth_metrics_and_keeps_splink_private(
    heavy_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY.decode())
    monkeypatch.delenv(ENV_PSEUDONYM_KEY_FILE, raising=False)
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("CUSTML_HOME", str(home))
    monkeypatch.chdir(cwd)  # anything DuckDB spilled to its default '.tmp' would land here
    raw, out, private = tmp_path / "raw", tmp_path / "interim", tmp_path / "private"
    write_world(heavy_world, raw)
    args = ["clean", "--data", str(raw), "--out", str(out), "--private-dir", str(private)]
    assert main(args) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "de-duplication against the world's truth: pairwise precision" in printed
    assert "(estimated)" in printed and "standard blocking" in printed
    report = ProjectPaths.dedup_report_in(private)
    for kind in ("uncertain", "clusters", "model", "chart"):
        assert ProjectPaths.dedup_report_file(report, kind).is_file(), kind
    assert ProjectPaths.id_map_version_in(ProjectPaths.id_map_history_in(private), 1).is_file()
    # Splink's tables and files are in the private folder only: no file anywhere else
    assert not [p for p in (*cwd.rglob("*"), *home.rglob("*")) if p.is_file()]
    customers = heavy_world.tables["customers"]
    assert not scan_for_pii(out, customers).found
    work = ProjectPaths.dedup_work_in(private)
    assert not work.exists() or not [
        p for p in work.rglob("*") if p.is_file()
    ]  # DuckDB removed its spill files
    # the steward's options: a fixed threshold and another blocking preset; a bad preset is a one-line error
    assert main([*args, "--threshold", "0.99", "--blocking", "narrow"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "narrow blocking" in printed and "threshold 0.990 (set)" in printed
    assert "golden ids kept from the earlier run" in printed
    history = ProjectPaths.id_map_history_in(private)
    assert ProjectPaths.id_map_version_in(history, 2).is_file()  # one version of the id map per run
    assert main([*args, "--blocking", "bogus"]) == 2
    assert "--blocking must be one of narrow, standard, wide" in capsys.readouterr().err
    assert main([*args, "--engine", "polars"]) == 2
    assert "--engine must be duckdb or spark, got 'polars'" in capsys.readouterr().err


@pytest.mark.slow
def test_heavy_dirt_precision_and_recall_and_the_scan_sees_splink_pairs(heavy_world, tmp_path: Path) -> None:
    every_pair = QualityParams(dedup=DedupParams(review_band=(0.0, 1.1)))  # every scored pair "uncertain"
    r = clean_tables(heavy_world.tables, heavy_world.manifest["end"], KEY, every_pair)
    clusters = r.id_map.set_index("raw_customer_id")["golden_raw_id"]
    m = pairwise_precision_recall(clusters, heavy_world.truth["duplicates"])
    assert m["true_pairs"] >= 180
    assert m["precision"] >= 0.99, m
    assert m["recall"] >= 0.97, m
    # Splink's pairs carry both records' values: personal data the scan finds wherever they are written
    assert r.dedup is not None and len(r.dedup.uncertain) >= m["true_positive_pairs"]
    r.dedup.uncertain.to_parquet(tmp_path / "pairs.parquet")
    found = scan_for_pii(tmp_path, heavy_world.tables["customers"]).counts
    assert found["name"] > 0 and found["email"] > 0 and found["phone"] > 0, found


@pytest.mark.slow
def test_incremental_batches_keep_golden_ids_and_record_merges(heavy_world) -> None:
    customers = heavy_world.tables["customers"].sort_values("signup_date").reset_index(drop=True)
    cuts = [len(customers) // 3, 2 * len(customers) // 3, len(customers)]
    orders = heavy_world.tables["orders"]
    previous: pd.DataFrame | None = None
    as_of = heavy_world.manifest["end"]
    for k, cut in enumerate(cuts):
        batch = customers.iloc[:cut].copy()
        labels = None
        if k == 1:  # a changed record: a known customer writes a new phone number
            batch.loc[0, "phone"] = "+1 212 555 0199"
        if k == 2:  # the steward says two earlier golden records are one person: they merge
            golden = previous["golden_raw_id"].drop_duplicates().sort_values().to_numpy()  # type: ignore[index]
            labels = pd.DataFrame({"id_a": [golden[0]], "id_b": [golden[1]], "is_match": ["yes"]})
        raw = {"customers": batch, "orders": orders[orders["customer_id"].isin(batch["customer_id"])]}
        r = clean_tables(raw, as_of, KEY, previous_id_map=previous, dedup_labels=labels)
        now = r.id_map.set_index("raw_customer_id")["golden_raw_id"]
        if previous is not None:
            before = previous.set_index("raw_customer_id")["golden_raw_id"]
            absorbed = dict(
                zip(
                    r.golden_merges["absorbed_golden_raw_id"],
                    r.golden_merges["surviving_golden_raw_id"],
                    strict=True,
                )
            )
            expected = before.map(lambda g, merged=absorbed: merged.get(g, g))
            pd.testing.assert_series_equal(now.reindex(before.index), expected, check_names=False)
            # pseudonyms follow the golden ids: scores and features keep their keys
            kept = previous.set_index("raw_customer_id")["customer_id"]
            unchanged = ~before.isin(list(absorbed))
            assert (
                r.id_map.set_index("raw_customer_id")["customer_id"].reindex(kept.index)[unchanged]
                == kept[unchanged]
            ).all()
            if k == 2:
                assert list(r.golden_merges["absorbed_golden_raw_id"]) == [golden[1]]
                assert list(r.golden_merges["surviving_golden_raw_id"]) == [golden[0]]
                assert r.report.dedup.golden_merges == 1
                assert set(r.golden_merges.columns) >= {"absorbed_customer_id", "surviving_customer_id"}
            else:
                assert r.golden_merges.empty
        previous = r.id_map


def test_stable_golden_ids_split_merge_and_new_clusters() -> None:
    prev = pd.DataFrame({"raw_customer_id": ["a", "b", "c", "d"], "golden_raw_id": ["a", "a", "c", "d"]})
    # this run: a/b split apart (b now alone, its own id 'b'), c and d merge, e is new and joins d
    now = pd.Series(["a", "b", "c", "c", "c"], index=["a", "b", "c", "d", "e"])
    signup = pd.Series(pd.to_datetime(["2020-01-01", "2020-02-01", "2021-01-01", "2020-06-01", "2022-01-01"]),
                       index=["a", "b", "c", "d", "e"])  # fmt: skip
    ids, merges = stable_golden_ids(now, prev, signup)
    assert ids.to_dict() == {"a": "a", "b": "b", "c": "d", "d": "d", "e": "d"}  # d signed up before c
    assert merges.to_dict("records") == [{"absorbed_golden_raw_id": "c", "surviving_golden_raw_id": "d"}]
    # an earlier cluster split: the part holding its golden record keeps the id, the other part gets its own
    prev2 = pd.DataFrame({"raw_customer_id": ["x", "y"], "golden_raw_id": ["x", "x"]})
    ids2, merges2 = stable_golden_ids(pd.Series(["x", "y", "y"], index=["x", "y", "z"]), prev2)
    assert ids2.to_dict() == {"x": "x", "y": "y", "z": "y"} and merges2.empty
    unchanged, none = stable_golden_ids(now, None)
    assert unchanged is now and none.empty


def test_steward_labels_link_and_separate_pairs() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_date": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01"]),
            "name": ["Anna Smith", "Anna Smith", "Carl Jung", "Dora Maar"],
            "email": ["anna@x.org", "anna@x.org", "carl@y.org", "dora@z.org"],
            "phone": ["+14155550101", "+14155550101", None, None],
            "birth_date": pd.to_datetime(["1980-02-03", "1980-02-03", "1970-01-01", "1960-05-05"]),
        }
    )
    assert find_duplicates(df).clusters.to_dict() == {"a": "a", "b": "a", "c": "c", "d": "d"}
    labels = pd.DataFrame(
        {"id_a": ["b", "c", "zz"], "id_b": ["a", "d", "a"], "is_match": ["no", "yes", "yes"]}
    )
    result = find_duplicates(df, DedupParams(), labels=labels)
    assert result.clusters.to_dict() == {"a": "a", "b": "b", "c": "c", "d": "c"}
    assert result.stats["labelled_pairs"] == 2  # the pair naming an unknown id is ignored
    with pytest.raises(ValueError, match="dedup labels: required column 'is_match' is missing"):
        find_duplicates(df, labels=labels.drop(columns=["is_match"]))
