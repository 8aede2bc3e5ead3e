"""CLI commands of the segment stage: ``custml segment`` (rule-based segments, clusters and profiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""

    @app.command("segment")
    def segment(
        features: Annotated[
            Path, typer.Option("--features", help="Feature table (parquet or CSV), one row per customer.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Segment table to write (parquet).")],
        config: Annotated[
            Path | None,
            typer.Option(
                "--config", help="YAML with 'rules' and 'cluster' sections (optionally under 'segment:')."
            ),
        ] = None,
        churn: Annotated[
            Path | None,
            typer.Option(
                "--churn",
                help="Optional table of customer_id and a 0/1 'churned' (or 'label') column: adds each cluster's "
                "churn rate to the profiles.",
            ),
        ] = None,
        cluster: Annotated[
            bool, typer.Option("--cluster/--no-cluster", help="Also fit clusters and profiles.")
        ] = True,
        track: Annotated[
            bool, typer.Option("--track", help="Log the run to MLflow via custml.tracking.")
        ] = False,
    ) -> None:
        """Assign RFM segments, value/activity tiers, lifecycle stages, tags and clusters to every customer.

        Writes OUT (one row per customer) and, when clustering, OUT's stem + '.profiles.csv' (one row per
        cluster: size, revenue share, medians, name) and '.k_curve.csv' (the k-selection curve).
        """
        from rich.console import Console
        from rich.table import Table

        from custml.config import ProjectPaths, read_yaml, validate_params
        from custml.errors import ConfigError, CustmlError, SchemaError
        from custml.io import atomic_write, read_table, write_table
        from custml.segment.workflow import ClusterParams, SegmentationRunParams, segment_customers

        console = Console()
        params = SegmentationRunParams()
        if config is not None:
            raw = read_yaml(config)
            section = raw["segment"] if isinstance(raw, dict) and "segment" in raw else raw
            params = validate_params(section, SegmentationRunParams, config)
        if not cluster:
            params = params.model_copy(update={"cluster": ClusterParams(enabled=False)})
        table = read_table(features, "features")
        churn_values = None
        if churn is not None:
            labels = read_table(churn, "churn")
            column = next((c for c in ("churned", "label") if c in labels.columns), None)
            if "customer_id" not in labels.columns or column is None:
                raise SchemaError("churn", None, "needs columns customer_id and churned (or label)")
            lookup = labels.drop_duplicates("customer_id", keep="last").set_index("customer_id")[column]
            churn_values = table["customer_id"].map(lookup).astype(float).to_numpy()
        result = segment_customers(table, params, churn=churn_values)
        write_table(result.segments, out)
        if result.profiles is not None:
            profiles, curve = result.profiles, result.k_curve
            atomic_write(ProjectPaths.sidecar(out, "profiles"), lambda tmp: profiles.to_csv(tmp, index=True))
            if curve is not None:
                atomic_write(ProjectPaths.sidecar(out, "k_curve"), lambda tmp: curve.to_csv(tmp, index=False))
        summary = Table(title=f"{len(result.segments):,} customers -> {out}")
        summary.add_column("RFM segment")
        summary.add_column("customers", justify="right")
        for name, n in result.segments["rfm_segment"].value_counts().items():
            summary.add_row(str(name), f"{n:,}")
        console.print(summary)
        if result.profiles is not None:
            clusters = Table(title=f"{len(result.profiles)} clusters")
            for col in ("cluster", "name", "share", "revenue share"):
                clusters.add_column(col)
            for cid, row in result.profiles.iterrows():
                clusters.add_row(
                    str(cid), str(row["name"]), f"{row['share_customers']:.1%}", f"{row['revenue_share']:.1%}"
                )
            console.print(clusters)
        if track:
            if result.profiles is None or result.clusterer is None:
                raise ConfigError(
                    "--track needs clustering (drop --no-cluster, and have customers with orders)"
                )
            from custml import tracking

            log = getattr(tracking, "log_segmentation_run", None)
            if log is None:
                raise ConfigError("custml.tracking has no log_segmentation_run; cannot --track")
            curve = result.k_curve if result.k_curve is not None else result.profiles.iloc[0:0]
            try:
                run_id = log(result.params(params), curve, result.profiles, result.clusterer, result.metrics)
            except CustmlError:
                raise
            except Exception as exc:  # MLflow's own errors: the tables are written, say what failed
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise CustmlError(
                    f"segments written to {out}, but the MLflow run was not logged: {first}"
                ) from None
            console.print(f"MLflow run: {run_id}")
