"""The architecture walls hold: import-linter contracts (``.importlinter``) and no import cycle between stages."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("custml", include_external_packages=True, cache_dir=None)


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "5 kept, 0 broken" in proc.stdout


def test_the_contracts_see_real_imports(graph: grimp.ImportGraph) -> None:
    """Guard against vacuous contracts: the graph sees the imports the walls are about."""
    assert graph.direct_import_exists(importer="custml.tracking", imported="mlflow")
    assert graph.chain_exists("custml.workflows", "mlflow")
    assert graph.chain_exists("custml.scoring", "custml.models", as_packages=True)
    assert graph.chain_exists("custml.workflows", "custml.features", as_packages=True)


def test_no_import_cycle_between_top_level_modules(graph: grimp.ImportGraph) -> None:
    """A package-level cycle (a imports b somewhere, b imports a somewhere, lazily or not) is a wall in disguise."""
    tops = sorted({m.split(".")[1] for m in graph.modules if m.startswith("custml.")})
    cycles = [
        (a, b)
        for a, b in itertools.combinations(tops, 2)
        if graph.chain_exists(f"custml.{a}", f"custml.{b}", as_packages=True)
        and graph.chain_exists(f"custml.{b}", f"custml.{a}", as_packages=True)
    ]
    assert not cycles, f"import cycles between custml modules: {cycles}"
