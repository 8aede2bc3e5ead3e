"""The architecture walls hold: import-linter contracts (``.importlinter``) and no import cycle between stages."""

from __future__ import annotations

import ast
import itertools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    assert "7 kept, 0 broken" in proc.stdout


def test_the_contracts_see_real_imports(graph: grimp.ImportGraph) -> None:
    """Guard against vacuous contracts: the graph sees the imports the walls are about."""
    assert graph.direct_import_exists(importer="custml.tracking", imported="mlflow", as_packages=True)
    assert graph.chain_exists("custml.pipeline", "mlflow")
    assert graph.chain_exists("custml.scoring", "custml.models", as_packages=True)
    assert graph.chain_exists("custml.pipeline", "custml.features", as_packages=True)


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


# --- file names of the project layout live in custml.config only ------------------------------------------

_LAYOUT_EXTENSIONS = ("parquet", "json", "joblib", "html", "csv", "yaml", "yml", "db")
# A file name ("scores_{}.parquet", "scores_*.parquet") or a compound suffix naming a sidecar (".meta.json"); a
# plain suffix or format glob (".parquet", "*.yaml": a file's format, whatever its name) is not a file name.
_FILE_NAME = re.compile(
    r"^(?:[\w{}*\-./]*[\w{}][\w{}*\-]*|\.\w+)\.(?:" + "|".join(_LAYOUT_EXTENSIONS) + r")$"
)

# Literals that look like file names but are not files of the project layout, by module.
_NOT_LAYOUT = {
    # MLflow artefact paths inside a run, not files of the project.
    "custml/tracking/runs.py": {
        "drift_reference.json",
        "uplift_summary.json",
        "data/description.json",
        "config/train_params.json",
        "config/train_params.yaml",
        "evaluation/metrics.json",
        "evaluation/calibration.json",
        "explain/feature_importance.csv",
        "explain/top_drivers.json",
        "segmentation/k_curve.csv",
        "segmentation/profiles.csv",
        "monitoring/health.csv",
        "evaluation/{}.csv",
    },
    "custml/tracking/registry.py": {"evaluation/calibration.json", "explain/top_drivers.json"},
    "custml/pipeline/monitor.py": {"monitoring/groups.csv", "monitoring/drift.csv"},
    "custml/pipeline/backtest.py": {"backtest/months.csv", "backtest/runs.csv"},
    "custml/experiments.py": {
        "segmentation/k_curve.csv",
        "segmentation/profiles.csv",
        "uplift/learners.csv",
        "uplift/profit_curves.csv",
        "uplift/policies_{}.csv",
        # the resolved config logged with a run, written to a temporary folder
        "{}.resolved.yaml",
    },
    # the files of the public CDNOW download (reference data, not the project's layout)
    "custml/datasets.py": {
        "cdnow_customers_summary.csv",
        "cdnow_customers_summary_with_transactions.csv",
        # CLVTools' apparel example data
        "apparelTrans.csv",
        "apparelStaticCov.csv",
        "apparelDynCov.csv.gz",
        "apparelDynCovFuture.csv.gz",
        # the Online Retail II year (UCI), as shared
        "online_retail_II_2009-2010.csv.gz",
    },
    # the files of the public Brazilian e-commerce (Olist) export that a world is written as (the schema's names)
    "custml/synth/exports.py": {
        "olist_customers_dataset.csv",
        "olist_orders_dataset.csv",
        "olist_order_items_dataset.csv",
        "olist_order_payments_dataset.csv",
        "olist_order_reviews_dataset.csv",
    },
}


def _string_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string constant and f-string of a module (f-string fields as ``{}``), docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    in_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            yield node.lineno, str(text)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | in_fstring
        ):
            yield node.lineno, node.value


def _layout_names_outside_config(src: Path) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.py")):
        module = path.relative_to(src.parent).as_posix()
        if module == "custml/config.py":
            continue
        allowed = _NOT_LAYOUT.get(module, set())
        for line, text in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if _FILE_NAME.match(text) and text not in allowed:
                found.append(f"{module}:{line}: {text!r}")
    return found


def test_file_names_of_the_layout_are_spelled_only_in_config() -> None:
    found = _layout_names_outside_config(ROOT / "src" / "custml")
    assert not found, "spell these in custml.config.ProjectPaths:\n" + "\n".join(found)


def test_the_file_name_scan_finds_a_reintroduced_name(tmp_path: Path) -> None:
    """Guard against a vacuous scan: names spelled the ways the pipeline used to spell them are found."""
    package = tmp_path / "custml"
    package.mkdir()
    (package / "config.py").write_text('MANIFEST_FILE = "manifest.json"\n')
    (package / "step.py").write_text(
        '"""Writes ``quarantine.parquet``."""\n'
        "def f(d, name, stamp):\n"
        '    """Docstrings may name files: ``features_<as_of>.parquet``."""\n'
        '    a = d / "quarantine.parquet"\n'
        '    b = d / f"features_{stamp}.parquet"\n'
        '    c = d.with_suffix(".meta.json")\n'
        '    ok = d.suffix == ".parquet" or d.glob("*.parquet")\n'
        '    g = d.glob("scores_*.parquet")\n'
        "    return a, b, c, ok, g\n"
    )
    assert _layout_names_outside_config(package) == [
        "custml/step.py:4: 'quarantine.parquet'",
        "custml/step.py:5: 'features_{}.parquet'",
        "custml/step.py:6: '.meta.json'",
        "custml/step.py:8: 'scores_*.parquet'",
    ]


# --- rooms of a size one can hold (issue 25; figures: benchmarks/code_shape.py) -----------------------------


def _code_shape() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import code_shape
    finally:
        sys.path.pop(0)
    return code_shape


def test_no_module_function_or_signature_too_large_to_hold() -> None:
    cs = _code_shape()
    shape = cs.measure(ROOT / "src" / "custml")
    assert shape.modules > 150 and shape.functions > 1000  # the scan sees the package
    assert not shape.long_modules, f"modules over {cs.MAX_MODULE_LINES} lines: {shape.long_modules}"
    assert not shape.long_functions, f"functions over {cs.MAX_FUNCTION_LINES} lines: {shape.long_functions}"
    assert not shape.wide_functions, (
        f"public functions with over {cs.MAX_PUBLIC_PARAMETERS} parameters (take a settings object): "
        f"{shape.wide_functions}"
    )
    assert shape.any_dict_count < cs.MAX_ANY_DICTS, f"{cs.ANY_DICT} by module: {shape.any_dicts}"


def test_the_shape_scan_finds_each_kind_of_offender(tmp_path: Path) -> None:
    """Guard against a vacuous scan: a long module, a long function, a wide public signature and an untyped
    dict are each found; a wide private helper and ``self`` are not counted."""
    cs = _code_shape()
    package = tmp_path / "pkg"
    package.mkdir()
    params = ", ".join(f"a{i}" for i in range(11))
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    (package / "big.py").write_text(
        "from typing import Any\n"
        f"def wide({params}): pass\n"
        f"def _private_wide({params}): pass\n"
        "class C:\n"
        f"    def method(self, {', '.join(f'a{i}' for i in range(10))}): pass\n"
        f"def long():\n{body}\n"
        "X: dict[str, Any] = {}\n" + "\n" * 700
    )
    shape = cs.measure(package)
    assert [w for _, w in shape.long_modules] == ["pkg/big.py"]
    assert [w for _, w in shape.long_functions] == ["pkg/big.py:6 long"]
    assert [w for _, w in shape.wide_functions] == ["pkg/big.py:2 wide"]
    assert shape.any_dict_count == 1
