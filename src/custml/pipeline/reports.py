"""What reading an export through a source mapping handed the clean step (:class:`SourcesInfo`).

The quality report and the champion gate's decision are typed records of :mod:`custml.contracts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SourcesInfo"]


@dataclass(frozen=True)
class SourcesInfo:
    """What reading an export through a source mapping reported (:class:`custml.sources.Sources`): the mapping,
    each table's report as the sources stage wrote it, the currency, and the line items behind each order."""

    mapping: str
    tables: Mapping[str, Mapping[str, object]]
    currency: str | None
    line_counts: Mapping[str, np.ndarray] = field(default_factory=dict)
