"""Step ``generate``: a synthetic world written to ``data/raw`` (its truth in ``truth/`` beside it)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from custml.pipeline._wiring import project_paths

__all__ = ["run_generate"]

logger = logging.getLogger(__name__)


def run_generate(
    n_customers: int = 50_000,
    *,
    seed: int = 0,
    dirty: float = 0.02,
    locale: str = "en_US",
    root: Path | str | None = None,
    out_dir: Path | str | None = None,
    params: Any = None,
    preset: str = "default",
) -> Path:
    """Generate a synthetic world and write it to ``out_dir`` (default ``data/raw``); return the folder.

    ``preset`` names the world (:func:`custml.synth.world_preset`: ``default`` or ``retail``) that
    ``n_customers``, ``seed``, ``dirty`` and ``locale`` are set on; ``params`` (a
    :class:`custml.synth.WorldParams`) overrides all of them.
    """
    from custml.synth import generate_world, world_preset, write_world

    paths = project_paths(root)
    out = Path(out_dir) if out_dir is not None else paths.raw
    params = params or world_preset(preset, n_customers=n_customers, seed=seed, dirty=dirty, locale=locale)
    world = generate_world(params)
    write_world(world, out)
    logger.info(
        "generated %d customer records, %d orders -> %s", len(world.customers), len(world.orders), out
    )
    return out
