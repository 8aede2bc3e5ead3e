"""The pipeline as declared steps: :data:`STEPS`, one :class:`Step` each (Kedro's nodes are the model).

A step names its function, the catalogue datasets it reads and writes (:mod:`custml.pipeline.catalogue`) and
its settings class (one section of the project parameters file, named by ``section``). The runner
(:func:`custml.pipeline.run_steps`) executes a subset in this order; every entry point (CLI commands,
``custml demo``, experiments, notebooks) runs subsets of this one list::

    generate -> clean -> features -> segment -> train -> train_uplift -> backtest -> score -> campaign
    -> report -> monitor

Each step function reads its inputs from the run (:attr:`StepContext.data`) or the catalogue, calls the
``run_*`` wiring of its stage and puts its outputs into the run. Heavy libraries are imported inside.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custml.config import ProjectPaths
from custml.errors import ConfigError, DataFileError
from custml.pipeline.runner import StepContext
from custml.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from custml.models.params import TrainParams
    from custml.pipeline.settings import (
        BacktestSettings,
        CampaignSettings,
        CleanSettings,
        FeaturesSettings,
        GenerateSettings,
        MonitorSettings,
        ReportSettings,
        ScoreSettings,
    )
    from custml.quality.pipeline import CleanResult
    from custml.segment.segmentation import SegmentationResult, SegmentationRunParams
    from custml.uplift import UpliftParams

__all__ = ["DEMO_STEPS", "STEPS", "Step", "step_names"]


@dataclass(frozen=True)
class Step:
    """One declared step: its function, input and output datasets, and settings class (``module:Class``,
    imported when used so that declaring the steps loads no stage)."""

    name: str
    func: Callable[[StepContext, Any], object]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    settings_class: str
    section: str

    @property
    def settings(self) -> type[Settings]:
        module, _, name = self.settings_class.partition(":")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Settings)
        return cls


# --- data steps ---------------------------------------------------------------------------------------------


def _world_params(s: GenerateSettings) -> Any:
    """The world ``s`` describes: a preset or a WorldParams file, with the options set on it."""
    from custml.config import load_params
    from custml.synth import PRESETS, DirtParams, WorldParams, world_preset
    from custml.synth.params import DIRT_PRESETS

    if s.locale not in ("en_US", "zh_CN"):
        raise ConfigError(f"--locale must be en_US or zh_CN, got {s.locale!r}")
    if s.preset is not None and s.params_file is not None:
        raise ConfigError("give --preset or --params, not both")
    if s.preset is not None and s.preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {s.preset!r}")
    if s.params_file:
        base = load_params(s.params_file, WorldParams)
    else:
        base = world_preset(s.preset) if s.preset is not None else WorldParams()
    update: dict[str, object] = {"n_customers": s.n_customers, "seed": s.seed, "locale": s.locale}
    update["dirty"] = s.dirty
    if s.dirt is not None:
        if s.dirt not in DIRT_PRESETS:
            raise ConfigError(f"--dirt must be one of {', '.join(DIRT_PRESETS)}, got {s.dirt!r}")
        update["dirt"] = DirtParams.preset(s.dirt)
    return WorldParams.model_validate(base.model_copy(update=update).model_dump())


def _generate(ctx: StepContext, s: GenerateSettings) -> Path:
    from custml.pipeline.generate import run_generate

    world = ctx.world or _world_params(s)  # a WorldParams built in a notebook is written as it is
    folder = run_generate(params=world, root=ctx.root, out_dir=s.out or ctx.targets.get("raw"))
    ctx.data["raw"] = folder
    return folder


def _clean(ctx: StepContext, s: CleanSettings) -> CleanResult:
    from custml.pipeline.clean import CleanTargets, run_clean
    from custml.quality import DedupParams, QualityParams
    from custml.quality.dedup import BLOCKING_PRESETS

    if s.blocking not in BLOCKING_PRESETS:
        raise ConfigError(f"--blocking must be one of {', '.join(BLOCKING_PRESETS)}, got {s.blocking!r}")
    if s.threshold is not None and not 0 < s.threshold < 1:
        raise ConfigError(f"--threshold must be between 0 and 1 (exclusive), got {s.threshold}")
    if s.engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine must be duckdb or spark, got {s.engine!r}")
    private = s.private_dir or ctx.paths.private
    backend = None
    if s.engine == "spark" and s.dedup:
        from custml.features.engines import spark_session
        from custml.quality.dedup import spark_backend, splink_spark_jar

        backend = spark_backend(
            spark_session(jars=(splink_spark_jar(),)), ProjectPaths.dedup_work_in(private)
        )
    raw_dir = s.data or ctx.data.get("raw")
    result = run_clean(
        Path(str(raw_dir)) if raw_dir is not None else None,
        as_of=ctx.resolve_as_of(s.as_of) if s.as_of is not None or ctx.as_of is not None else None,
        root=ctx.root,
        allow_demo_key=s.allow_demo_key,
        params=QualityParams(
            deduplicate=s.dedup, dedup=DedupParams(threshold=s.threshold, blocking=s.blocking)
        ),
        raw=ctx.raw_tables,
        write=s.write,
        mapping=s.mapping,
        targets=CleanTargets(s.out, private, incremental=s.incremental and not s.fresh_ids),
        dedup_backend=backend,
    )
    ctx.data["clean"] = result
    if s.data is not None:
        ctx.data.setdefault("raw", s.data)
    return result


def _feature_tables(folder: Path) -> dict[str, object]:
    """The tables of a folder as the feature engines take them: parquet as a path, text files parsed."""
    from custml.io import find_table_file, read_table

    if not folder.is_dir():
        raise DataFileError(f"data folder not found: {folder}")
    tables: dict[str, object] = {}
    for name in ("orders", "customers", "interactions"):
        path = find_table_file(folder, name)
        if path is None:
            if name == "orders":
                raise DataFileError(f"orders: no orders.parquet or orders.csv in {folder}")
            continue
        tables[name] = path if path.suffix == ".parquet" else read_table(path, name)
    return tables


def _features(ctx: StepContext, s: FeaturesSettings) -> pd.DataFrame:
    from custml.io import write_table
    from custml.pipeline.features import features_path_for, run_features

    tables = _feature_tables(s.data) if s.data is not None else ctx.clean_tables()
    as_of = ctx.resolve_as_of(s.as_of)
    features = run_features(as_of, root=ctx.root, tables=tables, engine=s.engine, write=False)
    if s.write:
        target = s.out or ctx.targets.get("features") or features_path_for(as_of, ctx.root)
        write_table(features, target, csv_copy=s.csv)
        ctx.targets["features"] = target
    ctx.data["features"] = features
    return features


def _segment(ctx: StepContext, s: SegmentationRunParams) -> SegmentationResult:
    from custml.pipeline._wiring import stamp
    from custml.pipeline.segment import run_segment

    as_of = ctx.resolve_as_of()
    out = ctx.targets.setdefault("segments", ctx.paths.segments_table(stamp(as_of)))
    result = run_segment(
        as_of,
        root=ctx.root,
        features=ctx.data.get("features"),
        params=s,
        track=ctx.record.log,
        out=out,
        churn=ctx.churn,
    )
    ctx.data["segments"] = result
    return result


# --- model steps --------------------------------------------------------------------------------------------


def _train(ctx: StepContext, s: TrainParams) -> object:
    from dataclasses import replace

    from custml.pipeline.train import run_train

    truth, clean = ctx.truth, ctx.data.get("clean")
    if truth is not None and truth.id_map is None and clean is not None:
        truth = replace(truth, id_map=clean.id_map)  # type: ignore[attr-defined]
    outcome = run_train(
        s.task,
        root=ctx.root,
        tables=ctx.clean_tables(),
        data_end=ctx.resolve_as_of(),
        params=s,
        engine=ctx.engine,
        truth=truth,
        record=ctx.record,
    )
    models = ctx.data.setdefault("models", {})
    models[s.task] = outcome  # type: ignore[index]
    return outcome


def _train_uplift(ctx: StepContext, s: UpliftParams) -> object:
    from custml.pipeline.train import run_train_uplift

    outcome = run_train_uplift(root=ctx.root, tables=ctx.clean_tables(), params=s, record=ctx.record)
    models = ctx.data.setdefault("models", {})
    models["uplift"] = outcome  # type: ignore[index]
    return outcome


def _backtest(ctx: StepContext, s: BacktestSettings) -> object:
    from custml.models.params import TrainParams
    from custml.pipeline.backtest import run_backtest

    params = ctx.train_params or TrainParams(task=s.task)
    run = run_backtest(
        s,
        root=ctx.root,
        tables=ctx.clean_tables(),
        data_end=ctx.resolve_as_of(),
        params=params,
        truth=ctx.truth,
        say=ctx.say,
    )
    ctx.data["backtest"] = run
    return run


# --- scores and what reads them -----------------------------------------------------------------------------


def _score(ctx: StepContext, s: ScoreSettings) -> object:
    from custml.pipeline.score import run_score

    clean = ctx.data.get("clean")
    raw = ctx.raw_tables
    run = run_score(
        s.model_copy(update={"data": s.data or ctx.data.get("raw"), "as_of": s.as_of or _stamp(ctx.as_of)}),
        root=ctx.root,
        clean=clean,  # type: ignore[arg-type]
        raw_rows=len(raw["customers"]) if isinstance(raw, dict) and "customers" in raw else None,
        say=ctx.say,
    )
    ctx.data["scores"] = run
    ctx.targets.setdefault("scores", run.out)
    return run


def _stamp(as_of: object) -> str | None:
    return None if as_of is None else str(as_of)


def _campaign(ctx: StepContext, s: CampaignSettings) -> object:
    from custml.contracts import ScoreMeta
    from custml.io import atomic_write, read_table
    from custml.pipeline._wiring import find_scores_meta
    from custml.uplift.targeting import contact_list

    scores = s.scores or ctx.targets.get("scores") or ctx.catalogue.location("scores")
    table = read_table(scores, "scores")
    meta_file = find_scores_meta(scores)
    uplift = ScoreMeta.read_json(meta_file).uplift if meta_file is not None else None
    cost = s.cost if s.cost is not None else (uplift.offer_cost if uplift else None)
    if cost is None:
        where = meta_file.name if meta_file is not None else f"{Path(scores).name} (no meta file beside it)"
        raise ConfigError(f"scores: no offer cost in {where}; pass --cost")
    margin = (
        s.margin if s.margin is not None else (uplift.margin if uplift and uplift.margin is not None else 0.3)
    )
    contacts, totals = contact_list(table, s.budget, cost=float(cost), margin=margin)
    target = s.out or ProjectPaths.contacts_for(scores)
    atomic_write(target, lambda tmp: contacts.to_csv(tmp, index=False))
    ctx.targets["contacts"] = target
    ctx.data["contacts"] = totals
    return totals


def _report(ctx: StepContext, s: ReportSettings) -> Path:
    from custml.pipeline.report import run_report
    from custml.report.i18n import LANGUAGES

    if s.lang not in LANGUAGES:
        raise ConfigError(f"--lang: choose one of {', '.join(LANGUAGES)}, got {s.lang!r}")
    produced = ctx.targets.get("scores")
    scores = s.scores or produced or ctx.catalogue.location("scores")
    out = s.out or (None if produced is not None and s.scores is None else ctx.paths.customer_report)
    monitoring = ctx.data.get("monitoring")
    health = getattr(monitoring, "result", None)
    target = run_report(scores, out=out, previous=s.previous, lang=s.lang, root=ctx.root, health=health)
    if s.pdf:
        from custml.report import print_pdf

        ctx.targets["report_pdf"] = print_pdf(target, target.with_suffix(".pdf"))
    ctx.targets["report"] = target
    return target


def _monitor(ctx: StepContext, s: MonitorSettings) -> object:
    from custml.pipeline.monitor import run_monitor

    run = run_monitor(s, root=ctx.root, tables=ctx.tables, say=ctx.say)
    ctx.data["monitoring"] = run
    return run


_S = "custml.pipeline.settings:"

#: The steps of the pipeline, in order.
STEPS: tuple[Step, ...] = (
    Step("generate", _generate, (), ("raw", "truth"), _S + "GenerateSettings", "generate"),
    Step("clean", _clean, ("raw",), ("clean", "id_map"), _S + "CleanSettings", "clean"),
    Step("features", _features, ("clean",), ("features",), _S + "FeaturesSettings", "features"),
    Step(
        "segment",
        _segment,
        ("features",),
        ("segments", "segmentation"),
        "custml.segment.segmentation:SegmentationRunParams",
        "segment",
    ),
    Step(
        "train",
        _train,
        ("clean", "truth", "id_map"),
        ("models",),
        "custml.models.params:TrainParams",
        "train",
    ),
    Step("train_uplift", _train_uplift, ("clean",), ("models",), "custml.uplift:UpliftParams", "uplift"),
    Step("backtest", _backtest, ("clean", "truth"), ("backtest",), _S + "BacktestSettings", "backtest"),
    Step(
        "score",
        _score,
        ("raw", "clean", "models", "segmentation"),
        ("scores",),
        _S + "ScoreSettings",
        "score",
    ),
    Step("campaign", _campaign, ("scores",), ("contacts",), _S + "CampaignSettings", "campaign"),
    Step("report", _report, ("scores", "monitoring"), ("report",), _S + "ReportSettings", "report"),
    Step(
        "monitor", _monitor, ("scores", "clean", "models"), ("monitoring",), _S + "MonitorSettings", "monitor"
    ),
)

#: The subset ``custml demo`` (``make demo``) runs.
DEMO_STEPS: tuple[str, ...] = (
    "generate",
    "clean",
    "features",
    "segment",
    "train",
    "train_uplift",
    "score",
    "report",
)


def step_names() -> list[str]:
    """The names of :data:`STEPS`, in order."""
    return [s.name for s in STEPS]
