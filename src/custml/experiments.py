"""Experiments as data: a YAML file says what to run; :func:`run_experiment` runs it and logs one MLflow run.

An experiment config (``experiments/NAME.yaml``) is a typed :class:`ExperimentConfig`:

- ``kind: train`` trains a churn or repurchase model (``train:`` holds the
  :class:`custml.models.params.TrainParams` fields) and evaluates it on the test cut-off next to the
  baselines and, on a synthetic world, the oracle;
- ``kind: uplift`` fits uplift learners (``uplift.learners``) on half of a synthetic world's randomised
  campaign and scores the other half against the true per-customer uplift, with the expected-profit plan
  against churn-risk, value x risk, random and oracle targeting under a budget
  (:func:`custml.uplift.experiment.campaign_experiment`; the world is generated clean so that the truth's ids
  are the tables' ids);
- ``kind: segmentation`` clusters the customers with each method of ``segment.methods`` (k-means and a
  Gaussian mixture by default) and compares them on the same customers (internal indices, bootstrap stability
  and, on a synthetic world, agreement with the true personas).

The data is a synthetic ``world:`` (generated in memory) or a ``data:`` folder (raw tables, cleaned here, or
clean tables), run through the declared steps (:func:`custml.pipeline.run_step`: ``clean``, ``features``,
``train``). The run is named after the file, carries the config as an artefact (as written and resolved) and
the tags ``custml.experiment*`` and ``custml.git_commit``. ``custml experiment run FILE`` is the CLI entry.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import yaml
from pydantic import Field, model_validator

from custml.config import (
    ENV_EXPERIMENTS_DIR,
    ProjectPaths,
    experiment_dirs,
    get_paths,
    load_params,
    tracking_uri,
)
from custml.contracts import GateDecision
from custml.errors import ConfigError
from custml.models.params import TrainParams
from custml.segment.rules import SegmentParams
from custml.segment.segmentation import ClusterParams
from custml.settings import Settings
from custml.types import JSONObject
from custml.uplift import UpliftParams

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custml.models import TrainResult
    from custml.pipeline import StepContext
    from custml.segment.segmentation import SegmentationResult
    from custml.uplift.experiment import CampaignExperiment

__all__ = [
    "DataSpec",
    "ExperimentConfig",
    "ExperimentResult",
    "SegmentExperimentParams",
    "UpliftExperimentParams",
    "WorldSpec",
    "experiment_file",
    "list_experiments",
    "load_experiment",
    "run_experiment",
]

logger = logging.getLogger(__name__)

ExperimentKind = Literal["train", "segmentation", "uplift"]
ClusterMethod = Literal["kmeans", "gmm"]
UpliftLearner = Literal["t", "x", "dr"]


class WorldSpec(Settings):
    """A synthetic world generated for the experiment (:class:`custml.synth.WorldParams` essentials)."""

    n_customers: int = Field(50_000, ge=200, description="persons in the world")
    seed: int = 0
    locale: Literal["en_US", "zh_CN"] = "en_US"
    dirty: float = Field(0.02, ge=0.0, le=0.5, description="share of dirty records")
    preset: Literal["default", "retail"] = Field(
        "default",
        description="custml.synth.world_preset: 'retail' is a world whose churn moves with the season",
    )


class DataSpec(Settings):
    """Existing data instead of a generated world: ``raw`` contract tables (cleaned here) or ``clean`` tables.

    Relative paths are read from the project root. A ``truth/`` folder beside raw tables (a synthetic world
    written by ``custml generate``) adds the oracle and the personas to the evaluation.
    """

    raw: Path | None = None
    clean: Path | None = None
    as_of: str | None = Field(None, description="default: the day after the data end")

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.raw is None) == (self.clean is None):
            raise ValueError("give exactly one of data.raw and data.clean")
        return self


class SegmentExperimentParams(Settings):
    """Which clustering methods to compare, with the shared rule and clustering settings."""

    methods: list[ClusterMethod] = Field(["kmeans", "gmm"], min_length=1)
    rules: SegmentParams = SegmentParams()
    cluster: ClusterParams = ClusterParams()

    @model_validator(mode="after")
    def _distinct(self) -> SegmentExperimentParams:
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be distinct, got {self.methods}")
        return self


class UpliftExperimentParams(Settings):
    """Which world and learners an uplift experiment uses, with the uplift and targeting settings."""

    campaign_world: Literal["default", "heterogeneous", "retail"] = Field(
        "heterogeneous",
        description="the default world, custml.uplift.experiment.heterogeneous_campaign_world, or the retail "
        "preset (custml.synth.world_preset('retail'): the reaction to the offer follows the persona)",
    )
    learners: list[UpliftLearner] = Field(["t", "x", "dr"], min_length=1)
    params: UpliftParams = Field(
        default_factory=UpliftParams, description="custml.uplift.UpliftParams fields"
    )
    budget_share: float = Field(0.05, gt=0, le=1)
    test_share: float = Field(0.5, gt=0, lt=1)


class ExperimentConfig(Settings):
    """One experiment (see module docstring). Unknown keys are errors, so a typo cannot pass silently.

    Examples
    --------
    >>> cfg = ExperimentConfig.model_validate({"kind": "train", "train": {"task": "churn"}})
    >>> cfg.task, cfg.source().n_customers
    ('churn', 50000)
    >>> cfg.resized(3000, seed=7).source().n_customers
    3000
    """

    kind: ExperimentKind
    description: str = ""
    hypothesis: str = ""
    world: WorldSpec | None = None
    data: DataSpec | None = None
    engine: Literal["duckdb", "spark"] = "duckdb"
    train: TrainParams | None = None
    segment: SegmentExperimentParams | None = None
    uplift: UpliftExperimentParams | None = None
    mlflow_experiment: str | None = Field(None, description="default custml-<task> or custml-segmentation")
    register_model: bool = Field(False, description="train: register the model and apply the champion gate")

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        if self.world is not None and self.data is not None:
            raise ValueError("give world (a generated synthetic world) or data (existing tables), not both")
        if self.kind == "train" and self.train is None:
            raise ValueError("train: section required for kind 'train' (at least task: churn|repurchase)")
        if self.kind == "segmentation" and self.train is not None:
            raise ValueError("train: not used by kind 'segmentation'; remove it")
        if self.kind == "train" and self.segment is not None:
            raise ValueError("segment: not used by kind 'train'; remove it")
        if self.kind == "uplift" and (
            self.data is not None or self.train is not None or self.segment is not None
        ):
            raise ValueError(
                "kind 'uplift' runs on a generated world: give world: and uplift:, not data/train/segment"
            )
        if self.kind != "uplift" and self.uplift is not None:
            raise ValueError("uplift: only used by kind 'uplift'; remove it")
        if self.register_model and self.kind != "train":
            raise ValueError("register_model: only kind 'train' registers a model")
        return self

    @property
    def task(self) -> str:
        """``churn``/``repurchase`` for train experiments, ``segmentation`` otherwise."""
        if self.kind == "uplift":
            return "uplift"
        return self.train.task if self.train is not None else "segmentation"

    def source(self) -> WorldSpec | DataSpec:
        """The data the experiment runs on (a default :class:`WorldSpec` when neither is given)."""
        return self.data if self.data is not None else (self.world or WorldSpec())

    def resized(self, n_customers: int | None = None, seed: int | None = None) -> ExperimentConfig:
        """A copy whose synthetic world has ``n_customers`` persons (and ``seed``); data configs are unchanged."""
        if self.data is not None:
            if n_customers is not None or seed is not None:
                logger.warning("experiment reads existing data: the size/seed override is ignored")
            return self
        world = self.world or WorldSpec()
        update = {k: v for k, v in {"n_customers": n_customers, "seed": seed}.items() if v is not None}
        return self.model_copy(update={"world": WorldSpec.model_validate({**world.model_dump(), **update})})


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` did: the MLflow run, its metrics and the in-memory results for notebooks.

    ``metrics`` is the flat dict logged to the run; ``train``, ``segmentation`` (by method) and ``uplift`` the
    results of each kind; ``tables`` the clean (pseudonymised) tables and ``as_of`` the day after their end.
    """

    name: str
    kind: str
    run_id: str
    metrics: dict[str, float]
    config: ExperimentConfig
    seconds: float
    tracking_uri: str
    train: TrainResult | None = None
    segmentation: dict[str, SegmentationResult] = field(default_factory=dict)
    decision: GateDecision | None = None
    timings: dict[str, float] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    uplift: CampaignExperiment | None = None


@dataclass
class _Run:
    """What one experiment kind's runner logged: the MLflow run, its metrics and the in-memory results."""

    run_id: str
    metrics: dict[str, float]
    train: TrainResult | None = None
    segmentation: dict[str, SegmentationResult] = field(default_factory=dict)
    decision: GateDecision | None = None
    uplift: CampaignExperiment | None = None


def load_experiment(path: Path | str) -> ExperimentConfig:
    """Read and validate an experiment YAML file.

    Raises
    ------
    ConfigError
        Missing file, invalid YAML, or a field that does not validate (the message names the file and the
        field, e.g. ``train.lightgbm.num_leaves: Input should be greater than or equal to 2``).
    """
    return load_params(path, ExperimentConfig)


def _experiment_dirs() -> list[Path]:
    # $CUSTML_EXPERIMENTS_DIR, then the project's experiments/ (custml.config.experiment_dirs).
    return experiment_dirs(get_paths())


def experiment_file(name: str) -> Path:
    """Path of ``<folder>/<name>.yaml`` in the first folder of :func:`custml.config.experiment_dirs` holding it
    (``$CUSTML_EXPERIMENTS_DIR``, then the project's ``experiments/``).

    Raises
    ------
    ConfigError
        If no such file exists; the message lists the folders tried.
    """
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"} and candidate.is_file():
        return candidate
    stem = candidate.name.removesuffix(".yaml").removesuffix(".yml")
    for folder in _experiment_dirs():
        for suffix in (".yaml", ".yml"):
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    raise ConfigError(
        f"experiment {name!r} not found in "
        + ", ".join(str(d) for d in _experiment_dirs())
        + f" (set ${ENV_EXPERIMENTS_DIR} to a folder of experiment configs)"
    )


def list_experiments(folder: Path | str | None = None) -> pd.DataFrame:
    """The experiment configs of a folder (default: the first folder of :func:`custml.config.experiment_dirs`
    that exists), validated.

    Returns
    -------
    pandas.DataFrame
        ``name, kind, task, data, description, error`` (``error`` is empty when the file validates).
    """
    folder = (
        Path(folder)
        if folder is not None
        else next((d for d in _experiment_dirs() if d.is_dir()), get_paths().experiments)
    )
    rows = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        row = {"name": path.stem, **dict.fromkeys(("kind", "task", "data", "description", "error"), "")}
        try:
            cfg = load_experiment(path)
        except ConfigError as exc:
            row["error"] = str(exc)
        else:
            src = cfg.source()
            row.update(
                kind=cfg.kind,
                task=cfg.task,
                data=(
                    f"world{'' if src.preset == 'default' else ' ' + src.preset} n={src.n_customers:,} "
                    f"seed={src.seed} dirty={src.dirty} {src.locale}"
                    if isinstance(src, WorldSpec)
                    else str(src.raw or src.clean)
                ),
                description=cfg.description.strip().splitlines()[0] if cfg.description.strip() else "",
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=["name", "kind", "task", "data", "description", "error"])


def _git_commit() -> str | None:
    """Commit of the source checkout (with ``-dirty`` when it has uncommitted changes), or None."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha or None


@dataclass
class _Data:
    """The experiment's clean tables and what the steps share (as-of date, truth), in a step context."""

    context: StepContext
    description: dict[str, str]

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        return self.context.clean_tables()

    @property
    def as_of(self) -> pd.Timestamp:
        return self.context.resolve_as_of()


def _resolve(path: Path, root: Path) -> Path:
    return path if path.is_absolute() else root / path


def _prepare_data(config: ExperimentConfig, root: Path | str | None) -> _Data:
    """The experiment's data through the declared steps: a world generated in memory and cleaned, raw tables
    cleaned, or clean tables read; the as-of date by the one rule (:func:`custml.pipeline.default_as_of`)."""
    from custml.io import read_tables
    from custml.pipeline import (
        RAW_OPTIONAL,
        RAW_REQUIRED,
        CleanSettings,
        StepContext,
        TruthInputs,
        as_of_after,
        run_step,
    )

    paths = get_paths(root)
    ctx = StepContext.for_paths(paths)
    ctx.engine = config.engine
    src = config.source()
    if isinstance(src, WorldSpec):
        from custml.synth import generate_world, world_preset

        world = generate_world(
            world_preset(
                src.preset, n_customers=src.n_customers, seed=src.seed, locale=src.locale, dirty=src.dirty
            )
        )
        ctx.raw_tables = {k: getattr(world, k) for k in ("customers", "orders", "interactions", "campaigns")}
        ctx.as_of = as_of_after(world.manifest["end"])
        # A generated world has no real people: the local demo key is the right one for its pseudonyms.
        clean: Any = run_step("clean", CleanSettings(allow_demo_key=True, write=False), ctx)
        ctx.truth = TruthInputs(customers=world.truth["customers"], id_map=clean.id_map)
        desc = {"source": "world", **{k: str(v) for k, v in src.model_dump().items()}}
    elif src.raw is not None:
        raw_dir = _resolve(src.raw, paths.root)
        ctx.data["raw"] = raw_dir
        ctx.as_of = ctx.resolve_as_of(src.as_of)
        clean = run_step("clean", CleanSettings(data=raw_dir, write=False), ctx)
        if paths.truth_table_in(raw_dir, "customers").is_file():
            from custml.synth import read_truth

            ctx.truth = TruthInputs(customers=read_truth(raw_dir)["customers"], id_map=clean.id_map)
        desc = {"source": "raw", "path": str(raw_dir)}
    else:
        clean_dir = _resolve(src.clean, paths.root)  # type: ignore[arg-type]
        ctx.tables = read_tables(clean_dir, RAW_REQUIRED, RAW_OPTIONAL)
        ctx.data["raw"] = clean_dir
        ctx.as_of = ctx.resolve_as_of(src.as_of)
        desc = {"source": "clean", "path": str(clean_dir)}
    return _Data(ctx, {**desc, "as_of": ctx.resolve_as_of().isoformat()})


def run_experiment(
    config: ExperimentConfig | Path | str,
    name: str | None = None,
    *,
    n_customers_override: int | None = None,
    seed_override: int | None = None,
    root: Path | str | None = None,
    config_path: Path | str | None = None,
) -> ExperimentResult:
    """Run an experiment through the pipeline and log it as one MLflow run named ``name``.

    Parameters
    ----------
    config : ExperimentConfig or path
        A validated config, or the path of its YAML file (then ``name`` defaults to the file stem and the
        file is the logged artefact).
    name : str, optional
        Run name; required when ``config`` is an object.
    n_customers_override, seed_override : int, optional
        Run the synthetic world at another size / seed (tests and notebooks run small); recorded in the
        resolved config artefact and the ``custml.experiment.override`` tag.
    root, config_path : path, optional
        Project root (default :func:`custml.config.get_paths`); the YAML file ``config`` came from (logged).

    Raises
    ------
    ConfigError
        Invalid config or missing name.
    """
    from custml import tracking

    t0 = time.perf_counter()
    if isinstance(config, str | Path):
        config_path = Path(config)
        config = load_experiment(config_path)
        name = name or config_path.stem
    if not name:
        raise ConfigError("run_experiment: name is required when the config is not given as a file")
    overridden = n_customers_override is not None or seed_override is not None
    config = config.resized(n_customers_override, seed_override) if overridden else config
    override = f"n_customers={n_customers_override},seed={seed_override}" if overridden else ""
    paths = get_paths(root).ensure()
    # An explicit root pins its own store; otherwise follow $MLFLOW_TRACKING_URI / the project default.
    uri = tracking.configure(tracking_uri(paths) if root is not None else None)
    timings: dict[str, float] = {}
    data = None
    if config.kind == "uplift":
        run = _run_uplift(config, name, config_path, paths, override, timings)
    else:
        t = time.perf_counter()
        data = _prepare_data(config, root)
        timings["data_s"] = time.perf_counter() - t
        described = ",".join(f"{k}={v}" for k, v in data.description.items())
        tags = _tags(name, config.kind, config_path, paths, override, described)
        if config.kind == "train":
            run = _run_train(config, name, data, tags, config_path, root, timings)
        else:
            run = _run_segmentation(config, name, data, tags, config_path, timings)
    _log_resolved(config, name, run.run_id)
    result = ExperimentResult(
        name=name,
        kind=config.kind,
        run_id=run.run_id,
        metrics=run.metrics,
        config=config,
        seconds=round(time.perf_counter() - t0, 3),
        tracking_uri=uri,
        train=run.train,
        segmentation=run.segmentation,
        decision=run.decision,
        timings={k: round(v, 3) for k, v in timings.items()},
        as_of=data.as_of if data is not None else None,
        tables=data.tables if data is not None else {},
        uplift=run.uplift,
    )
    logger.info("experiment %s: run %s in %.1f s", name, result.run_id, result.seconds)
    return result


def _tags(
    name: str, kind: str, config_path: Path | str | None, paths: ProjectPaths, override: str, data: str
) -> dict[str, str]:
    """The run's ``custml.experiment*`` tags, its data and the source commit (empty ones left out)."""
    tags = {
        "custml.experiment": name,
        "custml.experiment_kind": kind,
        "custml.experiment_file": _display_path(config_path, paths.root) if config_path is not None else "",
        "custml.experiment.override": override,
        "custml.data": data,
        "custml.git_commit": _git_commit() or "",
    }
    return {k: v for k, v in tags.items() if v}


def _log_resolved(config: ExperimentConfig, name: str, run_id: str) -> None:
    """Log the resolved config (with any size override) as ``config/<name>.resolved.yaml`` of the run."""
    from custml import tracking

    with tempfile.TemporaryDirectory() as tmp:
        resolved = Path(tmp) / f"{name}.resolved.yaml"
        text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        resolved.write_text(text, encoding="utf-8")
        tracking.log_experiment_config(resolved, run_id)


def _display_path(path: Path | str, root: Path) -> str:
    """``experiments/NAME.yaml`` for a file under the project or the source checkout, else the full path."""
    path = Path(path).resolve()
    for base in (root.resolve(), Path(__file__).resolve().parents[2]):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def _run_train(
    config: ExperimentConfig,
    name: str,
    data: _Data,
    tags: dict[str, str],
    config_path: Path | str | None,
    root: Path | str | None,
    timings: dict[str, float],
) -> _Run:
    from custml.pipeline import RunRecord, run_step

    params = config.train
    assert params is not None  # validated
    t = time.perf_counter()
    ctx = data.context
    ctx.record = RunRecord(
        register=config.register_model,
        run_name=name,
        experiment=config.mlflow_experiment,
        tags=tags,
        config_path=config_path,
        extra_params={"experiment": name, **{f"data.{k}": v for k, v in data.description.items()}},
    )
    outcome: Any = run_step("train", params, ctx)
    timings["train_s"] = time.perf_counter() - t
    result = outcome.result
    metrics = {k: float(v) for k, v in result.summary_metrics().items() if v is not None and pd.notna(v)}
    return _Run(outcome.run_id, metrics, train=result, decision=outcome.decision or None)


def _personas(features: pd.DataFrame, data: _Data) -> pd.Series | None:
    """True persona of each clustered customer (synthetic world only), aligned with ``features``."""
    truth = data.context.truth
    if truth is None or truth.customers is None or truth.id_map is None or "persona" not in truth.customers:
        return None
    ids = truth.id_map.drop_duplicates("customer_id")
    raw_col = "golden_raw_id" if "golden_raw_id" in ids.columns else "raw_customer_id"
    lookup = ids.set_index("customer_id")[raw_col]
    persona = truth.customers.set_index("customer_id")["persona"]
    raw_ids = features["customer_id"].map(lookup)
    return raw_ids.map(persona).astype(object)


def _run_segmentation(
    config: ExperimentConfig,
    name: str,
    data: _Data,
    tags: dict[str, str],
    config_path: Path | str | None,
    timings: dict[str, float],
) -> _Run:
    from sklearn.metrics import adjusted_rand_score

    from custml import tracking
    from custml.pipeline import FeaturesSettings, run_step
    from custml.segment.segmentation import SegmentationRunParams, segment_customers

    seg = config.segment or SegmentExperimentParams()
    t = time.perf_counter()
    features: Any = run_step("features", FeaturesSettings(engine=config.engine, write=False), data.context)
    timings["features_s"] = time.perf_counter() - t
    persona = _personas(features, data)
    results: dict[str, SegmentationResult] = {}
    metrics: dict[str, float] = {}
    params: JSONObject = {"methods": ",".join(seg.methods)}
    curves, profiles = [], []
    for method in seg.methods:
        run_params = SegmentationRunParams(
            rules=seg.rules, cluster=seg.cluster.model_copy(update={"method": method})
        )
        t = time.perf_counter()
        res = segment_customers(features, run_params)
        timings[f"{method}_s"] = time.perf_counter() - t
        results[method] = res
        m = dict(res.metrics)
        m["seconds"] = timings[f"{method}_s"]
        if persona is not None and "cluster" in res.segments.columns:
            clustered = (res.segments["cluster"].to_numpy() >= 0) & persona.notna().to_numpy()
            if clustered.sum() > 1:
                m["persona_ari"] = float(
                    adjusted_rand_score(
                        persona.to_numpy()[clustered].astype(str),
                        res.segments["cluster"].to_numpy()[clustered],
                    )
                )
        metrics.update({f"{method}.{k}": float(v) for k, v in m.items() if v is not None and pd.notna(v)})
        params.update({f"{method}.{k}": v for k, v in res.params(run_params).items()})
        if res.k_curve is not None:
            curves.append(res.k_curve.assign(method=method))
        if res.profiles is not None:
            profiles.append(res.profiles.assign(method=method))
    if not curves:
        raise ConfigError(f"experiment {name}: no method produced clusters (too few customers with orders?)")
    best = _best_method(metrics, [m for m in seg.methods if results[m].clusterer is not None])
    metrics["best_is_" + best] = 1.0
    params["best_method"] = best
    profile_table = pd.concat(profiles).rename_axis("cluster").reset_index()
    run_id = tracking.log_comparison_run(
        name,
        experiment=config.mlflow_experiment or "custml-segmentation",
        params=params,
        metrics=metrics,
        tags={**tags, "custml.task": "segmentation"},
        tables={
            "segmentation/k_curve.csv": pd.concat(curves, ignore_index=True),
            "segmentation/profiles.csv": profile_table,
        },
        files={"config": config_path} if config_path is not None else None,
    )
    return _Run(run_id, metrics, segmentation=results)


def _run_uplift(
    config: ExperimentConfig,
    name: str,
    config_path: Path | str | None,
    paths: ProjectPaths,
    override: str,
    timings: dict[str, float],
) -> _Run:
    """Generate the (clean) world, run the campaign experiment, log one comparison run."""
    from custml import tracking
    from custml.synth import WorldParams, generate_world, world_preset
    from custml.uplift.experiment import campaign_experiment, heterogeneous_campaign_world

    spec, ws = config.uplift or UpliftExperimentParams(), config.world or WorldSpec()
    if spec.campaign_world == "heterogeneous":
        wp = heterogeneous_campaign_world(ws.n_customers, ws.seed)
    elif spec.campaign_world == "retail":
        wp = world_preset("retail", n_customers=ws.n_customers, seed=ws.seed)
    else:
        wp = WorldParams(n_customers=ws.n_customers, seed=ws.seed)
    t = time.perf_counter()
    world = generate_world(wp.model_copy(update={"locale": ws.locale}))  # type: ignore[attr-defined]
    timings["data_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = campaign_experiment(world, learners=spec.learners, params=spec.params, budget_share=spec.budget_share,
                                 test_share=spec.test_share, seed=ws.seed)  # fmt: skip
    timings["uplift_s"] = time.perf_counter() - t
    metrics: dict[str, float] = {"n_train": result.n_train, "n_test": result.n_test, "budget": result.budget,
                                 "true_average_uplift": result.true_average_uplift}  # fmt: skip
    for row in result.metrics.to_dict(orient="records"):
        learner = row.pop("learner")
        metrics.update({f"{learner}.{k}": float(v) for k, v in row.items() if v is not None and pd.notna(v)})
    data = f"world={spec.campaign_world},n_customers={ws.n_customers},seed={ws.seed}"
    override = f"n_customers={ws.n_customers},seed={ws.seed}" if override else ""
    tags = {**_tags(name, "uplift", config_path, paths, override, data), "custml.task": "uplift"}
    tables = {"uplift/learners.csv": result.metrics, "uplift/profit_curves.csv": result.curves}
    tables.update({f"uplift/policies_{k}.csv": v for k, v in result.policies.items()})
    run_id = tracking.log_comparison_run(
        name,
        experiment=config.mlflow_experiment or "custml-uplift",
        params={"learners": spec.learners, "campaign_world": spec.campaign_world,
                "budget_share": spec.budget_share, **spec.params.model_dump(mode="json")},
        metrics=metrics,
        tags=tags,
        tables=tables,
        files={"config": config_path} if config_path is not None else None,
    )  # fmt: skip
    return _Run(run_id, metrics, uplift=result)


def _best_method(metrics: dict[str, float], methods: list[str]) -> str:
    """Agreement with the true personas when known, else the silhouette of the chosen solution."""
    key = "persona_ari" if all(f"{m}.persona_ari" in metrics for m in methods) else "silhouette"
    return max(methods, key=lambda m: metrics.get(f"{m}.{key}", float("-inf")))
