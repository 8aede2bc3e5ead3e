"""CLI: ``custml demo`` runs the pipeline on a generated world (for now: generates it and summarises)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command()
    def demo(
        customers: int = typer.Option(50_000, "--customers", "-n", min=1, help="Number of real persons."),
        seed: int = typer.Option(42, "--seed", help="Random seed."),
        locale: str = typer.Option("en_US", "--locale", help="en_US or zh_CN."),
        dirty: float = typer.Option(0.05, "--dirty", min=0.0, max=0.5, help="Dirt rate of the raw data."),
    ) -> None:
        """Generate a demo world into data/raw and print a short summary."""
        import time

        from rich.console import Console
        from rich.table import Table

        from custml.config import get_paths
        from custml.synth import WorldParams, generate_world, write_world

        paths = get_paths().ensure()
        console = Console()
        t0 = time.perf_counter()
        params = WorldParams(n_customers=customers, seed=seed, locale=locale, dirty=dirty)  # type: ignore[arg-type]
        world = generate_world(params)
        write_world(world, paths.raw)
        truth = world.truth["customers"]
        table = Table(title=f"Demo world: {customers:,} persons ({locale}) in {paths.raw}")
        table.add_column("persona")
        table.add_column("persons", justify="right")
        table.add_column("purchases / person", justify="right")
        table.add_column("dropped out by end", justify="right")
        for name, g in truth.groupby("persona", sort=True):
            table.add_row(
                str(name),
                f"{len(g):,}",
                f"{g['n_purchases'].mean():.1f}",
                f"{(~g['alive_at_end']).mean():.0%}",
            )
        console.print(table)
        counts = ", ".join(f"{k} {v:,}" for k, v in world.manifest["row_counts"].items())
        console.print(f"rows: {counts}")
        console.print(f"generated in {time.perf_counter() - t0:.1f} s")
