"""Predictive models of customer behaviour: buy-till-you-die (BTYD) and CLV models, churn and repurchase models."""
