"""Typed dates and times become aware London-time moments, or a message saying how to type them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.when import (
    WhenError,
    describe_day,
    describe_when,
    format_day,
    format_when,
    parse_day,
    parse_when,
)

# Wednesday 25 November 2026, 09:30 in London (winter: UTC+0).
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_a_full_date_and_time_is_london_local_time_in_winter() -> None:
    moment = parse_when("2026-12-01 10:00", NOW)
    assert moment.tzinfo is not None
    assert moment.astimezone(UTC) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_a_summer_time_is_an_hour_ahead_of_utc() -> None:
    moment = parse_when("2026-07-01 10:00", NOW)
    assert moment.astimezone(UTC) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("today 15:30", datetime(2026, 11, 25, 15, 30, tzinfo=UTC)),
        ("Today 9:05", datetime(2026, 11, 25, 9, 5, tzinfo=UTC)),
        ("tomorrow 08:00", datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
        ("yesterday 16:45", datetime(2026, 11, 24, 16, 45, tzinfo=UTC)),
        ("  2026-12-01   10:00 ", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01T10:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("1/12/2026 10:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_relative_and_uk_forms_are_read(text: str, expected_utc: datetime) -> None:
    assert parse_when(text, NOW).astimezone(UTC) == expected_utc


def test_today_is_the_london_date_not_the_utc_date() -> None:
    # 23:30 UTC on 30 June is already 1 July in London (summer time).
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert parse_when("today 10:00", late).astimezone(COUNCIL_TZ).date() == date(2026, 7, 1)


@pytest.mark.parametrize("text", ["now", "NOW", " now "])
def test_now_is_the_clock_it_was_given(text: str) -> None:
    assert parse_when(text, NOW) == NOW


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Give a date and time"),
        ("2026-12-01", "Add the time too, like 2026-12-01 10:00"),
        ("today", "Add the time too"),
        ("2026-02-30 10:00", "There is no 30 February 2026"),
        ("2026-13-01 10:00", "There is no month 13"),
        ("2026-12-01 25:00", "Hours go from 00 to 23"),
        ("2026-12-01 10:75", "minutes from 00 to 59"),
        ("2026-12-01 10am", "hours and minutes"),
        ("next tuesday at 10", "Write the date and time like"),
        ("[@click=app.quit]", "Write the date like"),
    ],
)
def test_a_bad_value_gets_a_message_that_says_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(WhenError, match=says.replace("(", r"\(")):
        parse_when(text, NOW)


def test_a_time_skipped_by_the_spring_clock_change_is_refused() -> None:
    with pytest.raises(WhenError, match="clocks go forward"):
        parse_when("2027-03-28 01:30", NOW)


def test_a_time_repeated_in_autumn_is_the_first_one_in_summer_time() -> None:
    moment = parse_when("2026-10-25 01:30", NOW)
    assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("now", datetime(2026, 11, 25, 9, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("1/12/2026", date(2026, 12, 1)),
        ("today", date(2026, 11, 25)),
        ("Tomorrow", date(2026, 11, 26)),
        ("yesterday", date(2026, 11, 24)),
    ],
)
def test_a_day_is_read_day_first(text: str, expected: date) -> None:
    assert parse_day(text, date(2026, 11, 25)) == expected


@pytest.mark.parametrize("text", ["", "12/2026", "2026-02-29", "next week"])
def test_a_bad_day_gets_a_message(text: str) -> None:
    with pytest.raises(WhenError):
        parse_day(text, date(2026, 11, 25))


def test_people_read_the_year_and_local_time() -> None:
    assert describe_when(datetime(2026, 7, 1, 9, 0, tzinfo=UTC)) == "Wed 1 Jul 2026, 10:00"
    assert describe_when(None) == "-"
    assert describe_day(date(2026, 12, 1)) == "Tue 1 Dec 2026"
    assert format_day(date(2026, 12, 1)) == "2026-12-01" and format_day(None) == ""


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    )
)
def test_format_when_reads_back_to_the_same_minute(moment: datetime) -> None:
    minute = moment.replace(second=0, microsecond=0)
    local = minute.astimezone(COUNCIL_TZ)
    back = parse_when(format_when(minute), NOW)
    if local.fold:  # the second 01:xx of an autumn night reads back as the first one
        assert back.astimezone(UTC) == minute - timedelta(hours=1)
    else:
        assert back.astimezone(UTC) == minute
