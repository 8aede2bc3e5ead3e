"""Model card in Markdown: what the model predicts, on which data, how well, and what drives it."""

from __future__ import annotations

from typing import Any

from custml.models.train import DataDescription, TrainResult

__all__ = ["model_card"]

_TASK_TEXT = {
    "churn": "probability that an active customer (order in the last 365 days) places no order in the next {h} days",
    "repurchase": "probability that a customer places an order in the next {h} days",
}

_METRIC_ROWS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top10")


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def model_card(result: TrainResult, model_name: str | None = None, run_id: str | None = None) -> str:
    """Render a Markdown model card for a training result.

    Examples
    --------
    >>> from custml.testing import synthetic_training_table
    >>> from custml.models.train import train_model
    >>> card = model_card(train_model(synthetic_training_table(600, seed=2), "churn"))
    >>> card.splitlines()[0]
    '# Model card: churn'
    """
    p = result.params
    lines = [
        f"# Model card: {model_name or result.task}",
        "",
        f"**Predicts** the {_TASK_TEXT[result.task].format(h=p.horizon)}. Output: a calibrated probability "
        f"({result.data_description.get('calibration') or f'{p.calibration} on the validation cut-offs'}).",
    ]
    if run_id:
        lines.append(f"**MLflow run:** `{run_id}`")
    lines += [*_data_section(result.data_description), *_metrics_section(result), *_drivers_section(result)]
    lines += [*_training_section(result), *_LIMITATIONS]
    return "\n".join(lines)


def _data_section(d: DataDescription) -> list[str]:
    """The cut-offs and rows of each role, the plan's note, the features and the table digest."""
    return [
        "",
        "## Data",
        "",
        f"- Training cut-offs: {', '.join(d['train_cutoffs'])} ({d['rows_train']:,} rows, label rate "
        f"{d['label_rate_train']:.3f})",
        f"- Validation cut-offs (early stopping, calibration): {', '.join(d['validation_cutoffs'])} "
        f"({d['rows_validation']:,} rows, label rate {d['label_rate_validation']:.3f})",
        f"- Test cut-off (final evaluation only): {d['test_cutoff']} ({d['rows_test']:,} rows, label rate "
        f"{d['label_rate_test']:.3f})",
        f"- Purged cut-offs (label window overlapping a later role): {', '.join(d['dropped_cutoffs']) or 'none'}",
        *([f"- Cut-off plan: {d['cutoff_plan_note']}"] if d.get("cutoff_plan_note") else []),
        f"- Features: {d['n_features']} ({len(d['categorical_features'])} categorical); BTYD hybrid features: "
        f"{'yes' if d['btyd_features'] else 'no'}",
        f"- Training table digest (SHA-256): `{d['training_table_sha256'][:16]}...`",
    ]


def _metrics_section(result: TrainResult) -> list[str]:
    """Every scorer's test metrics side by side, and the oracle ratio on synthetic data."""
    scorers = list(result.metrics)
    lines = [
        "",
        "## Test metrics (latest cut-off)",
        "",
        "| metric | " + " | ".join(scorers) + " |",
        "|---|" + "---|" * len(scorers),
    ]
    for m in _METRIC_ROWS:
        lines.append(
            f"| {m} | " + " | ".join(_fmt(result.metrics[s].get(m, float("nan"))) for s in scorers) + " |"
        )
    model_m = result.metrics["model"]
    if "oracle_auc_ratio" in model_m:
        lines += [
            "",
            f"Model / oracle ROC AUC ratio: **{model_m['oracle_auc_ratio']:.3f}** (synthetic truth).",
        ]
    return [
        *lines,
        "",
        "ECE uses equal-mass bins "
        f"({result.params.ece_bins}); lift and capture are for the top 10 % of customers by predicted probability.",
    ]


def _drivers_section(result: TrainResult) -> list[str]:
    """The ten main drivers (mean |SHAP| on the test sample)."""
    lines = [
        "",
        "## Main drivers (mean |SHAP|, test sample)",
        "",
        "| feature | description | mean abs SHAP |",
    ]
    lines.append("|---|---|---|")
    for row in result.drivers.head(10).itertuples(index=False):
        lines.append(f"| {row.feature} | {row.description} | {row.mean_abs_shap:.4f} |")
    return lines


def _training_section(result: TrainResult) -> list[str]:
    """The booster's trees and settings, the shipped candidate and the fit time."""
    d, p = result.data_description, result.params
    return [
        "",
        "## Training",
        "",
        f"- LightGBM, {int(result.metrics['model']['best_iteration'])} trees (early stopping on validation), "
        f"class imbalance: {p.class_imbalance}, seed {p.seed}",
        f"- Shipped candidate: **{d.get('champion', 'lightgbm')}** (best validation ROC AUC of "
        + ", ".join(f"{k} {v:.4f}" for k, v in d.get("candidates_validation_roc_auc", {}).items())
        + "); reason codes always explain the LightGBM booster",
        f"- Fit time (features excluded): {result.timings.get('fit_total_s', float('nan')):.1f} s",
    ]


_LIMITATIONS = (
    "",
    "## Limitations",
    "",
    "- Trained on historical behaviour; scores drift when the customer base or the business changes.",
    "- Probabilities take their level from a few recent validation cut-offs pooled (and, with a year of training "
    "cut-offs, their shape from that year); recalibrate after large shifts in the base rate.",
    "- Reason codes describe the model, not causes: they say which features moved a score, not why a customer acts.",
    "- No direct personal data is used; profile fields enter only in coarse form (age band, region).",
    "",
)
