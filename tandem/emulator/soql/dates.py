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


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def _month_start(day: dt.date, shift: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: dt.date, shift: int = 0) -> dt.date:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return _month_start(first, 3 * shift)


def _months(start: dt.date, count: int) -> tuple[dt.date, dt.date]:
    return start, _month_start(start, count) - _ONE_DAY


def date_range(name: str, n: int | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day (both inclusive) a date literal covers on `today`."""
    k = n or 0
    if name == "TODAY":
        return today, today
    if name == "YESTERDAY":
        return today - _ONE_DAY, today - _ONE_DAY
    if name == "TOMORROW":
        return today + _ONE_DAY, today + _ONE_DAY
    if name in ("LAST_90_DAYS", "LAST_N_DAYS"):
        return today - dt.timedelta(days=90 if name == "LAST_90_DAYS" else k), today
    if name in ("NEXT_90_DAYS", "NEXT_N_DAYS"):
        return today + _ONE_DAY, today + dt.timedelta(days=90 if name == "NEXT_90_DAYS" else k)
    if name == "N_DAYS_AGO":
        return today - dt.timedelta(days=k), today - dt.timedelta(days=k)
    week = _week_start(today)
    weeks = {"THIS_WEEK": (0, 1), "LAST_WEEK": (-1, 1), "NEXT_WEEK": (1, 1),
             "LAST_N_WEEKS": (-k, k), "NEXT_N_WEEKS": (1, k), "N_WEEKS_AGO": (-k, 1)}
    if name in weeks:
        shift, count = weeks[name]
        start = week + dt.timedelta(weeks=shift)
        return start, start + dt.timedelta(weeks=count) - _ONE_DAY
    months = {"THIS_MONTH": (0, 1), "LAST_MONTH": (-1, 1), "NEXT_MONTH": (1, 1),
              "LAST_N_MONTHS": (-k, k), "NEXT_N_MONTHS": (1, k), "N_MONTHS_AGO": (-k, 1)}
    if name in months:
        shift, count = months[name]
        return _months(_month_start(today, shift), count)
    quarters = {"THIS_QUARTER": (0, 1), "LAST_QUARTER": (-1, 1), "NEXT_QUARTER": (1, 1),
                "LAST_N_QUARTERS": (-k, k), "NEXT_N_QUARTERS": (1, k), "N_QUARTERS_AGO": (-k, 1)}
    if name in quarters:
        shift, count = quarters[name]
        return _months(_quarter_start(today, shift), 3 * count)
    years = {"THIS_YEAR": (0, 1), "LAST_YEAR": (-1, 1), "NEXT_YEAR": (1, 1),
             "LAST_N_YEARS": (-k, k), "NEXT_N_YEARS": (1, k), "N_YEARS_AGO": (-k, 1)}
    if name in years:
        shift, count = years[name]
        return dt.date(today.year + shift, 1, 1), dt.date(today.year + shift + count - 1, 12, 31)
    raise ValueError(f"unknown date literal {name}")


def datetime_range(name: str, n: int | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The range as UTC instants: [start of first day, start of the day after the last), the days
    starting at midnight in `now`'s time zone."""
    first, last = date_range(name, n, now.date())
    return _midnight(first, now.tzinfo), _midnight(last + _ONE_DAY, now.tzinfo)


def _midnight(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone or dt.timezone.utc).astimezone(dt.timezone.utc)
