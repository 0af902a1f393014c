"""DORA performance bands: which of elite, high, medium, low a figure falls in.

Source: Google Cloud / DORA, "Accelerate State of DevOps Report 2023", the software delivery performance levels
table (elite, high, medium, low). The report gives each level as a range in words ("between once per day and once
per week") or, for the change failure rate, one typical value per level (5 %, 10 %, 15 %, 64 %). A band needs
bounds, so the words become the upper bounds below, and the failure rates become ranges the way Apache DevLake
reads the same table (0-5 %, 5-10 %, 10-15 %, above 15 %). docs/insights.md prints the table.
"""

from __future__ import annotations

from enum import StrEnum

HOUR, DAY, WEEK = 3600.0, 86_400.0, 604_800.0
MONTH = 30 * DAY
SOURCE = "Accelerate State of DevOps Report 2023 (DORA), software delivery performance levels"


class Band(StrEnum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def _lower_is_better(value: float | None, elite: float, high: float, medium: float) -> Band | None:
    if value is None:
        return None
    if value < elite:
        return Band.ELITE
    if value < high:
        return Band.HIGH
    if value < medium:
        return Band.MEDIUM
    return Band.LOW


def deployment_frequency(per_day: float | None) -> Band | None:
    """On demand (at least daily on average), at least weekly, at least monthly, else low. None: no data."""
    if per_day is None:
        return None
    if per_day >= 1:
        return Band.ELITE
    if per_day >= 1 / 7:
        return Band.HIGH
    if per_day >= 1 / 30:
        return Band.MEDIUM
    return Band.LOW


def lead_time(median_seconds: float | None) -> Band | None:
    """Less than one day, one week, one month; else low (one to six months and beyond)."""
    return _lower_is_better(median_seconds, DAY, WEEK, MONTH)


def change_failure_rate(rate: float | None) -> Band | None:
    """At most 5 %, 10 %, 15 %; else low."""
    if rate is None:
        return None
    return _lower_is_better(rate, 0.05 + 1e-12, 0.10 + 1e-12, 0.15 + 1e-12)


def recovery_time(median_seconds: float | None) -> Band | None:
    """Failed deployment recovery time: less than one hour, one day, one week; else low."""
    return _lower_is_better(median_seconds, HOUR, DAY, WEEK)


TABLE = (
    # (metric, elite, high, medium, low): what docs/insights.md and the page print
    ("Deployment frequency", "on demand (>= 1 a day)", ">= 1 a week", ">= 1 a month", "less often"),
    ("Lead time for changes", "< 1 day", "< 1 week", "< 1 month", ">= 1 month"),
    ("Change failure rate", "<= 5 %", "<= 10 %", "<= 15 %", "> 15 %"),
    ("Failed deployment recovery time", "< 1 hour", "< 1 day", "< 1 week", ">= 1 week"),
)
