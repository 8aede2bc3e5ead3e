"""The sections of the management report, one module each, in page order.

Each module owns its computation (pure functions from the scores and their meta to a typed section model), its
words in every language (``WORDS``) and its HTML (``templates/sections/<name>.html.j2``, filled from the view
its ``view`` function returns); ``ROOM`` ties the three together for the page shell
(:mod:`custml.report.render`).
"""

from __future__ import annotations

from custml.report.format import Room
from custml.report.sections import (
    actions,
    drivers,
    glossary,
    headline,
    health,
    lifecycle,
    model,
    movement,
    quality,
    risk,
    segments,
    summary,
    who,
)

__all__ = ["ROOMS"]

#: The report's sections in page order.
ROOMS: tuple[Room, ...] = (
    headline.ROOM,
    summary.ROOM,
    movement.ROOM,
    segments.ROOM,
    lifecycle.ROOM,
    risk.ROOM,
    drivers.ROOM,
    model.ROOM,
    health.ROOM,
    actions.ROOM,
    who.ROOM,
    quality.ROOM,
    glossary.ROOM,
)
