"""The whole flow on the `sofs --demo` caseload, keyboard only, at 80×24: find a family with
two parents, open the case, map the worries (three danger statements, each paired with its
safety goal, and two people's scores), schedule the review conference, add the social worker's
report, share it with both parents and send it to the QA Unit. The demo store already holds
the invented caseload, so what is checked in it is this mapping and this conference only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlmodel import col, select

from sofs_tui.app import DEMO_PASSPHRASE, SofsApp, _demo_opener
from sofs_tui.config import Settings
from sofs_tui.domain.enums import AssessmentStatus, ConferenceKind, PersonKind, Section
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Case,
    Conference,
    Entry,
    Outbox,
    Person,
    Report,
    ReportShare,
    Score,
)
from tests.conftest import FakeClock
from tests.ui.shell_support import FakeMonotonic
from tests.ui.test_worker_flow import (
    DANGERS,
    GOALS,
    NOW,
    REVIEW_AT,
    assert_every_change_has_its_outbox_row,
    keys,
    live,
    map_the_worries,
    on_top,
    rows,
    schedule_review,
    settle,
    share_and_send,
    text_of,
    type_text,
)

DEMO_WORKER = "demo.manager"  # who the demo signs in as


def a_family_with_two_parents(store: Store) -> tuple[Case, list[Person]]:
    """The first demo case (by reference) with two people with parental responsibility."""
    parents = [p for p in live(store, Person, kind=PersonKind.ADULT) if p.parental_responsibility]
    per_case = Counter(p.case_id for p in parents)
    cases = sorted((c for c in live(store, Case) if per_case[c.id] == 2), key=lambda c: c.reference)
    assert cases, "the demo caseload has no case with two parents"
    case = cases[0]
    return case, sorted((p for p in parents if p.case_id == case.id), key=lambda p: p.name)


def assert_the_flow_is_stored(
    store: Store, case: Case, parents: list[Person], assessment_id: str
) -> None:
    """This mapping and this conference, as the flow left them; every change made in the
    session has its outbox row (the demo's own records came as if from the service: none)."""
    assessment = store_row(store, Assessment, assessment_id)
    assert (assessment.case_id, assessment.status) == (case.id, AssessmentStatus.DRAFT)
    entries = live(store, Entry, assessment_id=assessment_id)
    dangers = {e.id: e.text for e in entries if e.section is Section.DANGER_STATEMENT}
    pairs = {dangers[e.goal_for_id]: e.text for e in entries if e.goal_for_id}
    assert pairs == dict(zip(DANGERS, GOALS, strict=True))
    assert len(entries) == 6
    scores = {(s.scorer_name, s.scorer_role, s.value, s.rationale, s.danger_statement_id)
              for s in live(store, Score, assessment_id=assessment_id)}  # fmt: skip
    first_danger = next(i for i, text in dangers.items() if text == DANGERS[0])
    assert scores == {
        ("Mum", "mother", 4, "Better now", None),
        ("School", "", 3, "Still shouting", first_danger),
    }

    (conference,) = [
        c for c in live(store, Conference, case_id=case.id) if c.starts_at == REVIEW_AT
    ]
    assert conference.kind is ConferenceKind.REVIEW
    (report,) = live(store, Report, conference_id=conference.id)
    assert (report.title, report.author_name) == ("Social worker's report", DEMO_WORKER)
    assert report.sent_to_qau_at == NOW and report.qau_reason is None
    shares = live(store, ReportShare, report_id=report.id)
    assert sorted(s.parent_id for s in shares) == sorted(p.id for p in parents)
    assert {s.shared_at for s in shares} == {NOW}

    with store.read() as session:
        changed = set(session.exec(select(Outbox.record_id)).all())
    ours = {assessment_id, *(e.id for e in entries), conference.id, report.id}
    ours |= {s.id for s in shares} | {s.id for s in live(store, Score, assessment_id=assessment_id)}
    assert changed == ours  # nothing else was changed
    assert assert_every_change_has_its_outbox_row(store, changed) == len(changed)


def store_row(store: Store, table: type[Assessment], record_id: str) -> Assessment:
    with store.read() as session:
        row = session.exec(select(table).where(col(table.id) == record_id)).one()
    return row


async def test_on_the_demo_caseload_a_worker_does_the_whole_flow_with_the_keyboard(
    tmp_path: Path,
) -> None:
    demo_dir = tmp_path / "demo"
    opener = _demo_opener(demo_dir)
    app = SofsApp(opener, Settings(), store_dir=demo_dir, demo=True, clock=FakeMonotonic())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(on_top(app), CaseListScreen)
        store = app.require_store()
        store.clock = FakeClock(NOW)  # so "now" and the deadlines hold still
        case, parents = a_family_with_two_parents(store)

        await keys(app, pilot, "/")  # find the family by its reference
        await type_text(pilot, case.reference)
        await keys(app, pilot, "enter")  # the list is filtered and has the focus
        assert [row[0] for row in rows(app, "#case-table")] == [case.reference]
        await keys(app, pilot, "enter")
        assert isinstance(on_top(app), CaseScreen)
        assert text_of(app, "#case-title").startswith(f"{case.reference} · {case.family_name}")
        people = [row[1] for row in rows(app, "#people-table")]
        assert all(parent.name in people for parent in parents)

        assessment_id = await map_the_worries(app, pilot)
        await keys(app, pilot, "2")  # back on the case, the new mapping's row
        title = f"Mapping {NOW:%d %b %Y}"
        (mapping_row,) = [row for row in rows(app, "#assessment-table") if row[0] == title]
        assert mapping_row[1:3] == ["✎ Draft", "6"]

        await schedule_review(app, pilot)
        screen = await share_and_send(app, pilot)
        report = text_of(app, "#report-text")
        assert "Not yet shared with" not in report
        assert report.count("✓ Done on time") == 2, report  # to the parents, to the QAU
        (report_row,) = rows(app, "#report-table")
        assert report_row[2:] == ["✓ Done on time"] * 2
        assert all(parent.name in report for parent in parents), report
        assert "Sent to QAU: " in report
        assert screen.view is not None and all(r.sent_to_qau_at for r in screen.view.reports)
        await pilot.press("ctrl+q")
    assert app.return_code in (None, 0) and app.crash_incident is None

    store = opener.unlock(DEMO_PASSPHRASE)  # after the app has gone, with the passphrase
    try:
        assert_the_flow_is_stored(store, case, parents, assessment_id)
    finally:
        store.lock()
