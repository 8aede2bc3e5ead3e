"""Step ``demo`` (``make demo``): generate -> clean -> features -> segment -> train -> score -> report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from custml.config import ProjectPaths
from custml.contracts import GateDecision
from custml.errors import CustmlError
from custml.pipeline._wiring import Progress, configure_tracking, default_as_of, project_paths, tell, timed
from custml.pipeline.clean import read_raw, run_clean
from custml.pipeline.features import run_features
from custml.pipeline.generate import run_generate
from custml.pipeline.report import run_report
from custml.pipeline.score import run_score
from custml.pipeline.segment import run_segment
from custml.pipeline.train import run_train, run_train_uplift

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.quality.pipeline import CleanResult
    from custml.segment.workflow import SegmentationRunParams

__all__ = ["DemoResult", "run_demo"]

logger = logging.getLogger(__name__)


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
    summary: dict[str, Any]
    timings: dict[str, float]

    @property
    def seconds(self) -> float:
        return float(sum(self.timings.values()))


def run_demo(
    n_customers: int = 50_000,
    seed: int = 0,
    root: Path | str | None = None,
    progress: bool = True,
    *,
    dirty: float = 0.02,
    locale: str = "en_US",
    preset: str = "retail",
    n_train_cutoffs: int = 4,
    train_overrides: Mapping[str, Any] | None = None,
    segment_params: SegmentationRunParams | None = None,
    say: Progress | None = None,
) -> DemoResult:
    """The main job on embedded defaults: generate -> clean -> features -> segment -> train -> score -> report.

    Writes everything under ``root`` (default: the project root): a synthetic world of ``n_customers`` in
    ``data/raw`` (``preset``: the ``retail`` world by default, whose churn moves with the season and whose
    retention offer works for some customers and not others; ``default`` for the nearly stationary world), clean tables, features, segments, both models in the MLflow registry (SQLite store unless
    ``$MLFLOW_TRACKING_URI`` says otherwise) with the champion gate, the scores as of the day after the data
    end, and the HTML report. ``say`` receives one line per step (the CLI prints them).

    ``train_overrides`` are extra :class:`custml.models.params.TrainParams` fields for both models and
    ``segment_params`` replaces the segmentation defaults (tests use both to run small and fast).
    """
    from custml.models.params import TrainParams
    from custml.scoring.accounting import scores_summary

    paths = project_paths(root)
    uri = configure_tracking(paths)
    timings: dict[str, float] = {}

    tell(say, f"1/7 generating a synthetic world of {n_customers:,} customers ({preset} preset)")
    with timed(timings, "generate_s"):
        raw_dir = run_generate(n_customers, seed=seed, dirty=dirty, locale=locale, root=root, preset=preset)
    as_of = default_as_of(raw_dir)
    raw = read_raw(raw_dir)
    tell(say, f"2/7 cleaning: validation, quarantine, de-duplication, pseudonyms (as of {as_of.date()})")
    with timed(timings, "clean_s"):
        clean = run_clean(raw_dir, as_of=as_of, root=root, allow_demo_key=True, raw=raw)
    tell(say, "3/7 features as of the scoring date")
    with timed(timings, "features_s"):
        features = run_features(as_of, root=root, tables=clean.tables)
    tell(say, "4/7 segments and clusters")
    with timed(timings, "segment_s"):
        run_segment(as_of, root=root, features=features, params=segment_params)
    gate: dict[str, GateDecision] = {}
    oracle, id_map = _truth_oracle(raw_dir, clean, as_of)
    tasks: tuple[Literal["churn", "repurchase"], ...] = ("churn", "repurchase")
    for i, task in enumerate(tasks):
        tell(say, f"5/7 training the {task} model ({i + 1}/2) with registry and champion gate")
        with timed(timings, f"train_{task}_s"):
            params = TrainParams.model_validate(
                {"n_train_cutoffs": n_train_cutoffs, "seed": seed, **(train_overrides or {}), "task": task}
            )
            outcome = run_train(
                task,
                root=root,
                tables=clean.tables,
                data_end=as_of,
                params=params,
                oracle=oracle,
                id_map=id_map,
            )
        if outcome.decision is not None:
            gate[task] = outcome.decision
    tell(say, "5/7 training the uplift model from the randomised campaign (when there is one)")
    with timed(timings, "train_uplift_s"):
        uplift = run_train_uplift(root=root, tables=clean.tables)
    if uplift.decision:
        gate["uplift"] = uplift.decision
    tell(say, "6/7 scoring every customer")
    with timed(timings, "score_s"):
        scored = run_score(
            raw_dir,
            as_of,
            root=root,
            clean=clean,
            raw_rows=len(raw["customers"]),
            progress=progress,
        )
    tell(say, "7/7 rendering the report")
    with timed(timings, "report_s"):
        report = run_report(scored.out, root=root)
    return DemoResult(
        root=paths.root,
        raw_dir=raw_dir,
        as_of=as_of,
        scores_path=scored.out,
        report_path=report,
        tracking_uri=uri,
        gate=gate,
        summary={**scores_summary(scored.scores), "rows_not_scored": scored.not_scored},
        timings=timings,
    )


def _truth_oracle(
    raw_dir: Path, clean: CleanResult, as_of: pd.Timestamp
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The synthetic truth's probabilities at both tasks' test cut-offs and the id map, or (None, None)."""
    from custml.models.params import DEFAULT_HORIZON_DAYS
    from custml.synth import oracle_at_test_cutoffs, read_truth

    if not ProjectPaths.truth_in(raw_dir).is_dir():
        return None, None
    try:
        truth = read_truth(raw_dir)
    except CustmlError as exc:
        logger.warning("cannot read the synthetic truth (%s): models are evaluated without the oracle", exc)
        return None, None
    return oracle_at_test_cutoffs(truth["customers"], as_of, DEFAULT_HORIZON_DAYS.values()), clean.id_map
