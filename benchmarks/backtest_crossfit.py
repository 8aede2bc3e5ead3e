"""Experiment: calibrators fitted on out-of-fold booster scores over the whole training year (not kept).

For each backtest origin (the retail preset's cached table from ``benchmarks/backtest_seasons.py``), three
boosters are refitted with the shipped booster's number of trees, each leaving out one interleaved third of the
training cut-offs, so that every training month gets an out-of-fold score; a logistic calibrator is then fitted
on those scores plus the validation months, with and without the season inputs, and applied to the test month.

    .venv/bin/python benchmarks/backtest_seasons.py            # writes the cached table first
    .venv/bin/python benchmarks/backtest_crossfit.py
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.linear_model import LogisticRegression

from custml.models.backtest import backtest_plans
from custml.models.gbm import fit_booster
from custml.models.metrics import binary_metrics
from custml.models.params import TrainParams
from custml.models.predictor import season_features
from custml.models.train import train_model

table = pd.read_parquet(Path(__file__).resolve().parent / "out" / "seasons_retail_50000_0_churn_12.parquet")
cut = pd.to_datetime(table["cutoff"])
params = TrainParams(task="churn", shap_sample=10)
plans = backtest_plans(params, pd.Timestamp("2026-01-01"), 12, data_start="2023-01-01")


def ece(y: np.ndarray, p: np.ndarray) -> float:
    return binary_metrics(y, p)["ece"]


def clipped_logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, 1e-6, 1 - 1e-6))


for plan in plans[:6] + plans[9:10]:
    sub = table[cut.isin(plan.all).to_numpy()].reset_index(drop=True)
    r = train_model(sub, params=params, plan=plan)
    m = r.model
    sc = pd.to_datetime(sub["cutoff"])
    X = m.prepare(sub)
    y = sub["label"].astype(int).to_numpy()
    cats = list(m.categorical_levels)
    tr_c = list(plan.train)
    groups = [tr_c[i::3] for i in range(3)]  # interleaved: each group spans the year
    va = sc.isin(plan.validation).to_numpy()
    te = (sc == plan.test).to_numpy()
    oof = np.full(len(sub), np.nan)
    trees = m.booster.best_iteration or m.booster.num_trees()
    p2 = params.model_copy(update={"n_estimators": trees, "early_stopping_rounds": 10_000})
    for g in groups:
        hold = sc.isin(g).to_numpy()
        fit = sc.isin(tr_c).to_numpy() & ~hold
        b = fit_booster(X[fit], y[fit], X[va], y[va], p2, cats)
        oof[hold] = b.predict(X[hold], num_iteration=b.best_iteration or None)
    raw_val = m.predict_raw(sub[va])
    raw_te = m.predict_raw(sub[te])
    season = season_features(sub).to_numpy()
    rows_c = sc.isin(tr_c).to_numpy()
    Z_fit = np.column_stack([clipped_logit(np.r_[oof[rows_c], raw_val]), np.r_[season[rows_c], season[va]]])
    y_fit = np.r_[y[rows_c], y[va]]
    with_season = LogisticRegression(C=10.0, max_iter=1000).fit(Z_fit, y_fit)
    p_season = with_season.predict_proba(np.column_stack([clipped_logit(raw_te), season[te]]))[:, 1]
    plain = LogisticRegression(C=10.0, max_iter=1000).fit(Z_fit[:, :1], y_fit)
    p_plain = plain.predict_proba(clipped_logit(raw_te).reshape(-1, 1))[:, 1]
    yt = y[te]
    shipped = r.test_predictions["model"].to_numpy()
    print(
        plan.test.date(),
        f"real {yt.mean():.3f} shipped {ece(yt, shipped):.4f} ({shipped.mean():.3f}) crossfit_season "
        f"{ece(yt, p_season):.4f} ({p_season.mean():.3f}) crossfit_plain {ece(yt, p_plain):.4f} ({p_plain.mean():.3f})",
        flush=True,
    )
