"""Buy-till-you-die (BTYD) purchase models and customer lifetime value (CLV).

Turns a transaction log into the per-customer RFM summary ``(frequency, recency, T, monetary_value)``
(:mod:`~custml.models.btyd.rfm`) and fits the classic probabilistic models on it by maximum likelihood, one
module per model on a shared base (:mod:`~custml.models.btyd._base`), the layout of ``lifetimes``:

- :mod:`~custml.models.btyd.beta_geo`: BG/NBD (Fader, Hardie and Lee 2005);
- :mod:`~custml.models.btyd.pareto_nbd`: Pareto/NBD (Schmittlein, Morrison and Colombo 1987);
- :mod:`~custml.models.btyd.pareto_nbd_dynamic`: Pareto/NBD with time-varying covariates (Bachmann, Meierer
  and Naef 2021, as CLVTools fits it);
- :mod:`~custml.models.btyd.gamma_gamma`: the Gamma-Gamma spend model and CLV (Fader, Hardie and Lee 2005,
  "RFM and CLV").

The API follows ``lifetimes`` and scikit-learn: ``__init__`` only stores its arguments, ``fit`` returns
``self``, learned state ends in ``_`` and predictions take and return plain arrays (pandas Series are
accepted). No training data is kept on a fitted model. BG/NBD, Pareto/NBD and Gamma-Gamma take static
covariates (``purchase_covariates``, ``dropout_covariates``, ``spend_covariates``: frames of numeric columns)
in the parameterisation CLVTools and PyMC-Marketing share, with Hessian standard errors
(``standard_errors_``); ``GammaGammaFitter.customer_lifetime_value`` takes them together as
:class:`~custml.models.btyd.CustomerCovariates`.

Time is measured in whatever unit the RFM summary uses (weeks by default); the fitted rate parameters
(``alpha``, ``beta``) are in that unit and prediction horizons ``t`` must use it too.
"""

from custml.models.btyd._covariates import CustomerCovariates
from custml.models.btyd.beta_geo import BetaGeoFitter
from custml.models.btyd.gamma_gamma import GammaGammaFitter
from custml.models.btyd.pareto_nbd import ParetoNBDFitter
from custml.models.btyd.pareto_nbd_dynamic import (
    DynamicCovariates,
    ParetoNBDDynamicFitter,
    dynamic_covariates,
    static_as_dynamic,
)
from custml.models.btyd.rfm import rfm_summary

__all__ = [
    "BetaGeoFitter",
    "CustomerCovariates",
    "DynamicCovariates",
    "GammaGammaFitter",
    "ParetoNBDDynamicFitter",
    "ParetoNBDFitter",
    "dynamic_covariates",
    "rfm_summary",
    "static_as_dynamic",
]
