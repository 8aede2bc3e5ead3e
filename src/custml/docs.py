"""Regenerate the documentation pages that the code owns (``python -m custml.docs``)."""

from __future__ import annotations

from pathlib import Path

from custml.config import get_paths
from custml.schema import contract_markdown

__all__ = ["write_contract_doc"]

_HEADER = """# Data contract

The four tables every custml stage reads. Generated from `custml.schema` by `python -m custml.docs`; a test
fails when this page and the code disagree. PII: `direct` identifies a person and never leaves the quality stage;
`key` is a raw identifier replaced by a keyed pseudonym (HMAC-SHA256); `quasi` may enter models only in coarse form
(region, age band).

"""


def write_contract_doc(root: Path | None = None) -> Path:
    """Write ``docs/data-contract.md`` under the project root and return its path."""
    path = (root or get_paths().root) / "docs" / "data-contract.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_HEADER + contract_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    write_contract_doc()
