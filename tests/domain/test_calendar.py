"""The working calendar: bank holidays, closures, working days and working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sofs_tui.domain.calendar import (
    COUNCIL_TZ,
    WorkingCalendar,
    bank_holidays,
    default_calendar,
)

LONDON = ZoneInfo("Europe/London")
CAL = default_calendar()


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


# --- bank holidays -----------------------------------------------------------------------


def test_bank_holidays_2026_match_the_published_england_and_wales_list() -> None:
    weekday_holidays = {d for d in bank_holidays(2026) if d.weekday() < 5}
    assert weekday_holidays == {
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day falls on a Saturday: substitute Monday
    }


def test_christmas_on_a_saturday_gives_monday_and_tuesday_substitutes() -> None:
    # 25 Dec 2027 is a Saturday, 26 Dec a Sunday.
    assert not CAL.is_working_day(date(2027, 12, 27))
    assert not CAL.is_working_day(date(2027, 12, 28))
    assert CAL.is_working_day(date(2027, 12, 29))


def test_scottish_only_holiday_is_a_working_day_in_england() -> None:
    # 2 January is a bank holiday in Scotland only.
    assert CAL.is_working_day(date(2026, 1, 2))


# --- working days ------------------------------------------------------------------------


def test_ordinary_weekday_is_a_working_day() -> None:
    assert CAL.is_working_day(date(2026, 9, 16))  # Wednesday


@pytest.mark.parametrize("weekend_day", [date(2026, 9, 19), date(2026, 9, 20)])
def test_weekend_is_not_a_working_day(weekend_day: date) -> None:
    assert not CAL.is_working_day(weekend_day)


def test_good_friday_is_not_a_working_day() -> None:
    assert not CAL.is_working_day(date(2026, 4, 3))


def test_council_closure_day_is_not_a_working_day() -> None:
    closed = WorkingCalendar(extra_closures=frozenset({date(2026, 12, 24)}))
    assert CAL.is_working_day(date(2026, 12, 24))
    assert not closed.is_working_day(date(2026, 12, 24))


def test_closures_given_as_a_set_are_frozen() -> None:
    cal = WorkingCalendar(extra_closures={date(2026, 12, 24)})  # type: ignore[arg-type]
    assert cal.extra_closures == frozenset({date(2026, 12, 24)})
    assert hash(cal) == hash(WorkingCalendar(extra_closures=frozenset({date(2026, 12, 24)})))


def test_default_calendar_is_london_nine_to_five() -> None:
    cal = default_calendar()
    assert cal.tz == COUNCIL_TZ == LONDON
    assert (cal.day_start, cal.day_end) == (time(9), time(17))
    assert cal.extra_closures == frozenset()


def test_working_day_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="start before it ends"):
        WorkingCalendar(day_start=time(17), day_end=time(9))


def test_next_working_day_after_friday_skips_summer_bank_holiday() -> None:
    assert CAL.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)


def test_working_day_after_christmas_eve_2026_is_tuesday_29th() -> None:
    assert CAL.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_working_day_before_easter_tuesday_is_maundy_thursday() -> None:
    assert CAL.add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)


def test_adding_working_days_skips_closures() -> None:
    closed = WorkingCalendar(extra_closures=frozenset({date(2026, 12, 24)}))
    assert closed.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 29)


def test_adding_zero_working_days_keeps_a_weekend_date() -> None:
    assert CAL.add_working_days(date(2026, 9, 19), 0) == date(2026, 9, 19)


def test_five_working_days_from_saturday() -> None:
    assert CAL.add_working_days(date(2026, 9, 19), 5) == date(2026, 9, 25)
    assert CAL.add_working_days(date(2026, 9, 19), -5) == date(2026, 9, 14)


def test_working_days_between_counts_after_start_up_to_end() -> None:
    assert CAL.working_days_between(date(2026, 8, 28), date(2026, 9, 1)) == 1
    assert CAL.working_days_between(date(2026, 9, 14), date(2026, 9, 18)) == 4
    assert CAL.working_days_between(date(2026, 9, 14), date(2026, 9, 14)) == 0


def test_working_days_between_is_negative_backwards() -> None:
    assert CAL.working_days_between(date(2026, 9, 18), date(2026, 9, 14)) == -4


def test_working_days_between_over_christmas_2026() -> None:
    # 24, 29, 30, 31 Dec and 4 Jan; 25, 28 Dec and 1 Jan are bank holidays.
    assert CAL.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5


# --- working hours -----------------------------------------------------------------------


def test_working_hours_within_one_day() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 16, 15), 3)
    assert result == london(2026, 9, 16, 12)


def test_working_hours_carry_back_over_a_weekend() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 14, 10), 2)
    assert result == london(2026, 9, 11, 16)


def test_working_hours_skip_a_bank_holiday() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 1, 10), 8)
    assert result == london(2026, 8, 28, 10)


def test_working_hours_from_the_evening_start_at_close_of_business() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 16, 20), 1)
    assert result == london(2026, 9, 16, 16)


def test_working_hours_from_saturday_start_on_friday() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 19, 11), 1)
    assert result == london(2026, 9, 18, 16)


def test_working_hours_filling_a_day_exactly_give_its_opening_time() -> None:
    # The latest moment with 8 working hours before Tuesday 09:00 is Monday 09:00.
    result = CAL.subtract_working_hours(london(2026, 9, 15, 9), 8)
    assert result == london(2026, 9, 14, 9)


def test_fractional_working_hours() -> None:
    result = CAL.subtract_working_hours(london(2026, 9, 16, 12), 1.5)
    assert result == london(2026, 9, 16, 10, 30)


def test_working_hours_keep_wall_clock_across_clock_change() -> None:
    # Clocks went forward on Sunday 29 Mar 2026: Monday is BST, Thursday GMT.
    result = CAL.subtract_working_hours(london(2026, 3, 30, 10), 16)
    assert result == datetime(2026, 3, 26, 10, tzinfo=UTC)


def test_working_hours_result_is_utc() -> None:
    result = CAL.subtract_working_hours(london(2026, 7, 15, 15), 1)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 7, 15, 13, tzinfo=UTC)


def test_working_hours_accept_an_instant_in_another_zone() -> None:
    # 09:00 UTC in July is 10:00 in London.
    result = CAL.subtract_working_hours(datetime(2026, 7, 15, 9, tzinfo=UTC), 1)
    assert result == london(2026, 7, 15, 9)


def test_zero_working_hours_is_the_moment_itself() -> None:
    moment = london(2026, 9, 19, 11)  # Saturday: not working time, but no time to count
    assert CAL.subtract_working_hours(moment, 0) == moment


def test_working_hours_reject_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.subtract_working_hours(datetime(2026, 9, 16, 15), 1)


def test_working_hours_reject_negative_hours() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.subtract_working_hours(london(2026, 9, 16, 15), -1)


def test_working_hours_use_the_calendars_own_day() -> None:
    early = WorkingCalendar(day_start=time(8), day_end=time(16))
    assert early.subtract_working_hours(london(2026, 9, 15, 9), 2) == london(2026, 9, 14, 15)


# --- properties --------------------------------------------------------------------------

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
offsets = st.integers(min_value=-40, max_value=40)


@settings(max_examples=150, deadline=None)
@given(d=dates, n=offsets.filter(bool))
def test_adding_nonzero_working_days_lands_on_a_working_day(d: date, n: int) -> None:
    result = CAL.add_working_days(d, n)
    assert CAL.is_working_day(result)
    assert (result > d) == (n > 0)


@settings(max_examples=150, deadline=None)
@given(d=dates.filter(CAL.is_working_day), n=offsets)
def test_adding_then_removing_working_days_returns_to_a_working_day(d: date, n: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(d, n), -n) == d


@settings(max_examples=150, deadline=None)
@given(d=dates, n=st.integers(min_value=0, max_value=40))
def test_working_days_between_counts_what_was_added(d: date, n: int) -> None:
    assert CAL.working_days_between(d, CAL.add_working_days(d, n)) == n


@settings(max_examples=150, deadline=None)
@given(
    d=dates,
    minute_of_day=st.integers(min_value=0, max_value=24 * 60 - 1),
    quarter_hours=st.integers(min_value=1, max_value=200),
)
def test_working_hours_land_inside_working_time(
    d: date, minute_of_day: int, quarter_hours: int
) -> None:
    moment = datetime.combine(d, time(), tzinfo=LONDON) + timedelta(minutes=minute_of_day)
    result = CAL.subtract_working_hours(moment, quarter_hours / 4)
    local = result.astimezone(LONDON)
    assert result < moment
    assert CAL.is_working_day(local.date())
    assert time(9) <= local.time() < time(17)
