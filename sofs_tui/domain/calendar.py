"""The council's working calendar: working days, bank holidays and working hours.

Report deadlines and conference timescales count working days and hours, so the rules for
what counts live here, offline (England and Wales bank holidays come from `holidays`).

`holidays` is imported on first use, not with this module: importing it loads the module of
every country it knows (about 0.15 s), which the app's first frame must not wait for. The app
calls `warm_bank_holidays()` in a background thread at start-up; a `bank_holidays()` call made
meanwhile waits for that import to finish (Python's import lock) instead of repeating it.
Years the app's cache already knows (`remember_bank_holidays`) need no import at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

COUNCIL_TZ = ZoneInfo("Europe/London")

_ONE_DAY = timedelta(days=1)


#: Bank holidays by year that `holidays` gave earlier, handed over by the app from its cache
#: (`sofs_tui.holiday_cache`), so a start-up need not import `holidays` to know them.
_remembered: dict[int, frozenset[date]] = {}


def remember_bank_holidays(known: Mapping[int, Iterable[date]]) -> None:
    """Take these years' bank holidays as given (as `holidays` worked them out before);
    other years are still asked of `holidays`."""
    for year, days in known.items():
        _remembered[year] = frozenset(days)


def remembered_years() -> frozenset[int]:
    return frozenset(_remembered)


def _england_and_wales(year: int | None) -> HolidayBase:
    import holidays  # deferred: see the module docstring

    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def warm_bank_holidays() -> None:
    """Import `holidays` and its UK calendar now (call it from a background thread)."""
    _england_and_wales(None)


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays in `year`, substitute ("observed") days included."""
    remembered = _remembered.get(year)
    if remembered is not None:
        return remembered
    calendar = _england_and_wales(year)
    return frozenset(date(d.year, d.month, d.day) for d in calendar)


def require_aware(moment: datetime, what: str = "datetime") -> None:
    """Refuse a naive datetime: without a zone, deadlines would silently shift by an hour."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")


def _frozen_dates(dates: Iterable[date]) -> frozenset[date]:
    return dates if isinstance(dates, frozenset) else frozenset(dates)


@dataclass(frozen=True)
class WorkingCalendar:
    """When the council works: Monday to Friday, not on bank holidays or closure days."""

    tz: ZoneInfo = COUNCIL_TZ
    extra_closures: frozenset[date] = frozenset()
    day_start: time = time(9)
    day_end: time = time(17)

    def __post_init__(self) -> None:
        if self.day_start >= self.day_end:
            raise ValueError(
                f"the working day must start before it ends "
                f"(day_start={self.day_start}, day_end={self.day_end})"
            )
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError(
                "day_start and day_end are wall-clock times in tz; give them no tzinfo"
            )
        # Settings may give any collection of dates; keep the field hashable and immutable.
        object.__setattr__(self, "extra_closures", _frozen_dates(self.extra_closures))

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday, and neither a bank holiday nor a council closure day."""
        return d.weekday() < 5 and d not in bank_holidays(d.year) and d not in self.extra_closures

    def add_working_days(self, d: date, n: int) -> date:
        """The `n`th working day after `d` (before it when `n` is negative).

        `n == 0` returns `d` unchanged, even when `d` is not a working day.
        """
        return _add_working_days(self, d, n)

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after `start`, up to and including `end`.

        Negative when `end` is before `start`, so that for `n > 0`,
        `working_days_between(d, add_working_days(d, n)) == n`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            if self.is_working_day(d):
                count += 1
        return count

    def subtract_working_hours(self, moment: datetime, hours: float) -> datetime:
        """The latest moment that leaves `hours` of working time before `moment`.

        Only time between `day_start` and `day_end` on working days (wall clock in `tz`)
        counts. The result is in UTC.
        """
        require_aware(moment, "moment")
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        remaining = timedelta(hours=hours)
        if not remaining:
            return moment.astimezone(UTC)
        # Work in local wall-clock time: the working window never spans a clock change.
        local = moment.astimezone(self.tz).replace(tzinfo=None)
        day = local.date()
        cursor = min(local, datetime.combine(day, self.day_end))
        while True:
            window_start = datetime.combine(day, self.day_start)
            if self.is_working_day(day) and cursor > window_start:
                available = cursor - window_start
                if remaining <= available:
                    return self._to_utc(cursor - remaining)
                remaining -= available
            day -= _ONE_DAY
            cursor = datetime.combine(day, self.day_end)

    def _to_utc(self, wall_clock: datetime) -> datetime:
        return wall_clock.replace(tzinfo=self.tz).astimezone(UTC)


@lru_cache(maxsize=4096)
def _add_working_days(calendar: WorkingCalendar, d: date, n: int) -> date:
    """Remembered: a caseload page asks the same question for hundreds of reports (the
    answer depends only on the calendar, which is immutable, the day and `n`)."""
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if calendar.is_working_day(d):
            remaining -= 1
    return d


def default_calendar() -> WorkingCalendar:
    """The calendar of a London borough with no extra closure days."""
    return WorkingCalendar()
