"""Conference reports: the QA Unit sending rule and each report's deadline states, on real dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import (
    LONDON_BOROUGH_DEFAULTS,
    DeadlineRule,
    DeadlineState,
    DeadlineUnit,
)
from sofs_tui.domain.enums import ConferenceKind, QauReason
from sofs_tui.domain.reports import (
    ReportTimeliness,
    SharingRuleError,
    check_can_send_to_qau,
    report_timeliness,
)

LONDON = ZoneInfo("Europe/London")
CAL = default_calendar()

# Wed 2 Dec 2026, 10:00 in London (GMT): 48 clock hours before is Mon 30 Nov, 10:00.
INITIAL_START = datetime(2026, 12, 2, 10, 0, tzinfo=LONDON)
INITIAL_DUE = datetime(2026, 11, 30, 10, 0, tzinfo=LONDON)
# Tue 1 Sep 2026, 10:00 in London (BST): 5 working days before, skipping the bank holiday on
# Mon 31 Aug, is Mon 24 Aug, 10:00.
REVIEW_START = datetime(2026, 9, 1, 10, 0, tzinfo=LONDON)
REVIEW_DUE = datetime(2026, 8, 24, 10, 0, tzinfo=LONDON)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def timeliness(
    *,
    kind: ConferenceKind = ConferenceKind.INITIAL,
    start: datetime = INITIAL_START,
    parent_ids: tuple[str, ...] = ("mum", "dad"),
    shared: dict[str, datetime] | None = None,
    sent_to_qau_at: datetime | None = None,
    exempt: bool = False,
    now: datetime,
) -> ReportTimeliness:
    return report_timeliness(
        kind=kind,
        conference_start=start,
        rules=LONDON_BOROUGH_DEFAULTS,
        calendar=CAL,
        parent_ids=parent_ids,
        shared_at_by_parent=shared or {},
        sent_to_qau_at=sent_to_qau_at,
        qau_exempt_from_sharing=exempt,
        now=now,
    )


# --- sending to the QA Unit --------------------------------------------------------------


@pytest.mark.parametrize("shares", [1, 2])
def test_report_shared_with_a_parent_may_go_to_the_qau(shares: int) -> None:
    check_can_send_to_qau(shares, None)


def test_report_not_shared_and_without_a_reason_is_refused_with_what_to_do() -> None:
    with pytest.raises(SharingRuleError) as caught:
        check_can_send_to_qau(0, None)
    message = str(caught.value)
    assert "not been shared with a parent" in message
    assert "Record when it was shared" in message
    assert "choose the reason" in message
    # The reasons on offer are named so the worker knows what counts.
    assert "redaction agreed with the chair" in message
    assert "parent not contactable" in message
    assert "parent excluded" in message


@pytest.mark.parametrize("reason", list(QauReason), ids=lambda r: r.value)
@pytest.mark.parametrize("note", ["", "   "])
def test_a_reason_without_a_note_is_refused(reason: QauReason, note: str) -> None:
    with pytest.raises(SharingRuleError) as caught:
        check_can_send_to_qau(0, reason, note)
    assert reason.label in str(caught.value)
    assert "who agreed it and when" in str(caught.value)


@pytest.mark.parametrize("reason", list(QauReason), ids=lambda r: r.value)
def test_a_reason_with_a_note_allows_sending(reason: QauReason) -> None:
    check_can_send_to_qau(0, reason, "Agreed with the chair, J. Smith, 27 Nov by phone.")


def test_sharing_rule_error_is_a_value_error() -> None:
    assert issubclass(SharingRuleError, ValueError)


# --- the due moments ---------------------------------------------------------------------


def test_initial_conference_reports_due_48_clock_hours_before() -> None:
    result = timeliness(now=INITIAL_DUE - 3 * DAY)
    assert result.parents_due == INITIAL_DUE
    assert result.qau_due == INITIAL_DUE
    local = result.parents_due.astimezone(LONDON)
    assert (local.strftime("%a"), local.day, local.hour, local.minute) == ("Mon", 30, 10, 0)


def test_review_reports_due_five_working_days_before_skipping_the_bank_holiday() -> None:
    result = timeliness(kind=ConferenceKind.REVIEW, start=REVIEW_START, now=REVIEW_DUE - 3 * DAY)
    assert result.parents_due == REVIEW_DUE
    assert result.qau_due == REVIEW_DUE
    local = result.qau_due.astimezone(LONDON)
    assert (local.strftime("%a"), local.month, local.day, local.hour) == ("Mon", 8, 24, 10)
    # 10:00 BST is 09:00 UTC.
    assert result.qau_due.astimezone(UTC).hour == 9


def test_qau_due_comes_from_the_qau_rule_not_the_parents_rule() -> None:
    rules = LONDON_BOROUGH_DEFAULTS.updated(
        to_qau={ConferenceKind.INITIAL: DeadlineRule(24, DeadlineUnit.CLOCK_HOURS)}
    )
    result = report_timeliness(
        kind=ConferenceKind.INITIAL,
        conference_start=INITIAL_START,
        rules=rules,
        calendar=CAL,
        parent_ids=["mum"],
        shared_at_by_parent={},
        sent_to_qau_at=None,
        qau_exempt_from_sharing=False,
        now=INITIAL_DUE - DAY,
    )
    assert result.parents_due == INITIAL_DUE
    assert result.qau_due == INITIAL_START - 24 * HOUR


# --- sharing with parents ----------------------------------------------------------------


def test_both_parents_shared_on_time_is_done_on_time() -> None:
    shared = {"mum": INITIAL_DUE - 2 * DAY, "dad": INITIAL_DUE}
    result = timeliness(shared=shared, now=INITIAL_START)
    assert result.parents_state is DeadlineState.DONE_ON_TIME


def test_one_parent_of_two_shared_is_still_due() -> None:
    shared = {"mum": INITIAL_DUE - 2 * DAY}
    result = timeliness(shared=shared, now=INITIAL_DUE - 3 * DAY)
    assert result.parents_state is DeadlineState.DUE


def test_one_parent_of_two_shared_is_due_soon_in_the_last_day() -> None:
    shared = {"mum": INITIAL_DUE - 2 * DAY}
    result = timeliness(shared=shared, now=INITIAL_DUE - 2 * HOUR)
    assert result.parents_state is DeadlineState.DUE_SOON


def test_one_parent_of_two_shared_is_overdue_after_the_deadline() -> None:
    shared = {"mum": INITIAL_DUE - 2 * DAY}
    result = timeliness(shared=shared, now=INITIAL_DUE + HOUR)
    assert result.parents_state is DeadlineState.OVERDUE


def test_a_share_with_someone_not_a_parent_does_not_count() -> None:
    shared = {"mum": INITIAL_DUE - DAY, "aunt": INITIAL_DUE - DAY}
    result = timeliness(shared=shared, now=INITIAL_DUE + HOUR)
    assert result.parents_state is DeadlineState.OVERDUE


def test_last_parent_shared_after_the_deadline_is_done_late() -> None:
    shared = {"mum": INITIAL_DUE - DAY, "dad": INITIAL_DUE + timedelta(minutes=1)}
    result = timeliness(shared=shared, now=INITIAL_START)
    assert result.parents_state is DeadlineState.DONE_LATE


def test_review_report_shared_on_the_bank_holiday_is_late() -> None:
    bank_holiday = datetime(2026, 8, 31, 9, 0, tzinfo=LONDON)
    result = timeliness(
        kind=ConferenceKind.REVIEW,
        start=REVIEW_START,
        parent_ids=("mum",),
        shared={"mum": bank_holiday},
        now=REVIEW_START,
    )
    assert result.parents_state is DeadlineState.DONE_LATE


def test_no_parents_recorded_is_never_done() -> None:
    before = timeliness(parent_ids=(), now=INITIAL_DUE - 3 * DAY)
    after = timeliness(
        parent_ids=(),
        shared={"someone": INITIAL_DUE - DAY},
        sent_to_qau_at=INITIAL_DUE - DAY,
        now=INITIAL_DUE + HOUR,
    )
    assert before.parents_state is DeadlineState.DUE
    assert after.parents_state is DeadlineState.OVERDUE


def test_exempt_report_sent_on_time_counts_as_shared_at_the_sending_time() -> None:
    result = timeliness(exempt=True, sent_to_qau_at=INITIAL_DUE - HOUR, now=INITIAL_START)
    assert result.parents_state is DeadlineState.DONE_ON_TIME


def test_exempt_report_sent_late_counts_as_shared_late() -> None:
    result = timeliness(exempt=True, sent_to_qau_at=INITIAL_DUE + HOUR, now=INITIAL_START)
    assert result.parents_state is DeadlineState.DONE_LATE


def test_exempt_report_not_yet_sent_is_not_done() -> None:
    result = timeliness(exempt=True, sent_to_qau_at=None, now=INITIAL_DUE + HOUR)
    assert result.parents_state is DeadlineState.OVERDUE


def test_sending_to_the_qau_without_exemption_does_not_count_as_sharing() -> None:
    result = timeliness(sent_to_qau_at=INITIAL_DUE - DAY, now=INITIAL_DUE + HOUR)
    assert result.parents_state is DeadlineState.OVERDUE
    assert result.qau_state is DeadlineState.DONE_ON_TIME


# --- sending to the QA Unit, the state -----------------------------------------------------


def test_qau_state_done_on_time_when_sent_by_the_deadline() -> None:
    result = timeliness(sent_to_qau_at=INITIAL_DUE, now=INITIAL_START)
    assert result.qau_state is DeadlineState.DONE_ON_TIME


def test_qau_state_done_late_when_sent_after_the_deadline() -> None:
    shared = {"mum": INITIAL_DUE - DAY, "dad": INITIAL_DUE - DAY}
    result = timeliness(shared=shared, sent_to_qau_at=INITIAL_DUE + HOUR, now=INITIAL_START)
    assert result.parents_state is DeadlineState.DONE_ON_TIME
    assert result.qau_state is DeadlineState.DONE_LATE


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (INITIAL_DUE - 3 * DAY, DeadlineState.DUE),
        (INITIAL_DUE - 2 * HOUR, DeadlineState.DUE_SOON),
        (INITIAL_DUE + HOUR, DeadlineState.OVERDUE),
    ],
)
def test_qau_state_not_sent_follows_the_clock(now: datetime, state: DeadlineState) -> None:
    shared = {"mum": INITIAL_DUE - 4 * DAY, "dad": INITIAL_DUE - 4 * DAY}
    result = timeliness(shared=shared, now=now)
    assert result.qau_state is state
