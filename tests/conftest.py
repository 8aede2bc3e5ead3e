"""Shared test set-up: headless matplotlib, a deterministic hypothesis profile, and the external-tool policy.

Tests that need Java/Spark, Chromium or an mlflow server call :func:`skip_or_fail`: locally they skip when the
tool is missing; in CI (``CUSTML_REQUIRE_EXTERNAL=1``, set by ``.ci/run``) they fail instead.
``$CUSTML_SHARED_DIR`` defaults to ``shared/`` beside the checkout when it exists (where CDNOW lives).

Built once per session and worker: :func:`cached_world` (synthetic worlds cached by their parameters) and
:func:`trained_project` (one small trained project for the end-to-end tests). Under ``--dist loadfile`` the
notebooks spread over the workers and the longest units of work (by their last measured time) start first (:func:`pytest_xdist_make_scheduler`).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

if TYPE_CHECKING:
    from scoring_project import DemoResult

    from custml.synth import World

settings.register_profile(
    "custml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40
)
settings.load_profile("custml")

# Public reference data (CDNOW) sits in shared/ beside the checkout, locally and in CI. Tests that move
# CUSTML_HOME to a temporary folder (and notebooks they execute) find it through this setting.
_SHARED = Path(__file__).resolve().parents[2] / "shared"
if _SHARED.is_dir():
    os.environ.setdefault("CUSTML_SHARED_DIR", str(_SHARED))
# Likewise the committed experiment configs of this checkout (custml.config.experiment_dirs).
os.environ.setdefault("CUSTML_EXPERIMENTS_DIR", str(Path(__file__).resolve().parents[1] / "experiments"))


def skip_or_fail(reason: str) -> None:
    """Skip the current test, or fail it when external tools are required (CI)."""
    from custml.config import require_external_tools

    if require_external_tools():
        pytest.fail(f"required external tool unavailable in CI: {reason}")
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------------------
# Shared, built once per session and worker (pytest-xdist gives each worker its own session)
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cached_world() -> Callable[..., World]:
    """A factory of synthetic worlds cached by their parameters: ``cached_world(n_customers=3000, seed=5)``.

    Takes a :class:`custml.synth.WorldParams` or the keywords of :func:`custml.synth.world_preset`
    (``preset="retail"`` picks the preset). A world is generated once per worker and parameters; each call
    hands out a copy of its tables, so a test may change what it gets without touching the next test's world.
    """
    from custml.synth import WorldParams, generate_world, world_preset

    cache: dict[str, World] = {}

    def get(params: WorldParams | None = None, /, *, preset: str = "default", **overrides: Any) -> World:
        if params is None:
            params = world_preset(preset, **overrides)
        elif overrides or preset != "default":
            raise TypeError("cached_world(): pass a WorldParams or keywords, not both")
        key = params.model_dump_json()
        if key not in cache:
            cache[key] = generate_world(params)
        return _copy_world(cache[key])

    return get


def _copy_world(w: World) -> World:
    return dataclasses.replace(
        w,
        **{name: frame.copy() for name, frame in w.tables.items()},
        truth={name: frame.copy() for name, frame in w.truth.items()},
        manifest=copy.deepcopy(w.manifest),
    )


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoResult]]:
    """One small trained project (the demo at 2,000 persons: raw, clean, features, segments, churn, repurchase
    and uplift models registered as champions on a SQLite MLflow store, scores and report), shared by the
    end-to-end tests of ``SHARED_PROJECT_FILES``. Tests write their own outputs to ``tmp_path``, never into it.
    """
    from scoring_project import project_env, small_project

    root = tmp_path_factory.mktemp("trained-project")
    with project_env(root):
        yield root, small_project(root)


#: Test files that read :func:`trained_project`: ``make test`` hands them to one worker together, so the project
#: is trained once per run.
SHARED_PROJECT_FILES = ("tests/test_demo.py", "tests/test_scoring_spark.py")
#: Each of these tests is its own unit of work (a notebook takes 10-60 s), so they spread over the workers.
ONE_TEST_PER_UNIT = ("tests/test_notebooks.py::test_notebook_executes_at_small_size",)
#: Tests with one of these marks are heavy (see :data:`HEAVY_SECONDS`) when the units of work are ordered.
HEAVY_MARKS = ("slow", "notebook", "spark", "mlflow_server", "browser")


def _unit_of_work(nodeid: str) -> str:
    if nodeid.startswith(ONE_TEST_PER_UNIT):
        return nodeid
    file = nodeid.split("::", 1)[0]
    return "trained-project" if file in SHARED_PROJECT_FILES else file


#: The cyclic garbage collector's thresholds during a run (Python's default is (700, 10, 10)). A worker holds about
#: 700k long-lived objects (the imported libraries, the cached worlds); at the defaults every full collection
#: scans them all (0.3-0.4 s, about 20 times a run: 7 s of a worker's 80). :func:`pytest_collection_finish` freezes
#: what collection imported and collects less often: about 2 s. Reference counting still frees at once every
#: object outside a cycle; only cycles wait longer.
GC_THRESHOLDS = (50_000, 20, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move the objects alive after collection (modules, test functions) out of the collector's reach, and
    collect less often (:data:`GC_THRESHOLDS`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


#: Where the last runs' seconds per unit of work are kept (pytest's cache, ``.pytest_cache``).
DURATIONS_KEY = "custml/seconds_per_unit"
#: Without a measured time, a unit is estimated at this many seconds per quick test and per heavy test.
QUICK_SECONDS, HEAVY_SECONDS = 0.1, 2.0
_measured: dict[str, float] = {}


def _estimated_seconds(items: list[pytest.Item]) -> dict[str, float]:
    estimate: dict[str, float] = {}
    for item in items:
        unit = _unit_of_work(item.nodeid)
        heavy = any(item.get_closest_marker(m) for m in HEAVY_MARKS)
        estimate[unit] = estimate.get(unit, 0.0) + (HEAVY_SECONDS if heavy else QUICK_SECONDS)
    return estimate


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, order the tests by unit of work, longest unit first, so that the scheduler (which
    follows this order) does not leave a long unit to the end while the other worker idles (longest processing
    time first). A unit's time is its measured seconds in the last run that ran it (pytest's cache), else an
    estimate from its tests and their marks; every worker reads the same cache, so all agree on the order."""
    if not hasattr(config, "workerinput"):
        return
    seconds = _estimated_seconds(items)
    cache = getattr(config, "cache", None)
    measured = cache.get(DURATIONS_KEY, {}) if cache is not None else {}
    seconds.update({u: float(t) for u, t in measured.items() if u in seconds})
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        first.setdefault(_unit_of_work(item.nodeid), i)
    items.sort(key=lambda item: (-seconds[_unit_of_work(item.nodeid)], first[_unit_of_work(item.nodeid)]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each unit of work's seconds (setup, call and teardown), in the process that schedules."""
    _measured[_unit_of_work(report.nodeid)] = (
        _measured.get(_unit_of_work(report.nodeid), 0.0) + report.duration
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Keep the seconds of the units this run ran beside those of earlier runs (scheduler process only)."""
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _measured:
        return
    cache.set(
        DURATIONS_KEY, {**cache.get(DURATIONS_KEY, {}), **{u: round(t, 2) for u, t in _measured.items()}}
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` over :func:`_unit_of_work` (a file, one notebook, or the files sharing the trained
    project), handed out in the order of :func:`pytest_collection_modifyitems` rather than by test count."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit_of_work(nodeid)

    config.option.loadscopereorder = False
    return _Scheduling(config, log)
