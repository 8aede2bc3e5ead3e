"""The tracking store: where MLflow is pointed, the experiments runs go to, and the names every part shares."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlparse

import mlflow
from mlflow import MlflowClient

from custml.config import get_paths
from custml.config import tracking_uri as default_tracking_uri
from custml.errors import ConfigError, CustmlError

__all__ = [
    "ALIAS_CHALLENGER",
    "ALIAS_CHAMPION",
    "MODEL_ARTIFACT",
    "TrackingError",
    "configure",
    "ensure_configured",
    "experiment_id",
    "model_name_for",
    "pip_requirements",
]

ALIAS_CHALLENGER = "challenger"
ALIAS_CHAMPION = "champion"
#: The artefact path of the model inside a run.
MODEL_ARTIFACT = "model"


class TrackingError(CustmlError, RuntimeError):
    """MLflow could not do what was asked (unknown model or alias, unreachable server, ...)."""


def model_name_for(task: str) -> str:
    """Registered model name of a task: ``custml-churn`` or ``custml-repurchase``."""
    return f"custml-{task}"


def _is_local(uri: str) -> bool:
    return urlparse(uri).scheme in {"sqlite", "", "file", "postgresql", "mysql", "mssql"}


_explicit_uri: str | None = None


def configure(tracking_uri: str | None = None) -> str:
    """Point MLflow (tracking and registry) at ``tracking_uri`` or the project default; return the URI.

    An explicit URI sticks for later calls of this package; ``configure()`` (no argument) goes back to
    ``custml.config.tracking_uri()`` (``$MLFLOW_TRACKING_URI`` or SQLite in the project root), which is then
    re-read on every call. The file store is refused (MLflow 3 deprecates it): use SQLite or a server.
    """
    global _explicit_uri
    uri = tracking_uri or default_tracking_uri()
    if uri.startswith("file:") or "://" not in uri:
        raise ConfigError(
            f"tracking URI {uri!r} is a file store; use sqlite:///path/mlflow.db or http://host:port"
        )
    _explicit_uri = tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_configured() -> None:
    """Use the URI given to :func:`configure`, else the current project default."""
    configure(_explicit_uri)


def experiment_id(name: str) -> str:
    """Id of experiment ``name``, created if absent (local stores: artefacts under the project's mlartifacts)."""
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    location = None
    if _is_local(mlflow.get_tracking_uri()):
        root = get_paths().mlartifacts
        root.mkdir(parents=True, exist_ok=True)
        location = (root / re.sub(r"[^A-Za-z0-9_.-]", "_", name)).as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def pip_requirements() -> list[str]:
    """The pinned requirements logged with every model (the versions installed here)."""
    reqs = []
    for pkg in ("lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"):
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:  # pragma: no cover
            reqs.append(pkg)
    return reqs
