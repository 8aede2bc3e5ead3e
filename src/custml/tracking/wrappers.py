"""The MLflow pyfunc wrappers of custml's models, and the signatures and synthetic input examples logged with them.

Every example row is synthetic (feature quantiles and frequent levels), so no customer's record is logged.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

from custml.models.predictor import CustomerModel

__all__ = [
    "CustomerModelPyfunc",
    "EstimatorPyfunc",
    "UpliftPyfunc",
    "customer_model_example",
    "estimator_example",
    "probability_signature",
]

# MLflow 3 advises, when a PythonModel subclass is *defined* (at import), to type-hint `predict`; it does so
# under its own warning filter, so no caller's filter can silence it. Ours have no hints on purpose (MLflow
# would derive and enforce a schema from them): the advice is recorded and dropped at each definition.
with warnings.catch_warnings(record=True):  # MLflow's type-hint advice (see above)

    class CustomerModelPyfunc(PythonModel):
        """MLflow pyfunc wrapper of :class:`custml.models.predictor.CustomerModel`.

        ``predict`` accepts the feature frame as the features stage produces it (categoricals as category or
        strings; extra columns ignored) and returns calibrated probabilities of the positive class (1-D array).
        """

        def __init__(self, model: CustomerModel) -> None:
            self.model = model

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return self.model.predict_proba(frame)

    class EstimatorPyfunc(PythonModel):
        """MLflow pyfunc wrapper of a fitted scikit-learn classifier (e.g. :class:`custml.models.CustomerClassifier`).

        ``predict`` returns the probability of the positive class (``classes_[1]``) per row (1-D array).
        """

        def __init__(self, estimator: Any) -> None:
            self.estimator = estimator

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return np.asarray(self.estimator.predict_proba(frame)[:, 1], dtype=float)

    class UpliftPyfunc(PythonModel):
        """MLflow pyfunc wrapper of :class:`custml.uplift.CampaignUplift`.

        ``predict`` takes the feature frame of any as-of date and returns the calibrated uplift per row (the
        estimated reduction of the churn probability by the offer; 1-D array). The value calibration reads
        an ``expected_value_12m`` column when the frame has one, else computes it from the BTYD columns.
        """

        def __init__(self, model: Any) -> None:
            self.model = model

        # No type hints on purpose: MLflow 3 would derive (and enforce) a schema from them.
        def predict(self, context, model_input, params=None):
            frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return np.asarray(self.model.predict(frame), dtype=float)


def probability_signature(columns: Sequence[str]) -> ModelSignature:
    """Input columns of a pyfunc, all optional and of type ``any``; one ``double`` output.

    MLflow refuses int64 input for a ``double`` column and ``category`` input for a ``string`` column, while
    the features stage legitimately yields either (an all-null optional group is float or object); the
    model's own preparation coerces types, so the signature names the columns and leaves the types to it.
    Expected kinds are logged in the model metadata.
    """
    return ModelSignature(
        inputs=Schema([ColSpec(AnyType(), str(c), required=False) for c in columns]),
        outputs=Schema([ColSpec("double")]),
    )


def _quantiles(values: pd.Series, n: int) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    qs = np.linspace(0.1, 0.9, n)
    return np.quantile(numbers, qs, method="nearest") if numbers.size else np.full(n, np.nan)


def customer_model_example(model: CustomerModel, features: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Synthetic example rows of a customer model's inputs (feature quantiles and the model's levels)."""
    out: dict[str, object] = {}
    for c in model.input_columns:
        if c in model.categorical_levels:
            levels = model.categorical_levels[c]
            out[c] = [levels[i % len(levels)] if levels else None for i in range(n)]
        elif c in features.columns:
            out[c] = _quantiles(features[c], n)
        else:
            out[c] = np.full(n, np.nan)
    return pd.DataFrame(out)


def estimator_example(features: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Synthetic example rows (quantiles of numeric columns, frequent levels of the others): no real record."""
    out: dict[str, object] = {}
    for c in features.columns:
        col = features[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            out[str(c)] = _quantiles(col, n)
        else:
            levels = col.dropna().astype(str).value_counts().index.tolist()[:n]
            out[str(c)] = [levels[i % len(levels)] if levels else None for i in range(n)]
    return pd.DataFrame(out)
