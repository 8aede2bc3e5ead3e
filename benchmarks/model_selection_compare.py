"""Before/after of a model-selection change on the same test rows, with paired bootstrap intervals: is a
difference in the shipped model's ROC AUC or ECE beyond the noise of one test cut-off?

``model_selection.py --predictions`` writes each run's test predictions (``label`` and every scorer, in row
order); run it once per code version on the same cached tables (``--label before`` on the old tree,
``--label after`` on the new), then

    .venv/bin/python benchmarks/model_selection_compare.py --before before --after after [--draws 1000]

For every data set and task with both files: the labels must be identical row for row (same table, same
test rows), else a one-line error. Then the shipped model (``model``) before and after: ROC AUC, ECE (10
equal-mass bins, as the run) and Brier score, their difference after - before, and its paired bootstrap 95 %
interval (the test rows resampled with replacement, the same draw for both versions, fixed seed): the
percentile interval, the bootstrap's bias and the bias-corrected basic interval (ECE is not smooth: a
resample inflates it, see ``_interval``). The noise floor is the ECE of a perfectly calibrated model on the
same rows (labels drawn from the after model's probabilities): its mean and 95th percentile over the draws.
Prints the table and writes ``benchmarks/out/model_selection_compare_<after>.csv``
(``--out`` to name it otherwise). About 20 s a data set and task at 1,000 draws.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from custml.models.metrics import expected_calibration_error

OUT = Path(__file__).resolve().parent / "out"
N_BINS = 10


def _interval(point: float, draws: np.ndarray, prefix: str) -> dict[str, float]:
    """Percentile 95 % interval of the paired differences, the bootstrap's bias and the basic interval.

    ECE is a binned absolute value: a resample inflates it (duplicated rows add noise to every bin's
    observed rate), and not by the same amount for both versions, so the percentile interval can sit off
    the point. The basic interval (``2 * point - quantiles``) corrects for that bias; a difference counts as
    beyond noise only when both exclude zero.
    """
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return {
        f"{prefix}_lo": float(lo),
        f"{prefix}_hi": float(hi),
        f"{prefix}_boot_bias": float(draws.mean() - point),
        f"{prefix}_basic_lo": float(2 * point - hi),
        f"{prefix}_basic_hi": float(2 * point - lo),
    }


def compare_pair(
    label: np.ndarray, before: np.ndarray, after: np.ndarray, draws: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Shipped ROC AUC, ECE and Brier before/after, paired bootstrap intervals of the differences, ECE floor."""

    def metrics(idx: np.ndarray) -> np.ndarray:
        """Rows before, after; columns ROC AUC, ECE, Brier on the rows ``idx``."""
        y = label[idx]
        return np.array(
            [
                [
                    roc_auc_score(y, p[idx]),
                    expected_calibration_error(y, p[idx], N_BINS),
                    float(np.mean((p[idx] - y) ** 2)),
                ]
                for p in (before, after)
            ]
        )

    rng = np.random.default_rng(seed)
    n = label.size
    point = metrics(np.arange(n))
    diffs = np.empty((draws, 3))
    floor = np.empty(draws)
    for i in range(draws):
        m = metrics(rng.integers(0, n, n))
        diffs[i] = m[1] - m[0]
        floor[i] = expected_calibration_error(rng.random(n) < after, after, N_BINS)
    out: dict[str, float] = {"n": float(n), "base_rate": float(label.mean())}
    out["mean_p_before"], out["mean_p_after"] = float(before.mean()), float(after.mean())
    for j, name in enumerate(("auc", "ece", "brier")):
        out[f"{name}_before"], out[f"{name}_after"] = float(point[0, j]), float(point[1, j])
        out[f"{name}_diff"] = float(point[1, j] - point[0, j])
        out.update(_interval(out[f"{name}_diff"], diffs[:, j], name))
    out["ece_floor_mean"] = float(floor.mean())
    out["ece_floor_q95"] = float(np.quantile(floor, 0.95))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="before")
    ap.add_argument("--after", default="after")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="CSV name under benchmarks/out/")
    args = ap.parse_args()
    prefix = f"model_selection_{args.before}_"
    rows = []
    for path in sorted(OUT.glob(f"{prefix}*_preds.parquet")):
        key = path.name[len(prefix) : -len("_preds.parquet")]
        other = OUT / f"model_selection_{args.after}_{key}_preds.parquet"
        if not other.is_file():
            print(f"skip {key}: no {other.name}")
            continue
        before, after = pd.read_parquet(path), pd.read_parquet(other)
        if len(before) != len(after) or not np.array_equal(
            before["label"].to_numpy(), after["label"].to_numpy()
        ):
            sys.exit(
                f"{key}: labels differ between {path.name} ({len(before):,} rows) and {other.name} "
                f"({len(after):,} rows): not the same test rows"
            )
        data, task = key.rsplit("_", 1)
        label = before["label"].to_numpy(dtype=float)
        stats = compare_pair(
            label, before["model"].to_numpy(float), after["model"].to_numpy(float), args.draws, args.seed
        )
        rows.append({"data": data, "task": task, **stats})
        print(
            f"{data} {task}: n {len(label):,}, base rate {stats['base_rate']:.4f}, mean probability "
            f"{stats['mean_p_before']:.4f} -> {stats['mean_p_after']:.4f}, "
            f"ECE floor {stats['ece_floor_mean']:.4f} (95 % {stats['ece_floor_q95']:.4f})"
        )
        for name in ("auc", "ece", "brier"):
            print(
                f"  {name.upper():<6}{stats[f'{name}_before']:.4f} -> {stats[f'{name}_after']:.4f}  "
                f"{stats[f'{name}_diff']:+.4f}  percentile [{stats[f'{name}_lo']:+.4f}, {stats[f'{name}_hi']:+.4f}]"
                f"  basic [{stats[f'{name}_basic_lo']:+.4f}, {stats[f'{name}_basic_hi']:+.4f}]"
                f"  bootstrap bias {stats[f'{name}_boot_bias']:+.4f}",
                flush=True,
            )
    if not rows:
        sys.exit(f"no prediction files {prefix}*_preds.parquet under {OUT}")
    out = args.out or f"model_selection_compare_{args.after}.csv"
    pd.DataFrame(rows).to_csv(OUT / out, index=False)


if __name__ == "__main__":
    main()
