"""What a section hands its template: typed values inside sentences, numbers formatted per language, and the
view pieces (tables, charts, facts) drawn from frames and figures.

Nothing here knows a section: :class:`Fmt` carries the words of one language (assembled by
:mod:`custml.report.i18n` from the sections' own words) and formats everything a section shows with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from custml.report import plots
from custml.report.scores_table import RISK_BANDS

if TYPE_CHECKING:
    from custml.report.build import ReportData

__all__ = [
    "Category",
    "Cell",
    "Chart",
    "Column",
    "Count",
    "DateValue",
    "Fact",
    "Fmt",
    "Message",
    "MessageValue",
    "Money",
    "Percent",
    "Points",
    "Ratio",
    "Room",
    "Table",
    "Text",
    "Words",
    "format_count",
    "format_money",
    "format_percent",
    "translate_value",
]

#: Words of one part of the report: language -> label key -> text (``{name}`` placeholders).
Words = Mapping[str, Mapping[str, str]]


# --- typed values inside messages (the renderer formats each kind for the language) -------------------------
@dataclass(frozen=True)
class Count:
    """A number of customers or rows."""

    value: int


@dataclass(frozen=True)
class Money:
    """An amount in the report's currency."""

    value: float


@dataclass(frozen=True)
class Percent:
    """A share or probability in [0, 1], shown as a percentage with ``digits`` decimals."""

    value: float
    digits: int = 1


@dataclass(frozen=True)
class Points:
    """A difference of two percentages, in percentage points (0.012 -> '+1.2 points'; unsigned for a gap)."""

    value: float
    signed: bool = True


@dataclass(frozen=True)
class Ratio:
    """A multiple, such as a lift of 3.1x."""

    value: float


@dataclass(frozen=True)
class Category:
    """A category value from the scores (segment, stage, action) that the renderer may translate."""

    value: str


@dataclass(frozen=True)
class DateValue:
    """A date."""

    value: pd.Timestamp


@dataclass(frozen=True)
class Text:
    """Free text from the data, shown as is (for example a feature description)."""

    value: str


MessageValue = Count | Money | Percent | Points | Ratio | Category | DateValue | Text


@dataclass(frozen=True)
class Message:
    """A sentence to show: an i18n template key and the typed values it needs."""

    key: str
    params: Mapping[str, MessageValue] = field(default_factory=dict)


# --- numbers -----------------------------------------------------------------------------------------------------
def _scaled(value: float, size: float, unit: str) -> str:
    text = f"{value / size:,.1f}"
    # "€20k" on round axis ticks, "€19.7k" otherwise
    return (text[:-2] if text.endswith(".0") else text) + unit


def _compact(value: float, lang: str) -> str:
    a = abs(value)
    if lang == "zh":
        for size, unit in ((1e8, "亿"), (1e4, "万")):
            if a >= size:
                return _scaled(value, size, unit)
        return f"{value:,.0f}"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= 10 * size or (unit != "k" and a >= size):
            return _scaled(value, size, unit)
    return f"{value:,.0f}"


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CNY": "¥", "JPY": "¥"}


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_money(value: float, currency: str = "EUR", lang: str = "en", *, compact: bool = True) -> str:
    """An amount with its currency symbol, compact (``€1.2M``, ``€120.5万``) or in full (``€1,234``).

    Examples
    --------
    >>> format_money(1_234_567, "EUR", "en"), format_money(1_234_567, "EUR", "zh"), format_money(512.4, "USD")
    ('€1.2M', '€123.5万', '$512')
    """
    if _missing(value):
        return "–"
    symbol = _SYMBOLS.get(currency.upper(), currency.upper() + " ")
    body = _compact(value, lang) if compact else f"{value:,.0f}"
    sign = "-" if body.startswith("-") else ""
    return f"{sign}{symbol}{body.lstrip('-')}"


def format_percent(value: float, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage (``0.1234 -> '12.3%'``)."""
    if _missing(value):
        return "–"
    return f"{100 * value:.{digits}f}%"


def format_count(value: int) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}"


def translate_value(value: object, lang: str, values: Mapping[str, str]) -> str:
    """A category value in ``lang`` from ``values``; unknown values as they are (sentence-cased in English)."""
    text = "" if value is None else str(value)
    if text in values:
        return values[text]
    if lang == "en" and text[:1].islower():
        return (text[:1].upper() + text[1:]).replace("_", " ")
    return text


# --- view pieces -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One table cell (or header): its text, right-aligned when numeric, its kind and a CSS class."""

    text: str
    num: bool = False
    kind: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Table:
    """A table for a template: header cells, rows of cells, an optional totals row."""

    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    foot: tuple[Cell, ...] | None = None


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart with its id (``data-chart``) and accessible title."""

    id: str
    title: str
    svg: Markup


@dataclass(frozen=True)
class Fact:
    """A big number with its label."""

    label: str
    value: str


#: A table column: (frame column, label key, kind); kinds: count, money, percent, risk, float, signed,
#: category, id, text.
Column = tuple[str, str, str]
_NUMERIC = {"count", "money", "percent", "risk", "float", "signed"}


def _risk_class(kind: str, v: object) -> str:
    """CSS class colouring a churn-risk cell by its band (see :data:`custml.report.scores_table.RISK_BANDS`)."""
    if kind != "risk" or not isinstance(v, int | float) or math.isnan(v):
        return ""
    return next((f"band-{key}" for key, lo, hi in RISK_BANDS if lo <= v < hi), "")


@dataclass(frozen=True)
class Fmt:
    """Words and number formats of one language and currency: everything a section's view needs."""

    lang: str
    currency: str
    labels: Mapping[str, str]
    values: Mapping[str, str]

    def t(self, key: str, **params: object) -> str:
        """The label ``key`` with its ``{name}`` placeholders filled."""
        text = self.labels[key]
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        """Whether ``key`` is a label of this language."""
        return key in self.labels

    def tv(self, value: object) -> str:
        """A category value in this language (:func:`translate_value`)."""
        return translate_value(value, self.lang, self.values)

    def money(self, v: float) -> str:
        """An amount, compact."""
        return format_money(v, self.currency, self.lang)

    def money_full(self, v: float) -> str:
        """An amount in full."""
        return format_money(v, self.currency, self.lang, compact=False)

    def points(self, v: float, *, signed: bool = True) -> str:
        """A difference of shares in percentage points."""
        return self.t("points", value=f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}")

    def times(self, v: float) -> str:
        """A multiple (``3.1×``)."""
        return self.t("times", value=f"{v:.1f}")

    def signed_money(self, d: float) -> str:
        """A change of an amount with its sign."""
        return ("+" if d >= 0 else "-") + self.money(abs(d))

    def date(self, ts: pd.Timestamp | None) -> str:
        """A date in this language's style."""
        if ts is None:
            return "–"
        if self.lang == "zh":
            return f"{ts.year}年{ts.month}月{ts.day}日"
        return f"{ts.day} {ts.strftime('%b')} {ts.year}"

    def value(self, v: MessageValue) -> str:
        """A typed value inside a sentence."""
        if isinstance(v, Count):
            return format_count(v.value)
        if isinstance(v, Money):
            return self.money(v.value)
        if isinstance(v, Percent):
            return format_percent(v.value, v.digits)
        if isinstance(v, Points):
            return self.points(v.value, signed=v.signed)
        if isinstance(v, Ratio):
            return self.times(v.value) if v.value >= 1.5 else f"{v.value:.2f}"
        if isinstance(v, Category):
            return self.tv(v.value)
        if isinstance(v, DateValue):
            return self.date(v.value)
        return v.value

    def message(self, m: Message) -> str:
        """A sentence in this language."""
        return self.t(m.key, **{k: self.value(v) for k, v in m.params.items()})

    def messages(self, ms: Sequence[Message]) -> list[str]:
        """Sentences in this language."""
        return [self.message(m) for m in ms]

    def cell(self, kind: str, v: object) -> str:
        """A table cell's text by the column's kind."""
        if _missing(v):
            return "–"
        if kind == "count":
            return format_count(v)  # type: ignore[arg-type]  # count columns hold integers
        if kind == "money":
            return self.money_full(v)  # type: ignore[arg-type]
        if kind in ("percent", "risk"):
            return format_percent(v)  # type: ignore[arg-type]
        if kind == "category":
            return self.tv(v)
        if kind == "float":
            return f"{v:.2f}"
        if kind == "signed":
            return f"{v:+,d}"
        return str(v)

    def table(
        self, df: pd.DataFrame, columns: Sequence[Column], totals: Mapping[str, float] | None = None
    ) -> Table:
        """A table of ``df``'s ``columns``, with a totals row of ``totals`` (by frame column) when given."""
        head = tuple(Cell(self.t(label), kind in _NUMERIC) for _, label, kind in columns)
        rows = tuple(
            tuple(
                Cell(self.cell(kind, rec[col]), kind in _NUMERIC, kind, _risk_class(kind, rec[col]))
                for col, _, kind in columns
            )
            for rec in df.to_dict("records")
        )
        foot = None
        if totals is not None:
            foot = tuple(
                Cell(
                    self.t("total") if i == 0 else (self.cell(kind, totals[col]) if col in totals else ""),
                    kind in _NUMERIC,
                )
                for i, (col, _, kind) in enumerate(columns)
            )
        return Table(head, rows, foot)

    def chart(self, fig: Figure, chart_id: str, title_key: str) -> Chart:
        """A figure as an inline SVG chart titled by the label ``title_key``."""
        title = self.t(title_key)
        svg = plots.figure_to_svg(fig, id_prefix=chart_id, title=title)
        # The SVG is our own matplotlib output (labels escaped by matplotlib), safe to embed unescaped.
        return Chart(chart_id, title, Markup(svg))

    def labelled(self, df: pd.DataFrame, key: str, col: str) -> pd.Series:
        """``df[col]`` indexed by the translated ``df[key]`` (bar labels)."""
        return pd.Series(df[col].to_numpy(), index=[self.tv(v) for v in df[key]])


@dataclass(frozen=True)
class Room:
    """A section of the report as the page shell sees it.

    ``name`` names its template ``sections/<name>.html.j2`` (and is its anchor unless ``anchor`` is set); ``view`` turns the report's data
    into what the template shows (None: the section is left out of this report); ``toc`` is the label key of
    its entry in the contents (None: not listed); ``words`` are its labels in every language.
    """

    name: str
    words: Words
    view: Callable[[ReportData, Fmt], object | None]
    toc: str | None = None
    #: Its element id in the page, when it is not ``name``.
    anchor: str | None = None

    @property
    def template(self) -> str:
        """The template fragment of this section."""
        return f"sections/{self.name}.html.j2"
