"""The history's calendar: weekly rhythm, a growth trend and the shopping holidays that peak.

The holiday dates follow their rules (Black Friday is the day after the fourth Thursday of
November...), so any year works; `dbt/seeds/shopping_holidays.csv` lists the same days by name
for the marts (a unit test holds the two together).
"""

from __future__ import annotations

from datetime import date, timedelta

# Monday .. Sunday: weekends shop more.
WEEKDAY_FACTOR = (0.95, 0.9, 0.95, 1.0, 1.05, 1.2, 1.15)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holidays(year: int) -> dict[date, tuple[str, float]]:
    """The year's shopping days that stand out: name and traffic factor."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    black_friday = thanksgiving + timedelta(days=1)
    summer_sale = _nth_weekday(year, 7, 1, 2)  # the second Tuesday of July, two days
    days: dict[date, tuple[str, float]] = {
        summer_sale: ("Summer sale", 1.6),
        summer_sale + timedelta(days=1): ("Summer sale", 1.4),
        black_friday - timedelta(days=2): ("Black Friday week", 1.3),
        black_friday - timedelta(days=1): ("Black Friday week", 1.4),
        black_friday: ("Black Friday", 2.6),
        black_friday + timedelta(days=1): ("Black Friday weekend", 1.8),
        black_friday + timedelta(days=2): ("Black Friday weekend", 1.6),
        black_friday + timedelta(days=3): ("Cyber Monday", 2.1),
        date(year, 12, 24): ("Christmas Eve", 0.6),
        date(year, 12, 25): ("Christmas Day", 0.4),
        date(year, 12, 26): ("Boxing Day", 1.7),
        date(year, 1, 1): ("New Year's Day", 0.6),
    }
    for day in range(1, 21):  # the weeks of Christmas shopping
        days.setdefault(date(year, 12, day), ("Christmas shopping", 1.3))
    for day in range(2, 11):  # January sales
        days.setdefault(date(year, 1, day), ("January sales", 1.25))
    return days


def holiday(day: date) -> tuple[str, float] | None:
    return holidays(day.year).get(day)


def traffic_factor(day: date, progress: float) -> float:
    """How busy a day is: weekday, times the trend (0.8 → 1.25 over the history), times holiday."""
    peak = holiday(day)
    return WEEKDAY_FACTOR[day.weekday()] * (0.8 + 0.45 * progress) * (peak[1] if peak else 1.0)
