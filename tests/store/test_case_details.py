"""The family's own details change after the case is saved, and a child's plan is recorded by
hand: each as one unit of work with its outbox row, keeping the rules."""

from __future__ import annotations

from datetime import date

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS
from sofs_tui.domain.enums import CaseStatus, PersonKind, PlanCategory
from sofs_tui.store import cases
from sofs_tui.store.case_views import TimelineKind, case_detail
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case, Person
from tests.conftest import FakeClock
from tests.store.helpers import fields_of, new_case, outbox

RULES = LONDON_BOROUGH_DEFAULTS
CALENDAR = default_calendar()


def _case(store: Store, case_id: str) -> Case:
    with store.read() as session:
        row = session.get(Case, case_id)
    assert row is not None
    return row


def _person(store: Store, person_id: str) -> Person:
    with store.read() as session:
        row = session.get(Person, person_id)
    assert row is not None
    return row


# --- the case's own details -----------------------------------------------------------------


def test_case_details_change_with_one_outbox_row(store: Store) -> None:
    case_id = new_case(store)
    before = len(outbox(store))
    cases.update_case(
        store, case_id, reference=" C-002 ", family_name="Brackwell family", team="West",
        lead_worker="s.other",
    )  # fmt: skip
    row = _case(store, case_id)
    assert (row.reference, row.family_name, row.team, row.lead_worker) == (
        "C-002", "Brackwell family", "West", "s.other",
    )  # fmt: skip
    changes = outbox(store)
    # Never sent: the edit folds into the case's pending create (one row for the record).
    assert len(changes) == before
    assert fields_of(changes[-1])["reference"] == "C-002"


def test_a_reference_another_case_has_is_refused(store: Store) -> None:
    new_case(store, "C-001")
    other = new_case(store, "C-002")
    with pytest.raises(cases.DuplicateReference, match="C-001 already exists"):
        cases.update_case(store, other, reference="C-001")
    cases.update_case(store, other, reference="C-002", team="East")  # its own: fine
    assert _case(store, other).reference == "C-002"


@pytest.mark.parametrize("field", ["reference", "family_name"])
def test_a_case_keeps_its_reference_and_family_name(store: Store, field: str) -> None:
    case_id = new_case(store)
    with pytest.raises(StoreError, match="needs a reference and a family name"):
        cases.update_case(store, case_id, **{field: "  "})


def test_closing_a_case_records_the_day_and_reopening_clears_it(
    store: Store, clock: FakeClock
) -> None:
    case_id = new_case(store)
    clock.advance(days=2)
    cases.update_case(store, case_id, status=CaseStatus.CLOSED)
    row = _case(store, case_id)
    assert (row.status, row.closed_on) == (CaseStatus.CLOSED, date(2026, 11, 27))
    detail = case_detail(store, case_id, rules=RULES, calendar=CALENDAR)
    assert TimelineKind.CASE_CLOSED in [e.kind for e in detail.timeline]
    cases.update_case(store, case_id, status="open")
    row = _case(store, case_id)
    assert (row.status, row.closed_on) == (CaseStatus.OPEN, None)


# --- a child's plan recorded by hand --------------------------------------------------------


def test_a_child_already_on_a_plan_is_recorded_with_its_categories_and_start(
    store: Store,
) -> None:
    case_id = new_case(store)
    child = cases.add_person(
        store, case_id, kind=PersonKind.CHILD, name="Kai",
        plan_category_initial=PlanCategory.NEG, plan_start=date(2026, 3, 2),
    )  # fmt: skip
    row = _person(store, child.id)
    # The latest category is the one the plan started with until a review changes it.
    assert (row.plan_category_initial, row.plan_category_latest, row.plan_start) == (
        PlanCategory.NEG, PlanCategory.NEG, date(2026, 3, 2),
    )  # fmt: skip
    cases.update_person(store, child.id, plan_category_latest=PlanCategory.EMO)
    assert _person(store, child.id).plan_category_latest is PlanCategory.EMO
    cases.update_person(store, child.id, plan_end=date(2026, 11, 20))
    assert _person(store, child.id).plan_end == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"plan_category_latest": PlanCategory.EMO}, "Give the date the plan started"),
        (
            {"plan_category_latest": PlanCategory.EMO, "plan_start": date(2026, 3, 2)},
            "Choose the category the plan started with.",
        ),
        ({"plan_category_initial": PlanCategory.NEG}, "Give the date the plan started"),
        ({"plan_end": date(2026, 3, 2)}, "Give the date the plan started"),
        (
            {"plan_category_initial": PlanCategory.NEG, "plan_start": date(2026, 12, 2)},
            "A plan start cannot be in the future.",
        ),
        (
            {
                "plan_category_initial": PlanCategory.NEG,
                "plan_start": date(2026, 3, 2),
                "plan_end": date(2026, 3, 1),
            },
            "A plan cannot end before it started.",
        ),
        (
            {
                "plan_category_initial": PlanCategory.NEG,
                "plan_start": date(2026, 3, 2),
                "plan_end": date(2026, 12, 1),
            },
            "A plan end cannot be in the future",
        ),
    ],
)
def test_a_plan_that_does_not_hold_together_is_refused(
    store: Store, plan: dict[str, object], message: str
) -> None:
    case_id = new_case(store)
    child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Kai")
    before = len(outbox(store))
    with pytest.raises(cases.PlanRuleError, match=message):
        cases.update_person(store, child.id, **plan)
    with pytest.raises(cases.PlanRuleError, match=message):
        cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Ava", **plan)
    assert len(outbox(store)) == before  # nothing written


def test_only_a_child_has_a_plan(store: Store) -> None:
    case_id = new_case(store)
    with pytest.raises(cases.PlanRuleError, match="Only a child"):
        cases.add_person(
            store, case_id, kind=PersonKind.ADULT, name="Mum",
            plan_category_initial=PlanCategory.NEG, plan_start=date(2026, 3, 2),
        )  # fmt: skip


def test_a_plan_left_as_it_was_is_not_checked_again(store: Store) -> None:
    """A plan a conference recorded (or an older version wrote) does not block a name edit."""
    case_id = new_case(store)
    child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Kai")
    with store.write() as session:
        row = session.get(Person, child.id)
        assert row is not None
        row.plan_category_latest, row.plan_start = PlanCategory.PHY, date(2027, 1, 4)
        session.add(row)
    cases.update_person(
        store, child.id, name="Kai B", plan_category_latest=PlanCategory.PHY,
        plan_start=date(2027, 1, 4),
    )  # fmt: skip
    assert _person(store, child.id).name == "Kai B"


# --- sign-off and reopening on the timeline ------------------------------------------------


def test_the_timeline_keeps_the_sign_off_and_shows_the_reopening_with_its_reason(
    store: Store, clock: FakeClock
) -> None:
    from sofs_tui.store import mapping
    from sofs_tui.store.store import Actor
    from tests.store.helpers import new_family
    from tests.store.test_mapping_voice_sign_off import _sign_off

    ids = new_family(store)
    _sign_off(store, ids["assessment"])
    store.actor = Actor("m.lead", "manager")
    clock.advance(days=1)
    mapping.reopen_assessment(store, ids["assessment"], reason="New police\ninformation")
    detail = case_detail(store, ids["case"], rules=RULES, calendar=CALENDAR)
    events = [
        (e.on, e.kind, e.text)
        for e in detail.timeline
        if e.kind in (TimelineKind.ASSESSMENT_SIGNED_OFF, TimelineKind.ASSESSMENT_REOPENED)
    ]
    assert events == [
        (date(2026, 11, 25), TimelineKind.ASSESSMENT_SIGNED_OFF,
         "Mapping signed off by t.worker: Mapping"),
        (date(2026, 11, 26), TimelineKind.ASSESSMENT_REOPENED,
         "Mapping reopened by m.lead: Mapping. Reason: New police information"),
    ]  # fmt: skip
    (assessment,) = detail.assessments
    assert assessment.reopen_reason == "New police\ninformation"
