"""Percentiles and weeks: the two conventions every insight figure shares (docs/insights.md, "Conventions")."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Summary:
    """Count and nearest-rank percentiles of a set of durations, in seconds (None when the set is empty)."""

    count: int
    median: float | None
    p75: float | None
    p90: float | None


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence: the value at rank ceil(p/100 * n).

    Always one of the observed values (no interpolation), so a figure can be checked by hand against the rows:
    the median of 4 values is the 2nd, p75 the 3rd, p90 the 4th.
    """
    if not ordered:
        raise ValueError("percentile of an empty sequence")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(values: Iterable[float]) -> Summary:
    ordered = sorted(values)
    if not ordered:
        return Summary(0, None, None, None)
    return Summary(len(ordered), percentile(ordered, 50), percentile(ordered, 75), percentile(ordered, 90))


def seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week holding `moment`."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def weeks_between(start: datetime, end: datetime) -> list[date]:
    """Every ISO week touching [start, end), oldest first."""
    first, weeks = week_of(start), []
    last = week_of(end - timedelta(microseconds=1))
    while first <= last:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def in_window(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end
