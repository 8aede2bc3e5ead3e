"""Benchmark: generate (and write) synthetic worlds of 50k and 1M customers; print seconds and peak memory.

Each size runs in a fresh subprocess so that its peak resident memory is its own. Targets on the 2-core
development machine: 50k customers < 10 s; 1M customers < 120 s and < 8 GB peak. CPU seconds are printed
too, because wall time is inflated when other jobs share the machine.

    .venv/bin/python benchmarks/bench_generate.py [--sizes 50000 1000000] [--dirty 0.05] [--rate-scale 1]

The default world has about 3.4 orders per person; ``--rate-scale 6`` gives the denser world of about
15 orders per person that the targets were written for.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
from custml.synth import WorldParams, generate_world, write_world
n, dirty, locale, out, scale = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
t0, c0 = time.perf_counter(), time.process_time()
world = generate_world(WorldParams(n_customers=n, seed=1, dirty=dirty, locale=locale, purchase_rate_scale=scale))
t1, c1 = time.perf_counter(), time.process_time()
write_world(world, out)
t2, c2 = time.perf_counter(), time.process_time()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps({"customers": n, "locale": locale, "dirty": dirty, "generate_s": t1 - t0, "write_s": t2 - t1,
                  "total_s": t2 - t0, "cpu_s": c2 - c0, "peak_gb": peak,
                  "rows": world.manifest["row_counts"]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50_000, 1_000_000])
    ap.add_argument("--dirty", type=float, default=0.05)
    ap.add_argument("--locale", default="en_US")
    ap.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="purchase_rate_scale (default world: ~3.4 orders per person; 6: ~15 orders per person)",
    )
    ap.add_argument("--out", default=None, help="folder to write into (default: a temporary folder)")
    args = ap.parse_args()
    targets = {50_000: (10.0, None), 1_000_000: (120.0, 8.0)}
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            out = args.out or tmp
            res = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(n),
                    str(args.dirty),
                    args.locale,
                    f"{out}/world_{n}",
                    str(args.rate_scale),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
        r = json.loads(res.stdout.strip().splitlines()[-1])
        limit_s, limit_gb = targets.get(n, (None, None))
        verdict = ""
        if limit_s is not None:
            ok = r["total_s"] < limit_s and (limit_gb is None or r["peak_gb"] < limit_gb)
            verdict = (
                f"  target <{limit_s:.0f} s"
                + (f", <{limit_gb:.0f} GB" if limit_gb else "")
                + (": OK" if ok else ": MISSED")
            )
        rows = ", ".join(f"{k} {v:,}" for k, v in r["rows"].items() if not k.startswith("truth/"))
        print(
            f"{n:>9,} customers ({r['locale']}, dirty {r['dirty']}): generate {r['generate_s']:.1f} s + write "
            f"{r['write_s']:.1f} s = {r['total_s']:.1f} s (cpu {r['cpu_s']:.1f} s), peak {r['peak_gb']:.2f} GB"
            f"{verdict}\n          rows: {rows}"
        )


if __name__ == "__main__":
    main()
