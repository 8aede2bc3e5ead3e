"""Contract columns from source columns: names, arithmetic expressions, numbers in the file's own notation."""

from __future__ import annotations

import ast
import logging
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from custml.errors import MappingError
from custml.sources.mapping import TableSource, _did_you_mean

log = logging.getLogger(__name__)


# A column where more than this share of present values does not convert is a wrong option, not dirt.
MAX_UNPARSEABLE_SHARE = 0.5
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _to_number(s: pd.Series, source: TableSource) -> pd.Series:
    """Numbers from text written with the mapping's decimal mark and thousands separator (bad values: NaN)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    text = s.astype("str").where(s.notna(), None).str.strip().str.replace(r"\s", "", regex=True)
    if source.thousands:
        text = text.str.replace(source.thousands, "", regex=False)
    elif source.decimal in _GROUPING:
        # '1.006,39' with a comma decimal (or '1,006.39' with a point): the other mark can only group thousands
        sep = _GROUPING[source.decimal]
        grouped = text.str.fullmatch(_grouped_pattern(sep, source.decimal)).fillna(False).astype(bool)
        text = text.where(~grouped, text.str.replace(sep, "", regex=False))
    if source.decimal != ".":
        text = text.str.replace(source.decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


_GROUPING = {",": ".", ".": ","}


def _grouped_pattern(sep: str, decimal: str) -> str:
    """Digits grouped by three with ``sep``, an optional fraction after ``decimal`` ('12.345.678,90')."""
    return rf"[-+]?\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+(?:{re.escape(decimal)}\d*)?"


def _check_share(key: str, column: str, raw: pd.Series, bad: np.ndarray, what: str, hint: str) -> int:
    present = int(raw.notna().sum())
    n_bad = int(bad.sum())
    if present and n_bad > 1 and n_bad / present > MAX_UNPARSEABLE_SHARE:
        example = raw[bad].astype(str).iloc[0]
        raise MappingError(
            key, f"is not {what} in {n_bad:,} of {present:,} rows (e.g. {example!r}); {hint}", column, n_bad
        )
    return n_bad


_BACKTICK = re.compile(r"`([^`]+)`")


def _expression(spec: str, columns: list[str]) -> tuple[ast.expr, dict[str, str]]:
    """Parse ``spec`` (names, numbers, + - * /, parentheses; backticks around other names)."""
    aliases: dict[str, str] = {}

    def alias(m: re.Match[str]) -> str:
        name = f"_c{len(aliases)}"
        aliases[name] = m.group(1)
        return name

    text = _BACKTICK.sub(alias, spec)
    tree = ast.parse(text, mode="eval").body
    for node in ast.walk(tree):
        ok = isinstance(node, ast.BinOp | ast.UnaryOp | ast.Name | ast.Constant | ast.Load)
        ok = ok or type(node) in _OPS or isinstance(node, ast.USub | ast.UAdd)
        if not ok or (isinstance(node, ast.Constant) and not isinstance(node.value, int | float)):
            raise SyntaxError(f"not allowed in an expression: {ast.dump(node)[:40]}")
        if isinstance(node, ast.Name) and node.id not in aliases:
            aliases[node.id] = node.id
    return tree, aliases


def _evaluate(node: ast.expr, values: dict[str, pd.Series]) -> Any:
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # _expression admits int/float constants only
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    assert isinstance(node, ast.BinOp)
    return _OPS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))


def _column(
    table: str, contract_col: str, spec: str, df: pd.DataFrame, source: TableSource, numeric: bool
) -> tuple[pd.Series, str]:
    """The source values of one contract column (a copy of a column, or an evaluated expression)."""
    key = f"{table}.columns.{contract_col}"
    spec = str(spec).strip()
    if spec in df.columns:
        return df[spec], spec
    available = ", ".join(map(str, df.columns[:20]))
    try:
        tree, names = _expression(spec, list(df.columns))
    except SyntaxError:
        spaced = [c for c in map(str, df.columns) if " " in c and c in spec]
        hint = f"; names with spaces go in backticks: `{spaced[0]}`" if spaced else ""
        hint = hint or _did_you_mean(spec, list(map(str, df.columns)))
        raise MappingError(
            key, f"no column {spec!r} in the file, and not an expression{hint} (columns: {available})"
        ) from None
    missing = [src for src in names.values() if src not in df.columns]
    if missing:
        hint = _did_you_mean(missing[0], list(map(str, df.columns)))
        if " " in hint and not isinstance(tree, ast.Name):
            hint = hint.replace("?)", "? names with spaces go in backticks)")
        raise MappingError(key, f"no such column in the file{hint} (columns: {available})", missing[0])
    if isinstance(tree, ast.Name):  # an identifier that is a backticked column
        return df[names[tree.id]], names[tree.id]
    if not numeric:
        raise MappingError(key, f"an expression ({spec!r}) can only fill a numeric column")
    values: dict[str, pd.Series] = {}
    for alias, src in names.items():
        v = _to_number(df[src], source)
        bad = df[src].notna().to_numpy() & v.isna().to_numpy()
        _check_share(
            key,
            src,
            df[src],
            bad,
            "a number",
            f"check `decimal:` (now {source.decimal!r}) and `thousands:` (now {source.thousands!r})",
        )
        values[alias] = v
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _evaluate(tree, values)
    out = pd.Series(out, index=df.index, dtype="float64").replace([np.inf, -np.inf], np.nan)
    return out, spec


# --------------------------------------------------------------------------------------------------------
# SQL expressions (text, case, filters): checked here, evaluated in DuckDB (custml.sources.relations)
# --------------------------------------------------------------------------------------------------------

# Functions an expression may call: text, null handling, rounding, casts. Nothing that reads files or settings.
SQL_FUNCTIONS = frozenset(
    {
        "concat",
        "concat_ws",
        "trim",
        "ltrim",
        "rtrim",
        "lower",
        "upper",
        "substring",
        "substr",
        "left",
        "right",
        "length",
        "replace",
        "split_part",
        "lpad",
        "rpad",
        "regexp_replace",
        "coalesce",
        "nullif",
        "round",
        "abs",
        "floor",
        "ceil",
        "greatest",
        "least",
        "cast",
        "try_cast",
    }
)
SQL_AGGREGATES = frozenset({"sum", "count", "min", "max", "avg"})
_SQL_KEYWORDS = frozenset(
    {
        "case",
        "when",
        "then",
        "else",
        "end",
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "like",
        "ilike",
        "between",
        "true",
        "false",
        "as",
        "distinct",
    }
)
_SQL_TYPES = frozenset(
    {"double", "integer", "bigint", "varchar", "text", "date", "timestamp", "decimal", "boolean", "float"}
)
_SQL_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>'(?:[^']|'')*')
    |(?P<quoted>`[^`]+`|"[^"]+")
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<name>[^\W\d]\w*)
    |(?P<op>\|\||<=|>=|<>|!=|=|<|>|\+|-|\*|/|%|\(|\)|,)""",
    re.VERBOSE,
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_expression(
    key: str, spec: str, columns: list[str], *, aggregates: bool = False
) -> tuple[str, list[str]]:
    """``spec`` checked and rewritten for DuckDB: column names quoted, only literals, operators, keywords and
    the functions of :data:`SQL_FUNCTIONS` (and :data:`SQL_AGGREGATES` when ``aggregates``) admitted.

    Returns the SQL text and the source columns it reads. Names that are not identifiers go in backticks (or
    double quotes). A :class:`~custml.errors.MappingError` names ``key`` and the first thing not admitted.

    Examples
    --------
    >>> sql_expression("customers.columns.name", "concat(first, ' ', `last name`)", ["first", "last name"])
    ('concat ( "first" , \\' \\' , "last name" )', ['first', 'last name'])
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(spec):
        m = _SQL_TOKEN.match(spec, pos)
        if m is None:
            raise MappingError(key, f"{spec!r}: {spec[pos : pos + 10]!r} is not allowed in an expression")
        pos = m.end()
        if m.lastgroup != "space":
            tokens.append((str(m.lastgroup), m.group()))
    if not tokens:
        raise MappingError(key, "an empty expression")
    allowed = SQL_FUNCTIONS | SQL_AGGREGATES if aggregates else SQL_FUNCTIONS
    out: list[str] = []
    used: list[str] = []
    for i, (kind, text) in enumerate(tokens):
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        previous = tokens[i - 1][1].lower() if i else ""
        if kind == "quoted":
            name = text[1:-1]
            if name not in columns:
                raise MappingError(
                    key,
                    f"no column {name!r}{_did_you_mean(name, columns)} (columns: {', '.join(columns[:20])})",
                )
            out.append(_quote(name))
            used.append(name)
        elif kind == "name":
            lower = text.lower()
            type_name = previous == "as" and lower in _SQL_TYPES
            if type_name or (lower in _SQL_KEYWORDS and lower not in allowed and text not in columns):
                out.append(lower)
            elif following == "(":
                if lower not in allowed:
                    raise MappingError(
                        key,
                        f"{spec!r}: function {text!r} is not allowed; functions: {', '.join(sorted(allowed))}",
                    )
                out.append(lower)
            elif text in columns:
                out.append(_quote(text))
                used.append(text)
            else:
                raise MappingError(
                    key,
                    f"{spec!r}: no column {text!r}{_did_you_mean(text, columns)} (columns: "
                    f"{', '.join(columns[:20])})",
                    text,
                )
        else:
            out.append(text)
    sql = " ".join(out)
    return sql, list(dict.fromkeys(used))


def is_arithmetic(spec: str) -> bool:
    """Whether ``spec`` is a column or an arithmetic expression (evaluated in pandas, as before DuckDB)."""
    try:
        _expression(spec, [])
    except SyntaxError:
        return False
    return True
