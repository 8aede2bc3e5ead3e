"""One set-up call for the numbered notebooks: quiet MLflow notices, pandas display options, project paths.

Every notebook used to open with the same eight lines (MLflow's progress bar and log level, warning
filters, pandas display options, ``get_paths().ensure()``); :func:`setup` is those lines, once::

    from custml.notebook import setup

    paths = setup(max_columns=40, width=200)

It changes process-wide state (environment variables, warning filters, pandas options), which is what a notebook
wants and a library function must not do on import; so it is a function the notebook calls, never run by
``import custml``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from custml.config import ProjectPaths, get_paths

__all__ = ["QUIET_WARNINGS", "setup"]

# Notices that are not part of any notebook's story: tqdm's note that ipywidgets is not installed. (MLflow's
# advice to type-hint a custom pyfunc's predict is dropped where it is raised, in custml.tracking.)
QUIET_WARNINGS: tuple[str, ...] = ("IProgress not found",)


def setup(
    *,
    precision: int = 3,
    max_columns: int | None = 30,
    max_colwidth: int | None = None,
    width: int | None = None,
    root: Path | str | None = None,
) -> ProjectPaths:
    """Prepare a notebook session and return the project's :class:`~custml.config.ProjectPaths` (created).

    Parameters
    ----------
    precision, max_columns, max_colwidth, width
        pandas display options (``display.*``); ``None`` leaves an option at its current value.
    root
        Project root (default: :func:`custml.config.find_project_root`, which honours ``CUSTML_HOME``).

    Returns
    -------
    ProjectPaths
        The project's paths, with the data, model and report folders created.
    """
    # setdefault: a user who asked for MLflow's notices in the environment keeps them.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    options = {
        "display.precision": precision,
        "display.max_columns": max_columns,
        "display.max_colwidth": max_colwidth,
        "display.width": width,
    }
    for key, value in options.items():
        if value is not None:
            pd.set_option(key, value)
    return get_paths(root).ensure()
