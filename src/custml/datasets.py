"""Public reference data sets: where CDNOW (and CLVTools' apparel data) live and how to read them.

CDNOW (Fader, Hardie and Lee 2005) is the classic buy-till-you-die benchmark. The files are not shipped with the
package; they are looked for in ``$CUSTML_SHARED_DIR`` (``data/cdnow``, ``cdnow`` or the folder itself), then in
``data/cdnow`` of ``shared/`` beside the project root (``ProjectPaths.shared``; the project root is
``$CUSTML_HOME`` or the checkout, see :mod:`custml.config`). The test suite sets ``$CUSTML_SHARED_DIR`` to
``shared/`` beside the checkout when it exists, so tests with ``CUSTML_HOME`` in a temporary folder still find
it. :func:`load_cdnow_transactions` returns a contract ``orders`` frame, so every custml stage that reads
orders (``rfm_summary``, features, realism metrics) runs on it unchanged.

The apparel data of the R package CLVTools (600 customers, weekly static and time-varying covariates; see the
folder's README) are looked for the same way in ``data/apparel``; :func:`load_apparel` reads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from custml.config import ENV_SHARED_DIR, get_paths
from custml.errors import DataFileError

__all__ = [
    "APPAREL_FILES",
    "CDNOW_FILES",
    "ENV_SHARED_DIR",
    "apparel_dir",
    "cdnow_dir",
    "load_apparel",
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "online_retail_dir",
    "parse_cdnow_transactions",
]

CDNOW_FILES = {
    "sample": "CDNOW_sample.txt",
    "master": "CDNOW_master.txt",
    "summary": "cdnow_customers_summary.csv",
    "summary_with_transactions": "cdnow_customers_summary_with_transactions.csv",
}


APPAREL_FILES = {
    "transactions": "apparelTrans.csv",
    "static": "apparelStaticCov.csv",
    "dynamic": "apparelDynCov.csv.gz",
    "dynamic_future": "apparelDynCovFuture.csv.gz",
}


def _candidates(name: str = "cdnow") -> list[Path]:
    out: list[Path] = []
    shared = os.environ.get(ENV_SHARED_DIR)
    if shared:
        base = Path(shared).expanduser()
        out += [base / "data" / name, base / name, base]
    out.append(get_paths().shared / "data" / name)
    return out


def _find(name: str, marker: str, label: str) -> Path:
    """The first candidate folder for ``name`` holding ``marker``; else a one-line error listing the tries."""
    tried = _candidates(name)
    for path in tried:
        if (path / marker).is_file():
            return path
    raise DataFileError(
        f"{label} not found; tried " + ", ".join(str(p) for p in tried) + f" (set ${ENV_SHARED_DIR})"
    )


def apparel_dir() -> Path:
    """The folder holding CLVTools' apparel files (searched like CDNOW's, in ``data/apparel``).

    Raises
    ------
    DataFileError
        If no candidate folder holds ``apparelTrans.csv``; the message lists the folders tried.
    """
    return _find("apparel", APPAREL_FILES["transactions"], "apparel data")


ONLINE_RETAIL_FILE = "online_retail_II_2009-2010.csv.gz"


def online_retail_dir() -> Path:
    """The folder holding the Online Retail II year (``online_retail_II_2009-2010.csv.gz``, searched like CDNOW's,
    in ``data/online_retail_ii``); read it through ``docs/mappings/online-retail-ii.yaml``.

    Raises
    ------
    DataFileError
        If no candidate folder holds the file; the message lists the folders tried.
    """
    return _find("online_retail_ii", ONLINE_RETAIL_FILE, "Online Retail II")


def load_apparel() -> dict[str, pd.DataFrame]:
    """CLVTools' apparel data: ``transactions`` (``Id, Date, Price``), ``static`` (``Id, Gender, Channel``),
    ``dynamic`` and ``dynamic_future`` (``Id, Cov.Date, High.Season, Gender, Channel``, one row per customer and
    week), with the dates parsed."""
    folder = apparel_dir()
    out = {key: pd.read_csv(folder / name) for key, name in APPAREL_FILES.items()}
    out["transactions"]["Date"] = pd.to_datetime(out["transactions"]["Date"])
    for key in ("dynamic", "dynamic_future"):
        out[key]["Cov.Date"] = pd.to_datetime(out[key]["Cov.Date"])
    return out


def cdnow_dir() -> Path:
    """The folder holding the CDNOW files (see module docstring for the search order).

    Raises
    ------
    DataFileError
        If no candidate folder holds ``CDNOW_sample.txt``; the message lists the folders tried.
    """
    return _find("cdnow", CDNOW_FILES["sample"], "CDNOW data")


def parse_cdnow_transactions(text: str, kind: Literal["sample", "master"]) -> pd.DataFrame:
    """Parse the text of ``CDNOW_sample.txt`` or ``CDNOW_master.txt`` into a contract ``orders`` frame.

    Columns: ``order_id`` (``"<customer>-<line>"``), ``customer_id`` (the file's id as a string; the sample's
    own 1..2357 id, which the published summaries use), ``order_ts`` (midnight of the purchase day),
    ``n_items`` (CDs), ``gross_amount`` = ``net_amount`` (dollars), ``discount_amount`` 0, ``is_refund`` False.

    Examples
    --------
    >>> text = " 00004 0001 19970101  2   29.33\\n 00004 0001 19970118  2   29.73\\n"
    >>> parse_cdnow_transactions(text, "sample")[["customer_id", "order_ts", "net_amount"]]
      customer_id   order_ts  net_amount
    0           1 1997-01-01       29.33
    1           1 1997-01-18       29.73
    """
    from io import StringIO

    if kind == "sample":
        names = ["master_id", "customer_id", "date", "n_cds", "value"]
        raw = pd.read_csv(StringIO(text), sep=r"\s+", header=None, names=names, dtype={"date": str})
    elif kind == "master":
        raw = pd.read_csv(StringIO(text), sep=r"\s+", dtype={"date": str})
        raw = raw.rename(columns={"number_of_cds": "n_cds", "dollar_value": "value"})
    else:
        raise ValueError(f"kind must be 'sample' or 'master', got {kind!r}")
    customer = raw["customer_id"].astype(np.int64).astype(str)
    line = raw.groupby(customer).cumcount().astype(str)
    value = raw["value"].astype(float)
    return pd.DataFrame(
        {
            "order_id": customer + "-" + line,
            "customer_id": customer,
            "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "n_items": raw["n_cds"].astype(np.int64),
            "gross_amount": value,
            "discount_amount": 0.0,
            "net_amount": value,
            "is_refund": False,
        }
    )


def load_cdnow_transactions(kind: Literal["sample", "master"] = "sample") -> pd.DataFrame:
    """CDNOW purchases as a contract ``orders`` frame (see :func:`parse_cdnow_transactions`).

    ``sample`` is the 1/10 sample of 2,357 customers the published BG/NBD and Pareto/NBD estimates use;
    ``master`` is the full cohort of 23,570 customers.
    """
    if kind not in ("sample", "master"):
        raise ValueError(f"kind must be 'sample' or 'master', got {kind!r}")
    path = cdnow_dir() / CDNOW_FILES[kind]
    return parse_cdnow_transactions(path.read_text(encoding="utf-8"), kind)


def load_cdnow_summary(with_transactions: bool = True) -> pd.DataFrame:
    """The published calibration summary of the CDNOW sample (weeks; calibration ends 1997-09-30).

    ``with_transactions=True``: ``ID, x, t_x, T, zbar`` (zbar = mean repeat-purchase value); otherwise
    ``ID, frequency, recency, T``.
    """
    key = "summary_with_transactions" if with_transactions else "summary"
    return pd.read_csv(cdnow_dir() / CDNOW_FILES[key])
