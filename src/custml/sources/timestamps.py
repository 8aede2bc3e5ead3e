"""Timestamps of an export: formats, day or month first, Unix times, UTC offsets and local time zones."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from custml.errors import MappingError
from custml.sources.expressions import _check_share
from custml.sources.mapping import TableSource

log = logging.getLogger(__name__)


_DAYFIRST_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
)
_MONTHFIRST_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y")
_OTHER_FORMATS = ("%Y%m%d", "%Y%m%d%H%M%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def _best_format(text: pd.Series, formats: tuple[str, ...]) -> tuple[pd.Series, int]:
    """The parse of ``text`` under the format of ``formats`` that reads the most values, and that count.

    Formats with an offset (ISO-8601, ``%z``) are read as instants and returned as naive UTC.
    """
    best, best_n = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]"), -1
    for fmt in formats:
        instant = fmt == "ISO8601" or "%z" in fmt
        attempt = pd.to_datetime(text, format=fmt, errors="coerce", utc=instant)
        if instant:
            attempt = attempt.dt.tz_convert("UTC").dt.tz_localize(None)
        n_ok = int(attempt.notna().sum())
        if n_ok > best_n:
            best, best_n = attempt, n_ok
    return best, best_n


def _with_offsets(formats: tuple[str, ...]) -> tuple[str, ...]:
    """``formats`` and, for those with a time of day, the same followed by a UTC offset (``+0100``)."""
    return formats + tuple(f"{f}{sep}%z" for f in formats if "%H" in f for sep in (" ", ""))


# A timestamp text that carries its own UTC offset (or Z): never localised to the mapping's time zone.
_OFFSET_AT_END = r".*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT)"


# Unix time: seconds (10 digits) or milliseconds (13) since 1970 in UTC, as payment and web platforms export.
_EPOCH_UNITS = {"unix": ("s", r"\d{9,10}(?:\.\d+)?"), "unix_ms": ("ms", r"\d{12,13}")}


def _epoch_kind(text: pd.Series) -> str | None:
    """``"unix"``/``"unix_ms"`` when (nearly) every present value is a Unix time of this century, else None."""
    values = text.dropna().astype(str)
    if not len(values):
        return None
    for kind, (unit, pattern) in _EPOCH_UNITS.items():
        match = values.str.fullmatch(pattern)
        if match.mean() >= 0.95:
            when = pd.to_datetime(pd.to_numeric(values[match]), unit=unit, errors="coerce")
            if when.notna().all() and (when >= "2000-01-01").all() and (when < "2100-01-01").all():
                return kind
    return None


def _parse_epoch(text: pd.Series, kind: str) -> pd.Series:
    unit, pattern = _EPOCH_UNITS[kind]
    numbers = pd.to_numeric(
        text.where(text.str.fullmatch(pattern).fillna(False).astype(bool)), errors="coerce"
    )
    return pd.to_datetime(numbers, unit=unit, errors="coerce")


def _parse_without_format(key: str, column: str, text: pd.Series, dayfirst: bool) -> pd.Series:
    """ISO-8601 or compact dates, else day-first or month-first ones; refuses to guess the date order wrong."""
    n = int(text.notna().sum())
    parsed, n_ok = _best_format(text, ("ISO8601", *_OTHER_FORMATS))
    if n_ok == n:
        return parsed
    day, n_day = _best_format(text, _with_offsets(_DAYFIRST_FORMATS))
    month, n_month = _best_format(text, _with_offsets(_MONTHFIRST_FORMATS))
    if not dayfirst and n_day > n_month and n_day > n_ok:
        example = text[month.isna() & day.notna()].iloc[0]
        raise MappingError(
            key,
            f"dates are day first (e.g. {example!r}), read as month first: set `dayfirst: true` or "
            "`timestamp_format:` (e.g. '%d/%m/%Y %H:%M')",
            column,
            n_day - n_month,
        )
    if dayfirst and n_month > n_day and n_month > n_ok:
        example = text[day.isna() & month.notna()].iloc[0]
        raise MappingError(
            key,
            f"dates are month first (e.g. {example!r}) but `dayfirst: true` is set",
            column,
            n_month - n_day,
        )
    chosen, n_chosen = (day, n_day) if dayfirst else (month, n_month)
    return chosen if n_chosen > n_ok else parsed


def _timestamps(
    key: str, column: str, raw: pd.Series, source: TableSource
) -> tuple[pd.Series, pd.Series, int]:
    """(parsed naive-UTC datetimes, raw text of the values that did not parse, values that carried a UTC offset)
    for one timestamp column. ``timezone`` localises only the values without an offset of their own."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw
        has_offset = pd.Series(getattr(raw.dtype, "tz", None) is not None, index=raw.index)
    else:
        text = raw.astype("str").where(raw.notna(), None).str.strip()
        has_offset = text.str.fullmatch(_OFFSET_AT_END).fillna(False).astype(bool)
        epoch = source.timestamp_format if source.timestamp_format in _EPOCH_UNITS else None
        if epoch is None and not source.timestamp_format:
            epoch = _epoch_kind(text)  # 1704448800 is not a date in the year 1704
        if epoch is not None:
            parsed = _parse_epoch(text, epoch)
            has_offset = parsed.notna()  # Unix time is UTC: never localised
        elif source.timestamp_format:
            # a format with an offset (%z) reads mixed offsets only as UTC instants
            instant = "%z" in source.timestamp_format or "%Z" in source.timestamp_format
            parsed = pd.to_datetime(text, format=source.timestamp_format, errors="coerce", utc=instant)
            if instant:
                has_offset = parsed.notna()
        else:
            parsed = _parse_without_format(key, column, text, source.dayfirst)
        bad = text.notna().to_numpy() & parsed.isna().to_numpy()
        hint = (
            f"set `timestamp_format:` (now {source.timestamp_format!r})"
            if source.timestamp_format
            else "set `timestamp_format:` (e.g. '%d/%m/%Y %H:%M') or `dayfirst: true`"
        )
        _check_share(key, column, raw, bad, "a timestamp in the expected format", hint)
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    has_offset = has_offset & parsed.notna()
    if source.timezone and not has_offset.all():
        try:
            # A local time in the hour the clocks go back happens twice: it is read as the first (summer
            # time) one; one in the hour they skip is moved forward. Neither is a broken timestamp.
            summer_first = np.ones(len(parsed), dtype=bool)
            local = parsed.dt.tz_localize(
                source.timezone, ambiguous=summer_first, nonexistent="shift_forward"
            )
        except Exception as exc:  # zoneinfo raises several types for an unknown zone
            raise MappingError(
                f"{key.split('.')[0]}.timezone", f"unknown time zone {source.timezone!r} ({exc})"
            ) from None
        parsed = parsed.where(has_offset, local.dt.tz_convert("UTC").dt.tz_localize(None))
    parsed = parsed.astype("datetime64[us]")
    failed = raw.astype("str").where(raw.notna() & parsed.isna(), None)
    return parsed, failed, int(has_offset.sum())


def _timestamp_text(parsed: pd.Series, failed: pd.Series) -> pd.Series:
    """ISO text for the quality stage: parsed values, else the raw text (quarantined there as unparseable)."""
    text = parsed.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    return text.where(parsed.notna(), failed.astype(object)).astype("str")
