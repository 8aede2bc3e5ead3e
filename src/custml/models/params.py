"""Typed training parameters for the churn and repurchase models (loaded from ``experiments/*.yaml``)."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import ConfigDict, Field, field_validator, model_validator

from custml.models.split import CutoffPlan, plan_cutoffs
from custml.settings import Settings

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_VALIDATION_CUTOFFS",
    "GateParams",
    "LightGBMConfig",
    "LightGBMParams",
    "LightGBMSetting",
    "TrainParams",
    "TuneParams",
]

Task = Literal["churn", "repurchase"]

# Label horizons agreed in the features contract: churn = no order in 90 days, repurchase = order in 30 days.
DEFAULT_HORIZON_DAYS: dict[str, int] = {"churn": 90, "repurchase": 30}

# Validation cut-offs pooled for early stopping and calibration. A calibrator fitted on one month inherits that
# month's own base-rate deviation; pooling months averages it out but moves the calibration months further
# from the test season. Churn's nearest validation month is already a 90-day horizon away, so pooling three
# helps: on the 50k worlds the latest test cut-off's ECE falls from 0.0236 / 0.0202 / 0.0175 to 0.0161 /
# 0.0133 / 0.0103 (seeds 0, 1, 2) at the same ROC AUC (benchmarks/backtest_calibration.py, which also
# backtests earlier test months). Repurchase's nearest month is 30 days away and its 30-day rate is strongly
# seasonal: over three test months (seed 0) pooling three gave mean ECE 0.0072 against 0.0060 and worst
# 0.0115 against 0.0067, so it keeps one.
DEFAULT_VALIDATION_CUTOFFS: dict[str, int] = {"churn": 3, "repurchase": 1}

#: One LightGBM parameter value (``metric`` may be a list of metric names).
LightGBMSetting: TypeAlias = float | int | str | bool | list[str]
#: LightGBM parameters as ``lightgbm.train`` takes them.
LightGBMConfig: TypeAlias = dict[str, LightGBMSetting]
#: One flattened training parameter (MLflow's param table).
FlatValue: TypeAlias = str | int | float | bool | None

# Training cut-offs spanning this many days (twelve monthly cut-offs, 30 days apart) cover every season.
SEASON_SPAN_DAYS = 330


class LightGBMParams(Settings):
    """LightGBM booster settings (the defaults are the tuned-by-hand default config, good without a search)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(31, ge=2)
    max_depth: int = -1
    min_child_samples: int = Field(200, ge=1)
    min_split_gain: float = Field(0.0, ge=0)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    bagging_freq: int = Field(1, ge=0)
    lambda_l1: float = Field(0.0, ge=0)
    lambda_l2: float = Field(1.0, ge=0)
    max_bin: int = Field(255, ge=4)
    cat_smooth: float = Field(10.0, ge=0)
    max_cat_to_onehot: int = Field(8, ge=1)
    num_threads: int = Field(
        0, ge=0, description="0: auto (1 thread below 50k training rows, else all cores)"
    )

    def to_lightgbm(self) -> LightGBMConfig:
        """The settings as a LightGBM parameter dict."""
        return dict(self.model_dump())


class GateParams(Settings):
    """Promotion rule: a challenger becomes champion only if it beats the champion on the same holdout, and
    no printed baseline beats it on the test cut-off beyond noise (paired bootstrap interval below 0)."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal["roc_auc", "pr_auc", "brier", "log_loss", "ece"] = "roc_auc"
    margin: float = Field(0.002, ge=0, description="required improvement over the champion, in metric units")
    baseline_bootstrap: int = Field(
        200,
        ge=0,
        description=(
            "paired bootstrap replicates of the shipped model's test ROC AUC minus each printed baseline's; a "
            "model that a baseline beats with the whole 95 % interval below 0 is not promoted (0: no check)"
        ),
    )


class TuneParams(Settings):
    """Optional Optuna search over the LightGBM settings (validation cut-offs only; nested MLflow runs)."""

    model_config = ConfigDict(extra="forbid")

    n_trials: int = Field(0, ge=0, description="0: no search, the default config is used")
    timeout_s: float | None = Field(None, gt=0)


def _all_candidates() -> list[str]:
    from custml.models.candidates import candidate_names

    return candidate_names()


class TrainParams(Settings):
    """Everything that defines one training run; logged in full as the run's parameters.

    The split is by cut-off date: the latest cut-off is the test set; the validation cut-offs are the latest
    ``n_validation_cutoffs`` whose label window ends by the test cut-off (``purge_label_overlap``), and
    training cut-offs likewise end their label window by the earliest validation cut-off. Early stopping and
    calibration see only the validation rows (the season calibration's shape: out-of-fold training rows).

    ``horizon_days`` and ``n_validation_cutoffs`` left at ``None`` take the task's default when the params are
    validated, and keep it: to change the task, build ``TrainParams(task=...)`` anew rather than
    ``model_copy(update={"task": ...})``.
    """

    model_config = ConfigDict(extra="forbid")

    task: Task = "churn"
    horizon_days: int | Literal["auto"] | None = Field(
        None,
        description=(
            "label horizon in days; default 90 (churn) / 30 (repurchase); 'auto' (churn): chosen from the data "
            "by custml.features.labels.horizon_from_repeat_gaps when training starts"
        ),
    )
    n_train_cutoffs: int = Field(
        12, ge=1, description="training cut-offs (the CLI builds this many); 12 = a year"
    )
    n_validation_cutoffs: int | None = Field(
        None,
        ge=1,
        description=(
            "validation cut-offs (step apart) pooled for early stopping and calibration; default 3 (churn) / "
            "1 (repurchase), see DEFAULT_VALIDATION_CUTOFFS"
        ),
    )
    cutoff_step_days: int = Field(30, gt=0)
    purge_label_overlap: bool = True
    lightgbm: LightGBMParams = Field(default_factory=LightGBMParams)
    n_estimators: int = Field(2000, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    class_imbalance: Literal["auto", "balanced", "none"] = "auto"
    calibration: Literal["isotonic", "platt"] = "isotonic"
    btyd_features: bool = True
    season_feature: bool = Field(True, description="add the cut-off's time of year (sin/cos) for seasonality")
    btyd_time_unit_days: float = Field(7.0, gt=0)
    clv_months: int = Field(12, ge=1)
    exclude_features: list[str] = Field(default_factory=list)
    include_features: list[str] | None = None
    ece_bins: int = Field(10, ge=2)
    shap_sample: int = Field(2000, ge=10)
    candidates: list[str] = Field(
        default_factory=_all_candidates,
        min_length=1,
        description=(
            "registered candidates (custml.models.candidates) that may become the run's champion (best "
            "validation ROC AUC); the printed baselines are fitted, printed and stacked even when left out"
        ),
    )
    champion_tolerance: float = Field(
        0.0005,
        ge=0,
        description=(
            "validation ROC AUC within which candidates count as tied; the first of lightgbm, the baselines, "
            "stack wins a tie"
        ),
    )
    seasonal_champion: bool = Field(
        True,
        description=(
            "when the training cut-offs span a year (the booster can learn the season from its season inputs), "
            "only the booster may be champion: the stack's weights are fitted on the validation months alone and "
            "the baselines read no season, so both carry those months' base rate into every other month "
            "(retail preset backtest: stack ECE 0.043-0.048 in December-January against the booster's "
            "0.026-0.034)"
        ),
    )
    season_calibration: bool = Field(
        True,
        description=(
            "when the booster is champion on training cut-offs that span a year: Platt scaling on its "
            "out-of-fold scores over the training year (3 refits) with the level set on the validation cut-offs, "
            "instead of the validation calibration alone (custml.models.season; retail preset backtest: worst "
            "month ECE 0.054 -> 0.043)"
        ),
    )
    min_history_days: int = Field(
        90,
        ge=0,
        description=(
            "days of data a cut-off needs before it (the 90-day feature windows); the plan drops earlier "
            "cut-offs and says so"
        ),
    )
    gate: GateParams = Field(default_factory=GateParams)
    tune: TuneParams = Field(default_factory=TuneParams)
    seed: int = 42

    @field_validator("candidates")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        from custml.models.candidates import candidate_names

        unknown = [n for n in names if n not in candidate_names()]
        if unknown:
            raise ValueError(f"unknown candidate(s) {unknown}; registered: {candidate_names()}")
        return names

    @model_validator(mode="after")
    def _fill_task_defaults(self) -> TrainParams:
        if self.horizon_days is None:
            self.horizon_days = DEFAULT_HORIZON_DAYS[self.task]
        if isinstance(self.horizon_days, int) and self.horizon_days <= 0:
            raise ValueError(f"horizon_days must be positive, got {self.horizon_days}")
        if self.n_validation_cutoffs is None:
            self.n_validation_cutoffs = DEFAULT_VALIDATION_CUTOFFS[self.task]
        return self

    @property
    def horizon(self) -> int:
        """Label horizon in days (never ``None`` after validation; ``"auto"`` must be resolved first, as
        :func:`custml.pipeline.run_train` does with :meth:`with_resolved_horizon`)."""
        if self.horizon_days == "auto":
            raise ValueError(
                "horizon_days is 'auto': resolve it from the orders first (with_resolved_horizon)"
            )
        return int(self.horizon_days or DEFAULT_HORIZON_DAYS[self.task])

    def with_resolved_horizon(self, orders: Any, data_end: Any) -> TrainParams:
        """These params with ``horizon_days="auto"`` replaced by the data's horizon (itself otherwise).

        The rule is :func:`custml.features.labels.horizon_from_repeat_gaps` (90 % of repeat-purchase gaps,
        rounded to 30 days) on the purchases before ``data_end`` minus the task's default horizon, so the last
        label window's own gaps do not choose the horizon that labels them.
        """
        if self.horizon_days != "auto":
            return self
        import pandas as pd

        from custml.features.labels import horizon_from_repeat_gaps

        cutoff = pd.Timestamp(data_end) - pd.Timedelta(days=DEFAULT_HORIZON_DAYS[self.task])
        return self.model_copy(update={"horizon_days": horizon_from_repeat_gaps(orders, cutoff=cutoff)})

    def champion_candidates(self, train_cutoffs: list[Any]) -> list[str]:
        """The candidates that may be champion with these training cut-offs (see ``seasonal_champion``).

        Examples
        --------
        >>> import pandas as pd
        >>> year = list(pd.date_range("2024-01-01", periods=12, freq="30D"))
        >>> TrainParams().champion_candidates(year), len(TrainParams().champion_candidates(year[:6]))
        (['lightgbm'], 5)
        """
        if not (self.seasonal_champion and self.season_feature and "lightgbm" in self.candidates):
            return list(self.candidates)
        import pandas as pd

        days = (
            (pd.Timestamp(max(train_cutoffs)) - pd.Timestamp(min(train_cutoffs))).days if train_cutoffs else 0
        )
        return ["lightgbm"] if days >= SEASON_SPAN_DAYS else list(self.candidates)

    @property
    def n_validation(self) -> int:
        """Number of pooled validation cut-offs (never ``None`` after validation)."""
        return int(self.n_validation_cutoffs or DEFAULT_VALIDATION_CUTOFFS[self.task])

    def cutoff_plan(self, test_cutoff: object, data_start: object | None = None) -> CutoffPlan:
        """The cut-offs a run with these params trains, validates and tests on, given the test cut-off.

        With ``data_start`` (the first day of the data), no cut-off has less than ``min_history_days`` of
        history: the plan shrinks and says so in its ``note``, or fails with the dates named
        (:func:`custml.models.split.plan_cutoffs`).

        Examples
        --------
        >>> plan = TrainParams(task="churn", n_train_cutoffs=1).cutoff_plan("2025-10-01")
        >>> plan.roles
        ['train', 'validation', 'validation', 'validation', 'test']
        """
        return plan_cutoffs(
            test_cutoff,
            self.horizon,
            n_train_cutoffs=self.n_train_cutoffs,
            step_days=self.cutoff_step_days,
            purge=self.purge_label_overlap,
            n_validation_cutoffs=self.n_validation,
            data_start=data_start,
            min_history_days=self.min_history_days,
        )

    def flat(self) -> dict[str, FlatValue]:
        """Parameters flattened to ``section.key`` names (for MLflow's param table)."""
        out: dict[str, FlatValue] = {}

        def walk(prefix: str, value: object) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else k, v)
            elif isinstance(value, list):
                out[prefix] = ",".join(map(str, value))
            elif value is None or isinstance(value, str | int | float | bool):
                out[prefix] = value
            else:  # MLflow logs parameters as text anyway
                out[prefix] = str(value)

        walk("", self.model_dump())
        return out
