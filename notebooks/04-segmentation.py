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
# # 04 · Segmentation: RFM rules vs data-driven clusters vs the true personas
#
# **Question.** How do the rule-based segments (RFM, value and activity tiers, lifecycle) and the data-driven
# clusters carve up the customer base, and how much of the *true* persona structure of the synthetic world does
# each recover? Which features make the difference?
#
# **Set-up.** A clean synthetic world of `N_CUSTOMERS` persons (default 50,000, seed `SEED`) with five latent
# personas (one-timer, occasional, bargain hunter, loyal regular, big spender), cleaned and pseudonymised by
# the declared `clean` step; features as of the day after the data end (the `features` step); segments and
# clusters from `custml.segment.segment_customers` with the default `SegmentationRunParams` (what
# `custml segment` runs). The personas come from `truth/customers`, mapped to pseudonyms through the cleaner's id
# map; no modelling step ever reads them. Agreement is the adjusted Rand index (ARI: 0 = chance, 1 = identical
# partitions). Default run time about 2 minutes.

# %%
# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

# %% tags=["parameters"]
N_CUSTOMERS = 50_000
SEED = 0
SMALL = False

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.metrics import adjusted_rand_score

import custml
from custml.notebook import setup
from custml.pipeline import CleanSettings, FeaturesSettings, GenerateSettings, StepContext, run_steps
from custml.segment import (
    DEFAULT_CLUSTER_FEATURES,
    CustomerClusterer,
    SegmentationRunParams,
    segment_customers,
    segment_rules_frame,
)
from custml.segment.plots import (
    plot_cluster_profiles,
    plot_cluster_projection,
    plot_rfm_grid,
    plot_segment_sizes,
)
from custml.synth import read_truth

paths = setup()
print("custml", custml.__version__)

t0 = time.perf_counter()
steps = {
    "generate": GenerateSettings(n_customers=N_CUSTOMERS, seed=SEED, out=paths.raw / "nb04"),
    "clean": CleanSettings(allow_demo_key=True, write=False),
    "features": FeaturesSettings(write=False),
}
run = run_steps(list(steps), steps, context=StepContext.for_paths(paths))
raw_dir, clean, features = run.results["generate"], run.results["clean"], run.results["features"]
as_of = run.context.resolve_as_of()
t_setup = time.perf_counter() - t0

# The true persona of each pseudonymous customer (evaluation only).
truth = read_truth(raw_dir)["customers"][["customer_id", "persona"]].rename(
    columns={"customer_id": "raw_customer_id"}
)
persona_of = (
    clean.id_map.merge(truth, on="raw_customer_id")
    .drop_duplicates("customer_id")
    .set_index("customer_id")["persona"]
)
persona = features["customer_id"].map(persona_of).astype("string").fillna("unknown").to_numpy()
print(f"{len(features):,} customers as of {as_of.date()} (set-up {t_setup:.0f} s)")
pd.Series(persona).value_counts().rename("customers").to_frame().T

# %% [markdown]
# ## 1. Rule-based segments
#
# RFM scores are quintiles of recency, frequency and monetary value among customers with orders (prospects have
# none); the R × FM grid maps each score to a named segment. Value tiers cut the 12-month revenue, activity tiers
# compare the time since the last order with the customer's own cadence, and lifecycle stages combine tenure,
# recency and cadence. All thresholds are data (`SegmentParams`), listed by `segment_rules_frame()`.

# %%
t0 = time.perf_counter()
result = segment_customers(features, SegmentationRunParams())
t_segment = time.perf_counter() - t0
segments = result.segments
segments["persona"] = persona
display(segment_rules_frame().head(8))
rfm_table = (
    segments.assign(revenue_365d=features["revenue_365d"].fillna(0).to_numpy())
    .groupby("rfm_segment")
    .agg(customers=("customer_id", "size"), revenue_365d=("revenue_365d", "sum"))
    .assign(
        share_customers=lambda d: d["customers"] / d["customers"].sum(),
        share_revenue=lambda d: d["revenue_365d"] / d["revenue_365d"].sum(),
    )
    .sort_values("customers", ascending=False)
)
rfm_table

# %%
plot_rfm_grid(segments)

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.5), layout="constrained")
plot_segment_sizes(segments, "value_tier", value=features["revenue_365d"].fillna(0), ax=axes[0])
plot_segment_sizes(segments, "lifecycle_stage", value=features["revenue_365d"].fillna(0), ax=axes[1])
plt.show()

# %%
pd.crosstab(segments["lifecycle_stage"], segments["activity_tier"], margins=True)

# %% [markdown]
# ## 2. Data-driven clusters
#
# `CustomerClusterer` (median impute → de-skew → standardise → k-means) clusters the customers with orders on
# stable behavioural traits (`DEFAULT_CLUSTER_FEATURES`, printed below). k is chosen over 4..8 by silhouette on a
# sample; the curve shows all the criteria.

# %%
curve = result.k_curve.set_index("k")
chosen_k = int(curve.index[curve["chosen"]][0])
fig, axes = plt.subplots(1, 3, figsize=(13, 3), layout="constrained")
for ax, col in zip(axes, ["silhouette", "calinski_harabasz", "davies_bouldin"], strict=True):
    ax.plot(curve.index, curve[col], "o-")
    ax.axvline(chosen_k, color="grey", linestyle=":")
    ax.set(title=col.replace("_", " "), xlabel="k")
fig.suptitle(f"Choosing k: chosen k = {chosen_k} (best silhouette; dotted line)")
print("clustering features:", ", ".join(result.clusterer.feature_names_in_))
display(curve.drop(columns="chosen"))
print({k: round(v, 3) for k, v in result.metrics.items()})

# %%
profiles = result.profiles
profiles[["name", "n_customers", "share_customers", "revenue_share", "orders_share"]]

# %%
plot_cluster_profiles(profiles, result.cluster_names)

# %%
buyers = segments["cluster"].to_numpy() >= 0
X = features.loc[buyers].reset_index(drop=True)
plot_cluster_projection(
    result.clusterer,
    X,
    segments.loc[buyers, "cluster"].to_numpy(),
    names=result.cluster_names,
    random_state=SEED,
)

# %% [markdown]
# ## 3. RFM vs clusters vs the true personas
#
# Agreement (ARI) between each pair of partitions, on the customers with orders (the personas of prospects are
# not observable from behaviour at all).

# %%
P = segments.loc[buyers, "persona"].to_numpy()
labelings = {
    "persona (truth)": P,
    "rfm_segment": segments.loc[buyers, "rfm_segment"].to_numpy(),
    "lifecycle_stage": segments.loc[buyers, "lifecycle_stage"].to_numpy(),
    "value_tier": segments.loc[buyers, "value_tier"].to_numpy(),
    f"clusters (k={chosen_k})": segments.loc[buyers, "cluster"].to_numpy(),
}
agreement = pd.DataFrame(
    {a: {b: adjusted_rand_score(la, lb) for b, lb in labelings.items()} for a, la in labelings.items()}
)
agreement

# %%
# Which personas make up each cluster (column shares), and each RFM segment.
by_cluster = pd.crosstab(
    segments.loc[buyers, "persona"], segments.loc[buyers, "cluster_name"], normalize="columns"
)
display(by_cluster.style.format("{:.0%}").background_gradient(cmap="Blues", axis=None))
by_rfm = pd.crosstab(
    segments.loc[buyers, "persona"], segments.loc[buyers, "rfm_segment"], normalize="columns"
)
by_rfm.style.format("{:.0%}").background_gradient(cmap="Blues", axis=None)

# %% [markdown]
# ## 4. Which features make the difference?
#
# The same pipeline with k fixed at the number of personas (5), on different feature sets (and once with a
# Gaussian mixture instead of k-means), each fitted with three random seeds; mean ARI against the personas (and
# its range over the seeds), overall and among customers with at least three orders.

# %%
cluster_sets = {
    f"default ({len(DEFAULT_CLUSTER_FEATURES)} traits)": list(DEFAULT_CLUSTER_FEATURES),
    "frequency, spend per order, items, app share and sessions, e-mail": [
        "frequency_orders",
        "monetary_mean",
        "items_365d",
        "share_channel_app",
        "app_sessions_365d",
        "email_open_rate_365d",
    ],
    "RFM only": ["recency_days", "frequency_orders", "monetary_total"],
    "default + recency, tenure": [*DEFAULT_CLUSTER_FEATURES, "recency_days", "tenure_days"],
    "default + discount, channel mix": [
        *DEFAULT_CLUSTER_FEATURES,
        "discount_share_365d",
        "share_channel_web",
        "share_channel_store",
        "category_entropy",
    ],
    "default without app features": [c for c in DEFAULT_CLUSTER_FEATURES if "app" not in c],
    "default without e-mail": [c for c in DEFAULT_CLUSTER_FEATURES if "email" not in c],
    "default without monetary_mean": [c for c in DEFAULT_CLUSTER_FEATURES if c != "monetary_mean"],
}
repeat = X["frequency_orders"].to_numpy() >= 3
runs = [(name, cols, "kmeans") for name, cols in cluster_sets.items()]
runs.append(("default, Gaussian mixture", list(DEFAULT_CLUSTER_FEATURES), "gmm"))
rows = []
for name, cols, method in runs:
    cols = [c for c in cols if c in X.columns]
    t0 = time.perf_counter()
    # k-means on a sample depends on its random start: three seeds per feature set show the spread.
    aris, aris_repeat = [], []
    for rs in (SEED, SEED + 1, SEED + 2):
        labels = CustomerClusterer(method=method, features=cols, n_clusters=5, random_state=rs).fit(X).labels_
        aris.append(adjusted_rand_score(P, labels))
        aris_repeat.append(adjusted_rand_score(P[repeat], labels[repeat]))
    rows.append(
        {
            "feature set": name,
            "n features": len(cols),
            "ARI vs personas": np.mean(aris),
            "ARI min": np.min(aris),
            "ARI max": np.max(aris),
            "ARI, >= 3 orders": np.mean(aris_repeat),
            "seconds": time.perf_counter() - t0,
        }
    )
ablation = pd.DataFrame(rows).set_index("feature set")
ablation

# %%
fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
shown = ablation.iloc[::-1]
ax.barh(
    shown.index,
    shown["ARI vs personas"],
    # Clipped: with identical runs the mean can exceed the max by a rounding error.
    xerr=[
        (shown["ARI vs personas"] - shown["ARI min"]).clip(lower=0),
        (shown["ARI max"] - shown["ARI vs personas"]).clip(lower=0),
    ],
    color="#4C72B0",
)
ax.axvline(
    agreement.loc["rfm_segment", "persona (truth)"], color="#DD8452", linestyle="--", label="RFM segments"
)
ax.set(
    xlabel="adjusted Rand index vs true personas", title="Persona recovery by clustering feature set (k = 5)"
)
ax.legend(loc="lower right")
plt.show()

# %%
# How much persona signal is there at all? Persona mix by number of orders.
orders_band = pd.cut(X["frequency_orders"], [0, 1, 2, 4, 8, np.inf], labels=["1", "2", "3-4", "5-8", "9+"])
mix = pd.crosstab(orders_band, P, normalize="index")
mix.insert(0, "customers", orders_band.value_counts().reindex(mix.index))
mix.style.format("{:.0%}", subset=list(mix.columns[1:]))

# %% [markdown]
# ## Conclusion
#
# *(numbers from the committed run: 50,000 persons, seed 0; 48,130 customers with orders were clustered on the
# default traits monetary_mean, app_sessions_365d, loyalty_member, email_open_rate_365d)*
#
# - **RFM rules** give readable, stable cells: Champions and Loyal are 30% of customers and 91% of the last
#   year's revenue. But they agree with the personas hardly at all (ARI 0.073; lifecycle stages 0.049, value
#   tiers 0.157): they describe *where a customer is now* (recent, frequent, valuable), not *what kind of
#   customer they are*. "Lost" and "Hibernating" are 68-70% one-timers, "Champions" 39% loyal regulars.
# - **Clusters**: silhouette chose k = 8 (0.434; bootstrap stability ARI 0.98) and they recover the personas far
#   better than any rule-based labelling (ARI 0.408). The auto names read like the personas they hold: the
#   "in-store high-value frequent buyers" are 92% big spenders, the "marketplace mid-value frequent buyers" 76%
#   bargain hunters, the two "app-first, app-engaged ... high-value" clusters 75-86% loyal regulars, the
#   "low-value occasional buyers" 77% occasional and the "discount-driven low-value occasional buyers" 73%
#   one-timers.
# - **The features that made the difference** (k = 5 for all, mean of three seeds): the four default traits give
#   0.363 overall and 0.349 among customers with at least three orders. Spend per order matters most (0.242
#   without it), then app engagement (0.342, and 0.273 among repeat buyers); e-mail engagement adds little at
#   k = 5. The earlier six-trait default (frequency, spend per order, items, app share and sessions, e-mail) gives
#   0.266, and RFM alone 0.106: frequency and basket volume mostly measure how many orders a customer happened to
#   make, which splits personas. Adding lifecycle position (recency, tenure: 0.197) or discount and channel mix
#   (0.188) lowers the overall agreement, though the channel mix helps among repeat buyers (0.352). A Gaussian
#   mixture does not help (0.260).
# - **Why the ARI stays below the 0.6 the issue hoped for**: 47% of buyers (22,825) have exactly one order, and
#   that group is 50% one-timers, 31% occasional buyers and 14% bargain hunters; one purchase says little about a
#   persona. Persona recovery is bounded by how much behaviour has been observed more than by the algorithm.
