"""The shipped model against every printed baseline, on our world and on real data: before/after figures of a
change to model selection (candidates, baselines, stacking, calibration).

One training run per data set and task at its latest test cut-off (the default plan), pure (no MLflow):

- ``retail``: the retail preset world (50k persons, seed 0; the stacked table of ``backtest_seasons.py`` is
  reused when cached under ``benchmarks/out/``, else built at ``--customers``);
- ``cdnow``: CDNOW master, 90-day horizons (data to 1998-06-30);
- ``online_retail``: the real retailer's year (``../shared/data/online_retail_ii``) through its mapping.

    .venv/bin/python benchmarks/model_selection.py [--only retail,cdnow,online_retail] [--tasks churn,repurchase]

Prints, per run: champion, each scorer's test ROC AUC and ECE, fit seconds; and writes
``benchmarks/out/model_selection_<label>.csv`` (``--label before``/``after``) to compare. With
``--predictions`` it also writes each run's test predictions (``label`` and every scorer's probability, in
row order) to ``benchmarks/out/model_selection_<label>_<data>_<task>_preds.parquet``, for the paired
bootstrap of ``model_selection_compare.py``. ``--no-season-calibration`` turns off the season calibration
(``TrainParams.season_calibration``, issue 27) to separate its effect from the model selection's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from custml.models.metrics import binary_metrics
from custml.models.params import TrainParams
from custml.models.train import train_model
from custml.pipeline.train import stacked_table, training_data_end

OUT = Path(__file__).resolve().parent / "out"


def _tables(name: str, customers: int) -> tuple[dict[str, pd.DataFrame], pd.Timestamp]:
    if name == "cdnow":
        from custml.datasets import load_cdnow_transactions

        orders = load_cdnow_transactions("master")
        end = pd.Timestamp("1998-06-30 23:59:59")
        return {"orders": orders[orders["order_ts"] <= end]}, end
    if name == "online_retail":
        from custml import pipeline
        from custml.datasets import online_retail_dir

        mapping = Path(__file__).resolve().parents[1] / "docs" / "mappings" / "online-retail-ii.yaml"
        tables = pipeline.run_clean(
            online_retail_dir(), mapping=mapping, allow_demo_key=True, write=False
        ).tables
        return dict(tables), training_data_end(tables["orders"])
    from custml import pipeline
    from custml.synth import generate_world, world_preset

    world = generate_world(world_preset("retail", n_customers=customers, seed=0, dirty=0.02))
    end = pipeline.as_of_after(world.manifest["end"])
    raw = {k: getattr(world, k) for k in ("customers", "orders", "interactions", "campaigns")}
    return dict(pipeline.run_clean(None, as_of=end, allow_demo_key=True, raw=raw, write=False).tables), end


def _table(name: str, task: str, customers: int) -> tuple[pd.DataFrame, object, TrainParams]:
    """The stacked table of the default plan at the latest test cut-off (cached under ``benchmarks/out/``)."""
    params = TrainParams(task=task, horizon_days=90) if name == "cdnow" else TrainParams(task=task)
    cache = OUT / f"model_selection_{name}_{customers}_{task}.parquet"
    dates = cache.with_suffix(".json")
    if cache.is_file() and dates.is_file():
        meta = json.loads(dates.read_text())
        end, start = pd.Timestamp(meta["end"]), pd.Timestamp(meta["start"])
        params = TrainParams(task=task, horizon_days=meta["horizon_days"])
        table = pd.read_parquet(cache)
    else:
        tables, end = _tables(name, customers)
        start = pd.Timestamp(tables["orders"]["order_ts"].min()).normalize()
        params = params.with_resolved_horizon(tables["orders"], end)
        table = None
    plan = params.cutoff_plan(_test_cutoff(params, end), data_start=start)
    if table is None:
        table = stacked_table(tables, task, params, list(plan.all), end)  # type: ignore[arg-type]
        OUT.mkdir(parents=True, exist_ok=True)
        table.to_parquet(cache)
        dates.write_text(json.dumps({"end": str(end), "start": str(start), "horizon_days": params.horizon}))
    return table, plan, params


def _test_cutoff(params: TrainParams, end: pd.Timestamp) -> pd.Timestamp:
    return (pd.Timestamp(end).normalize() - pd.Timedelta(days=params.horizon)).normalize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="retail,cdnow,online_retail")
    ap.add_argument("--tasks", default="churn,repurchase")
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--label", default="run")
    ap.add_argument("--predictions", action="store_true", help="also write each run's test predictions")
    ap.add_argument("--no-season-calibration", action="store_true", help="TrainParams.season_calibration off")
    args = ap.parse_args()
    rows = []
    for name in args.only.split(","):
        for task in args.tasks.split(","):
            t0 = time.perf_counter()
            table, plan, params = _table(name, task, args.customers)
            built = time.perf_counter() - t0
            if args.no_season_calibration:
                params = params.model_copy(update={"season_calibration": False})
            t0 = time.perf_counter()
            result = train_model(table, params=params, plan=plan)  # type: ignore[arg-type]
            seconds = time.perf_counter() - t0
            preds = result.test_predictions
            print(
                f"\n== {name} {task}: {len(table):,} rows, test {result.data_description['test_cutoff']}, "
                f"champion {result.data_description['champion']}, fit {seconds:.1f} s (table {built:.0f} s)"
                + (
                    f", calibration {result.data_description['calibration']}"
                    if "calibration" in result.data_description
                    else ""
                )
            )
            scorers = [c for c in preds.columns if c not in ("label", "oracle")]
            if args.predictions:
                OUT.mkdir(parents=True, exist_ok=True)
                path = OUT / f"model_selection_{args.label}_{name}_{task}_preds.parquet"
                preds[["label", *scorers]].reset_index(drop=True).to_parquet(path)
            for scorer in scorers:
                m = binary_metrics(preds["label"], preds[scorer])
                print(f"  {scorer:<14} ROC AUC {m['roc_auc']:.4f}  ECE {m['ece']:.4f}")
                rows.append(
                    {
                        "data": name,
                        "task": task,
                        "scorer": scorer,
                        "roc_auc": m["roc_auc"],
                        "ece": m["ece"],
                        "champion": result.data_description["champion"],
                        "fit_s": seconds,
                    }  # fmt: skip
                )
    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT / f"model_selection_{args.label}.csv", index=False)


if __name__ == "__main__":
    main()
