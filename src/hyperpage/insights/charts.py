"""Server-side SVG charts of the Insights page: geometry computed here, drawn by templates/insights.html.

No chart library and no inline style (the CSP allows neither): bars are <rect>s positioned by attributes, coloured
by CSS classes, each with a <title> so a pointer or a screen reader gets the exact figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

NONE = "\u2013"  # an en dash: nothing to measure
WIDTH, HEIGHT, PAD_TOP, PAD_BOTTOM, PAD_LEFT = 560, 180, 12, 22, 8


def human(seconds: float | None) -> str:
    """A duration as people say it: 45 s, 12 min, 3 h 10 min, 2 d 4 h."""
    if seconds is None:
        return NONE
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60} min" if s % 3600 >= 60 else f"{s // 3600} h"
    return f"{s // 86_400} d {s % 86_400 // 3600} h"


def count(value: float | None) -> str:
    return NONE if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True)
class Segment:
    y: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    label: str  # the week, under the bar
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    summary: str  # the aria-label: the chart in words
    bars: list[Bar]
    legend: list[tuple[str, str]]  # (css class, name)
    top: str  # the value the full height stands for
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    empty: bool = field(default=False)


Series = tuple[str, str, Sequence[float | None]]  # (name, css class, one value per week)


def weekly_chart(
    title: str, weeks: Sequence[date], series: Sequence[Series], fmt: Callable[[float | None], str]
) -> Chart:
    """Bars per week, the series stacked bottom-up in the order given; a missing value draws nothing."""
    totals = [sum(values[i] or 0 for _, _, values in series) for i in range(len(weeks))]
    peak = max(totals, default=0) or 1
    slot = (WIDTH - PAD_LEFT) / max(1, len(weeks))
    scale = (HEIGHT - PAD_TOP - PAD_BOTTOM) / peak
    bars = []
    for i, week in enumerate(weeks):
        y = float(HEIGHT - PAD_BOTTOM)
        segments = []
        for name, css, values in series:
            value = values[i]
            if not value:
                continue
            height = value * scale
            y -= height
            segments.append(Segment(round(y, 1), round(height, 1), css, f"week of {week:%d %b}: {name} {fmt(value)}"))
        bars.append(Bar(round(PAD_LEFT + i * slot + slot * 0.15, 1), round(slot * 0.7, 1), f"{week:%d %b}", segments))
    words = "; ".join(f"week of {w:%d %b}: {fmt(t)}" for w, t in zip(weeks, totals, strict=True))
    return Chart(
        title=title,
        summary=f"{title}. {words}",
        bars=bars,
        legend=[(css, name) for name, css, _ in series],
        top=fmt(peak),
        empty=not any(totals),
    )


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    css: str
    x: float
    width: float
    value: str


def breakdown(stages: Sequence[tuple[str, str, float | None]], width: int = WIDTH) -> list[Part]:
    """One horizontal bar split by stage medians (stacked medians: a picture of where time goes, not a total)."""
    total = sum(v or 0 for _, _, v in stages) or 1
    parts, x = [], 0.0
    for name, css, value in stages:
        w = (value or 0) / total * width
        parts.append(Part(name, css, round(x, 1), round(w, 1), human(value)))
        x += w
    return parts
