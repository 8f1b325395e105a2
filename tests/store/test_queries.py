"""Read models: the caseload's filter, four orders and sync column; the deadlines due in the
next days (hand-computed); and the case screen's people and timeline.

The clock stands at Wednesday 25 November 2026, 09:30 London (UTC+0, winter time).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineState
from sofs_tui.domain.enums import ConferenceKind, PersonKind, PlanCategory, ShareMethod, SyncState
from sofs_tui.store import cases, conferences, deadline_views, mapping, queries
from sofs_tui.store.case_views import TimelineKind, case_detail
from sofs_tui.store.queries import CaseSort, DueKind, case_summaries, deadlines_due
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Entry
from tests.conftest import FakeClock

RULES = LONDON_BOROUGH_DEFAULTS
CALENDAR = default_calendar()


def at(month: int, day: int, hour: int) -> datetime:
    """A moment in 2026, in UTC (London's own time in winter)."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _case(store: Store, reference: str, family: str = "Testfamily") -> str:
    return cases.create_case(store, reference=reference, family_name=family).id


def _parents(store: Store, case_id: str) -> tuple[str, str]:
    mum = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Mum", parental_responsibility=True
    )
    dad = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Dad", parental_responsibility=True
    )
    return mum.id, dad.id


def _conference(
    store: Store, case_id: str, kind: ConferenceKind, starts_at: datetime, report: str = ""
) -> tuple[str, str]:
    conference = conferences.schedule_conference(store, case_id, kind=kind, starts_at=starts_at)
    if not report:
        return conference.id, ""
    added = conferences.add_report(
        store, conference.id, title=report, author_name="t.worker", agency="Agency " + report
    )
    return conference.id, added.id


def _share_with(store: Store, report_id: str, parents: tuple[str, ...], at: datetime) -> None:
    for parent in parents:
        conferences.record_report_shared_with_parent(
            store, report_id, parent_id=parent, shared_at=at, method=ShareMethod.EMAIL,
            gone_through_together=False,
        )  # fmt: skip


def _references(store: Store, **options: object) -> list[str]:
    page = case_summaries(store, rules=RULES, calendar=CALENDAR, **options)  # type: ignore[arg-type]
    return [row.reference for row in page.rows]


# --- the caseload ------------------------------------------------------------------------------


def test_the_filter_takes_percent_and_underscore_literally(store: Store) -> None:
    for reference in ("A-1", "B_2", "C%3"):
        _case(store, reference)
    assert _references(store, text="_") == ["B_2"]
    assert _references(store, text="%") == ["C%3"]
    assert _references(store, text="b_") == ["B_2"]  # any case
    page = case_summaries(store, rules=RULES, calendar=CALENDAR, text="-", limit=10)
    assert page.total == 1


def test_family_order_ignores_case_then_reference(store: Store) -> None:
    _case(store, "R-1", "beta family")
    _case(store, "R-2", "Alpha family")
    _case(store, "R-3", "Gamma family")
    _case(store, "R-0", "beta family")
    assert _references(store, sort=CaseSort.FAMILY) == ["R-2", "R-0", "R-1", "R-3"]


def test_next_conference_order_puts_the_soonest_planned_first_and_none_last(
    store: Store,
) -> None:
    later, sooner, _nothing, past_only = (_case(store, r) for r in ("A", "B", "C", "D"))
    _conference(store, later, ConferenceKind.REVIEW, at(12, 10, 10))
    _conference(store, sooner, ConferenceKind.REVIEW, at(12, 3, 10))
    _conference(store, sooner, ConferenceKind.REVIEW, datetime(2027, 3, 3, 10, tzinfo=UTC))
    held, _ = _conference(store, past_only, ConferenceKind.INITIAL, at(12, 1, 9))
    conferences.update_conference(store, held, status="held")  # held: not "next" any more
    assert _references(store, sort=CaseSort.NEXT_CONFERENCE) == ["B", "A", "C", "D"]
    assert _references(store, sort=CaseSort.NEXT_CONFERENCE, offset=1, limit=2) == ["A", "C"]
    (first,) = case_summaries(
        store, rules=RULES, calendar=CALENDAR, sort=CaseSort.NEXT_CONFERENCE, limit=1
    ).rows
    assert first.next_conference_at == at(12, 3, 10)


def test_nearest_deadline_order_is_by_the_earliest_open_report_deadline(store: Store) -> None:
    review, initial, done, _empty = (_case(store, r) for r in ("A", "B", "C", "D"))
    # A review on Tue 1 Dec 10:00: its reports are due 5 working days before, Tue 24 Nov 10:00.
    _conference(store, review, ConferenceKind.REVIEW, at(12, 1, 10), "R")
    # An initial conference on Thu 26 Nov 09:00: due 48 hours before, Tue 24 Nov 09:00.
    _conference(store, initial, ConferenceKind.INITIAL, at(11, 26, 9), "I")
    # A review whose only report was shared with both parents and sent: nothing open.
    parents = _parents(store, done)
    _, report = _conference(store, done, ConferenceKind.REVIEW, at(11, 30, 10), "D")
    _share_with(store, report, parents, at(11, 20, 12))
    conferences.mark_report_sent_to_qau(store, report, sent_at=at(11, 20, 13))
    assert _references(store, sort=CaseSort.NEAREST_DEADLINE) == ["B", "A", "C", "D"]
    rows = case_summaries(
        store, rules=RULES, calendar=CALENDAR, sort=CaseSort.NEAREST_DEADLINE
    ).rows
    assert [r.nearest.due if r.nearest else None for r in rows] == [
        at(11, 24, 9),
        at(11, 24, 10),
        None,
        None,
    ]
    assert rows[0].nearest is not None and rows[0].nearest.state is DeadlineState.OVERDUE


def test_a_report_exempted_with_a_reason_counts_as_shared(store: Store) -> None:
    exempt, waiting = _case(store, "A"), _case(store, "B")
    _parents(store, exempt)
    starts = at(12, 8, 10)
    _, report = _conference(store, exempt, ConferenceKind.REVIEW, starts, "R")
    conferences.mark_report_sent_to_qau(
        store, report, sent_at=at(11, 24, 12),
        reason=conferences.QauReason.PARENT_NOT_CONTACTABLE, reason_note="Chair agreed.",
    )  # fmt: skip
    _conference(store, waiting, ConferenceKind.REVIEW, starts + timedelta(days=7), "W")
    assert _references(store, sort=CaseSort.NEAREST_DEADLINE) == ["B", "A"]


def test_stopping_early_gives_the_same_first_cases_as_reading_everything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunked reading may stop once enough cases are settled; whatever it returns must
    be the head of the full order."""
    rng = random.Random(11)
    kinds = list(ConferenceKind)
    for n in range(24):
        case_id = _case(store, f"C-{n:02d}")
        for _ in range(rng.randint(0, 2)):
            starts = at(11, 20, 9) + timedelta(hours=rng.randint(0, 600))
            _conference(store, case_id, rng.choice(kinds), starts, f"R{n}")
    monkeypatch.setattr(deadline_views, "_CHUNK", 3)
    with store.read() as session:
        where = queries.case_filter("")
        everything = deadline_views.cases_by_nearest_deadline(session, where, RULES, CALENDAR)
        assert len(everything) == 24
        stopped_early = 0
        for wanted in (1, 2, 5, 9, 24):
            head = deadline_views.cases_by_nearest_deadline(
                session, where, RULES, CALENDAR, wanted=wanted
            )
            assert len(head) >= wanted
            assert head == everything[: len(head)], wanted
            stopped_early += len(head) < len(everything)
        assert stopped_early >= 2  # the early stop was taken, not just the full read


def test_sync_column_counts_everything_under_the_case(store: Store) -> None:
    ids = {r: _case(store, r) for r in ("A", "B")}
    assessment = mapping.create_assessment(store, ids["A"], title="Mapping")
    entry = mapping.save_entry(store, assessment.id, text="Worry", section=mapping.Section.HARM)
    with store.write() as session:
        row = session.get(Entry, entry.id)
        assert row is not None
        row.sync_state = SyncState.CONFLICT  # as a pull that met a local change leaves it
        session.add(row)
    states = queries.case_sync_states(store, [ids["A"], ids["B"]])
    assert states[ids["A"]].state is SyncState.CONFLICT
    assert (states[ids["A"]].conflicts, states[ids["A"]].unsynced) == (1, 2)  # case, mapping
    assert states[ids["B"]].state is SyncState.DIRTY and states[ids["B"]].conflicts == 0
    page = case_summaries(store, rules=RULES, calendar=CALENDAR)
    assert [(r.sync_state, r.conflicts) for r in page.rows] == [
        (SyncState.CONFLICT, 1),
        (SyncState.DIRTY, 0),
    ]
    quick = case_summaries(store, rules=RULES, calendar=CALENDAR, with_sync=False)
    assert [r.sync_state for r in quick.rows] == [None, None]


def test_plan_categories_are_listed_once_per_case(store: Store) -> None:
    case_id = _case(store, "A")
    neg, emo = PlanCategory.NEG, PlanCategory.EMO
    for name, category in (("Kai", neg), ("Ava", neg), ("Bo", emo)):
        child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name=name)
        cases.update_person(
            store, child.id, plan_start=date(2026, 10, 1), plan_category_initial=category,
            plan_category_latest=category,
        )  # fmt: skip
    (row,) = case_summaries(store, rules=RULES, calendar=CALENDAR).rows
    assert row.categories == (PlanCategory.NEG, PlanCategory.EMO)


# --- what falls due in the next days ------------------------------------------------------------


def test_deadlines_due_lists_overdue_first_then_by_due_time(store: Store, clock: FakeClock) -> None:
    a, b, c, d, e = (_case(store, r, f"{r} family") for r in ("A", "B", "C", "D", "E"))
    # A: review Tue 1 Dec 10:00, report with nobody: both deadlines Tue 24 Nov 10:00, overdue.
    _conference(store, a, ConferenceKind.REVIEW, at(12, 1, 10), "SW")
    # B: initial Fri 4 Dec 10:00, shared with both parents: only the QAU, Wed 2 Dec 10:00.
    parents = _parents(store, b)
    initial = ConferenceKind.INITIAL
    _, report_b = _conference(store, b, initial, at(12, 4, 10), "School")
    _share_with(store, report_b, parents, at(11, 24, 15))
    # C: review Mon 21 Dec: reports due Mon 14 Dec 10:00, after the 14 days (Wed 9 Dec 09:30).
    _conference(store, c, ConferenceKind.REVIEW, at(12, 21, 10), "Late")
    # D: initial held Tue 1 Sep 10:00 (London summer time) with a plan: first review by the
    # earlier of 1 Dec and 90 days (30 Nov), due Mon 30 Nov at the end of the working day.
    child_d = cases.add_person(store, d, kind=PersonKind.CHILD, name="Dee")
    held_d, _ = _conference(store, d, ConferenceKind.INITIAL, at(9, 1, 9))
    conferences.record_child_outcome(
        store, held_d, child_id=child_d.id, plan=True, category=PlanCategory.NEG
    )
    # E: initial held Mon 23 Nov: first core group 10 working days later, Mon 7 Dec.
    child_e = cases.add_person(store, e, kind=PersonKind.CHILD, name="Eve")
    held_e, _ = _conference(store, e, initial, at(11, 23, 10))
    conferences.record_child_outcome(
        store, held_e, child_id=child_e.id, plan=True, category=PlanCategory.PHY
    )

    items = deadlines_due(store, RULES, CALENDAR, clock.moment, 14)
    assert [(i.reference, i.kind, i.due, i.state) for i in items] == [
        ("A", DueKind.REPORT_TO_PARENTS, at(11, 24, 10), DeadlineState.OVERDUE),
        ("A", DueKind.REPORT_TO_QAU, at(11, 24, 10), DeadlineState.OVERDUE),
        ("D", DueKind.REVIEW, at(11, 30, 17), DeadlineState.DUE),
        ("B", DueKind.REPORT_TO_QAU, at(12, 2, 10), DeadlineState.DUE),
        ("E", DueKind.CORE_GROUP, at(12, 7, 17), DeadlineState.DUE),
    ]  # fmt: skip
    first = items[0]
    assert (first.family_name, first.title, first.agency) == ("A family", "SW", "Agency SW")
    assert first.conference_kind is ConferenceKind.REVIEW
    assert first.conference_at == at(12, 1, 10)
    assert (
        items[2].title == "Dee" and items[2].conference_id == held_d and items[2].report_id is None
    )

    # Three days ahead: only what is due by Sat 28 Nov 09:30.
    assert [i.reference for i in deadlines_due(store, RULES, CALENDAR, clock.moment, 3)] == [
        "A",
        "A",
    ]
    # Booking the review takes D off the list; a day later B's QAU deadline is due soon.
    _conference(store, d, ConferenceKind.REVIEW, at(12, 14, 10))
    clock.moment = at(12, 1, 11)
    later = deadlines_due(store, RULES, CALENDAR, clock.moment, 14)
    assert ("D", DueKind.REVIEW) not in [(i.reference, i.kind) for i in later]
    b_qau = next(i for i in later if i.reference == "B")
    assert b_qau.state is DeadlineState.DUE_SOON  # 23 hours left


def test_a_report_due_exactly_at_the_end_of_the_window_is_listed(
    store: Store, clock: FakeClock
) -> None:
    case_id = _case(store, "A")
    # Initial Fri 4 Dec 10:00: due Wed 2 Dec 10:00; the window from Wed 25 Nov 10:00 is 7 days.
    _conference(store, case_id, ConferenceKind.INITIAL, at(12, 4, 10), "R")
    clock.moment = at(11, 25, 10)
    assert len(deadlines_due(store, RULES, CALENDAR, clock.moment, 7)) == 2
    clock.moment += timedelta(minutes=-1)
    assert deadlines_due(store, RULES, CALENDAR, clock.moment, 7) == []


def test_removed_cases_and_cancelled_conferences_have_no_deadlines(
    store: Store, clock: FakeClock
) -> None:
    kept, cancelled = _case(store, "A"), _case(store, "B")
    starts = at(12, 1, 10)
    _conference(store, kept, ConferenceKind.REVIEW, starts, "R")
    conference, _ = _conference(store, cancelled, ConferenceKind.REVIEW, starts, "R")
    conferences.update_conference(store, conference, status="cancelled")
    assert {i.reference for i in deadlines_due(store, RULES, CALENDAR, clock.moment)} == {"A"}


# --- the case screen's read model -------------------------------------------------------------


def test_case_detail_orders_people_and_dates_the_timeline(store: Store, clock: FakeClock) -> None:
    case_id = _case(store, "A")  # opened today, Wed 25 Nov 2026
    cases.add_person(
        store, case_id, kind=PersonKind.PROFESSIONAL, name="Dr Patel", is_gp=True,
        gp_practice="Riverside",
    )  # fmt: skip
    child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Kai")
    mum, dad = _parents(store, case_id)
    cases.add_person(
        store, case_id, kind=PersonKind.NETWORK, name="Nan", relationship="Grandmother"
    )
    icpc, report = _conference(store, case_id, ConferenceKind.INITIAL, at(11, 27, 10), "SW report")
    clock.moment = at(11, 26, 16)
    _share_with(store, report, (mum, dad), at(11, 24, 15))
    conferences.mark_report_sent_to_qau(store, report, sent_at=at(11, 24, 16))
    conferences.record_child_outcome(
        store, icpc, child_id=child.id, plan=True, category=PlanCategory.SAB
    )
    cases.remove_person(store, dad)

    detail = case_detail(store, case_id, rules=RULES, calendar=CALENDAR)
    assert [(p.kind, p.name) for p in detail.people] == [
        (PersonKind.CHILD, "Kai"),
        (PersonKind.ADULT, "Mum"),
        (PersonKind.NETWORK, "Nan"),
        (PersonKind.PROFESSIONAL, "Dr Patel"),
    ]
    kai = detail.people[0]
    assert kai.plan_category_initial is PlanCategory.SAB and kai.on_plan
    assert kai.plan_start == date(2026, 11, 27)
    (conference,) = detail.conferences
    assert conference.reports == 1 and conference.nearest is None  # both deadlines met
    assert [(e.on, e.kind) for e in detail.timeline] == [
        (date(2026, 11, 24), TimelineKind.REPORT_SHARED),
        (date(2026, 11, 24), TimelineKind.REPORT_SHARED),
        (date(2026, 11, 24), TimelineKind.REPORT_SENT_TO_QAU),
        (date(2026, 11, 25), TimelineKind.CASE_OPENED),
        (date(2026, 11, 27), TimelineKind.PLAN_STARTED),
        (date(2026, 11, 27), TimelineKind.CONFERENCE),
    ]
    texts = [e.text for e in detail.timeline]
    assert "SW report shared with Mum by email" in texts
    # Dad was removed after the report was shared with him; the history still says so.
    assert "SW report shared with a parent no longer on the case by email" in texts
    assert "Kai: child protection plan started (SAB)" in texts
    assert "Initial (ICPC) conference planned" in texts


def test_case_detail_of_a_removed_case_says_it_is_gone(store: Store) -> None:
    case_id = _case(store, "A")
    cases.update_case(store, case_id, reference="A")  # no change: nothing written
    with store.write() as session:
        from sofs_tui.store import changes
        from sofs_tui.store.tables import Case

        changes.tombstone(session, store, changes.get(session, Case, case_id, "case"))
    with pytest.raises(changes.RecordNotFound):
        case_detail(store, case_id, rules=RULES, calendar=CALENDAR)
