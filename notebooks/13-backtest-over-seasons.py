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
# margin over the printed baselines (logistic RFM, BG/NBD, Pareto/NBD)?
#
# **Set-up.** `custml.pipeline.run_backtest` (the `custml backtest` command): for each of `MONTHS` test cut-offs,
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
from custml.pipeline import run_backtest, run_clean
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
    return plot_backtest(run.result)


# %% [markdown]
# ## 1. The retail preset world

# %%
world = generate_world(world_preset("retail", n_customers=N_CUSTOMERS, seed=SEED, dirty=0.02))
end = (pd.Timestamp(world.manifest["end"]) + pd.Timedelta(days=1)).normalize()
raw = {k: getattr(world, k) for k in ("customers", "orders", "interactions", "campaigns")}
clean = run_clean(None, as_of=end, allow_demo_key=True, raw=raw, write=False)
preset = run_backtest(
    "churn",
    months=MONTHS,
    tables=clean.tables,
    data_end=world.manifest["end"],  # as `custml backtest` reads a world's manifest
    params=TrainParams(task="churn", **PARAMS),
    truth_customers=world.truth["customers"],
    id_map=clean.id_map,
    log=False,
    write=False,
)
show(preset, f"retail preset, {N_CUSTOMERS:,} persons: churn per test month")

# %% [markdown]
# ## 2. CDNOW

# %%
kind = "sample" if SMALL else "master"
cd_clean = run_clean(cdnow_dir(), mapping=MAPPINGS / f"cdnow-{kind}.yaml", allow_demo_key=True, write=False)
cdnow = run_backtest(
    "churn",
    months=min(MONTHS, 6),
    tables=cd_clean.tables,
    params=TrainParams(task="churn", **PARAMS),
    log=False,
    write=False,
)
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
    r_clean = run_clean(
        retail_dir, mapping=MAPPINGS / "online-retail-ii.yaml", allow_demo_key=True, write=False
    )
    retail = run_backtest(
        "churn",
        months=1 if SMALL else MONTHS,
        tables=r_clean.tables,
        params=TrainParams(task="churn", **PARAMS),
        log=False,
        write=False,
    )
    show(retail, "Online Retail II: churn per test month")
    print(sorted({n for n in retail.result.runs["plan_note"] if n}))

# %% [markdown]
# ## Conclusion
#
# - **Retail preset, 20,000 persons.** The shipped model ranks far above every baseline in every month (margin
#   over the best baseline +0.016 to +0.040, mean +0.029). It is calibrated from March to November (ECE
#   0.010-0.020) but **not in winter**: December 0.061, January 0.057, February 0.034 (3 of 12 months above 0.03),
#   under-predicting the Christmas rise by about 6 points. The baselines are worse in every month (ECE up to
#   0.144-0.166) and the oracle stays at 0.008-0.018. At 50,000 persons (`custml backtest`, LOGBOOK 2026-12-07)
#   the same backtest misses in one month only (worst 0.036): the booster learns the season better from more
#   customers. In this world the churn level also rose by about 6 points from one year to the next at the same
#   months, and only half of that rise is carried into the next winter.
# - **CDNOW master.** Calibrated in all 6 months (ECE 0.009-0.024) and above every baseline in every month
#   (+0.001 to +0.008 over the best, logistic RFM).
# - **Online Retail II (13 months).** Only 3 test months fit, with 1-3 training cut-offs each. Every scorer is
#   off somewhere (shipped 0.052-0.100, logistic 0.039-0.152, BG/NBD 0.039-0.120): with one year of data no model
#   has seen the coming season, and the predicted rate misses the realised one by 5-10 points either way. The
#   shipped model is within 0.01 ROC AUC of logistic RFM (below it in two of the three months, by 0.002 and
#   0.010): on such short data the printed baseline is as good as the booster, and the report says the history is
#   short.
