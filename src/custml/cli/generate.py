"""CLI: ``custml generate`` writes a synthetic customer world (tables, truth, manifest) to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``generate`` to ``app``."""

    @app.command()
    def generate(
        customers: int = typer.Option(50_000, "--customers", "-n", min=1, help="Number of real persons."),
        seed: int = typer.Option(0, "--seed", "-s", min=0, help="Random seed (same seed, identical files)."),
        locale: str = typer.Option("en_US", "--locale", help="en_US or zh_CN (names, phones, calendar)."),
        dirty: float = typer.Option(0.0, "--dirty", min=0.0, max=0.5, help="Dirt rate (0 = clean data)."),
        dirt: str | None = typer.Option(
            None,
            "--dirt",
            help="Dirt preset: light (the default) or heavy (swapped, missing and replaced names, nicknames, "
            "birth-date, address and e-mail corruption of duplicate records, as real CRMs hold).",
        ),
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Output folder (default: data/raw).")
        ] = None,
        params_file: Annotated[
            Path | None,
            typer.Option("--params", help="YAML file with WorldParams (options given here override it)."),
        ] = None,
        preset: Annotated[
            str | None,
            typer.Option(
                "--preset",
                help="A named world: 'retail' (Q4 peak, seasonal churn, waves, a price rise, a campaign "
                "that differs by customer) or 'default'. Options given here override it.",
            ),
        ] = None,
    ) -> None:
        """Generate a synthetic customer world: customers, orders, interactions, campaigns, truth/, manifest."""
        import time

        from rich.console import Console
        from rich.table import Table

        from custml.config import get_paths, load_params
        from custml.errors import ConfigError
        from custml.synth import PRESETS, WorldParams, generate_world, world_preset, write_world

        if locale not in ("en_US", "zh_CN"):
            raise ConfigError(f"--locale must be en_US or zh_CN, got {locale!r}")
        if preset is not None and params_file is not None:
            raise ConfigError("give --preset or --params, not both")
        if preset is not None and preset not in PRESETS:
            raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        if params_file:
            base = load_params(params_file, WorldParams)
        else:
            base = world_preset(preset) if preset is not None else WorldParams()
        update: dict[str, object] = {"n_customers": customers, "seed": seed, "locale": locale, "dirty": dirty}
        if dirt is not None:
            from custml.synth import DirtParams
            from custml.synth.params import DIRT_PRESETS

            if dirt not in DIRT_PRESETS:
                raise ConfigError(f"--dirt must be one of {', '.join(DIRT_PRESETS)}, got {dirt!r}")
            update["dirt"] = DirtParams.preset(dirt)
        params = base.model_copy(update=update)
        params = WorldParams.model_validate(params.model_dump())
        folder = out if out is not None else get_paths().raw
        t0 = time.perf_counter()
        world = generate_world(params)
        write_world(world, folder)
        console = Console()
        name = f"{preset} preset, " if preset else ""
        table = Table(title=f"Synthetic world ({name}{locale}, seed {seed}, dirty {dirty}) -> {folder}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, n in world.manifest["row_counts"].items():
            table.add_row(name, f"{n:,}")
        console.print(table)
        console.print(f"written in {time.perf_counter() - t0:.1f} s")
