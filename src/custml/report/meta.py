"""The scores' sidecar as the report reads it: :class:`custml.contracts.ScoreMeta`, through one accessor,
:func:`read_meta`. Sections take the contract's typed parts (quality block, model versions, drift rows,
uplift summary, outlook); none reads the meta by key.

There is no fallback for older files: a sidecar of another schema version, or one that does not match the
contract, is refused in one line (:class:`custml.errors.DataFileError`) — score again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from pydantic_core import to_json

from custml.contracts import DriftRow, ScoreMeta
from custml.errors import SchemaError

__all__ = ["DRIFT_TABLE_COLUMNS", "drift_table", "read_meta"]

#: Columns of :func:`drift_table`.
DRIFT_TABLE_COLUMNS = ("feature", "psi", "status", "drifted")


def read_meta(meta: ScoreMeta | Mapping[str, object] | None) -> ScoreMeta | None:
    """The scores' sidecar as the contract: as given, or validated from its JSON object; ``None``: no meta.

    Raises
    ------
    DataFileError
        If the object is of another schema version or does not match :class:`~custml.contracts.ScoreMeta`.

    Examples
    --------
    >>> from custml.report.sample import sample_scores
    >>> read_meta(sample_scores(20, seed=0)[1]).models["churn"].name
    'custml-churn'
    >>> read_meta({"schema_version": 0})
    Traceback (most recent call last):
    ...
    custml.errors.DataFileError: <json text>: scores meta of schema version 0, expected 1 (written by another custml version: re-run the step that writes it)
    """
    if meta is None or isinstance(meta, ScoreMeta):
        return meta
    # the contract's own reader: its version check and its one-line message (parts may already be models)
    return ScoreMeta.read_json(to_json(dict(meta), by_alias=True, fallback=str).decode())


def drift_table(rows: Sequence[DriftRow]) -> pd.DataFrame:
    """The scoring run's drift rows as a frame (:data:`DRIFT_TABLE_COLUMNS`; a feature may repeat, once per
    model); ``drifted`` is the run's verdict (:func:`custml.scoring.drift.drift_verdict`).

    Raises
    ------
    SchemaError
        If a row has no ``drifted`` verdict: the report states the scoring run's verdict, it never guesses one
        from the PSI band.
    """
    for i, row in enumerate(rows):
        if row.drifted is None:
            raise SchemaError(
                "scores meta", f"drift[{i}].drifted", "is missing: the scoring run gave no verdict"
            )
    frame = pd.DataFrame(
        [(r.feature, r.psi, r.status, r.drifted) for r in rows], columns=list(DRIFT_TABLE_COLUMNS)
    )
    frame["psi"] = pd.to_numeric(frame["psi"], errors="coerce")
    frame["drifted"] = frame["drifted"].astype(bool)
    return frame
