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
# # 05 · The churn model: LightGBM against the baselines and the oracle
#
# **Question.** Does the default churn model (LightGBM on the point-in-time feature table plus the BTYD hybrid
# features, season calibration) rank and calibrate customers well enough to act on? Issue 6 sets the bar at
# 50,000 customers: test ROC AUC at least 0.02 above both printed baselines, at least 95 % of the oracle's ROC
# AUC, and an expected calibration error (ECE) of at most 0.02. Issue 6 named logistic regression on five RFM
# columns; since issue 28 the printed logistic baseline is a standard pipeline on every model column
# (imputation, scaling, one-hot), a stronger bar. The other baseline is BG/NBD.
#
# **Set-up.** The experiment `experiments/churn-lgbm-with-btyd-features.yaml` (the default `TrainParams`) run
# through `custml.experiments.run_experiment`: a synthetic world of `N_CUSTOMERS` persons (seed `SEED`, 2 %
# dirty records) is cleaned and pseudonymised; the churn label is *no order in the 90 days after a cut-off*
# among customers active in the 365 days before it. Cut-offs are monthly; the latest whose label window ends by
# the data end (2025-12-31) is the test cut-off; the three monthly cut-offs ending one horizon before it
# (without label overlap) are pooled to validate early stopping and calibration; earlier ones train. The
# baselines are fitted on the same training rows; the oracle is the world's true probability of no purchase
# given each person's latent state. The run is logged to MLflow (`mlflow.db` in the project root) under the
# name of the config file.

# %%
# %load_ext autoreload
# %autoreload 2

# %% tags=["parameters"]
N_CUSTOMERS = 50_000
SEED = 0
SMALL = False

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from sklearn.metrics import roc_auc_score

import custml
from custml.experiments import experiment_file, load_experiment, run_experiment
from custml.models.explain import plot_shap_bar, plot_shap_beeswarm, reason_codes
from custml.models.hybrid import BTYD_OUTPUT_FEATURES
from custml.models.metrics import lift_table
from custml.models.plots import plot_calibration, plot_lift, plot_roc
from custml.notebook import setup
from custml.pipeline import FeaturesSettings, StepContext, run_step

setup(precision=4, max_columns=None, max_colwidth=80)
BTYD_OUTPUTS = {spec.name for spec in BTYD_OUTPUT_FEATURES}
print("custml", custml.__version__)

# %% [markdown]
# ## The experiment
#
# The config holds only what differs from the defaults; the run logs the full, resolved `TrainParams`.

# %%
config_path = experiment_file("churn-lgbm-with-btyd-features")
config = load_experiment(config_path)
print(config_path.read_text(encoding="utf-8"))

# %%
t0 = time.perf_counter()
result = run_experiment(config_path, n_customers_override=N_CUSTOMERS, seed_override=SEED)
train = result.train
seconds = time.perf_counter() - t0
desc = train.data_description
print(
    f"MLflow run {result.run_id} ('{result.name}') in {result.tracking_uri}: {seconds:.0f} s "
    f"(data {result.timings['data_s']:.0f} s, training set + fit {result.timings['train_s']:.0f} s)"
)
pd.Series(
    {
        "persons in the world": N_CUSTOMERS,
        "training rows (customer x cut-off)": desc["rows_train"],
        "training cut-offs": f"{desc['train_cutoffs'][0]} .. {desc['train_cutoffs'][-1]} ({len(desc['train_cutoffs'])})",
        "validation cut-offs (pooled)": ", ".join(desc["validation_cutoffs"]),
        "test cut-off": desc["test_cutoff"],
        "test rows": desc["rows_test"],
        "churn rate train / validation / test": (
            f"{desc['label_rate_train']:.3f} / {desc['label_rate_validation']:.3f} / {desc['label_rate_test']:.3f}"
        ),
        "features (of which BTYD outputs)": f"{desc['n_features']} ({len(set(desc['features']) & BTYD_OUTPUTS)})",
        "trees (early stopping)": int(train.metrics["model"]["best_iteration"]),
    },
    name="value",
).to_frame()

# %% [markdown]
# ## Result: ranking and calibration on the test cut-off
#
# One row per scorer, all on the same test customers. Lift and capture are for the 10 % of customers with the
# highest churn probability; with churn as common as it is here, the best possible lift is 1 / base rate.

# %%
scorers = ["model", "logistic", "bgnbd", "oracle"]
cols = ["roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top10"]
metrics = pd.DataFrame({s: train.metrics[s] for s in scorers if s in train.metrics}).T[cols]
metrics.index = metrics.index.map(
    {
        "model": "LightGBM (default)",
        "logistic": "logistic (all features)",
        "bgnbd": "BG/NBD",
        "oracle": "oracle (truth)",
    }
)
metrics

# %%
m = train.metrics["model"]
targets = pd.DataFrame(
    [
        (
            "ROC AUC gain over logistic",
            m["auc_gain_vs_logistic"],
            ">= 0.02",
            m["auc_gain_vs_logistic"] >= 0.02,
        ),
        ("ROC AUC gain over BG/NBD", m["auc_gain_vs_bgnbd"], ">= 0.02", m["auc_gain_vs_bgnbd"] >= 0.02),
        ("ROC AUC / oracle ROC AUC", m["oracle_auc_ratio"], ">= 0.95", m["oracle_auc_ratio"] >= 0.95),
        ("ECE (10 equal-mass bins)", m["ece"], "<= 0.02", m["ece"] <= 0.02),
    ],
    columns=["target (issue 6)", "measured", "bar", "met"],
).set_index("target (issue 6)")
targets

# %%
# custml.tracking draws the run's plots with the Agg backend; switch this kernel back to inline figures.
# %matplotlib inline
y = train.test_predictions["label"].to_numpy()
scores = {s: train.test_predictions[s].to_numpy() for s in scorers if s in train.test_predictions}
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
plot_roc(y, scores, ax=axes[0])
plot_calibration(y, {k: v for k, v in scores.items() if k != "oracle"}, n_bins=10, ax=axes[1])
plot_lift(y, scores, ax=axes[2])
fig.tight_layout()

# %% [markdown]
# ### Where the calibration error comes from
#
# The season calibration takes its shape from the training year (Platt scaling on out-of-fold scores) and its
# level from the three validation cut-offs pooled (May, June and July 2025). A calibrator learns the base rate
# of the months it sees. The booster carries the season (it reads the cut-off's time of
# year), but each month's churn rate also deviates from what its history predicts by one or two points, in a
# way the history does not reveal (the oracle, which knows who has silently dropped out, tracks it). Fitted on
# one month, the calibrator passes that month's deviation on to every probability; pooled over three it mostly
# averages out. What is left is the test month's own deviation: nine bins of ten over-predict (by 0.003 to
# 0.037), however well the model ranks. The table compares the mean predicted probability with the observed rate on
# the test cut-off and the validation rate, next to the calibration table of the model.

# %%
shift = pd.Series(
    {
        "mean predicted churn probability (test)": float(scores["model"].mean()),
        "observed churn rate (test)": float(y.mean()),
        "observed churn rate (validation, calibration fitted here)": desc["label_rate_validation"],
        "ECE on validation (calibration set, optimistic)": train.validation_metrics["ece"],
        "ECE on test": m["ece"],
        "ECE of the oracle on test": train.metrics["oracle"]["ece"]
        if "oracle" in train.metrics
        else float("nan"),
    },
    name="value",
)
display(shift.to_frame())
train.calibration

# %% [markdown]
# ### Lift and capture by decile
#
# Cumulative share of all churners found when the customers are contacted in order of predicted churn
# probability (top 10 %, 20 %, ...).

# %%
lift = pd.concat(
    {s: lift_table(y, p).set_index("fraction")[["lift", "capture"]] for s, p in scores.items()}, axis=1
)
lift.head(5)

# %% [markdown]
# ### How far from the oracle, and for whom
#
# The oracle knows each person's latent purchase rate and whether they have already dropped out; the model
# sees only the history. ROC AUC by number of orders before the test cut-off shows where the gap is.

# %%
freq = pd.to_numeric(train.test_features["frequency_orders"], errors="coerce").fillna(0)
groups = pd.cut(
    freq, [0, 1, 3, 10, float("inf")], labels=["1 order", "2-3 orders", "4-10 orders", "11+ orders"]
)
rows = []
for group in groups.cat.categories:
    part = train.test_predictions[(groups == group).to_numpy()]
    row = {"group": group, "customers": len(part), "churn rate": part["label"].mean()}
    if part["label"].nunique() == 2:
        row.update({f"ROC AUC {s}": roc_auc_score(part["label"], part[s]) for s in scores})
    rows.append(row)
pd.DataFrame(rows).set_index("group")

# %% [markdown]
# ## Why: SHAP drivers
#
# Exact TreeSHAP contributions (LightGBM `pred_contrib`, log-odds) on a sample of test customers: the
# beeswarm shows direction (a red dot right of zero = a high value raises churn risk), the bar chart the mean
# absolute impact. Categorical features are drawn by level code.

# %%
shap_x = train.test_features.iloc[train.shap_rows]
fig = plot_shap_beeswarm(train.model, shap_x, max_display=15)
fig.tight_layout()

# %%
fig = plot_shap_bar(train.model, shap_x, max_display=15)
fig.tight_layout()
train.drivers.head(10)

# %% [markdown]
# ## Reasons for individual customers
#
# The model scores today's active customers (features as of the day after the data end, from the same clean,
# pseudonymised tables). Shown: the five repeat buyers (at least three orders, so a retention call is worth
# making) with the highest churn probability, with their three strongest reasons in plain words (features
# pushing the probability up, worded from the feature catalogue). Customer ids are keyed pseudonyms; no
# personal data leaves the quality stage.

# %%
ctx = StepContext.for_paths()  # the features step on the experiment's clean tables, as of its date
ctx.tables, ctx.as_of = result.tables, result.as_of
today = run_step("features", FeaturesSettings(write=False), ctx)
active = today[pd.to_numeric(today["orders_365d"], errors="coerce").fillna(0) > 0].reset_index(drop=True)
active["churn_probability"] = train.model.predict_proba(active)
repeat = active[pd.to_numeric(active["frequency_orders"], errors="coerce") >= 3]
top = repeat.nlargest(5, "churn_probability")
reasons = reason_codes(train.model, top, top_k=3)
pd.concat(
    [
        top[["customer_id", "churn_probability", "recency_days", "frequency_orders", "monetary_total"]],
        reasons,
    ],
    axis=1,
).reset_index(drop=True)

# %% [markdown]
# ## Conclusion
#
# *Numbers of the committed run: 50,000 persons, seed 0, MLflow run `dc199671d6ec4588bbab5e70de37cc7e` (a
# scratch project folder), generator sim5, the current model defaults (three pooled validation cut-offs, the
# candidate registry of issue 28; the champion is LightGBM, the only candidate that reads the season when the
# training cut-offs span a year, calibrated by the season calibration of issue 27). Test cut-off 2025-10-03, 29,938 active customers, churn rate 0.669.*
#
# - **Ranking: target met against BG/NBD, not against the logistic baseline.** LightGBM reaches ROC AUC 0.825
#   against 0.784 for BG/NBD (+0.041, bar +0.02 met) and 0.821 for the logistic baseline on all model columns
#   (+0.0045; paired bootstrap 95 % interval +0.0031 to +0.0061, logged with the MLflow run). The model beats the logistic pipeline beyond
#   noise, so the promotion gate passes it, but by less than a quarter of issue 6's +0.02 bar, which was set
#   against logistic regression on five RFM columns (0.776 in the previous run, +0.049). With every column a
#   linear model already ranks almost as well; the booster's edge is small. It is ahead of both baselines in every
#   order-count group: of logistic by 0.003 to 0.014, of BG/NBD by 0.017 to 0.079.
# - **Against the oracle: target not met.** The oracle reaches 0.905, so the model gets 0.911 of it, short of
#   0.95. The gap is widest where the history is thinnest: for the 13,180 one-order customers (44 % of the test
#   set) the model's AUC is 0.768 against the oracle's 0.896; one purchase cannot tell whether a person has
#   already dropped out, which the oracle knows. With 11+ orders the gap narrows to 0.813 against 0.887. The
#   missing AUC is information the observable history does not carry at this horizon, not a fitting problem:
#   a model cross-validated on the test cut-off itself does no better, and four times the data does not close
#   it (both measured in the logbook).
# - **Calibration: target met.** ECE 0.0165 against the 0.02 bar (0.0098 on the pooled validation
#   rows, whose base rate sets the level of the season calibration, its shape fitted on the training year out of
#   fold; 0.0008 there when isotonic was fitted on them, test 0.0163 with another key; the logistic baseline,
#   uncalibrated as printed, 0.0293). With a
#   single validation month, the previous default, the same data gave 0.0236 (earlier code). Almost all of what
#   is left is one shift: the model predicts 0.684 on average and the test month's observed rate is 0.669;
#   nine deciles of ten over-predict, by 0.003 to 0.037, the lowest under-predicts by 0.006 (an earlier run with
#   another key: ECE 0.0139). One test month is one draw, so
#   `benchmarks/backtest_calibration.py` repeats the fit on three worlds (seeds 0, 1, 2) and four test
#   months each (measured before issue 28, not re-run here). With one validation month ECE averages 0.0139, the
#   worst run is at 0.0236, and 10 of 12 runs clear the bar. Pooling three gives a mean of 0.0110, a worst run of
#   0.0161, and all 12 clear it, at the same ROC AUC (0.8205 against 0.8210).
# - **Lift.** The 10 % highest-risk customers churn at 1.45 times the base rate (capture 14.5 % of all churners)
#   against 1.44 (logistic), 1.39 (BG/NBD) and 1.50 for the oracle, which is also the ceiling 1 / 0.669:
#   when two thirds of active customers churn, top-decile lift has little room. Deeper in the list the model
#   stays just ahead of logistic (30 %: capture 0.418 against 0.415, BG/NBD 0.402).
# - **Drivers.** BG/NBD's probability of a purchase within the horizon is the strongest input (mean |SHAP| 0.46
#   log-odds), then items bought in 180 days and BG/NBD's expected purchases (0.22 and 0.17), app sessions in 30
#   days (0.15), the 30-day e-mail open rate and app sessions in 90 days (0.12 each), the mean order value and the
#   90-day open rate (0.10 each), the time of year and loyalty-programme membership (0.08 each). The reasons shown to users are worded from the
#   feature catalogue ("unlikely to buy again soon (BTYD chance 0.05)", "few purchases expected soon (0.07
#   expected)", "bought 0 items in the last 180 days").
# - **Verdict on issue 6 at 50k.** Two of the four targets hold: the margin over BG/NBD and the ECE. The margin
#   over the (now full-feature) logistic baseline is real but 0.005, not 0.02, and the oracle ratio (0.911 for
#   0.95) does not hold; the by-group table and the logbook say why. Whether the BTYD hybrid features help churn
#   was measured on the earlier code (without them 0.826 against 0.825, see the logbook) and not re-run here.
