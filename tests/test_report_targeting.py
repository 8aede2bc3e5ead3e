"""One home for targeting: random targeting valued at its expectation, the same rows the report shows."""

from __future__ import annotations

import pandas as pd
import pytest

from custml.uplift.targeting import policy_table


def test_random_targeting_is_valued_at_its_expectation() -> None:
    frame = pd.DataFrame(
        {
            "uplift": [0.2, 0.0, 0.1, 0.05],
            "true_uplift": [0.1, 0.0, 0.2, 0.0],
            "expected_value_12m": [500.0, 100.0, 400.0, 1000.0],
            "churn_probability": [0.3, 0.9, 0.5, 0.8],
        }
    )
    # margin 0.5, cost 10: expected profit 40, -10, 10, 15 (mean 13.75); true 15, -10, 30, -10 (mean 6.25)
    table = policy_table(frame, 20.0, 10.0, margin=0.5, true_uplift_column="true_uplift").set_index("policy")
    assert table.loc[
        "random", ["contacted", "cost", "expected_profit", "true_profit"]
    ].tolist() == pytest.approx([2, 20.0, 27.5, 12.5])
    # the same whatever the seed: an expectation, not a draw
    again = policy_table(frame, 20.0, 10.0, margin=0.5, true_uplift_column="true_uplift", seed=99)
    assert again.set_index("policy").loc["random"].tolist() == table.loc["random"].tolist()
    assert list(table.index[:4]) == ["expected profit", "churn risk", "value x risk", "random"]
    # nobody contacted: no cost, no profit
    none = policy_table(frame, 0.0, 10.0, margin=0.5).set_index("policy")
    assert none.loc["random", ["contacted", "expected_profit"]].tolist() == [0, 0.0]
