"""Conferences: the QAU sending rule, the sharing log, GP involvement, outcomes, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.conference import FamilyPlanTask
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineState
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    PlanCategory,
    QauReason,
    ShareMethod,
)
from sofs_tui.store import conferences, queries
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Person
from tests.conftest import FakeClock
from tests.store.helpers import fields_of, new_family, outbox

# A review on Tuesday 1 December 2026 at 10:00 London time (UTC+0 in winter).
REVIEW_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
# A moment before the store's clock (Wed 25 Nov 2026, 09:30): sharing and sending are refused
# later than now.
SHARED_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _review_with_report(store: Store, ids: dict[str, str]) -> tuple[str, str]:
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW, starts_at=REVIEW_AT, chair="IRO"
    )
    report = conferences.add_report(
        store, conference.id, title="Social worker's report", author_name="t.worker",
        agency="Children's Social Care",
    )  # fmt: skip
    return conference.id, report.id


def test_a_report_cannot_go_to_the_qau_before_a_parent_has_it(store: Store) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="not been shared with a parent"):
        conferences.mark_report_sent_to_qau(store, report, sent_at=REVIEW_AT - timedelta(days=8))


def test_a_recorded_reason_with_a_note_lets_it_go_to_the_qau(store: Store) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="note"):
        conferences.mark_report_sent_to_qau(
            store, report, sent_at=SHARED_AT, reason=QauReason.PARENT_NOT_CONTACTABLE
        )
    sent = conferences.mark_report_sent_to_qau(
        store, report, sent_at=REVIEW_AT - timedelta(days=8),
        reason=QauReason.PARENT_NOT_CONTACTABLE, reason_note="Chair agreed on 20 Nov.",
    )  # fmt: skip
    assert sent.qau_reason is QauReason.PARENT_NOT_CONTACTABLE


def test_shared_with_both_parents_then_sent_is_on_time_everywhere(
    store: Store, clock: FakeClock
) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    for parent in ("mum", "dad"):
        conferences.record_report_shared_with_parent(
            store, report, parent_id=ids[parent], shared_at=datetime(2026, 11, 23, 15, tzinfo=UTC),
            method=ShareMethod.IN_PERSON, gone_through_together=True,
        )  # fmt: skip
    conferences.mark_report_sent_to_qau(
        store, report, sent_at=datetime(2026, 11, 23, 16, tzinfo=UTC)
    )
    page = queries.case_summaries(store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar())
    (summary,) = page.rows
    # Both deadlines (5 working days before: Tuesday 24 November, 10:00) are met.
    assert summary.nearest is None and summary.reports_unshared == 0
    assert summary.next_conference_kind is ConferenceKind.REVIEW


def test_the_caseload_shows_the_nearest_open_deadline(store: Store, clock: FakeClock) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=datetime(2026, 11, 23, 15, tzinfo=UTC),
        method=ShareMethod.EMAIL, gone_through_together=False,
    )  # fmt: skip
    clock.moment = datetime(2026, 11, 20, 12, tzinfo=UTC)  # Friday before: due, not yet soon
    (summary,) = queries.case_summaries(
        store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    ).rows
    assert summary.nearest is not None
    assert summary.nearest.due == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert summary.nearest.state is DeadlineState.DUE
    assert summary.reports_unshared == 1  # Dad has not had it yet
    clock.moment = datetime(2026, 11, 25, 9, tzinfo=UTC)
    (summary,) = queries.case_summaries(
        store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    ).rows
    assert summary.nearest is not None and summary.nearest.state is DeadlineState.OVERDUE
    assert summary.reports_overdue == 1


def test_sharing_with_someone_who_is_not_a_parent_on_the_case_is_refused(store: Store) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="parents or carers"):
        conferences.record_report_shared_with_parent(
            store, report, parent_id=ids["child"], shared_at=SHARED_AT,
            method=ShareMethod.POST, gone_through_together=False,
        )  # fmt: skip


def test_translated_sharing_needs_the_language(store: Store) -> None:
    ids = new_family(store)
    _conf, report = _review_with_report(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="language"):
        conferences.record_report_shared_with_parent(
            store, report, parent_id=ids["mum"], shared_at=SHARED_AT, method=ShareMethod.POST,
            gone_through_together=False, translated=True,
        )  # fmt: skip


def test_gp_involvement_uses_the_qau_categories(store: Store) -> None:
    ids = new_family(store)
    conference, _report = _review_with_report(store, ids)
    conferences.record_gp_involvement(
        store, conference, invited=GPInvited.BY_SW, outcome=GPOutcome.SENT_APOLOGY
    )
    change = [c for c in outbox(store) if c.record_id == conference][-1]
    assert fields_of(change)["gp_invited"] == "by_sw"
    assert fields_of(change)["gp_outcome"] == "sent_apology"


def test_an_initial_conference_outcome_sets_the_plan_and_follow_up_dates(store: Store) -> None:
    ids = new_family(store)
    icpc = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.INITIAL,
        starts_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
        strategy_discussion_on=date(2026, 10, 16),
    )  # fmt: skip
    outcome = conferences.record_child_outcome(
        store, icpc.id, child_id=ids["child"], plan=True, category=PlanCategory.NEG
    )
    assert outcome.core_group_on == date(2026, 11, 16)  # 10 working days after Mon 2 Nov
    assert outcome.next_review_on == date(2027, 1, 31)  # 90 days is earlier than 3 months
    with store.read() as session:
        child = session.get(Person, ids["child"])
    assert child is not None
    assert (child.plan_category_initial, child.plan_category_latest) == (
        PlanCategory.NEG,
        PlanCategory.NEG,
    )
    assert child.plan_start == date(2026, 11, 2)
    review = conferences.schedule_conference(
        store,
        ids["case"],
        kind=ConferenceKind.REVIEW,
        starts_at=datetime(2027, 1, 25, 10, tzinfo=UTC),
    )
    conferences.record_child_outcome(
        store, review.id, child_id=ids["child"], plan=True, category=PlanCategory.EMO
    )
    conferences.record_child_outcome(store, review.id, child_id=ids["child"], plan=False)
    with store.read() as session:
        child = session.get(Person, ids["child"])
    assert child is not None
    assert child.plan_category_initial is PlanCategory.NEG
    assert child.plan_category_latest is PlanCategory.EMO
    assert child.plan_end == date(2027, 1, 25)


def test_a_plan_needs_a_category(store: Store) -> None:
    ids = new_family(store)
    conf, _ = _review_with_report(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="category"):
        conferences.record_child_outcome(store, conf, child_id=ids["child"], plan=True)


def test_family_plan_tasks_belong_to_families_first_and_need_every_part(store: Store) -> None:
    ids = new_family(store)
    standard, _ = _review_with_report(store, ids)
    task = FamilyPlanTask("Nan stays on Fridays", "Nan", date(2026, 12, 18), "Coordinator")
    with pytest.raises(conferences.ConferenceRuleError, match="Families First"):
        conferences.add_family_plan_task(store, standard, task)
    ff = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.INITIAL, starts_at=REVIEW_AT,
        model=ConferenceModel.FAMILIES_FIRST,
    )  # fmt: skip
    with pytest.raises(conferences.ConferenceRuleError, match="who checks"):
        conferences.add_family_plan_task(store, ff.id, FamilyPlanTask("t", "w", None, ""))
    first = conferences.add_family_plan_task(store, ff.id, task)
    second = conferences.add_family_plan_task(store, ff.id, task)
    assert first.position < second.position


def test_naive_times_are_refused(store: Store) -> None:
    ids = new_family(store)
    with pytest.raises(conferences.ConferenceRuleError, match="time zone"):
        conferences.schedule_conference(
            store, ids["case"], kind=ConferenceKind.INITIAL, starts_at=datetime(2026, 12, 1, 10)
        )
