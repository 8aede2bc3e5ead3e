"""Benchmark: fit BG/NBD and Gamma-Gamma on a synthetic base of 700k customers and check parameter recovery.

Customers are simulated from the BG/NBD process itself (CDNOW-like parameters, weeks, day-resolution
durations), and from the Gamma-Gamma spend process. Prints seconds, peak memory and recovered vs true
parameters; asserts nothing.

    .venv/bin/python benchmarks/bench_btyd.py [--n 700000] [--seed 2024]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from custml.models.btyd import BetaGeoFitter, GammaGammaFitter, rfm_summary

TRUE_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T, mean repeat spend) for n customers; time in weeks at day resolution."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BGNBD.values()
    big_t_days = rng.integers(1, 547, n)  # first purchase up to 18 months before the cut-off
    big_t = big_t_days / 7.0
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_events = rng.poisson(lam * big_t)  # Poisson events in (0, T] if the customer never dropped out
    x = np.minimum(n_events, rng.geometric(p))  # drop-out right after the J-th purchase, J ~ Geometric(p)
    t_x = np.zeros(n)
    pos = x > 0
    # Given n events in (0, T], the x-th event time is T times the x-th uniform order statistic.
    t_x[pos] = big_t[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    t_x = np.minimum(np.round(t_x * 7.0), big_t_days) / 7.0
    pq, q, gam = TRUE_GG.values()
    nu = rng.gamma(q, 1.0 / gam, n)
    spend = np.zeros(n)
    spend[pos] = rng.gamma(pq * x[pos], 1.0 / nu[pos]) / x[pos]
    return x.astype(float), t_x, big_t, spend


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def show(name: str, fitted: dict[str, float], truth: dict[str, float]) -> None:
    for key, value in truth.items():
        print(
            f"  {name:<12} {key:<6} true {value:9.4f}   fitted {fitted[key]:9.4f}   ({fitted[key] / value - 1:+.2%})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=700_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    start = time.perf_counter()
    x, t_x, big_t, spend = simulate(args.n, args.seed)
    print(
        f"simulated {args.n:,} customers in {time.perf_counter() - start:.2f} s; "
        f"{np.mean(x > 0):.1%} repeat buyers, mean frequency {x.mean():.3f}"
    )
    rss_before = peak_rss_mib()

    start = time.perf_counter()
    bgnbd = BetaGeoFitter().fit(x, t_x, big_t)
    bg_seconds = time.perf_counter() - start
    print(
        f"BG/NBD fit: {bg_seconds:.2f} s on {int(bgnbd.n_customers_):,} customers "
        f"({bgnbd.n_unique_rows_:,} distinct rows), converged={bgnbd.converged_}, "
        f"log-likelihood {bgnbd.log_likelihood_:,.1f}"
    )
    show("BG/NBD", bgnbd.params_, TRUE_BGNBD)

    repeat = x > 0
    start = time.perf_counter()
    gamma_gamma = GammaGammaFitter().fit(x[repeat], spend[repeat])
    gg_seconds = time.perf_counter() - start
    print(
        f"Gamma-Gamma fit: {gg_seconds:.2f} s on {int(repeat.sum()):,} repeat buyers, "
        f"converged={gamma_gamma.converged_}"
    )
    show("Gamma-Gamma", gamma_gamma.params_, TRUE_GG)

    start = time.perf_counter()
    clv = gamma_gamma.customer_lifetime_value(
        bgnbd, x, t_x, big_t, spend, time=12, discount_rate=0.01, freq="W"
    )
    print(f"12-month CLV for all customers: {time.perf_counter() - start:.2f} s, mean {np.mean(clv):.2f}")
    # RFM summary of a transaction log of the same size: ~3 purchases per customer over 18 months.
    rng = np.random.default_rng(args.seed)
    n_tx = 3 * args.n
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, args.n, n_tx),
            "order_ts": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 547 * 86_400, n_tx), unit="s"),
            "net_amount": rng.gamma(2.0, 20.0, n_tx),
        }
    )
    start = time.perf_counter()
    summary = rfm_summary(
        log, "customer_id", "order_ts", "net_amount", "2024-06-30", calibration_end="2024-03-31"
    )
    print(
        f"rfm_summary with holdout split: {time.perf_counter() - start:.2f} s for {n_tx:,} transactions "
        f"-> {len(summary):,} customers"
    )
    print(f"peak RSS: {rss_before:,.0f} MiB after simulation, {peak_rss_mib():,.0f} MiB at the end")


if __name__ == "__main__":
    main()
