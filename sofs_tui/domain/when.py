"""Dates and times as a social worker types them ("2026-12-01 10:00", "today 15:30", "now"),
read as the council's local time. Pure: the caller passes "now", so tests and clocks agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sofs_tui.domain.calendar import COUNCIL_TZ

WHEN_EXAMPLE = "2026-12-01 10:00, today 15:30 or now"
DAY_EXAMPLE = "2026-12-01, 01/12/2026 or today"

_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_ISO_DAY = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_UK_DAY = re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$")
_ISO_SEPARATOR = re.compile(r"(\d)[Tt](\d)")
_CLOCK = re.compile(r"^(?P<h>\d{1,2}):(?P<min>\d{2})$")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class WhenError(ValueError):
    """Text that is not a date or time we can read; the message says how to write it."""


def _day_from(text: str, today: date) -> date:
    word = text.lower()
    if word in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[word])
    match = _ISO_DAY.match(text) or _UK_DAY.match(text)
    if match is None:
        raise WhenError(f"Write the date like {DAY_EXAMPLE}.")
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if not 1 <= month <= 12:
        raise WhenError(f"There is no month {month}. Write the date like {DAY_EXAMPLE}.")
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"There is no {day} {_MONTHS[month - 1]} {year}.") from None


def _clock_from(text: str) -> time:
    match = _CLOCK.match(text)
    if match is None:
        raise WhenError(f"Write the time with hours and minutes, like {WHEN_EXAMPLE}.")
    hours, minutes = int(match["h"]), int(match["min"])
    if hours > 23 or minutes > 59:
        raise WhenError("Hours go from 00 to 23 and minutes from 00 to 59 (24-hour clock).")
    return time(hours, minutes)


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`day` at `clock` in `tz`. A time the clocks skip (spring forward) is refused; a time
    that happens twice (autumn) is the first of the two, in summer time."""
    moment = datetime.combine(day, clock, tzinfo=tz)
    round_trip = moment.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise WhenError(
            f"{clock:%H:%M} does not exist on {day:%d %b %Y}: the clocks go forward an hour "
            "that night. Give a time an hour later."
        )
    return moment


def parse_day(text: str, today: date) -> date:
    """A date: "2026-12-01", "1/12/2026" (day first, as in the UK), "today", "tomorrow",
    "yesterday". Raises WhenError with a plain message."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise WhenError(f"Give a date, like {DAY_EXAMPLE}.")
    return _day_from(cleaned, today)


def parse_when(text: str, now: datetime, tz: ZoneInfo = COUNCIL_TZ) -> datetime:
    """A moment typed as local time in `tz`: "2026-12-01 10:00", "2026-12-01T10:00",
    "1/12/2026 10:00", "today 15:30", "tomorrow 9:00", "yesterday 16:45" or "now".

    Returns an aware datetime in `tz`. `now` must be aware; "now" returns it (in `tz`).
    Raises WhenError with a message that says how to write it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cleaned = " ".join(_ISO_SEPARATOR.sub(r"\1 \2", text).split())
    if cleaned.lower() == "now":
        return now.astimezone(tz)
    if not cleaned:
        raise WhenError(f"Give a date and time, like {WHEN_EXAMPLE}.")
    parts = cleaned.split(" ")
    if len(parts) == 1:
        day = _day_from(parts[0], now.astimezone(tz).date())
        raise WhenError(f"Add the time too, like {day:%Y-%m-%d} 10:00.")
    if len(parts) != 2:
        raise WhenError(f"Write the date and time like {WHEN_EXAMPLE}.")
    day = _day_from(parts[0], now.astimezone(tz).date())
    return _local(day, _clock_from(parts[1]), tz)


def format_when(moment: datetime | None, tz: ZoneInfo = COUNCIL_TZ) -> str:
    """The form `parse_when` reads back: "2026-12-01 10:00" in local time ("" for None)."""
    return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def format_day(day: date | None) -> str:
    """The form `parse_day` reads back: "2026-12-01" ("" for None)."""
    return "" if day is None else day.isoformat()


def describe_when(moment: datetime | None, tz: ZoneInfo = COUNCIL_TZ) -> str:
    """A moment for people, with the year: "Tue 1 Dec 2026, 10:00" (local time)."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def describe_day(day: date | None) -> str:
    """A date for people: "Tue 1 Dec 2026"."""
    return "-" if day is None else f"{day:%a} {day.day} {day:%b %Y}"
