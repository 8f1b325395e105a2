"""The conference read model: parents, the sharing log, deadlines as the caseload sees them,
Families First gaps, outcomes; and the conference units of work added for the screen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.conference import FamilyPlanTask
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineState
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceModel,
    PersonKind,
    PlanCategory,
    ShareMethod,
)
from sofs_tui.store import cases, conferences, queries
from sofs_tui.store.conference_views import ConferenceView, conference_view
from sofs_tui.store.store import Store
from tests.conftest import FakeClock
from tests.store.helpers import fields_of, new_family, outbox

# Tuesday 8 December 2026, 10:00 London (UTC+0): a review's reports are due Tue 1 Dec 10:00.
REVIEW_AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _view(store: Store, conference_id: str) -> ConferenceView:
    return conference_view(
        store, conference_id, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    )


def _review(store: Store, ids: dict[str, str], **kwargs: object) -> str:
    return conferences.schedule_conference(
        store,
        ids["case"],
        kind=ConferenceKind.REVIEW,
        starts_at=REVIEW_AT,
        **kwargs,  # type: ignore[arg-type]
    ).id


def _report(store: Store, conference_id: str) -> str:
    return conferences.add_report(
        store, conference_id, title="SW report", author_name="t.worker", agency="CSC"
    ).id


def test_parents_are_the_adults_with_parental_responsibility(store: Store) -> None:
    ids = new_family(store)
    cases.add_person(store, ids["case"], kind=PersonKind.ADULT, name="Lodger")
    view = _view(store, _review(store, ids))
    assert [p.name for p in view.parents] == ["Dad", "Mum"]
    assert [c.name for c in view.children] == ["Kai"]


def test_the_sharing_log_names_each_parent_and_who_is_still_waiting(store: Store) -> None:
    ids = new_family(store)
    conference = _review(store, ids)
    report = _report(store, conference)
    assert [p.name for p in _view(store, conference).reports[0].not_yet_shared_with] == [
        "Dad",
        "Mum",
    ]
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=datetime(2026, 11, 24, 15, tzinfo=UTC),
        method=ShareMethod.EMAIL, gone_through_together=False, translated=True, language="Polish",
    )  # fmt: skip
    (seen,) = _view(store, conference).reports
    (line,) = seen.shares
    assert (line.parent_name, line.method, line.language) == ("Mum", ShareMethod.EMAIL, "Polish")
    assert line.translated and not line.gone_through_together
    assert [p.name for p in seen.not_yet_shared_with] == ["Dad"]
    assert seen.parents_state is DeadlineState.DUE  # Dad has not had it yet


def test_deadline_states_are_the_ones_the_caseload_shows(store: Store, clock: FakeClock) -> None:
    ids = new_family(store)
    conference = _review(store, ids)
    _report(store, conference)
    clock.moment = DUE + timedelta(minutes=1)
    (report,) = _view(store, conference).reports
    assert (report.parents_due, report.qau_due) == (DUE, DUE)
    assert report.parents_state is report.qau_state is DeadlineState.OVERDUE
    (summary,) = queries.case_summaries(
        store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar()
    ).rows
    assert summary.nearest is not None and summary.nearest.state is report.parents_state


def test_due_soon_follows_the_councils_hours(store: Store, clock: FakeClock) -> None:
    ids = new_family(store)
    conference = _review(store, ids)
    _report(store, conference)
    clock.moment = DUE - timedelta(hours=30)
    states = {}
    for hours in (24, 48):
        view = conference_view(
            store,
            conference,
            rules=LONDON_BOROUGH_DEFAULTS,
            calendar=default_calendar(),
            due_soon=timedelta(hours=hours),
        )
        states[hours] = view.reports[0].qau_state
    assert states == {24: DeadlineState.DUE, 48: DeadlineState.DUE_SOON}


def test_families_first_gaps_close_as_the_stages_are_recorded(store: Store) -> None:
    ids = new_family(store)
    standard = _review(store, ids)
    assert _view(store, standard).families_first_gaps == ()
    ff = _review(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    assert len(_view(store, ff).families_first_gaps) == 3
    conferences.record_families_first(
        store, ff, preparation_on=date(2026, 11, 20), preparation_note="At Nan's",
        private_family_time=False,
    )  # fmt: skip
    conferences.add_family_plan_task(
        store, ff, FamilyPlanTask("Nan stays on Fridays", "Nan", date(2026, 12, 18), "Coordinator")
    )
    view = _view(store, ff)
    assert view.families_first_gaps == ()
    assert (view.family_preparation_on, view.private_family_time) == (date(2026, 11, 20), False)
    assert [t.task for t in view.plan_tasks] == ["Nan stays on Fridays"]


def test_families_first_details_are_refused_on_a_standard_conference(store: Store) -> None:
    ids = new_family(store)
    standard = _review(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="Families First"):
        conferences.record_families_first(
            store, standard, preparation_on=None, preparation_note="", private_family_time=True
        )


def test_a_preparation_note_needs_its_date(store: Store) -> None:
    ids = new_family(store)
    ff = _review(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    with pytest.raises(conferences.ConferenceRuleError, match="date"):
        conferences.record_families_first(
            store, ff, preparation_on=None, preparation_note="At Nan's", private_family_time=None
        )


def test_each_child_is_listed_with_or_without_a_decision(store: Store) -> None:
    ids = new_family(store)
    icpc = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.INITIAL,
        starts_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
    ).id  # fmt: skip
    (before,) = _view(store, icpc).outcomes
    assert not before.recorded and before.core_group_on is None
    conferences.record_child_outcome(
        store, icpc, child_id=ids["child"], plan=True, category=PlanCategory.NEG
    )
    (after,) = _view(store, icpc).outcomes
    assert after.recorded and after.category is PlanCategory.NEG
    assert (after.core_group_on, after.next_review_on) == (date(2026, 11, 16), date(2027, 1, 31))


def test_people_already_invited_are_not_offered_again(store: Store) -> None:
    ids = new_family(store)
    gp = cases.add_person(
        store, ids["case"], kind=PersonKind.PROFESSIONAL, name="Dr Patel", role="GP",
        is_gp=True, gp_practice="Riverside Surgery",
    )  # fmt: skip
    conference = _review(store, ids)
    conferences.invite(store, conference, name="Mum", person_id=ids["mum"])
    view = _view(store, conference)
    assert [p.name for p in view.not_invited] == ["Dad", "Dr Patel"]  # never the child
    assert view.gp is not None and view.gp.id == gp.id
    assert view.gp_practice == "Riverside Surgery"
    assert [i.name for i in view.invitees] == ["Mum"]


def test_update_report_corrects_its_details_with_one_outbox_change(store: Store) -> None:
    ids = new_family(store)
    report = _report(store, _review(store, ids))
    completed = datetime(2026, 11, 20, 16, tzinfo=UTC)
    conferences.update_report(
        store, report, title="SW report (v2)", author_name="A. Worker", agency="CSC",
        completed_at=completed,
    )  # fmt: skip
    change = [c for c in outbox(store) if c.record_id == report][-1]
    assert fields_of(change)["title"] == "SW report (v2)"
    assert fields_of(change)["completed_at"] == completed.isoformat()
    with pytest.raises(conferences.ConferenceRuleError, match="title"):
        conferences.update_report(
            store, report, title=" ", author_name="", agency="", completed_at=None
        )


def test_a_naive_conference_time_is_refused_on_update(store: Store) -> None:
    ids = new_family(store)
    conference = _review(store, ids)
    with pytest.raises(conferences.ConferenceRuleError, match="time zone"):
        conferences.update_conference(store, conference, starts_at=datetime(2026, 12, 9, 10))
    assert _view(store, conference).starts_at == REVIEW_AT
