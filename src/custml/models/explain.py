"""Explanations: per-customer reason codes in plain words, global drivers and SHAP plots.

Contributions are LightGBM's exact tree SHAP values (``pred_contrib=True``) on the raw booster's log-odds
scale. Reason texts come from the feature catalogue's ``reason_high`` / ``reason_low`` templates: "high"
when the customer's value is above the training median of that feature, "low" otherwise. Features that say
who a customer is or when the score was made (:data:`UNACTIONABLE_FEATURES`: region, age band, acquisition
channel, time of year) stay in the model and in the global drivers but are not given as a customer's reasons:
"region: PA" is true, yet nobody can act on it.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from custml.models.hybrid import BTYD_OUTPUT_FEATURES, SEASON_SPECS
from custml.models.predictor import SEASON_FEATURES, CustomerModel
from custml.plotting import figure_and_axes

__all__ = [
    "UNACTIONABLE_FEATURES",
    "default_catalogue",
    "format_reason",
    "plot_shap_bar",
    "plot_shap_beeswarm",
    "reason_codes",
    "shap_explanation",
    "top_drivers",
]

logger = logging.getLogger(__name__)

# Profile and calendar features: drivers of the score, but not reasons anyone can act on.
UNACTIONABLE_FEATURES = frozenset({"age_band", "region", "acquisition_channel", *SEASON_FEATURES})


class ReasonSpec(Protocol):
    """What a catalogue entry must offer (``custml.features.FeatureSpec`` does)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def reason_high(self) -> str: ...

    @property
    def reason_low(self) -> str: ...


#: Feature name -> its reason wording.
Catalogue = dict[str, ReasonSpec]


def default_catalogue() -> Catalogue:
    """The features catalogue (when the features package provides one) plus the BTYD hybrid features."""
    specs: Catalogue = {}
    try:
        from custml.features import FEATURE_CATALOGUE

        specs.update({s.name: s for s in FEATURE_CATALOGUE})
    except ImportError:  # pragma: no cover - features stage not installed
        logger.debug("custml.features.FEATURE_CATALOGUE not available; reason codes use feature names")
    specs.update({s.name: s for s in (*BTYD_OUTPUT_FEATURES, *SEASON_SPECS)})
    return specs


def _as_mapping(catalogue: Iterable[ReasonSpec] | Mapping[str, ReasonSpec] | None) -> Catalogue:
    if catalogue is None:
        return default_catalogue()
    if isinstance(catalogue, Mapping):
        return dict(catalogue)
    out: Catalogue = {s.name: s for s in catalogue}
    for s in (*BTYD_OUTPUT_FEATURES, *SEASON_SPECS):
        out.setdefault(s.name, s)
    return out


def _fmt_number(v: float) -> str:
    if float(v).is_integer():
        return f"{int(v):,}"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.1f}"
    return f"{v:.2f}"


def format_reason(template: str | None, value: Any, name: str, high: bool) -> str:
    """Fill a reason template with ``value``; numbers are rounded for reading unless the template says how.

    Examples
    --------
    >>> format_reason("no order for {value}x the usual gap", 3.214, "overdue_ratio", True)
    'no order for 3.2x the usual gap'
    >>> format_reason("{value:.0%} of orders discounted", 0.456, "discount_share_90d", True)
    '46% of orders discounted'
    >>> format_reason(None, 2.0, "complaints_90d", True)
    'complaints_90d is high (2)'
    """
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    if not template:
        shown = (
            "missing" if missing else (_fmt_number(value) if isinstance(value, int | float) else str(value))
        )
        return f"{name} is {'high' if high else 'low'} ({shown})"
    has_spec = any(
        field == "value" and spec for _, field, spec, _ in string.Formatter().parse(template) if field
    )
    if missing:
        return f"{name}: not recorded"
    if isinstance(value, int | float | np.integer | np.floating):
        if has_spec:
            return template.format(value=float(value))
        return template.format(value=_fmt_number(float(value)))
    return template.replace("{value}", str(value)) if not has_spec else template.format(value=value)


def _reason_text(spec: ReasonSpec | None, name: str, value: Any, high: bool) -> str:
    """Catalogue features use the features stage's own wording function; others :func:`format_reason`."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        # A missing value can drive a score (no e-mails sent, no ticket ever): say so briefly.
        described = (
            re.sub(r"\s*\([^)]*\)", "", getattr(spec, "description", None) or name).strip().rstrip(".")
        )
        return f"no data: {described[:1].lower()}{described[1:]}"
    if spec is not None and hasattr(spec, "sql"):
        try:
            from custml.features import reason_text

            return reason_text(name, value, "high" if high else "low")
        except (ImportError, KeyError, ValueError):
            pass
    template = None if spec is None else (spec.reason_high if high else spec.reason_low)
    return format_reason(template, value, name, high)


def reason_codes(
    model: CustomerModel,
    X: pd.DataFrame,
    catalogue: Iterable[ReasonSpec] | Mapping[str, ReasonSpec] | None = None,
    top_k: int = 3,
    direction: Literal["up", "down", "both", "increase", "decrease"] = "up",
    with_details: bool = False,
    exclude: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Top ``top_k`` drivers of each customer's prediction, in plain words.

    Parameters
    ----------
    model : CustomerModel
        Fitted model (its booster gives ``pred_contrib``).
    X : pandas.DataFrame
        Feature frame as produced by the features stage.
    catalogue : iterable of FeatureSpec, mapping name -> spec, or None
        Reason templates; ``None`` uses :func:`default_catalogue`. Features without an entry get a generic
        "<name> is high (value)" text.
    top_k : int
        Number of reasons per customer.
    direction : {"up", "down", "both"}
        ``"up"`` (alias ``"increase"``): only drivers that push the probability up (why a customer is at
        risk); ``"down"`` (alias ``"decrease"``): only drivers that push it down (e.g. why a repurchase is
        unlikely). Fewer than ``top_k`` such drivers leave the remaining reasons null. ``"both"``: largest
        absolute contributions, each text suffixed with "(raises)" or "(lowers)".
    with_details : bool
        Also return ``feature_k`` and ``contribution_k`` columns.
    exclude : iterable of str, optional
        Features never given as reasons; ``None`` means :data:`UNACTIONABLE_FEATURES`, ``()`` none.

    Returns
    -------
    pandas.DataFrame
        ``reason_1 .. reason_k`` (str or None), indexed like ``X``.
    """
    specs = _as_mapping(catalogue)
    names = model.feature_names
    C = model.contributions(X)[names].to_numpy(dtype=float)
    prepared = model.prepare(X)
    score = _driver_scores(C, direction)
    skip = UNACTIONABLE_FEATURES if exclude is None else frozenset(exclude)
    score[:, [j for j, name in enumerate(names) if name in skip]] = -np.inf
    k = min(top_k, C.shape[1])
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    values = {c: prepared[c].to_numpy() for c in names}
    cols: dict[str, list[str | None]] = {f"reason_{i + 1}": [] for i in range(top_k)}
    features: dict[str, list[str | None]] = {f"feature_{i + 1}": [] for i in range(top_k)}
    contributions: dict[str, list[float]] = {f"contribution_{i + 1}": [] for i in range(top_k)}
    for row in range(C.shape[0]):
        for i in range(top_k):
            j = order[row, i] if i < k else -1
            name = names[j] if j >= 0 and np.isfinite(score[row, j]) and C[row, j] != 0 else None
            text = None
            if name is not None:
                text = _reason(model, specs.get(name), name, values[name][row], float(C[row, j]), direction)
            cols[f"reason_{i + 1}"].append(text)
            features[f"feature_{i + 1}"].append(name)
            contributions[f"contribution_{i + 1}"].append(np.nan if name is None else float(C[row, j]))
    if not with_details:
        return pd.DataFrame(cols, index=X.index)
    details: dict[str, list[str | None] | list[float]] = {}
    for i in range(1, top_k + 1):
        details[f"feature_{i}"], details[f"contribution_{i}"] = (
            features[f"feature_{i}"],
            contributions[f"contribution_{i}"],
        )
    return pd.DataFrame({**cols, **details}, index=X.index)


def _driver_scores(C: np.ndarray, direction: str) -> np.ndarray:
    """How strongly each contribution counts as a reason in ``direction`` (``-inf``: not a reason)."""
    if direction in ("up", "increase"):
        return np.where(C > 0, C, -np.inf)
    if direction in ("down", "decrease"):
        return np.where(C < 0, -C, -np.inf)
    if direction == "both":
        return np.abs(C)
    raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")


def _reason(
    model: CustomerModel, spec: ReasonSpec | None, name: str, value: Any, contribution: float, direction: str
) -> str:
    """One reason: the customer's ``value`` of feature ``name``, "high" against the training median."""
    if isinstance(value, str) or name in model.categorical_levels:
        high = True
        value = None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    else:
        ref = model.reference.get(name)
        value = float(value)
        high = bool(ref is None or np.isnan(value) or value > ref)
    text = _reason_text(spec, name, value, high)
    if direction == "both":
        text += " (raises)" if contribution > 0 else " (lowers)"
    return text


def top_drivers(
    model: CustomerModel,
    X: pd.DataFrame,
    catalogue: Iterable[ReasonSpec] | Mapping[str, ReasonSpec] | None = None,
    n: int = 10,
) -> pd.DataFrame:
    """Global drivers: mean absolute SHAP value per feature over ``X``, largest first.

    Returns
    -------
    pandas.DataFrame
        ``feature, description, mean_abs_shap`` (``n`` rows at most).
    """
    specs = _as_mapping(catalogue)
    contrib = model.contributions(X)[model.feature_names]
    mean_abs = contrib.abs().mean(axis=0).sort_values(ascending=False).head(n)
    return pd.DataFrame(
        {
            "feature": mean_abs.index,
            "description": [getattr(specs.get(f), "description", f) for f in mean_abs.index],
            "mean_abs_shap": mean_abs.to_numpy(dtype=float),
        }
    )


def shap_explanation(model: CustomerModel, X: pd.DataFrame) -> Any:
    """A ``shap.Explanation`` built from ``pred_contrib`` (categoricals shown by their level codes)."""
    import shap

    contrib = model.contributions(X)
    prepared = model.prepare(X)
    data = np.column_stack(
        [
            prepared[c].cat.codes.replace(-1, np.nan).to_numpy(dtype=float)
            if isinstance(prepared[c].dtype, pd.CategoricalDtype)
            else prepared[c].to_numpy(dtype=float)
            for c in model.feature_names
        ]
    )
    return shap.Explanation(
        values=contrib[model.feature_names].to_numpy(dtype=float),
        base_values=contrib["bias"].to_numpy(dtype=float),
        data=data,
        feature_names=model.feature_names,
    )


def plot_shap_beeswarm(model: CustomerModel, X: pd.DataFrame, max_display: int = 15, ax: Any = None) -> Any:
    """SHAP beeswarm (impact and direction of each feature) on a sample ``X``; returns the figure."""
    import shap

    _, ax = figure_and_axes(ax, (8, 0.4 * max_display + 1.5))
    shap.plots.beeswarm(
        shap_explanation(model, X), max_display=max_display, ax=ax, show=False, plot_size=None
    )
    ax.set_title(f"{model.task}: SHAP values (log-odds)")
    return ax.figure


def plot_shap_bar(model: CustomerModel, X: pd.DataFrame, max_display: int = 15, ax: Any = None) -> Any:
    """Mean absolute SHAP value per feature on a sample ``X``; returns the figure."""
    import shap

    _, ax = figure_and_axes(ax, (8, 0.4 * max_display + 1.5))
    shap.plots.bar(shap_explanation(model, X), max_display=max_display, ax=ax, show=False)
    ax.set_title(f"{model.task}: mean |SHAP|")
    return ax.figure
