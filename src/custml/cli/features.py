"""CLI command of the features stage: ``custml features --data DIR --cutoff DATE [--engine duckdb|spark]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

_TABLES = ("orders", "customers", "interactions")


def features(
    data: Annotated[
        Path, typer.Option("--data", help="Folder with cleaned orders (required), customers, interactions.")
    ],
    cutoff: Annotated[
        str, typer.Option("--cutoff", help="Point in time (e.g. 2025-10-01): only earlier events are used.")
    ],
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")] = "duckdb",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output parquet file (default: data/processed/features_<cutoff>.parquet)."
        ),
    ] = None,
    csv: Annotated[
        bool, typer.Option("--csv", help="Also write a CSV copy beside the parquet file.")
    ] = False,
) -> None:
    """Compute the feature catalogue as of CUTOFF: one row per customer (see docs/features.md)."""
    import pandas as pd
    from rich.console import Console

    from custml.errors import DataFileError
    from custml.features import build_features
    from custml.io import find_table_file, read_table, write_table
    from custml.pipeline import features_path_for

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter("engine must be 'duckdb' or 'spark'", param_hint="--engine")
    if not data.is_dir():
        raise DataFileError(f"data folder not found: {data}")
    tables: dict[str, object] = {}
    for name in _TABLES:
        path = find_table_file(data, name)
        if path is None:
            if name == "orders":
                raise DataFileError(f"orders: no orders.parquet or orders.csv in {data}")
            continue
        # Parquet goes to the engine as a path (never loaded whole into pandas); text files are parsed here.
        tables[name] = path if path.suffix == ".parquet" else read_table(path, name)
    stamp = pd.Timestamp(cutoff)
    result = build_features(tables, stamp, engine=engine)  # type: ignore[arg-type]
    target = out or features_path_for(stamp)  # the file run_features writes for the same date
    write_table(result, target, csv_copy=csv)
    console = Console()
    console.print(
        f"[bold]features[/] as of {stamp}: {len(result):,} customers x {result.shape[1] - 2} features "
        f"({engine}; tables: {', '.join(tables)}) -> {target}"
    )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
    app.command("features")(features)
