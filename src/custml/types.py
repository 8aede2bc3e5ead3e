"""Shared type names of the package: the shape of free-form JSON.

Structured files between stages are pydantic models (:mod:`custml.contracts`); these aliases are for the few
places that pass JSON through without reading it by key (MLflow params and tags, a manifest written as is).
"""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JSONObject", "JSONScalar", "JSONValue"]

#: A JSON scalar.
JSONScalar: TypeAlias = str | int | float | bool | None
#: Any JSON value: a scalar, a list of values or an object of values.
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
#: A JSON object.
JSONObject: TypeAlias = dict[str, JSONValue]
