"""Typed contracts between stages: the JSON one stage writes and a later one reads, as versioned pydantic models.

Five records cross a stage boundary as files (or registry tags) and are read back by another stage or the report:

- :class:`QualityReport`: the quality stage's report (:func:`custml.quality.clean_tables`),
  ``data/interim/quality_report.json``;
- :class:`ScoreMeta`: the scores' sidecar (:func:`custml.scoring.accounting.scores_meta`),
  ``scores_<as_of>.meta.json``;
- :class:`SegmentationBundle`: the metadata of the saved clusterer (the segment step), beside it in
  ``models/segmentation.joblib``;
- :class:`MonitoringResult`: the overall monitoring verdict (:func:`custml.monitoring.files.verdict_record`),
  ``data/monitoring/verdict.json``;
- :class:`GateDecision`: the promotion gate's verdict (:func:`custml.models.promotion.decide`), written on the
  model version as tags ``gate.*`` (:meth:`GateDecision.as_tags`, :meth:`GateDecision.from_tags`).

Each carries ``schema_version`` (a ``Literal`` of the current version). :meth:`Contract.read_json` refuses a file of
another version with a one-line :class:`custml.errors.DataFileError` naming the file, the version found and the one
expected: there is no fallback for older files (re-run the step that writes it). Nested parts are models too; the
only free-form parts (JSON objects, pydantic's ``JsonValue``) are settings echoed as they were given and the sources
report of :mod:`custml.sources`, which the contract passes through unread.

This module is a leaf: it imports pydantic, the standard library and :mod:`custml.errors` only, so every stage and the report may import it.

Examples
--------
>>> decision = GateDecision(metric="roc_auc", margin=0.002, challenger_score=0.81, promoted=True,
...                         reasons=["no champion yet"])
>>> GateDecision.read_json(decision.to_json()) == decision
True
>>> GateDecision.read_json('{"schema_version": 0, "metric": "roc_auc"}')
Traceback (most recent call last):
...
custml.errors.DataFileError: <json text>: gate decision of schema version 0, expected 1 (written by another custml version: re-run the step that writes it)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from custml.errors import DataFileError

__all__ = [
    "AfterAsOf",
    "CalibrationBin",
    "CalibrationGroup",
    "CalibrationTerm",
    "ChurnOutlook",
    "Contract",
    "DedupStats",
    "Driver",
    "DriftRow",
    "DriftThresholdValues",
    "DriftVerdict",
    "GateDecision",
    "ModelMetrics",
    "ModelVersionInfo",
    "MonitoringResult",
    "QualityBlock",
    "QualityReport",
    "Reconciliation",
    "RegistryRef",
    "ScoreMeta",
    "SeasonRate",
    "SegmentationBundle",
    "SourceAccounting",
    "SourcesBlock",
    "TableQuality",
    "UpliftModelInfo",
    "UpliftSummary",
    "ValueModelChoice",
]


class Part(BaseModel):
    """A nested part of a contract: unknown keys are refused (a typo or a new field is an error, not a loss)."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, serialize_by_alias=True, validate_by_name=True
    )


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (a reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


class Contract(Part):
    """Base of the versioned records: ``schema_version``, JSON out (:meth:`to_json`, :meth:`write_json`) and in
    (:meth:`read_json`, which refuses another version in one line)."""

    #: What the record is, in the error messages ("quality report", "scores meta", ...).
    kind: ClassVar[str] = "record"

    schema_version: Any = None  # each contract narrows it to a Literal of its current version

    @classmethod
    def expected_version(cls) -> int:
        return int(cls.model_fields["schema_version"].default)

    def to_json(self) -> str:
        """The record as indented JSON text (NaN and infinities as null)."""
        return self.model_dump_json(indent=2)

    def write_json(self, path: Path | str) -> Path:
        """Write the record to ``path`` atomically (UTF-8 JSON); return the path."""
        target = Path(path)
        _atomic_write_text(target, self.to_json() + "\n")
        return target

    @classmethod
    def read_json(cls, source: Path | str, name: str | None = None) -> Self:
        """The record in a JSON file (a :class:`~pathlib.Path`, or a ``str`` path) or in JSON text (a ``str``
        starting with ``{``); ``name`` names JSON text in the errors (e.g. the file that held it).

        Raises
        ------
        DataFileError
            If the file is missing or not JSON, is of another ``schema_version`` (the message names the file,
            the version found and the one expected), or does not match the model (the first problem named).
        """
        if isinstance(source, str) and source.lstrip().startswith("{"):
            text, name = source, name or "<json text>"
        else:
            path = Path(source)
            name = name or str(path)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise DataFileError(f"{name}: cannot read the {cls.kind} ({exc.strerror or exc})") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(
                f"{name}: the {cls.kind} is not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
        if not isinstance(raw, dict):
            raise DataFileError(f"{name}: the {cls.kind} is not a JSON object")
        found, expected = raw.get("schema_version"), cls.expected_version()
        if found != expected:
            raise DataFileError(
                f"{name}: {cls.kind} of schema version {found}, expected {expected} "
                "(written by another custml version: re-run the step that writes it)"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise DataFileError(f"{name}: not a valid {cls.kind}: {_one_line(exc)}") from None


# --------------------------------------------------------------------------------------------------------
# Quality report (quality stage -> data/interim/quality_report.json)
# --------------------------------------------------------------------------------------------------------


class TableQuality(Part):
    """One contract table through the quality stage: rows in = kept + quarantined; ``rows_out`` after merging."""

    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_out: int
    quarantined_by_reason: dict[str, int] = Field(default_factory=dict)
    values_nulled: dict[str, int] = Field(default_factory=dict)
    timestamps_with_offset_converted: int = 0
    columns_dropped: list[str] = Field(default_factory=list)
    #: Per column: timestamps later than the current date (typos such as 2099), quarantined as future_timestamp.
    timestamps_after_now: dict[str, int] = Field(default_factory=dict)
    # orders only
    refunds_inferred_from_sign: int | None = None
    net_amount_in: float | None = None
    net_amount_kept: float | None = None
    net_amount_quarantined: float | None = None
    # customers only: no customers table was given, customers were derived from the orders
    derived_from_orders: bool = False


class Reconciliation(Part):
    """Rows (and, for orders, revenue) before and after re-keying raw ids to the golden record's pseudonym."""

    rows_before_merge: int
    rows_after_merge: int
    net_amount_before_merge: float | None = None
    net_amount_after_merge: float | None = None


class DedupStats(Part):
    """What de-duplication did (:func:`custml.quality.dedup.find_duplicates`), or why it was skipped."""

    records: int
    records_merged: int = 0
    skipped: str | None = None
    identity_columns: list[str] = Field(default_factory=list)
    backend: str | None = None
    blocking: str | None = None
    trained: bool | None = None
    em_skipped: list[str] = Field(default_factory=list)
    labelled_pairs: int | None = None
    scored_pairs: int | None = None
    matched_pairs: int | None = None
    uncertain_pairs: int | None = None
    clusters_with_duplicates: int | None = None
    largest_cluster: int | None = None
    match_prior: float | None = None
    match_prior_first_guess: float | None = None
    threshold: float | None = None
    threshold_estimated: bool | None = None
    #: Per comparison field: m and u probabilities of its levels (null: not estimated).
    m: dict[str, list[float | None]] = Field(default_factory=dict)
    u: dict[str, list[float | None]] = Field(default_factory=dict)
    seconds: float | None = None
    seconds_by_phase: dict[str, float] = Field(default_factory=dict)
    golden_ids_kept: int | None = None
    golden_merges: int | None = None


class SourceAccounting(Part):
    """One table in the source's own units (``lines`` of a line-item export, else ``rows``)
    (:func:`custml.sources.line_items.source_accounting`)."""

    unit: Literal["lines", "rows"]
    units_in: int = Field(alias="in")
    excluded_by_filter: int = 0
    without_customer: int | None = None
    net_amount_without_customer: float | None = None
    exact_duplicates: int | None = None
    net_amount_exact_duplicates: float | None = None
    exact_duplicates_policy: str | None = None
    net_amount_in: float | None = None
    kept: int | None = None
    quarantined: int | None = None
    currency: str | None = None


class SourcesBlock(Part):
    """How the raw tables were read through a source mapping: the mapping, the currency and, per table, the
    sources report of :func:`custml.sources.read_sources` (passed through as it was given)."""

    mapping: str
    currency: str | None = None
    tables: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)


class AfterAsOf(Part):
    """An as-of date before the data ends: the quarantined rows that are only the data's later rows."""

    data_end: str
    rows: dict[str, int]
    explained: str


class QualityReport(Contract):
    """The quality stage's report (:attr:`custml.quality.CleanResult.report`, ``quality_report.json``).

    ``mode`` is ``raw`` for raw tables, ``already_clean`` when clean tables were only re-validated (no
    de-duplication: ``dedup`` is then ``None``). ``sources``, ``source_accounting`` and ``after_as_of`` are
    filled by the clean step when the tables came through a source mapping or the as-of date lies before the
    data's end.
    """

    kind: ClassVar[str] = "quality report"

    schema_version: Literal[1] = 1
    as_of: str
    mode: Literal["raw", "already_clean"]
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    tables: dict[str, TableQuality]
    quarantined_by_table: dict[str, int]
    quarantined_by_reason: dict[str, int]
    reasons_explained: dict[str, str] = Field(default_factory=dict)
    duplicates_merged: int = 0
    normalisation: dict[str, int] = Field(default_factory=dict)
    dedup: DedupStats | None = None
    reconciliation: dict[str, Reconciliation] = Field(default_factory=dict)
    seconds: float = 0.0
    hints: list[str] = Field(default_factory=list)
    sources: SourcesBlock | None = None
    source_accounting: dict[str, SourceAccounting] = Field(default_factory=dict)
    after_as_of: AfterAsOf | None = None


# --------------------------------------------------------------------------------------------------------
# Gate decision (promotion rule -> model version tags gate.*, the train step's outcome)
# --------------------------------------------------------------------------------------------------------


def _tag_value(text: str | None) -> str | None:
    return None if text in (None, "", "None") else text


class GateDecision(Contract):
    """The promotion gate's verdict on a model version: ``promoted`` and why (``reasons``: the deciding sentence
    first, then notes). ``name``, ``version`` and ``run_id`` are set once the version is registered
    (:func:`custml.tracking.register_and_gate`); :func:`custml.models.promotion.decide` leaves them ``None``."""

    kind: ClassVar[str] = "gate decision"
    _TAG_PREFIX: ClassVar[str] = "gate."

    schema_version: Literal[1] = 1
    metric: str
    margin: float
    challenger_score: float | None = None
    champion_version: str | None = None
    champion_score: float | None = None
    promoted: bool
    reasons: list[str] = Field(default_factory=list)
    name: str | None = None
    version: str | None = None
    run_id: str | None = None

    @property
    def reason(self) -> str:
        """All reasons in one line (model version description, CLI)."""
        return "; ".join(self.reasons)

    def as_tags(self) -> dict[str, str]:
        """The decision as model version tags ``gate.<field>`` (``reasons`` as a JSON list, ``reason`` joined)."""
        fields = (
            "schema_version",
            "metric",
            "margin",
            "challenger_score",
            "champion_version",
            "champion_score",
        )
        tags = {f"{self._TAG_PREFIX}{k}": str(getattr(self, k)) for k in fields}
        tags[f"{self._TAG_PREFIX}promoted"] = str(self.promoted)
        tags[f"{self._TAG_PREFIX}reason"] = self.reason
        tags[f"{self._TAG_PREFIX}reasons"] = json.dumps(self.reasons)
        return tags

    @classmethod
    def from_tags(cls, tags: dict[str, str], source: str) -> Self | None:
        """The decision written on a model version by :meth:`as_tags`; ``None`` when the version has no
        ``gate.*`` tag (never gated).

        Raises
        ------
        DataFileError
            If the tags are of another schema version (``source`` names the model version).
        """
        gate = {k[len(cls._TAG_PREFIX) :]: v for k, v in tags.items() if k.startswith(cls._TAG_PREFIX)}
        if not gate:
            return None
        found, expected = gate.get("schema_version"), str(cls.expected_version())
        if found != expected:
            raise DataFileError(
                f"{source}: {cls.kind} tags of schema version {found}, expected {expected} "
                "(gated by another custml version: register the model again)"
            )
        try:
            return cls(
                metric=gate.get("metric", ""),
                margin=float(gate.get("margin", "nan")),
                challenger_score=_tag_value(gate.get("challenger_score")),
                champion_version=_tag_value(gate.get("champion_version")),
                champion_score=_tag_value(gate.get("champion_score")),
                promoted=gate.get("promoted") == "True",
                reasons=json.loads(gate.get("reasons", "[]")),
            )
        except (ValidationError, ValueError) as exc:
            detail = _one_line(exc) if isinstance(exc, ValidationError) else str(exc)
            raise DataFileError(f"{source}: invalid {cls.kind} tags: {detail}") from None


# --------------------------------------------------------------------------------------------------------
# Scores meta (scoring -> scores_<as_of>.meta.json)
# --------------------------------------------------------------------------------------------------------


class SeasonRate(Part):
    """The realised churn rate of the same season a year earlier."""

    cutoff: str
    realised_rate: float
    population: int


class ChurnOutlook(Part):
    """Expected churn over the coming horizon beside the same season a year earlier
    (:func:`custml.scoring.outlook.churn_outlook`)."""

    population: int
    expected_rate: float | None
    horizon_days: int
    history_days: int
    short_history: bool
    same_season_last_year: SeasonRate | None = None


class ModelMetrics(Part):
    """A model version's test-cut-off evaluation, as the scores meta reports it (null: not logged)."""

    roc_auc: float | None = None
    pr_auc: float | None = None
    brier: float | None = None
    ece: float | None = None
    lift_top10: float | None = None
    capture_top10: float | None = None
    base_rate: float | None = None
    test_cutoff: str | None = None


class CalibrationBin(Part):
    """One bin of the calibration table: mean predicted probability, observed rate, customers."""

    mean_predicted: float | None
    observed_rate: float | None
    n: int


class Driver(Part):
    """One of a model's top drivers (mean absolute SHAP on the test cut-off)."""

    feature: str
    description: str | None = None
    mean_abs_shap: float


class RegistryRef(Part):
    """Which registered model version (``version`` ``""`` and ``run_id`` ``None`` for a plain URI)."""

    name: str
    version: str
    run_id: str | None = None


class ModelVersionInfo(RegistryRef):
    """What the registry knows of a churn or repurchase model version (:func:`custml.tracking.get_model_version_info`),
    kept per model in the scores meta."""

    aliases: list[str] = Field(default_factory=list)
    metrics: ModelMetrics = Field(default_factory=ModelMetrics)
    calibration: list[CalibrationBin] = Field(default_factory=list)
    top_drivers: list[Driver] = Field(default_factory=list)
    gate: GateDecision | None = None
    horizon_days: int | None = None


class UpliftModelInfo(RegistryRef):
    """A registered uplift model version and its logged held-out quality (:func:`custml.tracking.load_uplift_model`)."""

    metrics: dict[str, float] = Field(default_factory=dict)


class DriftRow(Part):
    """One model input's drift at scoring (:func:`custml.scoring.drift.model_drift`; ``psi`` null for a feature
    missing from the scored rows). ``drifted`` is the scoring run's verdict
    (:func:`custml.scoring.drift.feature_is_drifted`): readers state it, they never guess one from the PSI band."""

    feature: str
    psi: float | None
    status: str
    drifted: bool
    model: str | None = None
    kind: str | None = None
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    compared: str | None = None
    note: str | None = None


class DriftThresholdValues(Part):
    """The drift thresholds a verdict used (:class:`custml.config.DriftThresholds`)."""

    warn: float
    drift: float
    alpha: float


class DriftVerdict(Part):
    """The one drift verdict of a scoring run (:meth:`custml.scoring.drift.DriftResult.to_meta`)."""

    verdict: str
    reason: str
    drifted: int
    compared: int
    left_out: int
    rule: str
    thresholds: DriftThresholdValues


class QualityBlock(Part):
    """The quality counts of the scored data (:func:`custml.scoring.accounting.quality_meta`):
    ``rows_in == rows_kept + rows_quarantined + sum(rows_after_as_of)``."""

    quarantined_by_table: dict[str, int]
    quarantined_by_reason: dict[str, int]
    duplicates_merged: int
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_after_as_of: dict[str, int] = Field(default_factory=dict)
    customers_not_yet: int = 0
    orders_after_as_of: int = 0
    after_as_of_explained: str | None = None
    source_accounting: dict[str, SourceAccounting] = Field(default_factory=dict)


class CalibrationTerm(Part):
    """One term of the uplift model's calibration regression (the value calibration, ``calibrate_on="value"``)."""

    term: str
    estimate: float | None
    std_error: float | None


class CalibrationGroup(Part):
    """One group of the grouped uplift calibration (``calibrate_on="uplift"`` or ``"profit"``): mean raw
    prediction and observed uplift (value-weighted, with the group's summed 12-month ``value``, for profit)."""

    mean_predicted: float
    observed_uplift: float
    n: int
    value: float | None = None


class UpliftSummary(Part):
    """The uplift model behind ``chosen_action``, or why there is none (``status`` not ``fitted``)
    (:func:`custml.uplift.scoring.uplift_and_alive`)."""

    status: str
    campaign_id: str | None = None
    send_day: str | None = None
    learner: str | None = None
    horizon_days: int | None = None
    margin: float | None = None
    offer_cost: float | None = None
    n_treated: int | None = None
    n_control: int | None = None
    churn_rate_treated: float | None = None
    churn_rate_control: float | None = None
    average_uplift: float | None = None
    holdout: dict[str, float | None] = Field(default_factory=dict)
    calibration_slope: float | None = None
    calibrate_on: str | None = None
    outcome_window_days: int | None = None
    calibration: list[CalibrationTerm | CalibrationGroup] = Field(default_factory=list)
    budget: float | None = None
    model: RegistryRef | None = None


class ValueModelChoice(Part):
    """The purchase model of the expected value and why (:func:`custml.scoring.score.chosen_expected_value_12m`):
    held-out figures of each candidate (null: not measured) and the chosen one's parameters at the as-of date."""

    model: str
    reason: str
    holdout_days: int | None = None
    calibration_end: str | None = None
    customers: int | None = None
    holdout_log_likelihood: float | None = None
    holdout_mae_purchases: float | None = None
    candidates: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    params: dict[str, float] = Field(default_factory=dict)


class ScoreMeta(Contract):
    """The scores' sidecar ``scores_<as_of>.meta.json`` (contract section 7), built by
    :func:`custml.scoring.accounting.scores_meta`.

    ``models`` is keyed by task (``churn``, ``repurchase``); ``actions`` is the action table used, as given
    (:class:`custml.scoring.actions.ActionTable` reads it back).
    """

    kind: ClassVar[str] = "scores meta"

    schema_version: Literal[1] = 1
    as_of: str
    scored_at: str
    rows_in: int
    rows_scored: int
    rows_quarantined: int
    quality: QualityBlock
    models: dict[str, ModelVersionInfo]
    drift: list[DriftRow] = Field(default_factory=list)
    drift_verdict: DriftVerdict | None = None
    rows_not_scored: dict[str, int] = Field(default_factory=dict)
    engine: str = "duckdb"
    reason_policy: str = "actioned"
    actions: dict[str, JsonValue] = Field(default_factory=dict)
    churn_outlook: ChurnOutlook | None = None
    currency: str = "USD"
    uplift: UpliftSummary | None = None
    value_model: ValueModelChoice | None = None


# --------------------------------------------------------------------------------------------------------
# Segmentation bundle (segment step -> models/segmentation.joblib, beside the fitted clusterer)
# --------------------------------------------------------------------------------------------------------


class SegmentationBundle(Contract):
    """The metadata of the saved segmentation: the as-of date it was fitted at, the cluster names by label, and
    the run's settings as given (:class:`custml.segment.SegmentationRunParams` reads them back). The fitted
    clusterer itself stays in the joblib file beside this record."""

    kind: ClassVar[str] = "segmentation bundle"

    schema_version: Literal[1] = 1
    as_of: str
    cluster_names: dict[int, str]
    params: dict[str, JsonValue] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------
# Monitoring result (monitoring -> data/monitoring/verdict.json)
# --------------------------------------------------------------------------------------------------------


class MonitoringResult(Contract):
    """The overall monitoring verdict (``verdict.json``): ``healthy`` / ``watch`` / ``retrain``, its reasons, the
    date monitoring took as now, and the thresholds used as given (:class:`custml.monitoring.HealthThresholds`)."""

    kind: ClassVar[str] = "monitoring result"

    schema_version: Literal[1] = 1
    verdict: Literal["healthy", "watch", "retrain"]
    reasons: list[str] = Field(default_factory=list)
    now: str
    thresholds: dict[str, JsonValue] = Field(default_factory=dict)
