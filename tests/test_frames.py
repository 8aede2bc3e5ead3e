"""custml.frames.isin gives pandas' own ``isin`` answers on the key shapes custml tests (text, numbers, missing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custml.frames import isin

CASES = [
    (pd.Series(["a", "b", None, "d"], dtype="str"), pd.Index(["b", "d", "x"])),
    (pd.Series(["a", "b", None, "d"], dtype="str"), pd.Series(["b", None], dtype="str")),
    (pd.Series(["1", "2", "3"], dtype="str"), pd.Series([1, 2])),  # text never equals a number
    (pd.Series([1, 2, 3, 4]), pd.Index([2, 4, 9])),
    (pd.Series([1.0, np.nan, 3.0]), pd.Index([np.nan, 3.0])),
    (pd.Index(["a", "b"], dtype="str"), pd.Index([], dtype="str")),
    (pd.Series([], dtype="str"), pd.Index(["a"])),
    (pd.Series(["a", "b", "a"], dtype="category"), pd.Index(["a"])),
]


@pytest.mark.parametrize(("values", "keys"), CASES)
def test_isin_matches_pandas(values: pd.Series | pd.Index, keys: pd.Series | pd.Index) -> None:
    got = isin(values, keys)
    expected = np.asarray(values.isin(keys), dtype=bool)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected)


def test_isin_at_scale_is_exact() -> None:
    rng = np.random.default_rng(0)
    ids = pd.Series([f"c{i}" for i in rng.integers(0, 50_000, 20_000)], dtype="str")
    keys = pd.Index([f"c{i}" for i in rng.integers(0, 50_000, 10_000)], dtype="str")
    np.testing.assert_array_equal(isin(ids, keys), ids.isin(keys).to_numpy())
