"""CLI: ``custml campaign plan`` runs the ``campaign`` step: the contact list of a retention campaign under a budget.

Options, defaults and help are those of :class:`custml.pipeline.settings.CampaignSettings`.
"""

from __future__ import annotations

from typing import Any

import typer

from custml.cli.options import Layers, settings_command, step_context
from custml.pipeline.settings import CampaignSettings

__all__ = ["register"]


@settings_command(CampaignSettings, "campaign")
def plan(s: CampaignSettings, layers: Layers) -> None:
    """Choose who gets the offer: highest expected profit first, only where it is positive, within budget."""
    from rich.console import Console

    from custml.pipeline import run_step

    ctx = step_context()
    totals: Any = run_step("campaign", s, ctx)
    ret = totals["expected_return"]
    console = Console()
    console.print(
        f"{int(totals['contacted'])} of {int(totals['customers_scored'])} customers contacted, "
        f"spend {totals['spend']:,.2f} of {s.budget:,.2f}, expected profit {totals['expected_profit']:,.2f}"
        + (f" ({ret:.2f} per unit spent)" if ret == ret else " (nobody is expected to pay back the offer)"),
        highlight=False,
    )
    console.print(f"contact list written: {ctx.targets['contacts']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``custml campaign plan`` to ``app``."""
    campaign = typer.Typer(help="Plan a campaign from scored customers (uplift x value x margin - cost).")
    app.add_typer(campaign, name="campaign")
    campaign.command("plan")(plan)
