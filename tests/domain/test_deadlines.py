"""Report deadlines, their states and words, and the conference timescales."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sofs_tui.domain.calendar import WorkingCalendar, default_calendar
from sofs_tui.domain.deadlines import (
    LONDON_BOROUGH_DEFAULTS,
    DeadlineRule,
    DeadlineState,
    DeadlineUnit,
    ReportDeadlineRules,
    add_months,
    deadline_state,
    describe_time_left,
    first_core_group_due,
    first_review_due,
    icpc_due,
    next_review_due,
    report_deadline,
    time_left,
)
from sofs_tui.domain.enums import ConferenceKind

LONDON = ZoneInfo("Europe/London")
CAL = default_calendar()

HOURS_48 = DeadlineRule(48, DeadlineUnit.CLOCK_HOURS)
WORKING_DAYS_5 = DeadlineRule(5, DeadlineUnit.WORKING_DAYS)


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


# --- rules -------------------------------------------------------------------------------


def test_rule_rejects_negative_amount() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        DeadlineRule(-1, DeadlineUnit.WORKING_DAYS)


def test_rule_rejects_non_whole_amount() -> None:
    with pytest.raises(ValueError, match="whole number"):
        DeadlineRule(1.5, DeadlineUnit.CLOCK_HOURS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        DeadlineRule(True, DeadlineUnit.CLOCK_HOURS)


def test_rule_rejects_unknown_unit() -> None:
    with pytest.raises(ValueError):
        DeadlineRule(5, "fortnights")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (HOURS_48, "48 clock hours before"),
        (WORKING_DAYS_5, "5 working days before"),
        (DeadlineRule(1, DeadlineUnit.WORKING_DAYS), "1 working day before"),
        (DeadlineRule(3, DeadlineUnit.CALENDAR_DAYS), "3 calendar days before"),
        (DeadlineRule(16, DeadlineUnit.WORKING_HOURS), "16 working hours before"),
    ],
)
def test_rule_describes_itself_in_words(rule: DeadlineRule, words: str) -> None:
    assert rule.describe() == words


@pytest.mark.parametrize("unit", list(DeadlineUnit))
def test_rule_text_round_trips(unit: DeadlineUnit) -> None:
    rule = DeadlineRule(7, unit)
    assert rule.to_text() == f"7 {unit.value}"
    assert DeadlineRule.parse(rule.to_text()) == rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48 clock_hours", HOURS_48),
        ("  48 CLOCK_HOURS ", HOURS_48),
        ("5 working days", WORKING_DAYS_5),
        ("5 working-days", WORKING_DAYS_5),
        ("5 working days before", WORKING_DAYS_5),
        ("1 working_day", DeadlineRule(1, DeadlineUnit.WORKING_DAYS)),
        ("0 calendar_days", DeadlineRule(0, DeadlineUnit.CALENDAR_DAYS)),
    ],
)
def test_rule_parses_settings_text(text: str, expected: DeadlineRule) -> None:
    assert DeadlineRule.parse(text) == expected


def test_rule_parses_its_own_description() -> None:
    assert DeadlineRule.parse(WORKING_DAYS_5.describe()) == WORKING_DAYS_5


@pytest.mark.parametrize(
    "text",
    ["", "5", "working_days", "five working_days", "-5 working_days", "5.5 clock_hours"],
)
def test_rule_parse_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read deadline rule"):
        DeadlineRule.parse(text)


def test_rule_parse_names_the_known_units_for_an_unknown_one() -> None:
    with pytest.raises(ValueError, match=r"unknown unit 'fortnights'.*working_days"):
        DeadlineRule.parse("2 fortnights")


# --- report deadlines --------------------------------------------------------------------


def test_initial_report_due_48_clock_hours_before_monday_is_saturday() -> None:
    deadline = report_deadline(london(2026, 10, 12, 10), HOURS_48, CAL)
    assert deadline == london(2026, 10, 10, 10)


def test_48_clock_hours_before_monday_after_clocks_go_forward_is_nine_on_saturday() -> None:
    # Clocks go forward on Sunday 29 Mar 2026: Monday 10:00 BST is 09:00 UTC.
    deadline = report_deadline(london(2026, 3, 30, 10), HOURS_48, CAL)
    assert deadline == datetime(2026, 3, 28, 9, tzinfo=UTC)
    assert deadline.astimezone(LONDON).hour == 9


def test_48_clock_hours_before_monday_after_clocks_go_back_is_eleven_on_saturday() -> None:
    # Clocks go back on Sunday 25 Oct 2026: Monday 10:00 GMT is 10:00 UTC.
    deadline = report_deadline(london(2026, 10, 26, 10), HOURS_48, CAL)
    assert deadline == datetime(2026, 10, 24, 10, tzinfo=UTC)
    assert deadline.astimezone(LONDON).hour == 11


def test_review_report_due_five_working_days_before() -> None:
    deadline = report_deadline(london(2026, 9, 15, 10), WORKING_DAYS_5, CAL)
    assert deadline == london(2026, 9, 8, 10)


def test_review_report_deadline_moves_back_a_day_over_summer_bank_holiday() -> None:
    # Mon 31 Aug 2026 is not a working day: Fri 28, Thu 27, Wed 26, Tue 25, Mon 24.
    deadline = report_deadline(london(2026, 9, 1, 10), WORKING_DAYS_5, CAL)
    assert deadline == london(2026, 8, 24, 10)


def test_review_report_deadline_skips_easter() -> None:
    # Wed 8, Tue 7, (Easter Monday, Good Friday), Thu 2, Wed 1, Tue 31 Mar.
    deadline = report_deadline(london(2026, 4, 9, 10), WORKING_DAYS_5, CAL)
    assert deadline == london(2026, 3, 31, 10)


def test_working_day_deadline_keeps_wall_clock_across_clock_change() -> None:
    deadline = report_deadline(london(2026, 3, 31, 10), WORKING_DAYS_5, CAL)
    assert deadline == london(2026, 3, 24, 10)
    assert deadline == datetime(2026, 3, 24, 10, tzinfo=UTC)  # GMT then


def test_working_day_deadline_skips_council_closure() -> None:
    closed = WorkingCalendar(extra_closures=frozenset({date(2026, 9, 10)}))
    deadline = report_deadline(london(2026, 9, 15, 10), WORKING_DAYS_5, closed)
    assert deadline == london(2026, 9, 7, 10)


def test_calendar_day_deadline_keeps_wall_clock_across_clock_change() -> None:
    rule = DeadlineRule(2, DeadlineUnit.CALENDAR_DAYS)
    deadline = report_deadline(london(2026, 3, 30, 10), rule, CAL)
    assert deadline == london(2026, 3, 28, 10)
    assert deadline == datetime(2026, 3, 28, 10, tzinfo=UTC)


def test_calendar_day_deadline_counts_weekends_and_holidays() -> None:
    rule = DeadlineRule(5, DeadlineUnit.CALENDAR_DAYS)
    assert report_deadline(london(2026, 9, 1, 10), rule, CAL) == london(2026, 8, 27, 10)


def test_working_hour_deadline_counts_only_office_hours() -> None:
    # Tue 09-10 (1 h), Mon 31 Aug bank holiday, Fri 28 (8 h), Thu 27 from 10:00 (7 h).
    rule = DeadlineRule(16, DeadlineUnit.WORKING_HOURS)
    assert report_deadline(london(2026, 9, 1, 10), rule, CAL) == london(2026, 8, 27, 10)


@pytest.mark.parametrize("unit", list(DeadlineUnit))
def test_deadline_is_in_utc(unit: DeadlineUnit) -> None:
    deadline = report_deadline(london(2026, 9, 15, 10), DeadlineRule(2, unit), CAL)
    assert deadline.tzinfo is UTC


def test_conference_start_given_in_utc_is_the_same_instant() -> None:
    start_utc = datetime(2026, 9, 15, 9, tzinfo=UTC)  # 10:00 BST
    assert report_deadline(start_utc, WORKING_DAYS_5, CAL) == london(2026, 9, 8, 10)


def test_zero_amount_deadline_is_the_conference_start() -> None:
    start = london(2026, 9, 15, 10)
    for unit in DeadlineUnit:
        assert report_deadline(start, DeadlineRule(0, unit), CAL) == start


def test_deadline_rejects_naive_conference_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        report_deadline(datetime(2026, 9, 15, 10), HOURS_48, CAL)


# --- rule sets ---------------------------------------------------------------------------


def test_london_defaults_initial_48_clock_hours_review_5_working_days() -> None:
    for rules_for in (LONDON_BOROUGH_DEFAULTS.for_parents, LONDON_BOROUGH_DEFAULTS.for_qau):
        assert rules_for(ConferenceKind.INITIAL) == HOURS_48
        assert rules_for(ConferenceKind.REVIEW) == WORKING_DAYS_5
        assert rules_for(ConferenceKind.TRANSFER_IN) == HOURS_48
        assert rules_for(ConferenceKind.PRE_BIRTH) == HOURS_48


def test_rule_set_requires_every_conference_kind() -> None:
    with pytest.raises(ValueError, match="no to-QAU deadline rule for: review"):
        ReportDeadlineRules(
            to_qau={
                ConferenceKind.INITIAL: HOURS_48,
                ConferenceKind.TRANSFER_IN: HOURS_48,
                ConferenceKind.PRE_BIRTH: HOURS_48,
            }
        )


def test_updating_a_rule_set_overrides_only_what_is_given() -> None:
    three_days = DeadlineRule(3, DeadlineUnit.WORKING_DAYS)
    rules = LONDON_BOROUGH_DEFAULTS.updated(to_parents={ConferenceKind.INITIAL: three_days})
    assert rules.for_parents(ConferenceKind.INITIAL) == three_days
    assert rules.for_qau(ConferenceKind.INITIAL) == HOURS_48
    assert rules.for_parents(ConferenceKind.REVIEW) == WORKING_DAYS_5
    assert LONDON_BOROUGH_DEFAULTS.for_parents(ConferenceKind.INITIAL) == HOURS_48


def test_rule_set_cannot_be_changed_in_place() -> None:
    source = {kind: HOURS_48 for kind in ConferenceKind}
    rules = ReportDeadlineRules(to_parents=source, to_qau=source)
    source[ConferenceKind.REVIEW] = WORKING_DAYS_5
    assert rules.for_parents(ConferenceKind.REVIEW) == HOURS_48
    with pytest.raises(TypeError):
        rules.to_parents[ConferenceKind.REVIEW] = WORKING_DAYS_5  # type: ignore[index]


def test_equal_rule_sets_hash_equal() -> None:
    assert hash(ReportDeadlineRules()) == hash(LONDON_BOROUGH_DEFAULTS)
    assert ReportDeadlineRules() == LONDON_BOROUGH_DEFAULTS


# --- states ------------------------------------------------------------------------------

DEADLINE = london(2026, 9, 8, 10)


@pytest.mark.parametrize(
    ("done_at", "now", "state"),
    [
        (None, DEADLINE - timedelta(days=3), DeadlineState.DUE),
        (None, DEADLINE - timedelta(hours=5), DeadlineState.DUE_SOON),
        (None, DEADLINE + timedelta(minutes=1), DeadlineState.OVERDUE),
        (DEADLINE - timedelta(days=1), DEADLINE + timedelta(days=9), DeadlineState.DONE_ON_TIME),
        (DEADLINE + timedelta(hours=2), DEADLINE + timedelta(days=9), DeadlineState.DONE_LATE),
    ],
)
def test_each_deadline_state(done_at: datetime | None, now: datetime, state: DeadlineState) -> None:
    assert deadline_state(DEADLINE, done_at, now) is state


def test_done_exactly_at_the_deadline_is_on_time() -> None:
    assert deadline_state(DEADLINE, DEADLINE, DEADLINE) is DeadlineState.DONE_ON_TIME
    one_second_late = DEADLINE + timedelta(seconds=1)
    assert deadline_state(DEADLINE, one_second_late, DEADLINE) is DeadlineState.DONE_LATE


def test_not_done_at_the_deadline_is_not_yet_overdue() -> None:
    assert deadline_state(DEADLINE, None, DEADLINE) is DeadlineState.DUE_SOON
    one_second_after = DEADLINE + timedelta(seconds=1)
    assert deadline_state(DEADLINE, None, one_second_after) is DeadlineState.OVERDUE


def test_due_soon_window_boundary() -> None:
    window = timedelta(hours=48)
    assert deadline_state(DEADLINE, None, DEADLINE - window, window) is DeadlineState.DUE_SOON
    earlier = DEADLINE - window - timedelta(seconds=1)
    assert deadline_state(DEADLINE, None, earlier, window) is DeadlineState.DUE


def test_deadline_state_compares_instants_not_wall_clocks() -> None:
    # 09:30 UTC is 10:30 in London in September: after the 10:00 BST deadline.
    now = datetime(2026, 9, 8, 9, 30, tzinfo=UTC)
    assert deadline_state(DEADLINE, None, now) is DeadlineState.OVERDUE


def test_deadline_state_rejects_naive_datetimes() -> None:
    naive = datetime(2026, 9, 8, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_state(DEADLINE, None, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_state(DEADLINE, naive, DEADLINE)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_state(naive, None, DEADLINE)


def test_state_words_and_symbols_are_distinct() -> None:
    assert [s.label for s in DeadlineState] == [
        "Due",
        "Due soon",
        "Overdue",
        "Done on time",
        "Done late",
    ]
    symbols = [s.symbol for s in DeadlineState]
    assert len(set(symbols)) == len(symbols)
    assert all(len(symbol) == 1 and not symbol.isspace() for symbol in symbols)


def test_only_overdue_and_done_late_are_problems() -> None:
    problems = {s for s in DeadlineState if s.is_problem}
    assert problems == {DeadlineState.OVERDUE, DeadlineState.DONE_LATE}


# --- time left ---------------------------------------------------------------------------


def test_time_left_is_negative_when_overdue() -> None:
    assert time_left(DEADLINE, DEADLINE + timedelta(hours=2)) == timedelta(hours=-2)
    assert time_left(DEADLINE, DEADLINE - timedelta(hours=2)) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("before_deadline", "words"),
    [
        (timedelta(days=3, hours=4, minutes=20), "3d 4h left"),
        (timedelta(days=3), "3d left"),
        (timedelta(hours=5, minutes=10, seconds=59), "5h 10m left"),
        (timedelta(hours=5), "5h left"),
        (timedelta(minutes=10), "10m left"),
        (timedelta(minutes=1), "1m left"),
        (timedelta(seconds=59), "due now"),
        (timedelta(0), "due now"),
        (-timedelta(seconds=59), "due now"),
        (-timedelta(minutes=3), "overdue by 3m"),
        (-timedelta(hours=5, minutes=10), "overdue by 5h 10m"),
        (-timedelta(days=2, hours=1, minutes=30), "overdue by 2d 1h"),
    ],
)
def test_describe_time_left(before_deadline: timedelta, words: str) -> None:
    assert describe_time_left(DEADLINE, DEADLINE - before_deadline) == words


def test_time_left_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        describe_time_left(DEADLINE, datetime(2026, 9, 8, 10))


# --- conference timescales ---------------------------------------------------------------


def test_icpc_due_fifteen_working_days_after_strategy_discussion() -> None:
    # Counting from Thu 20 Aug 2026 skips the weekends and Mon 31 Aug.
    assert icpc_due(date(2026, 8, 20), CAL) == date(2026, 9, 11)


def test_icpc_due_uses_the_councils_count() -> None:
    assert icpc_due(date(2026, 8, 20), CAL, working_days=10) == date(2026, 9, 4)


def test_first_core_group_due_over_christmas() -> None:
    # 22, 23, 24, 29, 30, 31 Dec 2026, 4, 5, 6, 7 Jan 2027.
    assert first_core_group_due(date(2026, 12, 21), CAL) == date(2027, 1, 7)


def test_first_review_uses_three_months_when_earlier() -> None:
    # 1 Feb + 3 months = 1 May; + 90 days = 2 May.
    assert first_review_due(date(2026, 2, 1)) == date(2026, 5, 1)


def test_first_review_uses_ninety_days_when_earlier() -> None:
    # 1 Jun + 3 months = 1 Sep; + 90 days = 30 Aug.
    assert first_review_due(date(2026, 6, 1)) == date(2026, 8, 30)


def test_first_review_three_months_from_30_november_clamps_to_february_end() -> None:
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    # 90 days is 28 Feb 2028, a day earlier than the leap-year month end.
    assert first_review_due(date(2027, 11, 30)) == date(2028, 2, 28)
    assert first_review_due(date(2026, 11, 30)) == date(2027, 2, 28)


def test_first_review_with_councils_own_timescales() -> None:
    assert first_review_due(date(2026, 6, 1), months=3, days=120) == date(2026, 9, 1)
    assert first_review_due(date(2026, 6, 1), months=2, days=90) == date(2026, 8, 1)


def test_next_review_six_months_later_clamped_to_month_end() -> None:
    assert next_review_due(date(2026, 3, 15)) == date(2026, 9, 15)
    assert next_review_due(date(2026, 8, 31)) == date(2027, 2, 28)
    assert next_review_due(date(2027, 8, 31)) == date(2028, 2, 29)
    assert next_review_due(date(2026, 8, 31), months=4) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@given(
    d=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    months=st.integers(min_value=-60, max_value=60),
)
def test_add_months_moves_whole_months_and_never_overflows(d: date, months: int) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    assert result.day == d.day or (result.day < d.day and (result + timedelta(days=1)).day == 1)


def test_timescales_reject_negative_counts() -> None:
    with pytest.raises(ValueError, match="working_days must not be negative"):
        icpc_due(date(2026, 8, 20), CAL, working_days=-1)
    with pytest.raises(ValueError, match="working_days must not be negative"):
        first_core_group_due(date(2026, 8, 20), CAL, working_days=-1)
    with pytest.raises(ValueError, match="days must not be negative"):
        first_review_due(date(2026, 8, 20), days=-1)
    with pytest.raises(ValueError, match="months must not be negative"):
        next_review_due(date(2026, 8, 20), months=-6)
