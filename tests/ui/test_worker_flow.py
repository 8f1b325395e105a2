"""A social worker's whole flow, keyboard only, at 80×24, in one session of the app.

From a new computer: set up sofs, open a case, record the family, map the worries with three
danger statements and their safety goals, take two people's scores, schedule the review
conference, add the social worker's report, share it with both parents and send it to the QA
Unit, and see both deadlines done on time. Then the store on disk, opened with the passphrase
after the app has gone, holds every record and an outbox row for every change. The same
flow, shorter, on the `--demo` caseload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from sofs_tui.app import SofsApp, _demo_opener
from sofs_tui.config import Settings
from sofs_tui.domain.enums import ConferenceKind, PersonKind, Section
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_form import CaseFormScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.screens.conference_edit import ConferenceEditScreen
from sofs_tui.screens.enrol import EnrolScreen
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.screens.mapping_dialogs import MappingPick
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.screens.person_form import PersonFormScreen
from sofs_tui.screens.schedule_form import ScheduleConferenceScreen
from sofs_tui.store.changes import jsonable
from sofs_tui.store.store import Store, unlock
from sofs_tui.store.tables import (
    SYNCED_TABLES,
    Assessment,
    Case,
    Conference,
    Entry,
    Outbox,
    Person,
    Report,
    ReportShare,
    Score,
    Synced,
)
from sofs_tui.widgets.entry_list import EntryList
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.scaling_panel import ScoreList
from tests.conftest import FakeClock
from tests.ui.shell_support import FakeMonotonic, fast_kdf, shell_app
from tests.ui.test_every_screen import settle
from tests.ui.test_mapping import highlight

PASS = "lamp owl 9"
# Short words: every character is a key press.
DANGERS = ["Dad hits Kai when drunk", "Kai is left alone at night", "Kai misses school"]
GOALS = ["Dad stays sober with Kai", "An adult is home at night", "Kai goes to school daily"]
# Wednesday 25 November 2026, 09:30 London; the review is on Tuesday 8 December at 10:00.
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
REVIEW_AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


async def keys(app: SofsApp, pilot: Pilot[None], *pressed: str) -> None:
    """Press keys as the worker would, then wait for what they started."""
    await pilot.press(*pressed)
    await settle(app, pilot)


def on_top(app: SofsApp) -> Any:
    return app.screen


def text_of(app: SofsApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: SofsApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type `text` into the focused field: one key event per character, as a terminal sends
    them when someone types quickly (Pilot.press would wait for the app to go idle after every
    key, which makes a long flow crawl)."""
    app = pilot.app
    for char in text:
        key = char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(app)
        await app._post_message(event)
    await pilot.pause()


async def choose_in_select(app: SofsApp, pilot: Pilot[None], downs: int) -> None:
    """On a focused Select: open it, move down `downs` options, choose."""
    await pilot.press("enter", "home", *["down"] * downs, "enter")
    await pilot.pause()


# --- the steps ------------------------------------------------------------------------------


async def enrol(app: SofsApp, pilot: Pilot[None]) -> None:
    await settle(app, pilot)
    assert isinstance(on_top(app), EnrolScreen)
    await type_text(pilot, PASS)
    await pilot.press("enter")
    await type_text(pilot, PASS)
    await pilot.press("enter")
    await keys(app, pilot, "enter")  # the username is the login name, already filled in
    assert isinstance(on_top(app), CaseListScreen)


async def new_case(app: SofsApp, pilot: Pilot[None]) -> None:
    await keys(app, pilot, "n")
    assert isinstance(on_top(app), CaseFormScreen)
    await type_text(pilot, "C-77")
    await pilot.press("tab")
    await type_text(pilot, "Ashdown family")
    await keys(app, pilot, "enter")
    assert isinstance(on_top(app), CaseScreen)
    assert text_of(app, "#case-title").startswith("C-77 · Ashdown family · lead s.worker")


async def add_parent(app: SofsApp, pilot: Pilot[None], name: str, relationship: str) -> None:
    await keys(app, pilot, "a")
    assert isinstance(on_top(app), PersonFormScreen)
    await pilot.press("shift+tab")  # from the name to "Who"
    await choose_in_select(app, pilot, downs=1)  # Adult (parent or carer)
    await pilot.press("tab")
    await type_text(pilot, name)
    await pilot.press("tab")
    await type_text(pilot, relationship)
    await pilot.press("tab", "space")  # has parental responsibility
    await keys(app, pilot, "ctrl+s")
    assert isinstance(on_top(app), CaseScreen)


async def add_child(app: SofsApp, pilot: Pilot[None]) -> None:
    await keys(app, pilot, "a")
    assert isinstance(on_top(app), PersonFormScreen)
    await type_text(pilot, "Kai")
    await pilot.press("tab")
    await type_text(pilot, "2019-03-14")
    await keys(app, pilot, "enter")
    assert isinstance(on_top(app), CaseScreen)


async def add_entry(
    app: SofsApp, pilot: Pilot[None], screen: MappingScreen, section: Section, text: str
) -> None:
    """Highlight the section's heading, add, type the words, leave (which saves)."""
    await highlight(pilot, screen.query_one(f"#list-{section.column.value}", EntryList),
                    f"section:{section.value}")  # fmt: skip
    await pilot.press("a")
    editor = screen.query_one(EntryEditor)
    assert screen.open_form() is editor and editor.section is section
    await type_text(pilot, text)
    await keys(app, pilot, "escape")
    assert screen.open_form() is None, editor.status_text()


def live(store: Store, table: type[Any], **where: Any) -> list[Any]:
    with store.read() as session:
        query = select(table).where(col(table.deleted).is_(False))
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return list(session.exec(query).all())


async def map_the_worries(app: SofsApp, pilot: Pilot[None]) -> str:
    """A new mapping: three danger statements, their goals, paired; two people's scores."""
    await keys(app, pilot, "m")
    screen = on_top(app)
    assert isinstance(screen, MappingScreen)
    store = app.require_store()
    for text in DANGERS:
        await add_entry(app, pilot, screen, Section.DANGER_STATEMENT, text)
    await keys(app, pilot, "3")
    for text in GOALS:
        await add_entry(app, pilot, screen, Section.SAFETY_GOAL, text)
    summary = screen.query_one("#mapping-summary", PlainText)
    assert "3 danger statements without a safety goal." in str(summary.render())

    await keys(app, pilot, "1")
    dangers = live(
        store, Entry, assessment_id=screen.assessment_id, section=Section.DANGER_STATEMENT
    )
    dangers.sort(key=lambda e: e.position)
    assert [d.text for d in dangers] == DANGERS
    for danger in dangers:
        await highlight(pilot, screen.query_one("#list-worries", EntryList), f"entry:{danger.id}")
        await pilot.press("p")
        assert isinstance(on_top(app), MappingPick)
        await keys(app, pilot, "enter")  # the first goal not yet paired is this one's
    assert "without a safety goal" not in str(summary.render())

    # Mum scores the whole mapping; the school scores the first danger statement.
    await keys(app, pilot, "4")
    scores = screen.query_one(ScoreList)
    await highlight(pilot, scores, "group:overall")
    await pilot.press("a")
    await type_text(pilot, "Mum")
    await pilot.press("tab")
    await type_text(pilot, "mother")
    await pilot.press("tab", "tab", "4", "tab")
    await type_text(pilot, "Better now")
    await keys(app, pilot, "escape")
    await highlight(pilot, scores, f"group:{dangers[0].id}")
    await pilot.press("a")
    await type_text(pilot, "School")
    await pilot.press("tab", "tab", "tab", "3", "tab")
    await type_text(pilot, "Still shouting")
    await keys(app, pilot, "escape")
    assert str(summary.render()).startswith("✓ Complete"), str(summary.render())
    await keys(app, pilot, "escape")  # back to the case
    assert isinstance(on_top(app), CaseScreen)
    return screen.assessment_id


async def schedule_review(app: SofsApp, pilot: Pilot[None]) -> None:
    await keys(app, pilot, "c")
    assert isinstance(on_top(app), ScheduleConferenceScreen)
    await pilot.press("shift+tab", "shift+tab")  # from the date to the kind
    await choose_in_select(app, pilot, downs=1)  # Review
    await pilot.press("tab", "tab")
    await type_text(pilot, "2026-12-08 10:00")
    await keys(app, pilot, "enter")
    assert isinstance(on_top(app), CaseScreen)
    shown = [row[:2] for row in rows(app, "#conference-table")]  # the case may have others
    assert ["Tue 08 Dec 10:00", ConferenceKind.REVIEW.label] in shown


async def share_and_send(app: SofsApp, pilot: Pilot[None]) -> ConferenceScreen:
    await keys(app, pilot, "enter")  # the conference just scheduled is highlighted
    screen = on_top(app)
    assert isinstance(screen, ConferenceScreen)
    await keys(app, pilot, "n")
    assert isinstance(on_top(app), ConferenceEditScreen)
    await type_text(pilot, "Social worker's report")
    await keys(app, pilot, "enter")
    assert on_top(app) is screen
    assert "Not shared with a parent yet." in text_of(app, "#report-text")
    for _parent in ("first", "second"):
        await keys(app, pilot, "s")  # the parent not yet shared with is chosen; "now"
        assert isinstance(on_top(app), ConferenceEditScreen)
        await keys(app, pilot, "ctrl+s")
        assert on_top(app) is screen
    await keys(app, pilot, "q")  # sent now; shared, so no reason is needed
    await keys(app, pilot, "ctrl+s")
    assert on_top(app) is screen
    return screen


# --- the store after the session ------------------------------------------------------------


def record_fields(row: Synced) -> dict[str, Any]:
    """A record's fields as its outbox rows carry them (the sync columns except `deleted`)."""
    sync_columns = set(Synced.model_fields) - {"deleted"}
    return {
        name: jsonable(getattr(row, name))
        for name in type(row).model_fields
        if name not in sync_columns
    }


def same_value(carried: Any, stored: Any) -> bool:
    """Equal, or the same moment written with another UTC offset."""
    if isinstance(carried, str) and isinstance(stored, str) and "T" in stored:
        try:
            return datetime.fromisoformat(carried) == datetime.fromisoformat(stored)
        except ValueError:
            pass
    return bool(carried == stored)


def assert_every_change_has_its_outbox_row(store: Store, ids: set[str] | None = None) -> int:
    """Folding each record's outbox rows in order gives the record as stored; every outbox
    row is for a record that exists. Returns how many records there are. With `ids`, only
    those records are looked at (the demo's own records have no outbox rows)."""
    with store.read() as session:
        changes = list(session.exec(select(Outbox).order_by(col(Outbox.device_seq))).all())
        records = [row for table in SYNCED_TABLES for row in session.exec(select(table)).all()]
    records = [row for row in records if ids is None or row.id in ids]
    assert [c.device_seq for c in changes] == list(range(1, len(changes) + 1))
    assert {c.state for c in changes} == {"pending"}
    by_record: dict[str, dict[str, Any]] = {}
    for change in changes:
        assert change.op in ("create", "update"), change.op
        if change.op == "create":
            assert change.record_id not in by_record, "created twice"
            by_record[change.record_id] = {}
        by_record[change.record_id] |= json.loads(change.fields)
    assert set(by_record) == {row.id for row in records}
    for row in records:
        carried, stored = by_record[row.id], record_fields(row)
        assert carried.keys() == stored.keys(), type(row).__name__
        different = {k for k in stored if not same_value(carried[k], stored[k])}
        assert different == set(), f"{type(row).__name__}: not in the outbox: {different}"
    return len(records)


def assert_the_flow_is_stored(store: Store, assessment_id: str) -> None:
    (case,) = live(store, Case)
    assert (case.reference, case.family_name, case.lead_worker) == (
        "C-77",
        "Ashdown family",
        "s.worker",
    )
    people = {p.name: p for p in live(store, Person, case_id=case.id)}
    assert set(people) == {"Mum", "Dad", "Kai"}
    assert people["Kai"].kind is PersonKind.CHILD
    assert str(people["Kai"].date_of_birth) == "2019-03-14"
    for parent, relationship in (("Mum", "Mother"), ("Dad", "Father")):
        assert people[parent].kind is PersonKind.ADULT
        assert people[parent].relationship == relationship
        assert people[parent].parental_responsibility

    (assessment,) = live(store, Assessment, case_id=case.id)
    assert assessment.id == assessment_id
    entries = live(store, Entry, assessment_id=assessment_id)
    dangers = {e.id: e.text for e in entries if e.section is Section.DANGER_STATEMENT}
    pairs = {dangers[e.goal_for_id]: e.text for e in entries if e.goal_for_id}
    assert pairs == dict(zip(DANGERS, GOALS, strict=True))
    scores = {(s.scorer_name, s.scorer_role, s.value, s.rationale, s.danger_statement_id)
              for s in live(store, Score, assessment_id=assessment_id)}  # fmt: skip
    first_danger = next(i for i, text in dangers.items() if text == DANGERS[0])
    assert scores == {
        ("Mum", "mother", 4, "Better now", None),
        ("School", "", 3, "Still shouting", first_danger),
    }

    (conference,) = live(store, Conference, case_id=case.id)
    assert (conference.kind, conference.starts_at) == (ConferenceKind.REVIEW, REVIEW_AT)
    (report,) = live(store, Report, conference_id=conference.id)
    assert (report.title, report.author_name) == ("Social worker's report", "s.worker")
    assert report.sent_to_qau_at == NOW and report.qau_reason is None
    shares = live(store, ReportShare, report_id=report.id)
    assert {s.parent_id for s in shares} == {people["Mum"].id, people["Dad"].id}
    assert {s.shared_at for s in shares} == {NOW}

    records = assert_every_change_has_its_outbox_row(store)
    assert records == 1 + 3 + 1 + 6 + 2 + 1 + 1 + 2


# --- the tests ------------------------------------------------------------------------------


async def test_a_worker_does_the_whole_flow_from_a_new_computer_with_the_keyboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_kdf(monkeypatch)
    monkeypatch.setattr("getpass.getuser", lambda: "s.worker")
    data_dir = tmp_path / "data"
    app, _paths = shell_app(data_dir, clock=FakeMonotonic())
    async with app.run_test(size=(80, 24)) as pilot:
        await enrol(app, pilot)
        app.require_store().clock = FakeClock(NOW)  # so "now" and the deadlines hold still
        await new_case(app, pilot)
        await add_parent(app, pilot, "Mum", "Mother")
        await add_parent(app, pilot, "Dad", "Father")
        await add_child(app, pilot)
        people = rows(app, "#people-table")
        assert sorted(row[1] for row in people) == ["Dad", "Kai", "Mum"]
        assert sum("· parental responsibility" in row[2] for row in people) == 2

        assessment_id = await map_the_worries(app, pilot)
        await keys(app, pilot, "2")  # back on the case, the mapping row is read afresh
        (mapping_row,) = rows(app, "#assessment-table")
        assert mapping_row[1:3] == ["✎ Draft", "6"]

        await schedule_review(app, pilot)
        screen = await share_and_send(app, pilot)
        report = text_of(app, "#report-text")
        assert "Not yet shared with" not in report
        assert report.count("✓ Done on time") == 2, report  # to the parents, to the QAU
        (report_row,) = rows(app, "#report-table")
        assert report_row[2:] == ["✓ Done on time"] * 2
        assert "Mum" in report and "Dad" in report and "Sent to QAU: " in report
        assert screen.view is not None and all(r.sent_to_qau_at for r in screen.view.reports)
        await pilot.press("ctrl+q")
    assert app.return_code in (None, 0) and app.crash_incident is None

    store = unlock(data_dir, PASS)  # from disk, with the passphrase, after the app has gone
    try:
        assert_the_flow_is_stored(store, assessment_id)
    finally:
        store.lock()


async def test_on_the_demo_caseload_a_worker_opens_a_case_and_adds_an_entry(
    tmp_path: Path,
) -> None:
    demo_dir = tmp_path / "demo"
    app = SofsApp(
        _demo_opener(demo_dir), Settings(), store_dir=demo_dir, demo=True, clock=FakeMonotonic()
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(on_top(app), CaseListScreen)
        first = rows(app, "#case-table")[0]
        await keys(app, pilot, "enter")
        assert isinstance(on_top(app), CaseScreen)
        assert text_of(app, "#case-title").startswith(f"{first[0]} · {first[1]}")
        await keys(app, pilot, "m")  # a new mapping of their own, opened
        screen = on_top(app)
        assert isinstance(screen, MappingScreen)
        await pilot.press("a")
        await type_text(pilot, "Gran says Kai is safe with her")
        editor = screen.query_one(EntryEditor)
        assert "Saved" not in editor.status_text()  # not before the commit
        await keys(app, pilot, "ctrl+s")
        assert editor.status_text().startswith("✓ Saved at "), editor.status_text()
        store = app.require_store()
        (entry,) = live(store, Entry, assessment_id=screen.assessment_id)
        assert entry.text == "Gran says Kai is safe with her"
        with store.read() as session:
            outbox = session.exec(select(Outbox).where(Outbox.record_id == entry.id)).all()
        assert [(o.op, json.loads(o.fields)["text"]) for o in outbox] == [("create", entry.text)]
        await keys(app, pilot, "escape")
        drawn = "\n".join(
            str(o.prompt) for o in screen.query_one("#list-worries", EntryList).options
        )
        assert "Gran says Kai is safe with her" in drawn
        await pilot.press("ctrl+q")
    assert app.return_code in (None, 0) and app.crash_incident is None


async def test_back_on_the_case_the_mapping_row_shows_what_was_just_written(store: Store) -> None:
    from sofs_tui.store import cases, mapping

    case = cases.create_case(store, reference="C-1", family_name="Ashdown family")
    mapping.create_assessment(store, case.id, title="Mapping")
    app = SofsApp(lambda: store, Settings(), clock=FakeMonotonic())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(CaseScreen(case.id))
        await keys(app, pilot, "2")
        assert rows(app, "#assessment-table")[0][2] == "0"
        await keys(app, pilot, "enter")
        assert isinstance(on_top(app), MappingScreen)
        await pilot.press("a")
        await type_text(pilot, "Kai is scared")
        await keys(app, pilot, "escape")  # saves, back to the list
        await keys(app, pilot, "escape")  # back to the case
        assert isinstance(on_top(app), CaseScreen)
        assert rows(app, "#assessment-table")[0][2] == "1"


async def test_the_case_is_read_once_when_shown_and_once_on_each_return(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back from the conference the case is read again (what changed meanwhile shows), the
    cursor stays on its row; the first show and a saved form read it once, not twice."""
    from sofs_tui.store import cases, conferences

    case = cases.create_case(store, reference="C-1", family_name="Ashdown family")
    for name in ("Ann", "Bob", "Cai"):
        cases.add_person(store, case.id, kind=PersonKind.ADULT, name=name)
    conference = conferences.schedule_conference(
        store, case.id, kind=ConferenceKind.REVIEW, starts_at=REVIEW_AT, chair="Chair A"
    )
    loads: list[str] = []
    load = CaseScreen.load

    def counted(screen: CaseScreen) -> None:
        loads.append(screen.case_id)
        load(screen)

    monkeypatch.setattr(CaseScreen, "load", counted)
    app = SofsApp(lambda: store, Settings(), clock=FakeMonotonic())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(CaseScreen(case.id))
        await settle(app, pilot)
        assert len(loads) == 1
        await keys(app, pilot, "down", "down")  # on Cai (people are listed by name)
        assert rows(app, "#people-table")[2][1] == "Cai"
        await keys(app, pilot, "3")
        assert rows(app, "#conference-table")[0][-1] == "Chair A"
        await keys(app, pilot, "enter")
        assert isinstance(on_top(app), ConferenceScreen)
        conferences.update_conference(store, conference.id, chair="Chair B")
        await keys(app, pilot, "escape")
        case_screen = on_top(app)
        assert isinstance(case_screen, CaseScreen)
        assert len(loads) == 2
        assert rows(app, "#conference-table")[0][-1] == "Chair B"
        assert app.focused is case_screen.query_one("#conference-table", DataTable)
        assert case_screen.selected_person() is not None
        assert case_screen.selected_person().name == "Cai"  # type: ignore[union-attr]

        await keys(app, pilot, "a")  # a person added: the form's callback reads the case
        assert isinstance(on_top(app), PersonFormScreen)
        await type_text(pilot, "Dee")
        await keys(app, pilot, "ctrl+s")
        assert on_top(app) is case_screen
        assert len(loads) == 3
        assert "Dee" in [row[1] for row in rows(app, "#people-table")]
        await pilot.press("ctrl+q")


def test_the_demo_caseload_records_nothing_as_done_in_the_future(store: Store) -> None:
    from sofs_tui.store.demo import fill_demo_caseload

    fill_demo_caseload(store, 30, now=NOW)
    with store.read() as session:
        done = [r.completed_at for r in session.exec(select(Report)).all()]
        done += [r.sent_to_qau_at for r in session.exec(select(Report)).all()]
        done += [s.shared_at for s in session.exec(select(ReportShare)).all()]
    future = [moment for moment in done if moment is not None and moment > NOW]
    assert future == []


def test_the_demo_caseload_shows_every_deadline_state_in_a_likely_order(store: Store) -> None:
    """The `--demo` caseload (60 cases): deadlines due, due soon, overdue, done on time and
    done late; a held conference's reports are all done; a report is written before it is
    shared, and sent to the QA Unit after it is shared."""
    from collections import Counter
    from datetime import timedelta

    from sofs_tui.domain.calendar import default_calendar
    from sofs_tui.domain.deadlines import DeadlineState
    from sofs_tui.domain.enums import ConferenceStatus
    from sofs_tui.store.conference_views import conference_view
    from sofs_tui.store.demo import fill_demo_caseload

    assert store.now() == NOW
    fill_demo_caseload(store, 60, now=NOW)
    council = Settings().council
    states: Counter[tuple[ConferenceStatus, DeadlineState]] = Counter()
    with store.read() as session:
        held_or_not = {c.id: c.status for c in session.exec(select(Conference)).all()}
    for conference_id, status in held_or_not.items():
        view = conference_view(
            store, conference_id, rules=council.deadlines, calendar=default_calendar(),
            due_soon=timedelta(hours=council.due_soon_hours),
        )  # fmt: skip
        for report in view.reports:
            states.update((status, state) for state in (report.parents_state, report.qau_state))
            shared = [share.shared_at for share in report.shares]
            if shared and report.completed_at is not None:
                assert report.completed_at <= min(shared)
            if shared and report.sent_to_qau_at is not None:
                assert report.sent_to_qau_at >= max(shared)
    assert {state for _, state in states} == set(DeadlineState)
    held = {state for status, state in states if status is ConferenceStatus.HELD}
    assert held <= {DeadlineState.DONE_ON_TIME, DeadlineState.DONE_LATE}
    assert (
        states[ConferenceStatus.HELD, DeadlineState.DONE_ON_TIME]
        > 2 * states[ConferenceStatus.HELD, DeadlineState.DONE_LATE]
    )  # a few late, most on time


def test_the_demo_caseload_is_the_same_for_the_same_seed() -> None:
    """Report times and sharing included (record ids are new each time)."""
    from sofs_tui.store import demo

    def reports(seed: int) -> list[tuple[Any, ...]]:
        found = []
        for batch in demo._batches(40, seed, NOW, per_batch=500):
            for table in (Report, ReportShare):
                found += [
                    tuple(v for k, v in row.items() if not k.endswith("id"))
                    for row in batch.by_table.get(table, [])
                ]
        return found

    assert reports(7) == reports(7)
    assert reports(7) != reports(8)
