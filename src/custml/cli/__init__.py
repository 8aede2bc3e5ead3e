"""The ``custml`` command line: thin wiring from files to the package's pure functions.

Each area registers its commands from its own module (``custml.cli.<area>.register``); heavy libraries are
imported inside the commands so that ``custml --help`` stays fast. Errors custml raises on purpose
(:class:`custml.errors.CustmlError`) are printed as one readable line and exit with status 2, without a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.console import Console

from custml.errors import CustmlError

__all__ = ["COMMAND_STEPS", "UTILITY_COMMANDS", "app", "main", "run"]

app = typer.Typer(
    name="custml",
    help="Customer analytics: synthetic world, data quality, features, segments, models, scores and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Order is the order of the pipeline, and of `custml --help`.
_COMMAND_MODULES = (
    "generate",
    "quality",
    "features",
    "segment",
    "train",
    "backtest",
    "score",
    "campaign",
    "report",
    "monitor",
    "experiment",
    "demo",
)


#: The declared steps (:data:`custml.pipeline.STEPS`) each command runs; every step is run by some command.
COMMAND_STEPS: dict[str, tuple[str, ...]] = {
    "generate": ("generate",),
    "clean": ("clean",),
    "features": ("features",),
    "segment": ("segment",),
    "train": ("train", "train_uplift"),
    "backtest": ("clean", "backtest"),
    "score": ("score",),
    "campaign": ("campaign",),
    "report": ("report",),
    "monitor": ("monitor", "report"),
    "experiment": ("clean", "features", "train"),
    "demo": ("generate", "clean", "features", "segment", "train", "train_uplift", "score", "report"),
}
#: Commands that run no step of the pipeline: tools around it.
UTILITY_COMMANDS = ("version", "sources", "privacy")


@app.command()
def version() -> None:
    """Print the installed custml version."""
    from custml import __version__

    typer.echo(__version__)


for _name in _COMMAND_MODULES:
    importlib.import_module(f"custml.cli.{_name}").register(app)

err_console = Console(stderr=True)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show progress logs (INFO level)."),
) -> None:
    """custml: customer analytics from raw records to scores and a management report."""
    if verbose:
        logging.getLogger("custml").setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``custml`` script; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, prog_name="custml")
    except SystemExit as exc:  # typer/click exit normally through SystemExit (usage errors: status 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CustmlError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:  # pragma: no cover - console-script shim
    """Console-script entry: exit with :func:`main`'s status."""
    sys.exit(main())
