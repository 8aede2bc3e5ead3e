"""The step runner: executes declared steps (:data:`custml.pipeline.steps.STEPS`) in order with their settings.

Every entry point runs steps through here: the CLI commands (one step each), ``custml demo`` (the demo's
subset), experiments and notebooks. Each executed step is logged on ``custml.pipeline.runner`` (``step NAME``)
and appended to :attr:`StepContext.ran`, so that tests can assert which steps an entry point ran.

Examples
--------
>>> from custml.config import ProjectPaths
>>> ctx = StepContext.for_paths(ProjectPaths(Path("/p")))
>>> ctx.ran, ctx.catalogue.location("clean").name
([], 'interim')
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from custml.config import ProjectPaths, get_paths, load_settings
from custml.errors import ConfigError
from custml.pipeline._wiring import Engine, Progress, as_day, default_as_of, tell
from custml.pipeline.catalogue import Catalogue
from custml.settings import Settings

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from custml.models.params import TrainParams
    from custml.pipeline.steps import Step
    from custml.synth import WorldParams

__all__ = ["RunRecord", "StepContext", "StepsRun", "TruthInputs", "run_step", "run_steps", "step_settings"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """How a training step records its run: MLflow on/off, registry and gate, run name, tags, config file."""

    log: bool = True
    register: bool = True
    run_name: str | None = None
    experiment: str | None = None
    tags: Mapping[str, str] | None = None
    config_path: Path | str | None = None
    extra_params: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TruthInputs:
    """A synthetic world's truth for evaluation: the oracle's probabilities (or the truth's customers, the
    oracle then computed at the test cut-off) and the cleaner's id map."""

    oracle: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    id_map: pd.DataFrame | None = None


@dataclass
class StepContext:
    """What the steps of one run share: the project, its catalogue, the datasets produced so far, the as-of date.

    ``data`` holds datasets by catalogue name (``clean``: a :class:`custml.quality.pipeline.CleanResult`,
    ``features``: a frame...); a step reads a dataset from here when an earlier step of the run produced it,
    else from the catalogue. ``targets`` overrides where a step writes a dataset (a CLI ``--out``). Inputs a
    caller hands the run instead of files: ``raw_tables`` (raw tables in memory, cleaned by the clean step),
    ``tables`` (clean tables, not cleaned again), ``world`` (the world the generate step writes),
    ``train_params`` (the backtest's training settings) and ``churn`` (outcomes for the segment profiles).
    """

    paths: ProjectPaths
    catalogue: Catalogue
    say: Progress | None = None
    as_of: pd.Timestamp | None = None
    engine: Engine = "duckdb"
    record: RunRecord = field(default_factory=RunRecord)
    truth: TruthInputs | None = None
    raw_tables: Mapping[str, pd.DataFrame] | None = None
    tables: Mapping[str, pd.DataFrame] | None = None
    world: WorldParams | None = None
    train_params: TrainParams | None = None
    churn: ArrayLike | None = None
    data: dict[str, object] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_paths(cls, paths: ProjectPaths | None = None, say: Progress | None = None) -> StepContext:
        paths = paths or get_paths()
        return cls(paths=paths, catalogue=Catalogue(paths), say=say)

    @property
    def root(self) -> Path:
        return self.paths.root

    def clean_tables(self) -> Mapping[str, pd.DataFrame]:
        """The clean tables of this run (``data["clean"]``), else those of the catalogue's ``clean`` folder."""
        from custml.pipeline.clean import read_clean

        clean = self.data.get("clean")
        if clean is not None:
            return clean.tables  # type: ignore[attr-defined]
        if self.tables is not None:
            return self.tables
        return read_clean(self.root)

    def resolve_as_of(self, value: object = None) -> pd.Timestamp:
        """``value``, else the run's as-of date, else the one rule (:func:`custml.pipeline.default_as_of`) on
        the run's raw folder and orders; the result becomes the run's as-of date."""
        if value is not None:
            self.as_of = as_day(value)
        if self.as_of is None:
            raw = Path(str(self.data.get("raw", self.paths.raw)))
            if self.paths.manifest_in(raw).is_file():
                self.as_of = default_as_of(raw)
            else:
                tables = self.raw_tables
                orders = tables.get("orders") if tables is not None else self.clean_tables()["orders"]
                self.as_of = default_as_of(raw, orders)
        return self.as_of


@dataclass
class StepsRun:
    """What :func:`run_steps` did: each step's result by name (a repeated step: its last), and the context."""

    results: dict[str, object]
    context: StepContext

    @property
    def ran(self) -> list[str]:
        return self.context.ran


def _step(name: str) -> Step:
    from custml.pipeline.steps import STEPS

    for step in STEPS:
        if step.name == name:
            return step
    raise ConfigError(f"no step {name!r}; the steps are: {', '.join(s.name for s in STEPS)}")


def step_settings(
    name: str,
    *,
    paths: ProjectPaths | None = None,
    experiment: Path | str | None = None,
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> Settings:
    """The settings of step ``name``: defaults < project parameters file < ``experiment`` < ``overrides``."""
    step = _step(name)
    section = (overrides or {}).get(step.section)
    return load_settings(step.settings, step.section, paths=paths, experiment=experiment, overrides=section)


def run_step(name: str, settings: Settings | None = None, context: StepContext | None = None) -> object:
    """Run one declared step with ``settings`` (default: :func:`step_settings`) in ``context``; its result."""
    step = _step(name)
    context = context or StepContext.for_paths()
    if settings is None:
        settings = step_settings(name, paths=context.paths)
    if not isinstance(settings, step.settings):
        raise ConfigError(
            f"step {name}: settings must be {step.settings.__name__}, got {type(settings).__name__}"
        )
    logger.info("step %s", name)
    tell(context.say, f"step {name}")
    t0 = time.perf_counter()
    result = step.func(context, settings)
    context.timings[f"{name}_s"] = context.timings.get(f"{name}_s", 0.0) + round(time.perf_counter() - t0, 3)
    context.ran.append(name)
    return result


def run_steps(
    names: Sequence[str],
    settings: Mapping[str, Settings | Sequence[Settings]] | None = None,
    *,
    context: StepContext | None = None,
    experiment: Path | str | None = None,
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> StepsRun:
    """Run the steps ``names`` in the order of :data:`~custml.pipeline.steps.STEPS`.

    A step's settings are ``settings[name]`` (a sequence runs the step once per settings object, e.g. ``train``
    for churn and repurchase), else loaded by :func:`step_settings` with ``experiment`` and ``overrides``
    (``{"section": {"key": value}}``, as ``--set section.key=value`` gives them).
    """
    from custml.pipeline.steps import STEPS

    unknown = [n for n in names if n not in {s.name for s in STEPS}]
    if unknown:
        raise ConfigError(f"no step {unknown[0]!r}; the steps are: {', '.join(s.name for s in STEPS)}")
    context = context or StepContext.for_paths()
    settings = settings or {}
    results: dict[str, object] = {}
    for step in (s for s in STEPS if s.name in names):
        given = settings.get(step.name)
        if given is None:
            given = step_settings(step.name, paths=context.paths, experiment=experiment, overrides=overrides)
        for one in [given] if isinstance(given, Settings) else list(given):
            results[step.name] = run_step(step.name, one, context)
    return StepsRun(results, context)
