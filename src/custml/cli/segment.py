"""CLI: ``custml segment`` runs the ``segment`` step: rule-based segments, clusters and profiles.

The step's settings are :class:`custml.segment.segmentation.SegmentationRunParams` (``segment:`` section of
``conf/parameters.yaml``, then of ``--config``, then ``--set segment.key=value``); the files and switches are
:class:`custml.pipeline.settings.SegmentSettings`.
"""

from __future__ import annotations

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import SegmentSettings

__all__ = ["register"]


@settings_command(SegmentSettings, None, others=["segment"])
def segment(s: SegmentSettings, layers: Layers) -> None:
    """Assign RFM segments, value/activity tiers, lifecycle stages, tags and clusters to every customer.

    Writes OUT (one row per customer) and, when clustering, OUT's stem + '.profiles.csv' (one row per
    cluster: size, revenue share, medians, name) and '.k_curve.csv' (the k-selection curve), and saves the
    fitted clusterer for scoring.
    """
    from dataclasses import replace

    import pandas as pd
    from rich.console import Console

    from custml.errors import ConfigError
    from custml.io import read_table
    from custml.pipeline import run_step, step_settings
    from custml.segment.segmentation import ClusterParams, SegmentationRunParams

    params = step_settings("segment", experiment=layers.config, overrides=layers.overrides)
    assert isinstance(params, SegmentationRunParams)
    if not s.cluster:
        params = params.model_copy(update={"cluster": ClusterParams(enabled=False)})
    ctx = step_context()
    ctx.record = replace(ctx.record, log=s.track)
    if s.features is not None:
        table = read_table(s.features, "features")
        ctx.data["features"] = table
        # the table's own date; a table without one is dated today (it only names the default output)
        has_date = "cutoff" in table.columns and len(table)
        ctx.resolve_as_of(table["cutoff"].max() if has_date else pd.Timestamp.now().normalize())
        if s.churn is not None:
            ctx.churn = _churn_values(table, s.churn)
    if s.out is not None:
        ctx.targets["segments"] = s.out
    result = run_step("segment", params, ctx)
    if s.track and (result.profiles is None or result.clusterer is None):  # type: ignore[attr-defined]
        raise ConfigError("--track needs clustering (drop --no-cluster, and have customers with orders)")
    _print_result(Console(), result, ctx.targets["segments"])


def _churn_values(features: object, path: object) -> object:
    """The 0/1 churn outcome of each customer of ``features`` from a labels table (``churned`` or ``label``)."""
    from custml.errors import SchemaError
    from custml.io import read_table

    labels = read_table(path, "churn")  # type: ignore[arg-type]
    column = next((c for c in ("churned", "label") if c in labels.columns), None)
    if "customer_id" not in labels.columns or column is None:
        raise SchemaError("churn", None, "needs columns customer_id and churned (or label)")
    lookup = labels.drop_duplicates("customer_id", keep="last").set_index("customer_id")[column]
    return features["customer_id"].map(lookup).astype(float).to_numpy()  # type: ignore[index]


def _print_result(console: object, result: object, out: object) -> None:
    from rich.table import Table

    segments, profiles = result.segments, result.profiles  # type: ignore[attr-defined]
    summary = Table(title=f"{len(segments):,} customers -> {out}")
    summary.add_column("RFM segment")
    summary.add_column("customers", justify="right")
    for name, n in segments["rfm_segment"].value_counts().items():
        summary.add_row(str(name), f"{n:,}")
    console.print(summary)  # type: ignore[attr-defined]
    if profiles is not None:
        clusters = Table(title=f"{len(profiles)} clusters")
        for col in ("cluster", "name", "share", "revenue share"):
            clusters.add_column(col)
        for cid, row in profiles.iterrows():
            clusters.add_row(
                str(cid), str(row["name"]), f"{row['share_customers']:.1%}", f"{row['revenue_share']:.1%}"
            )
        console.print(clusters)  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
    app.command("segment")(segment)
