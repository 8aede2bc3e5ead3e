"""P(still a customer) and the discrete-time survival model: metrics by hand, the estimator contract, the truth.

Floors on the 3,000-person world were measured over seeds 0-2 with the settings below (3 alive cut-offs 60 days
apart, 4 survival cut-offs 60 days apart, 100 trees): LightGBM alive ROC AUC vs the truth 0.866-0.873
(BG/NBD 0.481-0.510, Pareto/NBD 0.890-0.899, exp(-recency/365) 0.895-0.901); survival C-index vs the truth's
dropout 0.599-0.622 (recency_days 0.566-0.572, Pareto/NBD 0.604-0.615).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import check_estimator

from custml.errors import SchemaError
from custml.features import build_features
from custml.features.labels import lapse_times
from custml.models.alive import (
    alive_training_set,
    btyd_probability_alive,
    evaluate_alive,
    fit_alive_model,
    predict_alive,
)
from custml.models.survival import (
    DiscreteTimeSurvival,
    compare_survival,
    concordance_index,
    cumulative_dynamic_auc,
    person_period,
)
from custml.scoring.alive import probability_alive

# ------------------------------------------------------------------------------------------ metrics by hand


def test_concordance_index_by_hand() -> None:
    # times 2, 4, 5(censored), 7; events at 2, 4, 7. Comparable pairs (i shorter, event): (2,4), (2,5), (2,7),
    # (4,5), (4,7) = 5; risks 0.9, 0.5, 0.5, 0.1: (2,*) concordant x3, (4,5) tie 0.5, (4,7) concordant -> 4.5/5
    t, e, r = [2, 4, 5, 7], [1, 1, 0, 1], [0.9, 0.5, 0.5, 0.1]
    assert concordance_index(t, e, r) == pytest.approx(4.5 / 5)
    assert concordance_index(t, e, -np.asarray(r)) == pytest.approx(0.5 / 5)
    # A censored row is never the shorter of a pair; equal times are not compared.
    with pytest.raises(SchemaError, match="no comparable pair"):
        concordance_index([3, 3, 1], [1, 1, 0], [0.0, 1.0, 5.0])
    with pytest.raises(SchemaError, match="event"):
        concordance_index([1, 2], [1, 2], [0.1, 0.2])
    # Chunking gives the same answer as one block.
    rng = np.random.default_rng(0)
    tt, ee, rr = rng.exponential(size=300), rng.random(300) < 0.7, rng.normal(size=300)
    assert concordance_index(tt, ee, rr, chunk=7) == pytest.approx(concordance_index(tt, ee, rr))


def test_cumulative_dynamic_auc_by_hand_with_and_without_censoring() -> None:
    # No censoring: plain AUC of "event by 2". Cases t=1 (0.9), t=2 (0.2); controls t=3 (0.5), t=4 (0.1): 3/4.
    assert cumulative_dynamic_auc([1, 2, 3, 4], [1, 1, 1, 1], [0.9, 0.2, 0.5, 0.1], at=2) == pytest.approx(
        0.75
    )
    # Censoring at 1.5: Kaplan-Meier of the censoring times is 1 before 1.5 and 1 - 1/4 = 0.75 after (4 at
    # risk). Case t=1 weighs 1, case t=2 weighs 1/0.75; controls t=3 (0.5), t=4 (0.1) (the censored row is
    # neither). Wins: t=1 (0.9) beats both (2), t=2 (0.3) beats one (1): (1*2 + 4/3*1) / ((1 + 4/3) * 2).
    t, e, r = [1, 1.5, 2, 3, 4], [1, 0, 1, 1, 1], [0.9, 0.0, 0.3, 0.5, 0.1]
    expected = (2 + 4 / 3) / ((1 + 4 / 3) * 2)
    assert cumulative_dynamic_auc(t, e, r, at=2) == pytest.approx(expected)
    with pytest.raises(SchemaError, match="rows still at risk"):
        cumulative_dynamic_auc([1, 2], [1, 1], [0.5, 0.4], at=5)


def test_person_period_expansion() -> None:
    rows, period, label = person_period([2.0, 0.0, 5.0, 1.2], [1, 1, 1, 0], n_periods=3)
    assert rows.tolist() == [0, 0, 1, 2, 2, 2, 3, 3]
    assert period.tolist() == [1, 2, 1, 1, 2, 3, 1, 2]
    # event in period 2 for row 0, period 1 for a 0 duration, beyond the horizon for row 2, censored row 3
    assert label.tolist() == [0, 1, 1, 0, 0, 0, 0, 0]


def test_lapse_times_by_hand() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "d", "d"],
            "order_ts": pd.to_datetime(
                [
                    "2025-09-01",
                    "2025-10-15",
                    "2026-03-01",
                    "2025-09-20",
                    "2025-01-01",
                    "2025-09-25",
                    "2025-12-01",
                ]
            ),
            "is_refund": [False, False, False, False, False, False, True],
        }
    )
    out = lapse_times(orders, "2025-10-01", "2026-06-30", gap_days=90).set_index("customer_id")
    # a: 10-15 is followed by 137 silent days -> lapse 2026-01-13 (104 days); c lapsed before the cut-off;
    # d's December order is a refund -> lapse at 09-25 + 90 days
    assert out["duration_days"].to_dict() == {"a": 104.0, "b": 79.0, "d": 84.0}
    assert out["lapsed"].all()
    early = lapse_times(orders, "2025-10-01", "2025-12-01", gap_days=90).set_index("customer_id")
    assert early["duration_days"].tolist() == [61.0, 61.0, 61.0] and not early["lapsed"].any()
    with pytest.raises(ValueError, match="after the cutoff"):
        lapse_times(orders, "2025-10-01", "2025-09-01")


def test_evaluate_alive_by_hand_and_its_errors() -> None:
    truth = pd.DataFrame(
        {"customer_id": list("abcd"), "dropout_ts": pd.to_datetime(["2025-01-01", None, None, "2026-01-01"])}
    )
    scores = pd.DataFrame(
        {"customer_id": list("abcd"), "s": [0.2, 0.6, 0.9, 0.4], "gap": [0.0, np.nan, 1, 1]}
    )
    out = evaluate_alive(scores, truth, "2025-06-01", n_bins=2).set_index("score")
    assert out.loc["s", "roc_auc"] == 1.0 and out.loc["s", "alive_rate"] == 0.75
    # bins {a: 0.2 dead, d: 0.4 alive} and {b, c alive}: |0.3 - 0.5| and |0.75 - 1| -> ECE 0.225
    assert out.loc["s", "ece"] == pytest.approx(0.225)
    assert out.loc["gap", "n"] == 3  # the missing score is left out
    with pytest.raises(SchemaError, match="not in the truth"):
        evaluate_alive(pd.DataFrame({"customer_id": ["z"], "s": [0.5]}), truth, "2025-06-01")


# ------------------------------------------------------------------------------------------ estimator contract


def test_discrete_time_survival_passes_check_estimator() -> None:
    results = check_estimator(DiscreteTimeSurvival(n_periods=4, n_estimators=30), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_discrete_time_survival_recovers_a_known_hazard() -> None:
    # Geometric lifetimes: hazard 0.1 for x = 0 and 0.4 for x = 1, censored at period 5 for half the rows.
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 6000)
    life = rng.geometric(np.where(x == 1, 0.4, 0.1)).astype(float)
    cens = np.where(rng.random(6000) < 0.5, 5.0, np.inf)
    y, event = np.minimum(life, cens), life <= cens
    model = DiscreteTimeSurvival(n_periods=8, n_estimators=100).fit(pd.DataFrame({"x": x}), y, event)
    h = model.predict_hazard(pd.DataFrame({"x": [0, 1]}))
    np.testing.assert_allclose(h[0, :5], 0.1, atol=0.03)
    np.testing.assert_allclose(h[1, :4], 0.4, atol=0.05)
    s = model.predict_survival(pd.DataFrame({"x": [0, 1]}))
    assert np.all(np.diff(s, axis=1) <= 0) and s[0, -1] > s[1, -1]
    assert model.predict(pd.DataFrame({"x": [0]}))[0] > model.predict(pd.DataFrame({"x": [1]}))[0]
    assert model.predict_event_by(pd.DataFrame({"x": [1]}), 2)[0] == pytest.approx(1 - s[1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(pd.DataFrame({"x": [0, 1]}), [1.0, -1.0])
    with pytest.raises(ValueError, match="period must be"):
        model.predict_event_by(pd.DataFrame({"x": [1]}), 9)


# ------------------------------------------------------------------------------------------ the synthetic truth


@pytest.fixture(scope="module")
def world(cached_world):
    return cached_world(n_customers=3000, seed=0)


def test_alive_estimates_against_the_truth(world) -> None:
    tables = {"orders": world.orders, "customers": world.customers}
    truth = world.truth["customers"]
    as_of = pd.Timestamp("2025-10-01")
    train = alive_training_set(tables, as_of, window_days=180, n_cutoffs=3, step_days=60)
    assert train["cutoff"].max() + pd.Timedelta(days=180) <= as_of  # labels matured, nothing after as_of
    model = fit_alive_model(train, n_estimators=100)
    feats = build_features(tables, as_of)
    scores = predict_alive(model, feats)
    for name in ("pareto_nbd", "bgnbd"):
        p = btyd_probability_alive(feats, model=name).rename(columns={"p_alive": name})
        scores = scores.merge(p, on="customer_id")
    out = evaluate_alive(scores, truth, as_of).set_index("score")["roc_auc"]
    assert out["p_alive_model"] > 0.83  # seeds 0-2: 0.866-0.873
    assert out["p_alive_model"] > out["bgnbd"] + 0.2  # BG/NBD: one-time buyers all at P(alive) = 1
    assert out["pareto_nbd"] > out["p_alive_model"]  # the measured miss: Pareto/NBD stays what scoring writes
    # scoring's P(alive) is the Pareto/NBD of custml.models.alive
    np.testing.assert_allclose(
        probability_alive(feats)["p_alive"].to_numpy(), btyd_probability_alive(feats)["p_alive"].to_numpy()
    )


def test_survival_model_ranks_the_truths_dropout(world) -> None:
    tables = {"orders": world.orders, "customers": world.customers}
    res = compare_survival(
        tables,
        "2024-12-31",
        "2025-12-31 23:59:59",
        truth=world.truth["customers"],
        n_train_cutoffs=4,
        step_days=60,
        n_estimators=100,
    )
    m = res["metrics"].set_index(["score", "target", "metric"])["value"]
    c_truth = m[("survival_model", "true dropout", "c_index")]
    assert c_truth > 0.58  # seeds 0-2: 0.599-0.622
    assert c_truth > m[("recency_days", "true dropout", "c_index")] + 0.01  # recency 0.566-0.572
    assert m[("survival_model", "observed lapse", "auc_6")] > m[("recency_days", "observed lapse", "auc_6")]
    test = res["test"]
    assert (test["p_lapse_3"] <= test["p_lapse_6"] + 1e-12).all() and (
        test["p_lapse_6"] <= test["p_lapse_12"]
    ).all()
