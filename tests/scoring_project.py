"""A small, fast end-to-end project for the scoring, demo and Spark-parity tests (not a test module).

:func:`small_project` runs :func:`custml.pipeline.run_demo` (the demo's declared steps) at small scale in a temporary ``CUSTML_HOME`` with
MLflow on a temporary SQLite store, with lighter training and clustering settings so that it takes well under a
minute on two cores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from custml.pipeline import DemoResult, DemoSettings, run_demo
from custml.segment import ClusterParams, SegmentationRunParams

FAST_TRAIN = {"n_estimators": 120, "early_stopping_rounds": 20, "shap_sample": 200}
FAST_SEGMENT = SegmentationRunParams(
    cluster=ClusterParams(stability_boots=0, k_range=(2, 5), n_init=1, selection_sample_size=2000)
)


@contextmanager
def project_env(root: Path) -> Iterator[dict[str, str]]:
    """Set ``CUSTML_HOME`` and ``MLFLOW_TRACKING_URI`` to ``root`` for the duration (restored afterwards)."""
    env = {"CUSTML_HOME": str(root), "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def small_project(root: Path, n_customers: int = 2000, seed: int = 7) -> DemoResult:
    """Run the demo pipeline into ``root`` (call inside :func:`project_env`)."""
    settings = DemoSettings(
        n_customers=n_customers,
        seed=seed,
        dirty=0.02,
        preset="default",  # the tests' figures are pinned on the default world
        n_train_cutoffs=2,
        quiet=True,
    )
    return run_demo(
        settings,
        root=root,
        train_overrides=FAST_TRAIN,
        segment_params=FAST_SEGMENT,
    )
