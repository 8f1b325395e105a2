"""A report's sharing and sent-to-QAU times: never later than now (beyond a few minutes of clock
skew), and a mistaken sharing record or sent-to-QAU time can be taken back, as a change that
sync carries, with the deadlines due (or overdue) again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineState
from sofs_tui.domain.enums import ConferenceKind, QauReason, ShareMethod
from sofs_tui.domain.reports import CLOCK_SKEW_TOLERANCE
from sofs_tui.store import conferences, queries
from sofs_tui.store.changes import RecordNotFound
from sofs_tui.store.conference_views import ReportView, conference_view
from sofs_tui.store.queries import DueKind, deadlines_due
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Report, ReportShare
from tests.conftest import FakeClock
from tests.store.helpers import fields_of, new_family, outbox

# A review on Tuesday 1 December 2026, 10:00 London (UTC+0): both report deadlines are five
# working days before, Tuesday 24 November, 10:00. The clock starts at Wed 25 Nov, 09:30.
REVIEW_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ON_TIME = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _review_with_report(store: Store) -> tuple[dict[str, str], str, str]:
    ids = new_family(store)
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW, starts_at=REVIEW_AT
    ).id
    report = conferences.add_report(
        store, conference, title="SW report", author_name="t.worker", agency="CSC"
    ).id
    return ids, conference, report


def _share(store: Store, report: str, parent: str, at: datetime) -> str:
    return conferences.record_report_shared_with_parent(
        store, report, parent_id=parent, shared_at=at, method=ShareMethod.EMAIL,
        gone_through_together=False,
    ).id  # fmt: skip


def _report_view(store: Store, conference: str) -> ReportView:
    view = conference_view(
        store, conference, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    )
    (report,) = view.reports
    return report


def _on_the_deadlines_view(store: Store, now: datetime) -> set[DueKind]:
    """What the Deadlines view lists for reports (a fortnight ahead)."""
    items = deadlines_due(store, LONDON_BOROUGH_DEFAULTS, default_calendar(), now, 14)
    return {i.kind for i in items if i.report_id is not None}


def _shares(store: Store) -> list[ReportShare]:
    with store.read() as session:
        return list(session.exec(select(ReportShare)).all())


def _report(store: Store, report_id: str) -> Report:
    with store.read() as session:
        found = session.get(Report, report_id)
    assert found is not None
    return found


# --- times that have not happened yet ---------------------------------------------------------


def test_a_sharing_time_in_the_future_is_refused_and_nothing_is_written(
    store: Store, clock: FakeClock
) -> None:
    ids, _conference, report = _review_with_report(store)
    changes_before = len(outbox(store))
    with pytest.raises(conferences.ConferenceRuleError, match="in the future") as refused:
        _share(store, report, ids["mum"], datetime(2026, 11, 30, 10, tzinfo=UTC))
    assert "Record the sharing once the parent has had the report" in str(refused.value)
    assert "it is now Wed 25 Nov 2026, 09:30" in str(refused.value)
    assert _shares(store) == []
    assert len(outbox(store)) == changes_before


def test_a_sent_to_qau_time_in_the_future_is_refused(store: Store) -> None:
    ids, _conference, report = _review_with_report(store)
    _share(store, report, ids["mum"], ON_TIME)
    with pytest.raises(conferences.ConferenceRuleError, match="Mark the report sent once"):
        conferences.mark_report_sent_to_qau(
            store, report, sent_at=datetime(2026, 11, 30, 11, tzinfo=UTC)
        )
    assert _report(store, report).sent_to_qau_at is None


def test_a_few_minutes_ahead_of_the_clock_is_accepted_and_no_more(
    store: Store, clock: FakeClock
) -> None:
    ids, _conference, report = _review_with_report(store)
    edge = clock.moment + CLOCK_SKEW_TOLERANCE
    assert timedelta(minutes=5) == CLOCK_SKEW_TOLERANCE  # "a few minutes"
    with pytest.raises(conferences.ConferenceRuleError, match="in the future"):
        _share(store, report, ids["mum"], edge + timedelta(seconds=1))
    _share(store, report, ids["mum"], edge)
    with pytest.raises(conferences.ConferenceRuleError, match="in the future"):
        conferences.mark_report_sent_to_qau(store, report, sent_at=edge + timedelta(seconds=1))
    conferences.mark_report_sent_to_qau(store, report, sent_at=edge)
    assert _report(store, report).sent_to_qau_at == edge


def test_the_future_is_judged_by_the_stores_clock_in_any_time_zone(
    store: Store, clock: FakeClock
) -> None:
    ids, _conference, report = _review_with_report(store)
    # 10:30 in Paris is 09:30 in London: now, not an hour ahead.
    paris = clock.moment.astimezone(ZoneInfo("Europe/Paris"))
    _share(store, report, ids["mum"], paris)
    clock.moment = datetime(2026, 11, 20, 9, tzinfo=UTC)
    with pytest.raises(conferences.ConferenceRuleError, match="in the future"):
        _share(store, report, ids["dad"], ON_TIME)


# --- taking back a sharing record ----------------------------------------------------------


def test_removing_a_sharing_record_is_a_tombstone_with_its_outbox_row(store: Store) -> None:
    ids, _conference, report = _review_with_report(store)
    share = _share(store, report, ids["mum"], ON_TIME)
    conferences.remove_report_share(store, share)
    (kept,) = _shares(store)
    assert kept.id == share and kept.deleted  # the row stays, marked deleted
    change = [c for c in outbox(store) if c.record_id == share][-1]
    assert (change.entity, change.op, fields_of(change)) == (
        "report_share",
        "delete",
        {"deleted": True},
    )
    with pytest.raises(RecordNotFound):
        conferences.remove_report_share(store, share)


def test_after_removing_a_sharing_record_the_report_is_overdue_again(
    store: Store, clock: FakeClock
) -> None:
    ids, conference, report = _review_with_report(store)
    _share(store, report, ids["mum"], ON_TIME)
    dads = _share(store, report, ids["dad"], ON_TIME)
    assert _report_view(store, conference).parents_state is DeadlineState.DONE_ON_TIME
    assert DueKind.REPORT_TO_PARENTS not in _on_the_deadlines_view(store, clock.moment)
    conferences.remove_report_share(store, dads)
    assert DueKind.REPORT_TO_PARENTS in _on_the_deadlines_view(store, clock.moment)
    seen = _report_view(store, conference)
    assert seen.parents_state is DeadlineState.OVERDUE  # past Tue 24 Nov, Dad not shared
    assert [p.name for p in seen.not_yet_shared_with] == ["Dad"]
    (summary,) = queries.case_summaries(
        store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    ).rows
    assert summary.reports_unshared == 1 and summary.reports_overdue == 1


def test_the_only_sharing_behind_a_sent_report_cannot_be_removed_first(store: Store) -> None:
    ids, conference, report = _review_with_report(store)
    share = _share(store, report, ids["mum"], ON_TIME)
    conferences.mark_report_sent_to_qau(store, report, sent_at=ON_TIME + timedelta(hours=1))
    with pytest.raises(conferences.ConferenceRuleError, match="Clear the sent-to-QAU time first"):
        conferences.remove_report_share(store, share)
    assert not _shares(store)[0].deleted
    conferences.clear_report_sent_to_qau(store, report)
    conferences.remove_report_share(store, share)
    assert _report_view(store, conference).shares == ()


def test_a_second_sharing_record_of_a_sent_report_can_be_removed(store: Store) -> None:
    ids, _conference, report = _review_with_report(store)
    _share(store, report, ids["mum"], ON_TIME)
    dads = _share(store, report, ids["dad"], ON_TIME)
    conferences.mark_report_sent_to_qau(store, report, sent_at=ON_TIME + timedelta(hours=1))
    conferences.remove_report_share(store, dads)
    assert _report(store, report).sent_to_qau_at is not None


# --- taking back a sent-to-QAU time ----------------------------------------------------------


def test_clearing_the_sent_to_qau_time_makes_the_report_due_again(
    store: Store, clock: FakeClock
) -> None:
    clock.moment = datetime(2026, 11, 20, 12, tzinfo=UTC)  # Friday before the deadline
    ids, conference, report = _review_with_report(store)
    for parent in ("mum", "dad"):
        _share(store, report, ids[parent], clock.moment - timedelta(hours=2))
    conferences.mark_report_sent_to_qau(store, report, sent_at=clock.moment - timedelta(hours=1))
    assert _report_view(store, conference).qau_state is DeadlineState.DONE_ON_TIME
    assert _on_the_deadlines_view(store, clock.moment) == set()
    conferences.clear_report_sent_to_qau(store, report)
    assert _on_the_deadlines_view(store, clock.moment) == {DueKind.REPORT_TO_QAU}
    seen = _report_view(store, conference)
    assert (seen.sent_to_qau_at, seen.qau_state) == (None, DeadlineState.DUE)
    assert seen.parents_state is DeadlineState.DONE_ON_TIME  # the sharing stands
    change = [c for c in outbox(store) if c.record_id == report][-1]
    assert fields_of(change)["sent_to_qau_at"] is None


def test_clearing_a_sending_without_sharing_clears_its_reason_too(store: Store) -> None:
    _ids, conference, report = _review_with_report(store)
    conferences.mark_report_sent_to_qau(
        store, report, sent_at=ON_TIME, reason=QauReason.PARENT_NOT_CONTACTABLE,
        reason_note="Chair agreed on 20 Nov.",
    )  # fmt: skip
    assert _report_view(store, conference).parents_state is DeadlineState.DONE_ON_TIME
    conferences.clear_report_sent_to_qau(store, report)
    saved = _report(store, report)
    assert (saved.sent_to_qau_at, saved.qau_reason, saved.qau_reason_note) == (None, None, "")
    seen = _report_view(store, conference)
    # Nothing exempts the sharing any more: both deadlines passed on Tue 24 Nov.
    assert (seen.parents_state, seen.qau_state) == (DeadlineState.OVERDUE, DeadlineState.OVERDUE)


def test_clearing_a_report_that_was_not_sent_is_refused(store: Store) -> None:
    _ids, _conference, report = _review_with_report(store)
    before = len(outbox(store))
    with pytest.raises(conferences.ConferenceRuleError, match="not marked sent"):
        conferences.clear_report_sent_to_qau(store, report)
    assert len(outbox(store)) == before
