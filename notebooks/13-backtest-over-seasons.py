# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 13 · Do the probabilities hold over the calendar? A rolling-origin backtest on three shops
#
# **Question.** A churn probability is read in the month it is scored, whatever month the model was calibrated
# in. On a real gift shop the 90-day churn rate of active customers goes from about 0.45 in September to 0.67 in
# December. Is the shipped model calibrated (ECE ≤ 0.03) in *every* test month, and does it keep its ranking
# margin over the printed baselines (the logistic pipeline on every model column, BG/NBD, Pareto/NBD)?
#
# **Set-up.** The declared `backtest` step (`custml.pipeline.run_step`, what `custml backtest` runs): for each of `MONTHS` test cut-offs,
# 30 days apart, ending at the data end minus the horizon, the whole training run is repeated on that origin's
# cut-off plan and every scorer is measured on the next 90 days. Three shops:
# 1. the synthetic **retail preset** (`custml generate --preset retail`: Q4 peak, trade buyers, acquisition
#    waves, a price rise on 2025-03-01), `N_CUSTOMERS` persons, seed `SEED`, with the oracle's ROC AUC;
# 2. **CDNOW** (the master file; the sample in the test run), one acquisition cohort followed 18 months;
# 3. the real **Online Retail II** year (13 months of invoice lines): too short for a season to be learnt.

# %%
# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

# %% tags=["parameters"]
N_CUSTOMERS = 20_000
SEED = 0
SMALL = False

# %%
from pathlib import Path

import pandas as pd
from IPython.display import display

import custml
from custml.datasets import cdnow_dir, online_retail_dir
from custml.errors import DataFileError
from custml.models.backtest import plot_backtest
from custml.models.params import TrainParams
from custml.pipeline import BacktestSettings, CleanSettings, StepContext, TruthInputs, as_of_after, run_step
from custml.synth import generate_world, world_preset

MONTHS = 3 if SMALL else 12
# Lighter boosting in the test run only; the committed run uses the defaults.
PARAMS = dict(n_estimators=80, early_stopping_rounds=15, shap_sample=100) if SMALL else {}
MAPPINGS = Path(custml.__file__).resolve().parents[2] / "docs" / "mappings"


def show(run, title):
    """The shipped model's and the baselines' ECE and ROC AUC per test month, the summary and the chart."""
    t = run.result.table
    wide = t.pivot(index="test_cutoff", columns="scorer", values="ece").add_prefix("ece_")
    auc = t.pivot(index="test_cutoff", columns="scorer", values="roc_auc").add_prefix("auc_")
    model = run.result.scorer("model")[["predicted_rate", "realised_rate"]]
    cols = [c for c in ("model", "logistic", "bgnbd", "pareto_nbd", "oracle") if f"ece_{c}" in wide]
    table = pd.concat([wide[[f"ece_{c}" for c in cols]], auc[[f"auc_{c}" for c in cols]], model], axis=1)
    print(title)
    display(table.round(3))
    print({k: round(v, 4) for k, v in run.result.summary.items()})
    print("shipped candidate per test month:", run.result.runs["champion"].value_counts().to_dict())
    return plot_backtest(run.result)


def backtest(ctx, clean_settings, months):
    """The clean and backtest steps on one shop's data (``ctx`` holds the raw tables or none)."""
    clean = run_step("clean", clean_settings, ctx)
    if ctx.truth is not None:
        ctx.truth = TruthInputs(customers=ctx.truth.customers, id_map=clean.id_map)
    ctx.train_params = TrainParams(task="churn", **PARAMS)
    return run_step("backtest", BacktestSettings(months=months, log=False, write=False), ctx)


# %% [markdown]
# ## 1. The retail preset world

# %%
world = generate_world(world_preset("retail", n_customers=N_CUSTOMERS, seed=SEED, dirty=0.02))
ctx = StepContext.for_paths()
ctx.raw_tables = {k: getattr(world, k) for k in ("customers", "orders", "interactions", "campaigns")}
ctx.resolve_as_of(as_of_after(world.manifest["end"]))  # the one rule
ctx.truth = TruthInputs(customers=world.truth["customers"])
preset = backtest(ctx, CleanSettings(allow_demo_key=True, write=False), MONTHS)
show(preset, f"retail preset, {N_CUSTOMERS:,} persons: churn per test month")

# %% [markdown]
# ## 2. CDNOW

# %%
kind = "sample" if SMALL else "master"
cd_settings = CleanSettings(
    data=cdnow_dir(), mapping=MAPPINGS / f"cdnow-{kind}.yaml", allow_demo_key=True, write=False
)
cdnow = backtest(StepContext.for_paths(), cd_settings, min(MONTHS, 6))
show(cdnow, f"CDNOW {kind}: churn per test month")

# %% [markdown]
# ## 3. The real retail year (Online Retail II, 13 months)

# %%
try:
    retail_dir = online_retail_dir()
except DataFileError as exc:
    retail_dir = None
    print(exc)
if retail_dir is not None:
    r_settings = CleanSettings(
        data=retail_dir, mapping=MAPPINGS / "online-retail-ii.yaml", allow_demo_key=True, write=False
    )
    retail = backtest(StepContext.for_paths(), r_settings, 1 if SMALL else MONTHS)
    show(retail, "Online Retail II: churn per test month")
    print(sorted({n for n in retail.result.runs["plan_note"] if n}))

# %% [markdown]
# ## Conclusion
#
# *(Figures of the committed run. Each run creates a fresh demo pseudonymisation key, which reorders the rows;
# runs with other keys moved single months' ECE by up to 0.016 on the preset (December 0.047 and 0.063 in two
# earlier runs, 0.052 in the run before this one, 0.054 here) and 0.048 on Online Retail II, and ROC AUC by up to 0.005. Read single months as one
# draw. Since issue 25 every step takes the one as-of rule, the day after the data ends, as the data end: the test
# cut-offs are one day later than in the runs before.)*
#
# - **Retail preset, 20,000 persons.** The shipped model is LightGBM in every month (the seasonal rule: the
#   training cut-offs span a year, so only the booster, which reads the season, may ship), calibrated by the
#   season calibration since 2026-12-08 (`custml.models.season`: Platt on the training year's out-of-fold scores,
#   the level from the validation months). Since issue 28 the printed logistic baseline sees every model column,
#   and the margin is small: +0.006 ROC AUC on average over it (from −0.003 to +0.016; below it from November to
#   January, by 0.001, 0.003 and 0.001), +0.029 over BG/NBD and +0.039 over Pareto/NBD. The model is calibrated
#   from February to November (ECE 0.015-0.030) but **not in deep winter**: December 0.054, January 0.036 (2 of 12
#   months above 0.03, as in the run before the season calibration, where January was 0.048), under-predicting the
#   Christmas rise by 4 to 5 points (December 0.634 predicted, 0.688 realised). The logistic baseline is no better
#   in winter (0.086 and 0.053) and off in other months too (0.017-0.049); BG/NBD and Pareto/NBD reach 0.127 and
#   0.167, and the oracle stays at 0.006-0.019. At 50,000 persons (`custml backtest churn --months 12`, LOGBOOK
#   2026-12-08) 8 of 12 months are calibrated: the misses are January and the months whose label window holds the
#   unannounced price rise or the retention campaign; an oracle that knows every latent state but neither event
#   scores 0.032 and 0.040 in February and March there (`benchmarks/backtest_shock.py`).
# - **CDNOW master.** The stack ships in all 6 months. Calibrated in 5 of 6 (ECE 0.007-0.027); the last test
#   month (1998-04-02) is at 0.031, just over the bar (0.034 in the run before; before issue 28 all 6 were within
#   0.009-0.024). Above or level with every baseline in 5 of 6 months (mean margin +0.003 over the best one, the
#   logistic or Pareto/NBD), below the logistic baseline in January by 0.001.
# - **Online Retail II (13 months).** Only 3 test months fit, with 1-3 training cut-offs each (the stack ships in
#   all three). Every scorer is off somewhere (shipped 0.064-0.139, logistic 0.097-0.445, BG/NBD 0.042-0.121,
#   Pareto/NBD 0.034-0.116): with one year of data no model has seen the coming season, and the predicted rate
#   misses the realised one by 6-14 points either way. The shipped model is within 0.01 ROC AUC of the logistic
#   baseline (above it in July by 0.004, below it in August and September by 0.007 and 0.004): on such short data
#   the printed baseline ranks as well as the shipped model, and the report says the history is short.
