"""P(still a customer): the Pareto/NBD probability that a customer has not dropped out, at the as-of date.

The churn label ("no order in the next H days") mixes two things: customers who have left, and customers who
are still customers but buy rarely. A BTYD model separates them: ``P(alive | x, t_x, T)`` is the posterior
probability that the customer's latent dropout has not happened yet, from the purchase history alone. It is
fitted on a seeded sample of the scored population's ``btyd_*`` features (in weeks) and applied to everyone.
A customer without any order gets null. A small L2 penalty (1e-4) keeps the fit fast where the data say little
about dropout: unpenalised, a population without a dropout signal drove the hazard parameters towards infinity
and took minutes (280 s on 10k random histories, 2.4 s with the penalty); on the 50k world it moves ROC AUC
from 0.894 to 0.886 and ECE from 0.054 to 0.047.

Pareto/NBD rather than BG/NBD: BG/NBD lets a customer drop out only just after a purchase, so everyone without
a repeat purchase gets ``P(alive) = 1`` whatever their age. On a 20k synthetic world, scored against the
truth's dropout at the cut-off: BG/NBD ROC AUC 0.48, ECE 0.31 (one-time buyers all at 1); Pareto/NBD ROC AUC
0.89, ECE 0.05 (``tests/test_churn_horizon_alive.py`` checks the ranking on a smaller world). The fit is
:func:`custml.models.alive.btyd_probability_alive` (which also gives the BG/NBD posterior for comparison).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["probability_alive"]


def probability_alive(
    features: pd.DataFrame, penalizer_coef: float = 1e-4, fit_sample_size: int | None = 10_000, seed: int = 0
) -> pd.DataFrame:
    """``customer_id``, ``p_alive`` (same row order as ``features``; null for customers without an order).

    Raises
    ------
    SchemaError
        If a ``btyd_*`` column is missing or fewer than two customers have a repeat purchase.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": list("abcd"), "btyd_frequency": [3.0, 0.0, 5.0, 2.0],
    ...     "btyd_recency_days": [300.0, 0.0, 20.0, 100.0], "btyd_T_days": [310.0, 200.0, 400.0, 300.0]})
    >>> p = probability_alive(f)["p_alive"]
    >>> bool(p[0] > p[2])
    True
    """
    from custml.models.alive import btyd_probability_alive

    return btyd_probability_alive(
        features, "pareto_nbd", penalizer_coef=penalizer_coef, fit_sample_size=fit_sample_size, seed=seed
    )
