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
# # 07 · Batch scoring, drift and the management report
#
# **Question.** What does the monthly scoring job produce for every customer, does it account for every input
# row, does it notice when the input no longer looks like the training data, and what does a manager get?
#
# **Set-up.** `custml.pipeline.run_demo` (the demo's declared steps) first builds a small project of `N_CUSTOMERS` persons (default 10,000,
# seed `SEED`, dirt 0.02): world → clean → features → segments → churn and repurchase models registered in MLflow
# and promoted to `@champion`. Then the notebook runs the scoring job itself, as `custml score` does:
# the `score` step loads `models:/custml-churn@champion` and `models:/custml-repurchase@champion`, cleans the raw
# export, builds features, checks drift, and writes the scores and their `.meta.json`. A second export with a
# deliberate shift shows the drift check at work; the `report` step renders the management report. Default run time
# about a minute (2.5 when the machine is busy). (In a project whose registry already has a champion trained on
# another world, the gate keeps that champion, since the two were tested on different holdouts, and the job
# scores with it: the registry, not the notebook, decides which model is in production.)

# %%
# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

# %% tags=["parameters"]
N_CUSTOMERS = 10_000
SEED = 0
SMALL = False

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import IFrame, display

import custml
from custml.contracts import ScoreMeta
from custml.io import read_table, write_table
from custml.notebook import setup
from custml.pipeline import (
    DemoSettings,
    DriftError,
    ReportSettings,
    ScoreSettings,
    StepContext,
    read_raw,
    run_demo,
    run_step,
)
from custml.report import build_report_data
from custml.scoring import action_table_frame, scores_summary

paths = setup(max_colwidth=60)
print("custml", custml.__version__)

t0 = time.perf_counter()
settings = DemoSettings(
    n_customers=N_CUSTOMERS, seed=SEED, n_train_cutoffs=2 if SMALL else 3, preset="default", quiet=True
)
demo = run_demo(settings)
t_demo = time.perf_counter() - t0
print(f"pipeline built in {t_demo:.0f} s; scoring date {demo.as_of.date()}")
pd.DataFrame({task: d.model_dump() | {"reason": d.reason} for task, d in demo.gate.items()}).T[
    ["name", "version", "metric", "challenger_score", "promoted", "reason"]
]

# %% [markdown]
# ## 1. The scoring job
#
# One call, the same as `custml score --data data/raw --as-of DATE`. Models are loaded first (a wrong URI fails
# before minutes of cleaning), then the raw export is cleaned with the same quality rules as training data.

# %%
ctx = StepContext.for_paths(paths)
t0 = time.perf_counter()
scored = run_step("score", ScoreSettings(data=demo.raw_dir, as_of=str(demo.as_of), allow_demo_key=True), ctx)
t_score = time.perf_counter() - t0
meta = scored.meta
print(f"scored {meta.rows_scored:,} customers in {t_score:.0f} s -> {scored.out.relative_to(paths.root)}")
pd.Series(scored.timings, name="seconds").to_frame().T

# %% [markdown]
# **Every input row is accounted for.** Rows in (raw customer records) = rows scored + rows not scored, and the
# rows not scored are explained: quarantined by the quality stage, merged into another record as duplicates, or
# without any history at the as-of date.

# %%
accounting = pd.Series(
    {
        "rows in": meta.rows_in,
        "rows scored": meta.rows_scored,
        "rows not scored (meta: rows_quarantined)": meta.rows_quarantined,
        **{f"  of which {k.replace('_', ' ')}": v for k, v in meta.rows_not_scored.items()},
    },
    name="customer records",
)
assert meta.rows_in == meta.rows_scored + meta.rows_quarantined
assert meta.rows_quarantined == sum(meta.rows_not_scored.values())
accounting.to_frame()

# %%
pd.DataFrame(
    {task: {"name": m.name, "version": m.version} | m.metrics.model_dump() for task, m in meta.models.items()}
).loc[["name", "version", "roc_auc", "pr_auc", "brier", "ece", "lift_top10", "base_rate"]]

# %% [markdown]
# ## 2. The scores table
#
# One row per customer: pseudonym, probabilities, expected 12-month value and revenue at risk, segments, up to
# three reasons in plain words, the recommended action, and the model name and version behind every number.

# %%
scores = scored.scores
print(f"{scores.shape[1]} columns:", ", ".join(scores.columns))
scores.sort_values("revenue_at_risk", ascending=False).head(8)[
    [
        "customer_id",
        "churn_probability",
        "repurchase_probability",
        "expected_value_12m",
        "revenue_at_risk",
        "value_tier",
        "lifecycle_stage",
        "reason_1",
        "recommended_action",
    ]
]

# %%
scores[["churn_probability", "repurchase_probability", "expected_value_12m", "revenue_at_risk"]].describe().T

# %% [markdown]
# ## 3. Actions
#
# The recommended action comes from an ordered table of rules (data, `custml.scoring.DEFAULT_ACTION_TABLE`; the
# first matching rule wins). Counts per action, and where the actions land by value tier:

# %%
display(action_table_frame())
summary = scores_summary(scores)
actions = pd.Series(summary["actions"], name="customers").to_frame()
actions["share"] = actions["customers"] / actions["customers"].sum()
actions["revenue at risk"] = scores.groupby("recommended_action")["revenue_at_risk"].sum()
actions

# %%
pd.crosstab(scores["recommended_action"], scores["value_tier"], margins=True)

# %% [markdown]
# ## 4. Drift: does today's input look like the training data?
#
# For each model feature the scorer compares the distribution among the scored customers with the training
# reference stored with the model (population stability index, PSI: < 0.1 ok, 0.1-0.25 warn, >= 0.25 drift).
# On this month's own export a few features sit in the warning band, as expected when the scored population is a
# quarter later than the latest training cut-off (and right after the December peak, for the spend trend):

# %%
display(scored.drift.groupby(["model", "status"]).size().unstack(fill_value=0))
scored.drift[scored.drift["status"] != "ok"]

# %% [markdown]
# Now a shifted export: a price-list or currency change multiplies every order amount by 1.5, and a broken
# tracking pixel stops recording e-mail opens. Scoring it with `fail_on_drift=True` (`custml score
# --fail-on-drift`) still writes the scores and their meta, then raises `DriftError` naming the features.

# %%
raw = read_raw(demo.raw_dir)
shifted_dir = paths.data / "raw_shifted"
orders = raw["orders"].copy()
for col in ("gross_amount", "discount_amount", "net_amount"):
    orders[col] = orders[col] * 1.5
interactions = raw["interactions"][raw["interactions"]["kind"] != "email_open"]
for name, table in {**raw, "orders": orders, "interactions": interactions}.items():
    write_table(table, shifted_dir / f"{name}.parquet")
shifted_out = paths.scores / "scores_shifted.parquet"
try:
    shifted = ScoreSettings(data=shifted_dir, as_of=str(demo.as_of), out=shifted_out, allow_demo_key=True)
    run_step("score", shifted.model_copy(update={"fail_on_drift": True}), StepContext.for_paths(paths))
    print("no drift detected")
except DriftError as exc:
    print("DriftError:", str(exc)[:400], "...")
shifted_drift = pd.DataFrame(
    [row.model_dump() for row in ScoreMeta.read_json(shifted_out.with_suffix(".meta.json")).drift]
)
shifted_drift.groupby(["model", "status"]).size().unstack(fill_value=0)

# %%
top = shifted_drift.sort_values("psi", ascending=False).drop_duplicates("feature").head(12)
normal = scored.drift.drop_duplicates("feature").set_index("feature")["psi"]
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
y = range(len(top))
ax.barh([i + 0.2 for i in y], top["psi"].clip(upper=2), height=0.4, color="#C44E52", label="shifted export")
ax.barh(
    [i - 0.2 for i in y],
    normal.reindex(top["feature"]).to_numpy(),
    height=0.4,
    color="#4C72B0",
    label="this month",
)
ax.set_yticks(list(y), top["feature"])
ax.invert_yaxis()
for x, style in ((0.1, ":"), (0.25, "--")):
    ax.axvline(x, color="grey", linestyle=style)
ax.set(xlabel="PSI vs training reference (capped at 2)", title="Drift check: the features that moved most")
ax.legend(loc="lower right")
top[["model", "feature", "psi", "status"]]

# %% [markdown]
# ## 5. The management report
#
# The `report` step reads only the scores and their meta (never the models) and writes one self-contained HTML page:
# headline figures, segments, lifecycle, risk, drivers, model quality, actions and data quality. The figures
# behind it come from `custml.report.build_report_data`:

# %%
t0 = time.perf_counter()
report_path = run_step("report", ReportSettings(), ctx)  # this run's scores -> reports/report_<as-of>.html
t_report = time.perf_counter() - t0
report_rel = report_path.relative_to(paths.root).as_posix()
print(f"report: {report_rel} ({report_path.stat().st_size / 1e3:,.0f} kB, {t_report:.1f} s)")
data = build_report_data(read_table(scored.out), meta)
kpis = pd.Series(vars(data.kpis), name="headline figures")
kpis.map(lambda v: f"{v:.1%}" if isinstance(v, float) and v < 1 else f"{v:,.0f}").to_frame()

# %%
display(data.segments.head(8))
data.actions

# %%
# Notebooks live in <project>/notebooks, so the report is one folder up from here.
IFrame(f"../{report_rel}", width="100%", height=600)

# %% [markdown]
# ## Conclusion
#
# *(numbers from the committed run: 10,000 persons, seed 0, dirt 0.02; building the pipeline took 24 s, the
# scoring job itself 5 s)*
#
# - The scoring job loaded both `@champion` models (test ROC AUC 0.808 for churn, 0.854 for repurchase) and
#   wrote one row per customer, 24 columns, with the model name and version on every row; the sidecar carries
#   the test metrics, calibration, drivers, the drift table and its verdict.
# - **Every input row is accounted for**: 10,200 raw customer records = 10,000 scored + 200 not scored, all 200
#   being duplicate records merged into another customer (none quarantined, none without history).
# - **Actions**: 44% of customers get an automated low-cost reactivation (low value and dormant or churned), 29%
#   no action, 15% a retention offer (medium value, churn probability >= 0.5), 6% onboarding, and the 611
#   high-value customers at risk get personal outreach: 6% of customers carrying 32% of the revenue at risk.
#   The "no action" group still holds 35% of the revenue at risk, spread thinly over customers below the 0.5
#   churn threshold: the first place to look if the budget allows a wider campaign.
# - **Drift** (one verdict for scoring and monitoring: PSI >= 0.25 *and* its KS or chi-square test rejecting at
#   1 %): on the month's own export nothing drifted; three feature-model pairs are in the warning band, led by
#   the spend trend (`monthly_spend_slope`, PSI 0.24 for churn), a seasonal shift worth watching rather than an
#   input fault. The shifted export (amounts × 1.5, e-mail opens lost) drifted 8 of 132 feature-model pairs: the
#   e-mail open rates (PSI 0.81-2.56), the spend trend (0.31) and spend per order (0.27), and the job raised
#   `DriftError` after writing its outputs, which is what a scheduler needs to hold the report back. Totals only
#   warn (PSI 0.12-0.13), because a 1.5× factor moves a customer by less than a decile of a long-tailed
#   distribution.
# - The management report is one offline HTML file (194 kB, rendered in 0.6 s from the scores and the meta
#   alone): revenue at risk 680,980 of 1,214,702 expected 12-month value, with Champions (42%) and Loyal (30%)
#   customers carrying 73% of the revenue at risk. Its headline churn rate is the model's expectation over the
#   customers with an order in the last year, with the same season's realised rate a year earlier beside it.
