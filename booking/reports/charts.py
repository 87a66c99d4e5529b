"""Drawing the dashboard's charts: pure functions from numbers to SVG markup, drawn on the
server like the patient's pain chart (intake.clinical.pain_chart), with no chart library and
no script. Every text is escaped; colours and lines come from classes in
static/css/reports.css (the CSP forbids inline styles). A chart carries its numbers as a
table too, for screen readers and for reading exact values (templates/booking/reports/
_chart.html writes both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36  # margins: values left, months below
LETTER = 6.5  # about the width of a letter of an axis label, to know when to wrap one


@dataclass(frozen=True)
class Series:
    """One set of values, one per category; None where there is nothing to draw (no data,
    or too few patients to say)."""

    name: str
    css: str  # the class that colours it: series-1, series-2, series-3
    values: Sequence[float | None]


@dataclass(frozen=True)
class Reference:
    """A horizontal line across the plot: a figure to compare with (the articles')."""

    value: float
    label: str


@dataclass
class Chart:
    """A drawn chart and the same numbers as a table (first cell of a row: its heading)."""

    id: str
    title: str
    svg: SafeString
    legend: list[tuple[str, str]]  # (name, css class)
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def nice_ticks(low: float, high: float, *, most: int = 6) -> list[float]:
    """Round tick values from at most `low` to at least `high`, no more than `most` + 1."""
    if high <= low:
        high = low + 1
    span = high - low
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if span / step <= most:
            break
    else:
        step = 10 ** math.ceil(math.log10(span / most))
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    return [first + n * step for n in range(int(round((last - first) / step)) + 1)]


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


class _Plot:
    """The plot area and its scales: categories along x, values up y."""

    def __init__(self, categories: Sequence[str], ticks: list[float]):
        self.categories = list(categories)
        self.low, self.high = ticks[0], ticks[-1]
        self.ticks = ticks
        self.left, self.right = LEFT, WIDTH - RIGHT
        self.top, self.bottom = TOP, HEIGHT - BOTTOM
        self.band = (self.right - self.left) / max(1, len(self.categories))

    def x(self, index: int) -> float:
        """The left edge of a category's band."""
        return self.left + index * self.band

    def y(self, value: float) -> float:
        return round(
            self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top),
            1,
        )


def _open(chart_id: str, title: str, description: str, plot: _Plot, unit: str) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart-svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        '<g class="chart-grid" aria-hidden="true">',
    ]
    for tick in plot.ticks:
        y = plot.y(tick)
        css = "axis-line" if tick == 0 else "grid-line"
        parts.append(f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" class="{css}"/>')
        parts.append(
            f'<text x="{plot.left - 6}" y="{y}" class="axis-label" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_number(tick))}{escape(unit)}</text>'
        )
    for index, name in enumerate(plot.categories):
        x = round(plot.x(index) + plot.band / 2, 1)
        first, _, rest = name.partition(" ")
        if rest and len(name) * LETTER > plot.band:  # too wide for its band: two lines
            label = (
                f'<tspan x="{x}">{escape(first)}</tspan>'
                f'<tspan x="{x}" dy="13">{escape(rest)}</tspan>'
            )
            y = plot.bottom + 14
        else:
            label, y = escape(name), plot.bottom + 16
        parts.append(
            f'<text x="{x}" y="{y}" class="axis-label" text-anchor="middle">{label}</text>'
        )
    parts.append("</g>")
    return parts


def _references(plot: _Plot, references: Sequence[Reference], unit: str) -> list[str]:
    parts = ['<g class="chart-references">']
    for reference in references:
        y = plot.y(reference.value)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y}" y2="{y}" class="reference-line">'
            f"<title>{escape(reference.label)}: {escape(_number(reference.value))}"
            f"{escape(unit)}</title></line>"
        )
        parts.append(
            f'<text x="{plot.right - 4}" y="{y - 4}" class="reference-label" '
            f'text-anchor="end">{escape(reference.label)}</text>'
        )
    parts.append("</g>")
    return parts


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    top: float | None = None,
    references: Sequence[Reference] = (),
) -> SafeString:
    """Bars side by side in each category, one per series, on a scale from 0 to `top` (or
    to a round number above the largest value and reference). A missing value is a short
    dash on the axis, so an empty month reads as one rather than as zero."""
    values = [v for s in series for v in s.values if v is not None]
    highest = max([*values, *(r.value for r in references), top or 0, 1])
    plot = _Plot(categories, nice_ticks(0, highest))
    parts = _open(chart_id, title, description, plot, unit)
    parts.append('<g class="chart-bars">')
    gap = plot.band * 0.15
    width = (plot.band - 2 * gap) / max(1, len(series))
    for number, one in enumerate(series):
        for index, value in enumerate(one.values):
            x = round(plot.x(index) + gap + number * width, 1)
            label = f"{plot.categories[index]}, {one.name}"
            if value is None:
                parts.append(
                    f'<line x1="{x + 1}" x2="{round(x + width - 1, 1)}" y1="{plot.bottom - 2}" '
                    f'y2="{plot.bottom - 2}" class="missing-mark">'
                    f"<title>{escape(label)}: not shown</title></line>"
                )
                continue
            y = plot.y(value)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{round(width - 1, 1)}" '
                f'height="{round(plot.bottom - y, 1)}" class="bar {escape(one.css)}">'
                f"<title>{escape(label)}: {escape(_number(value))}{escape(unit)}</title></rect>"
            )
    parts.append("</g>")
    parts += _references(plot, references, unit)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def spread_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    means: Sequence[float | None],
    spreads: Sequence[float | None],
    css: str = "series-1",
    unit: str = "",
) -> SafeString:
    """A point per category at the mean, with a whisker one spread (a standard deviation)
    either side; zero drawn as the axis. A missing mean is a short dash on the zero line."""
    ends = [0.0, -2.0]  # with nothing drawn, still an axis that reads downwards as better
    for mean, spread in zip(means, spreads, strict=True):
        if mean is not None:
            ends += [mean - (spread or 0), mean + (spread or 0)]
    plot = _Plot(categories, nice_ticks(math.floor(min(ends)), math.ceil(max(ends))))
    parts = _open(chart_id, title, description, plot, unit)
    parts.append('<g class="chart-points">')
    for index, (mean, spread) in enumerate(zip(means, spreads, strict=True)):
        x = round(plot.x(index) + plot.band / 2, 1)
        label = plot.categories[index]
        if mean is None:
            parts.append(
                f'<line x1="{x - 6}" x2="{x + 6}" y1="{plot.y(0)}" y2="{plot.y(0)}" '
                f'class="missing-mark"><title>{escape(label)}: not shown</title></line>'
            )
            continue
        if spread:
            parts.append(
                f'<line x1="{x}" x2="{x}" y1="{plot.y(mean - spread)}" '
                f'y2="{plot.y(mean + spread)}" class="whisker {escape(css)}"/>'
            )
        text = f"{_number(round(mean, 1))}{unit}"
        if spread:
            text += f", spread ±{_number(round(spread, 1))}"
        parts.append(
            f'<circle cx="{x}" cy="{plot.y(mean)}" r="5" class="point {escape(css)}">'
            f"<title>{escape(label)}: {escape(text)}</title></circle>"
        )
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
