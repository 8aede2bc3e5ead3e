"""Parameter recovery of the BTYD covariate models: the share of estimates within two standard errors of the truth.

Uses the simulators of the tests (``tests/test_btyd_covariates.py``, ``tests/test_btyd_dynamic.py``), whose
coefficients are known, over many replications; the tests run a few replications each. At the nominal level
the share is 0.954 (a normal estimate within 1.96 SE, here 2 SE). Prints one line per model; asserts nothing.

    .venv/bin/python benchmarks/btyd_recovery.py [--replications 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_btyd_covariates import (
    TRUE_BGNBD,
    TRUE_GG,
    TRUE_PNBD,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
)
from test_btyd_dynamic import TRUE, simulate_dynamic

from custml.models.btyd import (
    BetaGeoFitter,
    GammaGammaFitter,
    ParetoNBDDynamicFitter,
    ParetoNBDFitter,
)


def report(
    name: str, fits: list[tuple[dict[str, float], dict[str, float]]], truth: dict[str, float], seconds: float
) -> None:
    hits = np.array([[abs(p[k] - v) <= 2.0 * se[k] for k, v in truth.items()] for p, se in fits])
    coefs = [j for j, k in enumerate(truth) if ":" in k]
    print(
        f"{name:<28} {len(fits):>4} fits x {len(truth)} parameters: within 2 SE {hits.mean():.3f} "
        f"(coefficients {hits[:, coefs].mean():.3f}); {seconds:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    n_rep = args.replications

    start = time.perf_counter()
    fits = []
    for rep in range(n_rep):
        x, t_x, big_t, z = simulate_pareto_nbd(3000, seed=10_000 + rep)
        m = ParetoNBDFitter().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
        fits.append((m.params_, m.standard_errors_))
    report("Pareto/NBD, 3,000 customers", fits, TRUE_PNBD, time.perf_counter() - start)

    start = time.perf_counter()
    fits = []
    for rep in range(n_rep):
        x, t_x, big_t, z = simulate_bgnbd(4000, seed=20_000 + rep)
        m = BetaGeoFitter().fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
        fits.append((m.params_, m.standard_errors_))
    report("BG/NBD, 4,000 customers", fits, TRUE_BGNBD, time.perf_counter() - start)

    start = time.perf_counter()
    fits = []
    for rep in range(n_rep):
        x, m_, z = simulate_gamma_gamma(1500, seed=30_000 + rep)
        m = GammaGammaFitter().fit(x, m_, spend_covariates=z)
        fits.append((m.params_, m.standard_errors_))
    report("Gamma-Gamma, 1,500 customers", fits, TRUE_GG, time.perf_counter() - start)

    start = time.perf_counter()
    fits = []
    for rep in range(max(n_rep // 2, 1)):
        m = ParetoNBDDynamicFitter().fit(simulate_dynamic(2500, seed=40_000 + rep))
        fits.append((m.params_, m.standard_errors_))
    report("dynamic Pareto/NBD, 2,500", fits, TRUE, time.perf_counter() - start)


if __name__ == "__main__":
    main()
