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
# # 12 · BTYD with covariates: do gender, channel and the season improve the holdout forecast?
#
# **Question.** Pareto/NBD without covariates treats every customer as drawn from one population and every week
# as alike. With static covariates (gender, acquisition channel) on the purchase and the dropout process, and
# with a time-varying one (a high-season indicator), as CLVTools fits them: do the coefficients differ from
# zero, does the calibration fit improve by more than the added parameters, and do the holdout forecasts of
# purchases per customer get better?
#
# **Set-up.** CLVTools' public apparel data: 600 customers who all first bought on 2005-01-02, 3,187
# transactions to 2010-12-20. The transactions pass through the declared `clean` step
# (`custml.pipeline.run_step`, what `custml clean --mapping docs/mappings/apparel.yaml` runs) and the models read
# its clean orders; the covariates (`custml.datasets.load_apparel`) are joined by CLVTools' `Id` through the
# step's id map. Weekly time unit, the 104-week estimation split of CLVTools' tests (calibration to 2006-12-31,
# holdout the 207 weeks after). Static covariates `Gender`, `Channel` (0/1);
# weekly `High.Season` (about 13 weeks a year). Models (`custml.models.btyd`): Pareto/NBD without covariates;
# with `Gender` and `Channel` on both processes (`alpha_i = alpha exp(-z_i g_purchase)`,
# `beta_i = beta exp(-z_i g_dropout)`); and the dynamic-covariate model (Bachmann, Meierer and Naef 2021) with
# `High.Season`, `Gender`, `Channel` on the purchase process and `Gender`, `Channel` (and, in a second fit, the
# season too) on the dropout process. Holdout: each customer's expected purchases in the 207 holdout weeks
# (the dynamic model with the holdout weeks' covariates) against the actual ones, and the weekly tracking of the
# whole cohort, and the predictive log-likelihood of the holdout purchases. `N_CUSTOMERS` caps the customers (a
# seeded sample; the data have 600). Run time about 15-30 s.

# %%
# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

# %% tags=["parameters"]
N_CUSTOMERS = 600
SEED = 0
SMALL = False

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

import custml
from custml.datasets import apparel_dir, load_apparel
from custml.models.btyd import ParetoNBDDynamicFitter, ParetoNBDFitter, dynamic_covariates, rfm_summary
from custml.models.btyd_eval import holdout_accuracy
from custml.notebook import setup
from custml.pipeline import CleanSettings, StepContext, run_step

paths = setup(max_columns=40, width=200)
print("custml", custml.__version__)

# The transactions go through the declared clean step, read through a source mapping as `custml clean --mapping`
# reads an export (docs/mappings/apparel.yaml); the covariates stay keyed by CLVTools' Id, which the step's id
# map links to the pseudonyms of the clean orders.
MAPPING = Path(custml.__file__).resolve().parents[2] / "docs" / "mappings" / "apparel.yaml"
ctx = StepContext.for_paths(paths)
clean = run_step(
    "clean",
    CleanSettings(data=apparel_dir(), mapping=MAPPING, allow_demo_key=True, write=False, fresh_ids=True),
    ctx,
)
orders_in = clean.report.tables["orders"]
print(
    f"clean step: {orders_in.rows_in:,} transactions in, {orders_in.rows_kept:,} kept, "
    f"{orders_in.rows_quarantined:,} quarantined; {len(clean.tables['customers']):,} customers"
)
raw_id = clean.id_map.set_index("customer_id")["raw_customer_id"].astype(int)
orders = clean.tables["orders"]
apparel = load_apparel()  # the covariates (static and weekly), keyed by Id
ids = pd.Series(apparel["static"]["Id"].unique())
ids = ids.sample(n=min(N_CUSTOMERS, len(ids)), random_state=SEED).sort_values()
transactions = pd.DataFrame(
    {"Id": orders["customer_id"].map(raw_id), "Date": orders["order_ts"], "Price": orders["net_amount"]}
).loc[lambda d: d["Id"].isin(ids)]
weekly = pd.concat([apparel["dynamic"], apparel["dynamic_future"]]).loc[lambda d: d["Id"].isin(ids)]
CALIBRATION_END, OBSERVATION_END = "2006-12-31", "2010-12-20"
summary = rfm_summary(
    transactions,
    "Id",
    "Date",
    "Price",
    observation_end=OBSERVATION_END,
    calibration_end=CALIBRATION_END,
    freq="W",
)
static = apparel["static"].set_index("Id").reindex(summary.index)[["Gender", "Channel"]]
x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
HOLDOUT = float(summary["duration_holdout"].iloc[0])
print(
    f"{len(summary):,} customers, {len(transactions):,} transactions; calibration T = {T.max():.0f} weeks, "
    f"holdout {HOLDOUT:.1f} weeks; {int(summary['frequency_holdout'].sum()):,} holdout repeat purchases"
)

# %% [markdown]
# ## 1 · The fits: coefficients, standard errors, likelihood

# %%
t0 = time.perf_counter()
fits = {"no covariates": ParetoNBDFitter().fit(x, t_x, T)}
fits["static (Gender, Channel)"] = ParetoNBDFitter().fit(
    x, t_x, T, purchase_covariates=static, dropout_covariates=static
)
dyn_season_purchase = dynamic_covariates(
    transactions, weekly, "Id", "Date", "Cov.Date", CALIBRATION_END,
    purchase=["High.Season", "Gender", "Channel"], dropout=["Gender", "Channel"],
)  # fmt: skip
dyn_season_both = dynamic_covariates(
    transactions, weekly, "Id", "Date", "Cov.Date", CALIBRATION_END,
    purchase=["High.Season", "Gender", "Channel"], dropout=["High.Season", "Gender", "Channel"],
)  # fmt: skip
fits["dynamic (season on purchase)"] = ParetoNBDDynamicFitter().fit(dyn_season_purchase)
fits["dynamic (season on both)"] = ParetoNBDDynamicFitter().fit(dyn_season_both)
print(f"four fits in {time.perf_counter() - t0:.1f} s")

table = pd.DataFrame(
    {
        name: {k: f"{v:.3f} ({m.standard_errors_[k]:.3f})" for k, v in m.params_.items()}
        for name, m in fits.items()
    }
).fillna("")
display(table)
quality = pd.DataFrame(
    {
        "log-likelihood": {n: m.log_likelihood_ for n, m in fits.items()},
        "parameters": {n: len(m.params_) for n, m in fits.items()},
        "converged": {n: m.converged_ for n, m in fits.items()},
    }
)
quality["AIC"] = 2 * quality["parameters"] - 2 * quality["log-likelihood"]
quality["LR test vs no covariates (chi2)"] = 2 * (
    quality["log-likelihood"] - quality["log-likelihood"].iloc[0]
)
display(quality.round(2))

# %% [markdown]
# ## 2 · Holdout: expected vs actual purchases per customer

# %%
expected = {
    "no covariates": fits["no covariates"].conditional_expected_number_of_purchases_up_to_time(
        HOLDOUT, x, t_x, T
    ),
    "static (Gender, Channel)": fits[
        "static (Gender, Channel)"
    ].conditional_expected_number_of_purchases_up_to_time(HOLDOUT, x, t_x, T, static, static),
    "dynamic (season on purchase)": fits[
        "dynamic (season on purchase)"
    ].conditional_expected_number_of_purchases_up_to_time(HOLDOUT, dyn_season_purchase),
    "dynamic (season on both)": fits[
        "dynamic (season on both)"
    ].conditional_expected_number_of_purchases_up_to_time(HOLDOUT, dyn_season_both),
}
accuracy = holdout_accuracy(summary["frequency_holdout"], expected)
# Predictive log-likelihood of the holdout purchases given the calibration ones: the log-likelihood of each
# customer's full history (to 2010-12-20) minus that of the calibration part, at the calibration estimates.
full = rfm_summary(transactions, "Id", "Date", None, observation_end=OBSERVATION_END, freq="W").reindex(
    summary.index
)
xf, t_xf, Tf = full["frequency"], full["recency"], full["T"]
full_dynamic = {
    name: dynamic_covariates(
        transactions,
        weekly,
        "Id",
        "Date",
        "Cov.Date",
        OBSERVATION_END,
        purchase=list(d.purchase_names),
        dropout=list(d.dropout_names),
    )
    for name, d in (
        ("dynamic (season on purchase)", dyn_season_purchase),
        ("dynamic (season on both)", dyn_season_both),
    )
}
holdout_ll = {
    "no covariates": fits["no covariates"].log_likelihood(xf, t_xf, Tf).sum(),
    "static (Gender, Channel)": fits["static (Gender, Channel)"]
    .log_likelihood(xf, t_xf, Tf, static, static)
    .sum(),
} | {name: fits[name].log_likelihood(data).sum() for name, data in full_dynamic.items()}
accuracy["holdout log-likelihood"] = [holdout_ll[m] - fits[m].log_likelihood_ for m in accuracy["model"]]
display(accuracy.round(3))

# %%
weeks = np.arange(1, int(np.floor(HOLDOUT)) + 1, dtype=float)
if SMALL:
    weeks = weeks[::8]
cumulative = {
    "no covariates": [fits["no covariates"].conditional_expected_number_of_purchases_up_to_time(w, x, t_x, T).sum() for w in weeks],
    "static (Gender, Channel)": [
        fits["static (Gender, Channel)"].conditional_expected_number_of_purchases_up_to_time(w, x, t_x, T, static, static).sum()
        for w in weeks
    ],
    "dynamic (season on purchase)": [
        fits["dynamic (season on purchase)"].conditional_expected_number_of_purchases_up_to_time(w, dyn_season_purchase).sum()
        for w in weeks
    ],
}  # fmt: skip
repeat_days = transactions.assign(day=transactions["Date"].dt.normalize()).drop_duplicates(["Id", "day"])
holdout_days = repeat_days.loc[repeat_days["day"] > pd.Timestamp(CALIBRATION_END), "day"]
holdout_week = np.floor((holdout_days - pd.Timestamp(CALIBRATION_END)).dt.days.to_numpy() / 7.0 - 1e-9) + 1
actual = np.array([(holdout_week <= w).sum() for w in weeks])
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
axes[0].plot(weeks, actual, color="black", lw=2, label="actual")
for name, values in cumulative.items():
    axes[0].plot(weeks, values, label=name)
axes[0].set(
    xlabel="holdout week", ylabel="cumulative repeat purchases", title="Holdout tracking, whole cohort"
)
axes[0].legend()
step = np.diff(np.concatenate([[0.0], weeks]))
axes[1].plot(weeks, np.diff(np.concatenate([[0], actual])) / step, color="black", lw=1, label="actual")
for name, values in cumulative.items():
    axes[1].plot(weeks, np.diff(np.concatenate([[0.0], values])) / step, label=name)
axes[1].set(xlabel="holdout week", ylabel="repeat purchases per week", title="Weekly: the season shows")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# **Result (all 600 customers, seed 0).** Every covariate coefficient of the static fit is more than two standard
# errors from zero: women (`Gender` 1) and the `Channel` 1 customers buy more often (purchase coefficients 0.29
# (SE 0.10) and 0.62 (0.10)); women drop out more slowly (dropout -0.64 (0.30)) and `Channel` 1 faster
# (0.79 (0.31)). The log-likelihood rises from -5,848.1 to -5,821.1 (likelihood-ratio chi-square 54.1 on 4
# degrees of freedom; AIC 11,704 -> 11,658). The high season multiplies the purchase rate by exp(0.72) = 2.05
# (SE 0.06) and lifts the log-likelihood a further 67.7 for one parameter (AIC 11,525). On the dropout process
# the season runs to the bound (-18): the calibration data cannot tell the dropout rate in the 13 high-season
# weeks from zero, its standard error is meaningless, and the fit gains 0.7 in log-likelihood for it; the
# purchase-only season model is the one to use. In the holdout (207 weeks, 1,317 repeat purchases) the model
# without covariates over-forecasts by 10.5 % (1,455.5 expected), the static one by 10.4 % with a mean absolute
# error per customer of 2.007 against 2.040; the dynamic model with the season on the purchase process
# forecasts 1,269.5 (-3.6 %), lowers the mean absolute error to 1.901 (-6.8 %) and the RMSE to 3.217 (from
# 3.329), and tracks the seasonal peaks week by week (right panel) where the others draw a smooth decline. The
# predictive log-likelihood of the holdout purchases given the calibration ones (`log_likelihood` of the full
# history minus that of the calibration part) ranks the models the same way: -6,079.1 without covariates,
# -6,074.0 static, -6,013.6 with the season on the purchase process (best), -6,020.0 with it on both.

# %% [markdown]
# ## Conclusion
#
# Gender and channel are real, significant effects on both processes, but on their own they barely change the
# holdout forecast (mean absolute error 2.040 -> 2.007, total still 10 % too high): they redistribute purchases
# between customers more than they change the total. The season is what the plain model misses: with
# `High.Season` on the purchase rate the total holdout error falls from +10.5 % to -3.6 %, the per-customer error
# by 6.8 %, the holdout log-likelihood rises by 65.4, and the weekly forecast follows the peaks. Put the season on the purchase process only; on the
# dropout process it is not identified from two calibration years (the coefficient runs to its bound). These
# are the fits CLVTools offers in R, here in Python with analytic gradients and standard errors: the four fits
# take about a second together (1.0 s in the committed run; up to 5 s on a busy shared machine;
# 600 customers, 407 weekly covariate periods). Not shown here: the 12-month value with the covariate model (the
# registry that would choose it on held-out periods does not exist yet).
