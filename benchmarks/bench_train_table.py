"""``custml train churn --table`` on a 7,043-row export in the public telecom churn table's shape, end to end.

Writes the CSV (tests/test_candidates.py's generator, with one malformed line and one text value in a number
column), runs the CLI in a temporary project (MLflow on SQLite there), prints the wall time and the CLI's own
output (5-fold means of the model and the logistic baseline, the quarantine line, the gate).

    .venv/bin/python benchmarks/bench_train_table.py [--rows 7043] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=7043)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from test_candidates import write_telco_like_csv

    from custml import tracking
    from custml.cli import main as cli

    for run in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["CUSTML_HOME"] = tmp
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
            tracking.configure()
            path = Path(tmp) / "telco.csv"
            write_telco_like_csv(path, n=args.rows)
            lines = path.read_text().splitlines()
            lines[101] += ",extra,fields"
            path.write_text("\n".join(lines) + "\n")
            t0 = time.perf_counter()
            code = cli(["train", "churn", "--table", str(path), "--label", "Churn", "--id", "customerID"])
            print(f"run {run + 1}: exit {code}, {time.perf_counter() - t0:.1f} s wall ({args.rows:,} rows)")


if __name__ == "__main__":
    main()
