"""``custml demo`` (``make demo``): the demo subset of the declared steps, generate -> ... -> report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import GateDecision
from custml.errors import CustmlError
from custml.pipeline._wiring import Progress, configure_tracking, project_paths, tell
from custml.pipeline.clean import read_raw
from custml.pipeline.runner import StepContext, TruthInputs, run_step, run_steps
from custml.scoring.accounting import ScoresSummary

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.contracts import GateDecision
    from custml.pipeline.settings import DemoSettings
    from custml.segment.segmentation import SegmentationRunParams

__all__ = ["DemoResult", "run_demo"]

logger = logging.getLogger(__name__)


class DemoSummary(ScoresSummary):
    """The scores' headline figures and the customers not scored, by reason."""

    rows_not_scored: dict[str, int]


@dataclass
class DemoResult:
    """Where the demo wrote its outputs, what it decided, and how long each step took."""

    root: Path
    raw_dir: Path
    as_of: pd.Timestamp
    scores_path: Path
    report_path: Path
    tracking_uri: str
    gate: dict[str, GateDecision]
    summary: DemoSummary
    timings: dict[str, float]

    @property
    def seconds(self) -> float:
        return float(sum(self.timings.values()))


def run_demo(
    settings: DemoSettings | None = None,
    *,
    root: Path | str | None = None,
    train_overrides: Mapping[str, Any] | None = None,
    segment_params: SegmentationRunParams | None = None,
    say: Progress | None = None,
) -> DemoResult:
    """The main job on embedded defaults: the steps :data:`custml.pipeline.steps.DEMO_STEPS`, generate -> clean
    -> features -> segment -> train (churn, repurchase, uplift) -> score -> report, through the step runner.

    Writes everything under ``root`` (default: the project root): a synthetic world (``settings.preset``:
    ``retail`` by default, seasonal churn and an offer that works for some customers; ``default`` the nearly
    stationary world), clean tables, features, segments, the models in the MLflow registry (SQLite unless
    ``$MLFLOW_TRACKING_URI`` says otherwise) with the champion gate, the scores as of the day after the data
    end, and the HTML report. ``say`` receives one line per step (the CLI prints them).

    ``train_overrides`` are extra :class:`custml.models.params.TrainParams` fields for both models and
    ``segment_params`` replaces the segmentation defaults (tests use both to run small and fast).
    """
    from custml.models.params import TrainParams
    from custml.pipeline.settings import (
        CleanSettings,
        DemoSettings,
        FeaturesSettings,
        GenerateSettings,
        ReportSettings,
        ScoreSettings,
    )
    from custml.pipeline.steps import DEMO_STEPS
    from custml.scoring.accounting import scores_summary
    from custml.segment.segmentation import SegmentationRunParams
    from custml.uplift import UpliftParams

    s = settings or DemoSettings()
    paths = project_paths(root)
    uri = configure_tracking(paths)
    ctx = StepContext.for_paths(paths, say)
    tell(say, f"generating a synthetic world of {s.n_customers:,} customers ({s.preset} preset)")
    world = GenerateSettings(
        n_customers=s.n_customers, seed=s.seed, dirty=s.dirty, locale=s.locale, preset=s.preset
    )
    run_step("generate", world, ctx)
    raw_dir = Path(str(ctx.data["raw"]))
    ctx.raw_tables = read_raw(raw_dir)
    as_of = ctx.resolve_as_of()
    ctx.truth = _truth_oracle(raw_dir, as_of)
    train = [
        TrainParams.model_validate(
            {"n_train_cutoffs": s.n_train_cutoffs, "seed": s.seed, **(train_overrides or {}), "task": task}
        )
        for task in ("churn", "repurchase")
    ]
    run = run_steps(
        [n for n in DEMO_STEPS if n != "generate"],
        {
            "clean": CleanSettings(allow_demo_key=True),
            "features": FeaturesSettings(),
            "segment": segment_params or SegmentationRunParams(),
            "train": train,
            "train_uplift": UpliftParams(),
            "score": ScoreSettings(quiet=s.quiet),
            "report": ReportSettings(),
        },
        context=ctx,
    )
    scored = run.results["score"]
    models = ctx.data["models"]
    gate = {task: o.decision for task, o in models.items() if o.decision}  # type: ignore[attr-defined]
    return DemoResult(
        root=paths.root,
        raw_dir=raw_dir,
        as_of=as_of,
        scores_path=scored.out,  # type: ignore[attr-defined]
        report_path=Path(str(run.results["report"])),
        tracking_uri=uri,
        gate=gate,
        summary=DemoSummary(**scores_summary(scored.scores), rows_not_scored=scored.not_scored),  # type: ignore[attr-defined]
        timings=ctx.timings,
    )


def _truth_oracle(raw_dir: Path, as_of: pd.Timestamp) -> TruthInputs | None:
    """The synthetic truth's probabilities at both tasks' test cut-offs (the id map joins them after cleaning)."""
    from custml.models.params import DEFAULT_HORIZON_DAYS
    from custml.synth import oracle_at_test_cutoffs, read_truth

    if not ProjectPaths.truth_in(raw_dir).is_dir():
        return None
    try:
        truth = read_truth(raw_dir)
    except CustmlError as exc:
        logger.warning("cannot read the synthetic truth (%s): models are evaluated without the oracle", exc)
        return None
    return TruthInputs(
        oracle=oracle_at_test_cutoffs(truth["customers"], as_of, DEFAULT_HORIZON_DAYS.values())
    )
