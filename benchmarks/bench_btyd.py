"""Benchmark: fit the BTYD models on large synthetic bases and check parameter recovery.

- ``plain``: BG/NBD and Gamma-Gamma on 700k customers simulated from the BG/NBD process itself (CDNOW-like
  parameters, weeks, day-resolution durations) and the Gamma-Gamma spend process; 12-month CLV; rfm_summary.
- ``static``: Pareto/NBD and BG/NBD with 3 static binary covariates (channel, region, campaign) on both
  processes, 1M customers simulated from Pareto/NBD with known coefficients (day resolution), Hessian SEs on.
- ``dynamic``: Pareto/NBD with time-varying covariates on 1M customers over 52 weekly periods (a season
  indicator, a campaign sent in one week to half the customers, a static channel), simulated week by week with
  known coefficients (day-resolution purchase and start days), Hessian SEs on.

Prints seconds, distinct rows, peak memory and recovered vs true parameters; asserts nothing.

    .venv/bin/python benchmarks/bench_btyd.py [--part plain|static|dynamic|all] [--n 700000] [--seed 2024]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from custml.models.btyd import (
    BetaGeoFitter,
    DynamicCovariates,
    GammaGammaFitter,
    ParetoNBDDynamicFitter,
    ParetoNBDFitter,
    rfm_summary,
)

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
    parser.add_argument("--part", choices=["plain", "static", "dynamic", "all"], default="all")
    parser.add_argument(
        "--n", type=int, default=None, help="customers (default 700k plain, 1M static/dynamic)"
    )
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if args.part in ("plain", "all"):
        bench_plain(args.n or 700_000, args.seed)
    if args.part in ("static", "all"):
        bench_static(args.n or 1_000_000, args.seed)
    if args.part in ("dynamic", "all"):
        bench_dynamic(args.n or 1_000_000, args.seed)


def bench_plain(n: int, seed: int) -> None:
    args = argparse.Namespace(n=n, seed=seed)
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


TRUE_STATIC = {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7}
STATIC_COEFS = {
    "purchase": {"channel": 0.4, "region": -0.2, "campaign": 0.3},
    "dropout": {"channel": -0.3, "region": 0.2, "campaign": -0.4},
}


def simulate_static(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Pareto/NBD customers with 3 binary covariates on both processes; weeks at day resolution."""
    rng = np.random.default_rng(seed)
    z = pd.DataFrame({name: rng.integers(0, 2, n).astype(float) for name in STATIC_COEFS["purchase"]})
    lin_p = z.to_numpy() @ np.array(list(STATIC_COEFS["purchase"].values()))
    lin_d = z.to_numpy() @ np.array(list(STATIC_COEFS["dropout"].values()))
    big_t_days = rng.integers(1, 547, n)
    big_t = big_t_days / 7.0
    lam = rng.gamma(TRUE_STATIC["r"], 1.0 / (TRUE_STATIC["alpha"] * np.exp(-lin_p)))
    mu = rng.gamma(TRUE_STATIC["s"], 1.0 / (TRUE_STATIC["beta"] * np.exp(-lin_d)))
    window = np.minimum(rng.exponential(1.0 / mu), big_t)
    x = rng.poisson(lam * window)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    t_x = np.minimum(np.round(t_x * 7.0), big_t_days) / 7.0
    return x.astype(float), t_x, big_t, z


def bench_static(n: int, seed: int) -> None:
    x, t_x, big_t, z = simulate_static(n, seed)
    print(
        f"\nstatic covariates: {n:,} customers, 3 binary covariates on both processes, {np.mean(x > 0):.1%} repeat"
    )
    truth = TRUE_STATIC | {f"{kind}:{k}": v for kind, coefs in STATIC_COEFS.items() for k, v in coefs.items()}
    for model in (ParetoNBDFitter(), BetaGeoFitter()):
        start = time.perf_counter()
        model.fit(x, t_x, big_t, purchase_covariates=z, dropout_covariates=z)
        seconds = time.perf_counter() - start
        print(
            f"{type(model).__name__} with covariates: {seconds:.2f} s (fit + Hessian SEs) on {int(model.n_customers_):,} "
            f"customers ({model.n_unique_rows_:,} distinct rows), converged={model.converged_}"
        )
        if isinstance(model, ParetoNBDFitter):
            for key, value in truth.items():
                se = model.standard_errors_[key]
                print(
                    f"  {key:<18} true {value:8.4f}   fitted {model.params_[key]:8.4f} (SE {se:.4f}, "
                    f"{(model.params_[key] - value) / se:+.2f} SE)"
                )
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")


TRUE_DYNAMIC = {"r": 0.7, "alpha": 9.0, "s": 0.6, "beta": 14.0}
DYNAMIC_COEFS = {
    "purchase": {"season": 0.7, "campaign": 1.0, "channel": 0.3},
    "dropout": {"season": -0.3, "campaign": -0.5, "channel": 0.2},
}
N_WEEKS = 52


def simulate_dynamic(n: int, seed: int) -> DynamicCovariates:
    """Customers over 52 weekly periods with a season, a one-week campaign and a static channel (known truth)."""
    rng = np.random.default_rng(seed)
    season = ((np.arange(N_WEEKS) >= 44) | (np.arange(N_WEEKS) < 2)).astype(float)
    channel = rng.integers(0, 2, n)
    campaign_week = np.where(rng.random(n) < 0.5, rng.integers(10, 40, n), -1)
    # Distinct paths: (channel, campaign week or none); path id = channel * 31 + (week - 9 or 0).
    path = channel * 31 + np.where(campaign_week >= 0, campaign_week - 9, 0)
    paths = np.zeros((62, N_WEEKS, 3))
    for c in (0, 1):
        for j in range(31):
            paths[c * 31 + j, :, 0] = season
            if j:
                paths[c * 31 + j, j + 9, 1] = 1.0
            paths[c * 31 + j, :, 2] = c
    g_p = np.array(list(DYNAMIC_COEFS["purchase"].values()))
    g_d = np.array(list(DYNAMIC_COEFS["dropout"].values()))
    birth_day = rng.integers(0, 7 * N_WEEKS - 1, n)
    birth = birth_day / 7.0
    lam = rng.gamma(TRUE_DYNAMIC["r"], 1.0 / TRUE_DYNAMIC["alpha"], n)
    mu = rng.gamma(TRUE_DYNAMIC["s"], 1.0 / TRUE_DYNAMIC["beta"], n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n)
    last = np.full(n, np.nan)
    sums = np.zeros((n, 3))
    for k in range(N_WEEKS):
        lo = np.maximum(k, birth)
        length = np.clip(k + 1 - lo, 0.0, None)
        cov = paths[path, k]
        e_p, e_d = np.exp(cov @ g_p), np.exp(cov @ g_d)
        hazard = mu * e_d
        dies = alive & (length > 0) & (rng.random(n) < 1.0 - np.exp(-hazard * length))
        u = rng.random(n)
        death_after = -np.log1p(-u * (1.0 - np.exp(-hazard * length))) / hazard
        exposure = np.where(alive, np.where(dies, death_after, length), 0.0)
        count = rng.poisson(lam * e_p * exposure)
        buy = count > 0
        last = np.where(buy, lo + exposure * rng.random(n) ** (1.0 / np.maximum(count, 1)), last)
        x += count
        sums += count[:, None] * cov
        alive &= ~dies
    big_t = N_WEEKS - birth
    t_x = np.where(x > 0, np.minimum(np.round((last - birth) * 7.0) / 7.0, big_t), 0.0)
    return DynamicCovariates(
        customers=pd.RangeIndex(n),
        frequency=x,
        recency=t_x,
        T=big_t,
        birth=birth,
        period_length=1.0,
        purchase_names=tuple(DYNAMIC_COEFS["purchase"]),
        dropout_names=tuple(DYNAMIC_COEFS["dropout"]),
        purchase_paths=paths,
        dropout_paths=paths,
        purchase_path=path.astype(np.int64),
        dropout_path=path.astype(np.int64),
        purchase_at_transactions=sums,
    )


def bench_dynamic(n: int, seed: int) -> None:
    start = time.perf_counter()
    data = simulate_dynamic(n, seed)
    print(
        f"\ndynamic covariates: {n:,} customers over {N_WEEKS} weekly periods simulated in "
        f"{time.perf_counter() - start:.1f} s; {np.mean(data.frequency > 0):.1%} repeat buyers"
    )
    truth = TRUE_DYNAMIC | {
        f"{kind}:{k}": v for kind, coefs in DYNAMIC_COEFS.items() for k, v in coefs.items()
    }
    import numba

    start = time.perf_counter()
    model = ParetoNBDDynamicFitter().fit(data)
    seconds = time.perf_counter() - start
    print(
        f"ParetoNBDDynamicFitter: {seconds:.2f} s (fit + Hessian SEs, numba threads {numba.get_num_threads()}, "
        f"compiled code cached) on {int(model.n_customers_):,} customers ({model.n_unique_rows_:,} distinct rows), "
        f"converged={model.converged_}"
    )
    for key, value in truth.items():
        se = model.standard_errors_[key]
        print(
            f"  {key:<18} true {value:8.4f}   fitted {model.params_[key]:8.4f} (SE {se:.4f}, "
            f"{(model.params_[key] - value) / se:+.2f} SE)"
        )
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
