"""Relative date literals (`TODAY`, `LAST_N_DAYS:7`, `THIS_MONTH`…) as inclusive day ranges.

Salesforce resolves them in the user's time zone: the days are those of the `now` they are given
(an aware datetime in that zone). Weeks start on Sunday (the en_US locale).
"""

from __future__ import annotations

import datetime as dt

_ONE_DAY = dt.timedelta(days=1)

# Literals that take `:n`, and those that must not.
WITH_N = {
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
    "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS", "N_QUARTERS_AGO",
    "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
}
WITHOUT_N = {
    "TODAY", "YESTERDAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
    "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER", "LAST_QUARTER",
    "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
}


_FIRST_DAY, _LAST_DAY = dt.date(1, 1, 2).toordinal(), dt.date(9999, 12, 30).toordinal()
"""The first and last days a range may reach: a day in from either end of what dates represent, so
midnight there in any time zone, and the day after, still are. A larger `n` reaches no further."""


def _day(ordinal: int) -> dt.date:
    return dt.date.fromordinal(min(max(ordinal, _FIRST_DAY), _LAST_DAY))


def _month_start(index: int) -> int:
    """The ordinal of the first day of month `index` (year * 12 + month - 1), however far out."""
    if index < 12:
        return _FIRST_DAY - 1
    if index >= 10000 * 12:
        return _LAST_DAY + 1
    return dt.date(index // 12, index % 12 + 1, 1).toordinal()


def _days(first: int, count: int) -> tuple[dt.date, dt.date]:
    return _day(first), _day(first + count - 1)


def _months(first: int, count: int) -> tuple[dt.date, dt.date]:
    return _day(_month_start(first)), _day(_month_start(first + count) - 1)


def date_range(name: str, n: int | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day (both inclusive) a date literal covers on `today`."""
    k = n or 0
    day = today.toordinal()
    days = {"TODAY": (0, 1), "YESTERDAY": (-1, 1), "TOMORROW": (1, 1), "LAST_90_DAYS": (-90, 91),
            "LAST_N_DAYS": (-k, k + 1), "NEXT_90_DAYS": (1, 90), "NEXT_N_DAYS": (1, k), "N_DAYS_AGO": (-k, 1)}
    if name in days:
        shift, count = days[name]
        return _days(day + shift, count)
    week = day - (today.weekday() + 1) % 7  # weeks start on Sunday
    weeks = {"THIS_WEEK": (0, 1), "LAST_WEEK": (-1, 1), "NEXT_WEEK": (1, 1),
             "LAST_N_WEEKS": (-k, k), "NEXT_N_WEEKS": (1, k), "N_WEEKS_AGO": (-k, 1)}
    if name in weeks:
        shift, count = weeks[name]
        return _days(week + 7 * shift, 7 * count)
    month = today.year * 12 + today.month - 1
    months = {"THIS_MONTH": (0, 1), "LAST_MONTH": (-1, 1), "NEXT_MONTH": (1, 1),
              "LAST_N_MONTHS": (-k, k), "NEXT_N_MONTHS": (1, k), "N_MONTHS_AGO": (-k, 1)}
    if name in months:
        shift, count = months[name]
        return _months(month + shift, count)
    quarters = {"THIS_QUARTER": (0, 1), "LAST_QUARTER": (-1, 1), "NEXT_QUARTER": (1, 1),
                "LAST_N_QUARTERS": (-k, k), "NEXT_N_QUARTERS": (1, k), "N_QUARTERS_AGO": (-k, 1)}
    if name in quarters:
        shift, count = quarters[name]
        return _months(month - month % 3 + 3 * shift, 3 * count)
    years = {"THIS_YEAR": (0, 1), "LAST_YEAR": (-1, 1), "NEXT_YEAR": (1, 1),
             "LAST_N_YEARS": (-k, k), "NEXT_N_YEARS": (1, k), "N_YEARS_AGO": (-k, 1)}
    if name in years:
        shift, count = years[name]
        return _months(today.year * 12 + 12 * shift, 12 * count)
    raise ValueError(f"unknown date literal {name}")


def datetime_range(name: str, n: int | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The range as UTC instants: [start of first day, start of the day after the last), the days
    starting at midnight in `now`'s time zone."""
    first, last = date_range(name, n, now.date())
    return _midnight(first, now.tzinfo), _midnight(last + _ONE_DAY, now.tzinfo)


def _midnight(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone or dt.timezone.utc).astimezone(dt.timezone.utc)
