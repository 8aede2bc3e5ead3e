"""CLI commands of the train stage (being built in this session)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
