"""Execute every numbered notebook headless at small size, and check each is paired with its py:percent source.

The size comes from the notebook's cell tagged ``parameters``: like papermill, the test inserts a cell after it
that overrides those names with small values (``NOTEBOOK_TEST_PARAMETERS``), then runs the notebook with nbclient in
a temporary project root and a temporary MLflow store. A notebook that raises fails the test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import nbformat

# nbformat, nbclient and jupytext are imported inside the tests: importing nbformat costs ~1 s (its JSON-schema
# formats), which a worker that runs none of these tests should not pay at collection.

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

# Small sizes for the test run; a notebook's parameters cell documents its default (committed) size. A notebook
# whose default is smaller keeps its default (the test never runs a notebook bigger than committed).
NOTEBOOK_TEST_PARAMETERS = {"N_CUSTOMERS": 2_000, "SEED": 7, "SMALL": True}
CAPPED_AT_DEFAULT = ("N_CUSTOMERS",)
# A call of the declared step runner in a notebook's code: run_step("name", ...) or run_steps([...], ...).
STEP_RUNNER_CALL = re.compile(r"\brun_steps?\(")


def _parameters_index(nb: nbformat.NotebookNode) -> int:
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    raise AssertionError("notebook has no cell tagged 'parameters'")


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_at_small_size(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    idx = _parameters_index(nb)
    defaults: dict[str, object] = {}
    exec(nb.cells[idx].source, {}, defaults)  # the parameters cell holds plain assignments
    overrides = {k: v for k, v in NOTEBOOK_TEST_PARAMETERS.items() if k in defaults}
    for k in CAPPED_AT_DEFAULT:
        if k in overrides:
            overrides[k] = min(overrides[k], defaults[k])  # type: ignore[type-var]
    injected = "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    monkeypatch.setenv("CUSTML_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client.execute()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_paired_with_py_percent_source(path: Path) -> None:
    paired = path.with_suffix(".py")
    assert paired.is_file(), f"{path.name} has no paired {paired.name} (run `jupytext --sync {path}`)"
    import jupytext

    from_ipynb = jupytext.writes(jupytext.read(path), fmt="py:percent")
    from_py = jupytext.writes(jupytext.read(paired), fmt="py:percent")
    assert from_ipynb == from_py, f"{path.name} and {paired.name} differ (run `jupytext --sync {path}`)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_executed_and_imports_custml_and_the_step_runner(path: Path) -> None:
    """Committed executed, without errors; imports custml and prepares its data through the declared steps
    (``from custml.pipeline import ...`` and a ``run_step``/``run_steps`` call), not removed stage paths."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any("import custml" in c.source or "from custml" in c.source for c in code)
    source = "\n".join(c.source for c in code)
    assert re.search(r"^from custml\.pipeline import", source, re.MULTILINE), (
        f"{path.name} does not import the step runner (from custml.pipeline import run_step...)"
    )
    assert STEP_RUNNER_CALL.search(source), f"{path.name} never calls run_step or run_steps"
    assert any("autoreload" in c.source for c in code[:2]), "start with %load_ext autoreload / %autoreload 2"
    assert all(c.get("execution_count") for c in code), f"{path.name} is not committed executed"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name} was committed with an error output"
