"""CLI: ``custml campaign plan`` writes the contact list of a retention campaign under a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``custml campaign plan`` to ``app``."""
    campaign = typer.Typer(help="Plan a campaign from scored customers (uplift x value x margin - cost).")
    app.add_typer(campaign, name="campaign")

    @campaign.command("plan")
    def plan(
        scores: Annotated[Path, typer.Option("--scores", help="Scores table written by `custml score`.")],
        budget: Annotated[float, typer.Option("--budget", min=0, help="Most to spend on offers.")],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Contact list CSV (default: contacts_<scores name>.csv beside the scores)."
            ),
        ] = None,
        cost: Annotated[
            float | None,
            typer.Option(
                "--cost", min=0, help="Cost of one offer (default: the learnt campaign's own cost)."
            ),
        ] = None,
        margin: Annotated[
            float | None,
            typer.Option(
                "--margin", min=0, max=1, help="Profit share of value (default: the scoring's, 0.3)."
            ),
        ] = None,
    ) -> None:
        """Choose who gets the offer: highest expected profit first, only where it is positive, within budget."""
        from rich.console import Console

        from custml.config import ProjectPaths
        from custml.contracts import ScoreMeta
        from custml.errors import ConfigError
        from custml.io import atomic_write, read_table
        from custml.uplift.targeting import contact_list

        table = read_table(scores, "scores")
        meta_file = ProjectPaths.sidecar(scores)
        uplift = ScoreMeta.read_json(meta_file).uplift if meta_file.is_file() else None
        cost = cost if cost is not None else (uplift.offer_cost if uplift else None)
        if cost is None:
            raise ConfigError(f"scores: no offer cost in {meta_file.name}; pass --cost")
        margin = (
            margin
            if margin is not None
            else float(uplift.margin if uplift and uplift.margin is not None else 0.3)
        )
        contacts, totals = contact_list(table, budget, cost=float(cost), margin=margin)
        target = out or ProjectPaths.contacts_for(scores)
        atomic_write(target, lambda tmp: contacts.to_csv(tmp, index=False))
        console = Console()
        ret = totals["expected_return"]
        console.print(
            f"{int(totals['contacted'])} of {int(totals['customers_scored'])} customers contacted, "
            f"spend {totals['spend']:,.2f} of {budget:,.2f}, expected profit {totals['expected_profit']:,.2f}"
            + (
                f" ({ret:.2f} per unit spent)"
                if ret == ret
                else " (nobody is expected to pay back the offer)"
            ),
            highlight=False,
        )
        console.print(f"contact list written: {target}", highlight=False)
