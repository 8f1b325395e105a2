"""The conference screen, driven by the keyboard as a worker would: reports shared with both
parents and sent to the QA Unit, the refusal without sharing, GP involvement in the QA Unit's
words, a Families First plan, a child's outcome with its computed dates, and deadline states
moving with the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from textual.events import Paste
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    QauReason,
    ShareMethod,
)
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.store import cases, conferences
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Conference, FamilyPlanItem, Person, Report, ReportShare
from tests.conftest import FakeClock

# Tuesday 8 December 2026, 10:00 London (UTC+0): review reports are due Tue 1 Dec 10:00.
REVIEW_AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SIZES = [(80, 24), (160, 48)]


# --- helpers shared with the payload tests ------------------------------------------------


def family(store: Store) -> dict[str, str]:
    """A case with a child, two parents with parental responsibility and a GP."""
    case = cases.create_case(store, reference="C-001", family_name="Testfamily")
    child = cases.add_person(store, case.id, kind=PersonKind.CHILD, name="Kai")
    mum = cases.add_person(
        store, case.id, kind=PersonKind.ADULT, name="Mum", parental_responsibility=True
    )
    dad = cases.add_person(
        store, case.id, kind=PersonKind.ADULT, name="Dad", parental_responsibility=True
    )
    cases.add_person(
        store, case.id, kind=PersonKind.PROFESSIONAL, name="Dr Patel", role="GP", is_gp=True,
        gp_practice="Riverside Surgery",
    )  # fmt: skip
    return {"case": case.id, "child": child.id, "mum": mum.id, "dad": dad.id}


def schedule(
    store: Store,
    ids: dict[str, str],
    *,
    kind: ConferenceKind = ConferenceKind.REVIEW,
    model: ConferenceModel = ConferenceModel.STANDARD,
    starts_at: datetime = REVIEW_AT,
) -> str:
    return conferences.schedule_conference(
        store, ids["case"], kind=kind, model=model, starts_at=starts_at, chair="IRO Jones"
    ).id


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


@asynccontextmanager
async def opened(
    store: Store, conference_id: str, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[SofsApp, Pilot[None], ConferenceScreen]]:
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = ConferenceScreen(conference_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        yield app, pilot, screen


async def keys(app: SofsApp, pilot: Pilot[None], *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
    await settle(app, pilot)


async def type_into(app: SofsApp, pilot: Pilot[None], field: str, text: str) -> None:
    """Focus a form field and type `text` (replacing what was there)."""
    widget = app.screen.query_one(f"#f-{field}")
    widget.focus()
    if isinstance(widget, Input | TextArea):
        widget.select_all()
    await pilot.pause()
    await pilot.press(*text)


async def paste_into(app: SofsApp, pilot: Pilot[None], field: str, text: str) -> None:
    """Focus a form field and paste `text` over what was there, as from the clipboard."""
    widget = app.screen.query_one(f"#f-{field}")
    widget.focus()
    if isinstance(widget, Input | TextArea):
        widget.select_all()
    await pilot.pause()
    app.post_message(Paste(text))  # as the terminal delivers it: the app forwards it
    await pilot.pause()


async def choose(app: SofsApp, pilot: Pilot[None], field: str, label: str) -> None:
    """Pick an option of a Select by its words, with the keyboard."""
    select = app.screen.query_one(f"#f-{field}", Select)
    labels = [str(prompt) for prompt, _value in select._options]
    select.focus()
    await pilot.pause()
    await keys(app, pilot, "enter", "home", *["down"] * labels.index(label), "enter")


async def save(app: SofsApp, pilot: Pilot[None]) -> None:
    await keys(app, pilot, "ctrl+s")


def shown(app: SofsApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def row_texts(screen: ConferenceScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def read(store: Store, table: type, record_id: str) -> object:
    with store.read() as session:
        return session.get(table, record_id)


# --- the worker's flow ---------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_report_shared_with_both_parents_then_sent_is_done_on_time(
    store: Store, size: tuple[int, int]
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference, size) as (app, pilot, screen):
        assert "Review (RCPC) conference" in shown(app, "#conf-title")
        await keys(app, pilot, "n")
        await type_into(app, pilot, "title", "Social worker's report")
        await type_into(app, pilot, "agency", "Children's Social Care")
        await save(app, pilot)
        assert app.screen is screen
        assert row_texts(screen, "report-table")[0][0] == "Social worker's report"
        assert "Not yet shared with: Dad, Mum" in shown(app, "#report-text")

        # Dad first (the form offers the first parent still waiting): in person, together.
        await keys(app, pilot, "s")
        assert app.screen.query_one("#f-parent_id", Select).value == ids["dad"]
        await keys(app, pilot, "tab", "tab")  # past "when" (now) to "how"
        await choose(app, pilot, "method", "In person")
        await keys(app, pilot, "tab", "space")  # went through it together
        await save(app, pilot)
        # Then Mum: by email, translated into Polish.
        await keys(app, pilot, "s")
        assert app.screen.query_one("#f-parent_id", Select).value == ids["mum"]
        await choose(app, pilot, "method", "Email")
        await keys(app, pilot, "tab", "tab", "space")  # translated
        await type_into(app, pilot, "language", "Polish")
        await save(app, pilot)
        await keys(app, pilot, "q")
        await save(app, pilot)

        detail = shown(app, "#report-text")
        assert "To parents: ✓ Done on time" in detail
        assert "To QAU:     ✓ Done on time" in detail
        assert "• Dad · Wed 25 Nov 2026, 09:30 · in person · gone through together" in detail
        mum = "• Mum · Wed 25 Nov 2026, 09:30 · email · not gone through · translated into Polish"
        assert mum in detail
        assert "Sent to QAU: Wed 25 Nov 2026, 09:30" in detail
        assert "Not yet shared with" not in detail
        with store.read() as session:
            shares = {s.parent_id: s for s in session.exec(select(ReportShare)).all()}
        assert shares[ids["dad"]].method is ShareMethod.IN_PERSON
        assert shares[ids["dad"]].gone_through_together and not shares[ids["dad"]].translated
        assert shares[ids["mum"]].method is ShareMethod.EMAIL
        assert (shares[ids["mum"]].translated, shares[ids["mum"]].language) == (True, "Polish")


async def test_sending_to_the_qau_without_sharing_is_refused_then_allowed_with_a_reason(
    store: Store,
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = conferences.add_report(
        store, conference, title="Police report", author_name="PC Lee", agency="Police"
    )
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "q")
        await save(app, pilot)
        assert app.screen is not screen  # the form stays open, with the store's message
        assert "has not been shared with a parent" in shown(app, "#form-error")
        assert read(store, Report, report.id).sent_to_qau_at is None  # type: ignore[attr-defined]

        await choose(app, pilot, "reason", QauReason.PARENT_NOT_CONTACTABLE.label)
        await save(app, pilot)
        assert "Add a short note" in shown(app, "#form-error")
        await paste_into(app, pilot, "reason_note", "Chair agreed on 20 Nov; no answer at home.")
        await save(app, pilot)
        assert app.screen is screen
        detail = shown(app, "#report-text")
        assert "Sent without sharing because: Parent not contactable" in detail
        assert "Note: Chair agreed on 20 Nov; no answer at home." in detail
        assert "To QAU:     ✓ Done on time" in detail
        saved = read(store, Report, report.id)
        assert saved.qau_reason is QauReason.PARENT_NOT_CONTACTABLE  # type: ignore[attr-defined]
        assert saved.sent_to_qau_at == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # type: ignore[attr-defined]


async def test_gp_involvement_is_saved_and_shown_in_the_qau_categories(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "g")
        await choose(app, pilot, "invited", "By SW (GP may not have been contacted)")
        await choose(app, pilot, "outcome", "Sent apology (no report)")
        await save(app, pilot)
        assert screen.query_one("TabbedContent").active == "tab-people"  # type: ignore[attr-defined]
        gp = shown(app, "#gp-text")
        assert "GP: Dr Patel · Riverside Surgery" in gp
        assert "GP invited: By SW (GP may not have been contacted)" in gp
        assert "GP outcome: Sent apology (no report)" in gp
        assert "GP outcome: Sent apology (no report)" in shown(app, "#overview-text")
        saved = read(store, Conference, conference)
        assert saved.gp_invited is GPInvited.BY_SW  # type: ignore[attr-defined]
        assert saved.gp_outcome is GPOutcome.SENT_APOLOGY  # type: ignore[attr-defined]


async def test_invitees_and_their_attendance(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "i")
        await type_into(app, pilot, "name", "Ms Reed")
        await type_into(app, pilot, "role", "Class teacher")
        await save(app, pilot)
        assert row_texts(screen, "invitee-table") == [
            ["Ms Reed", "Class teacher", "-", "Not recorded"]
        ]
        await keys(app, pilot, "a")
        await choose(app, pilot, "attendance", "Sent apologies")
        await save(app, pilot)
        assert row_texts(screen, "invitee-table")[0][3] == "Sent apologies"


async def test_the_gps_row_records_attendance_in_the_qau_categories(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "i")
        await choose(app, pilot, "person_id", "Dr Patel (GP)")
        await save(app, pilot)
        assert row_texts(screen, "invitee-table") == [["Dr Patel", "GP", "-", "Not recorded"]]
        gp = shown(app, "#gp-text")
        assert "GP invited: Yes" in gp  # inviting the case's GP records the invitation
        assert "○ GP involvement not recorded" in gp
        await keys(app, pilot, "a")  # on the GP's row: the QA Unit's GP categories
        assert app.screen is not screen
        assert not app.screen.query("#f-attendance")
        assert "Invitee: Dr Patel (the case's GP)." in shown(app, "#form-intro")
        await choose(app, pilot, "outcome", "Attended (& provided report)")
        await save(app, pilot)
        assert app.screen is screen
        assert row_texts(screen, "invitee-table")[0][3] == "Attended (& provided report)"
        gp = shown(app, "#gp-text")
        assert "GP outcome: Attended (& provided report)" in gp
        assert "not recorded" not in gp
        saved = read(store, Conference, conference)
        assert saved.gp_invited is GPInvited.YES  # type: ignore[attr-defined]
        assert saved.gp_outcome is GPOutcome.ATTENDED  # type: ignore[attr-defined]


async def test_a_families_first_conference_records_its_plan_and_stages(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    async with opened(store, conference) as (app, pilot, screen):
        assert "Record the family preparation meeting." in shown(app, "#overview-text")
        await keys(app, pilot, "5", "t")
        await paste_into(app, pilot, "task", "Nan stays over on Friday nights")
        await type_into(app, pilot, "who", "Nan")
        await type_into(app, pilot, "by_when", "2026-12-18")
        await paste_into(app, pilot, "who_checks", "Family coordinator")
        await save(app, pilot)
        assert row_texts(screen, "plan-table") == [
            ["Nan stays over on Friday nights", "Nan", "Fri 18 Dec 2026", "Family coordinator",
             "○ Open"],
        ]  # fmt: skip
        await keys(app, pilot, "p")
        await type_into(app, pilot, "preparation_on", "2026-11-20")
        await paste_into(app, pilot, "preparation_note", "Met at Nan's with the coordinator.")
        await choose(app, pilot, "private_family_time", "Yes")
        await save(app, pilot)
        plan = shown(app, "#plan-text")
        assert "Family preparation: Fri 20 Nov 2026" in plan
        assert "Private family time: Yes" in plan
        assert "✓ Preparation, private family time and the family plan are recorded." in shown(
            app, "#overview-text"
        )
        await keys(app, pilot, "d")
        assert row_texts(screen, "plan-table")[0][4] == "✓ Done"
        with store.read() as session:
            (task,) = session.exec(select(FamilyPlanItem)).all()
        assert (task.who, task.by_when, task.done) == ("Nan", date(2026, 12, 18), True)


async def test_a_plan_task_needs_every_part(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "t")
        await type_into(app, pilot, "task", "Nan stays over")
        await save(app, pilot)
        assert app.screen is not screen
        assert "Fill in who will do it." in shown(app, "#p-who")
        with store.read() as session:
            assert session.exec(select(FamilyPlanItem)).all() == []


async def test_the_outcome_for_a_child_shows_the_computed_dates(store: Store) -> None:
    ids = family(store)
    icpc = schedule(
        store, ids, kind=ConferenceKind.INITIAL, starts_at=datetime(2026, 11, 2, 10, tzinfo=UTC)
    )
    async with opened(store, icpc) as (app, pilot, screen):
        await keys(app, pilot, "4", "enter")  # enter on Kai's row
        await keys(app, pilot, "space")  # child protection plan
        await save(app, pilot)
        assert "A child protection plan needs a category." in shown(app, "#p-category")
        await choose(app, pilot, "category", "NEG Neglect")
        await paste_into(app, pilot, "contingency", "Care proceedings if the plan fails.")
        await save(app, pilot)
        assert row_texts(screen, "outcome-table") == [
            ["Kai", "Plan", "NEG Neglect", "Mon 16 Nov 2026", "Sun 31 Jan 2027"]
        ]
        detail = shown(app, "#outcome-text")
        assert "Lead worker: t.worker" in detail
        assert "Contingency: Care proceedings if the plan fails." in detail
        child = read(store, Person, ids["child"])  # the child's plan follows the decision
        assert child.plan_category_latest is PlanCategory.NEG  # type: ignore[attr-defined]


async def test_deadline_states_move_with_the_clock(store: Store, clock: FakeClock) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = conferences.add_report(
        store, conference, title="SW report", author_name="t.worker", agency="CSC"
    )
    async with opened(store, conference) as (app, pilot, _screen):
        await keys(app, pilot, "2")
        assert "To parents: ○ Due · Tue 01 Dec 10:00 · 6d left" in shown(app, "#report-text")
        clock.moment = DUE - timedelta(hours=23)
        await keys(app, pilot, "f5")
        assert "To QAU:     ◔ Due soon · Tue 01 Dec 10:00 · 23h left" in shown(app, "#report-text")
        clock.moment = DUE + timedelta(hours=2)
        await keys(app, pilot, "f5")
        detail = shown(app, "#report-text")
        assert "To parents: ✗ Overdue · Tue 01 Dec 10:00 · overdue by 2h" in detail
        assert "To QAU:     ✗ Overdue · Tue 01 Dec 10:00 · overdue by 2h" in detail
        assert "-overdue" in app.screen.classes
        assert "✗ 2 deadlines overdue" in shown(app, "#conf-title")
        for parent in ("mum", "dad"):
            conferences.record_report_shared_with_parent(
                store, report.id, parent_id=ids[parent], shared_at=clock.moment,
                method=ShareMethod.PHONE, gone_through_together=True,
            )  # fmt: skip
        conferences.mark_report_sent_to_qau(store, report.id, sent_at=clock.moment)
        await keys(app, pilot, "f5")
        detail = shown(app, "#report-text")
        assert "To parents: ! Done late" in detail and "To QAU:     ! Done late" in detail


async def test_a_bad_date_gets_an_inline_message_and_nothing_is_saved(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "e")
        await type_into(app, pilot, "starts_at", "2026-02-30 10:00")
        assert "There is no 30 February 2026." in shown(app, "#p-starts_at")
        await save(app, pilot)
        assert app.screen is not screen
        await type_into(app, pilot, "starts_at", "tomorrow 14:00")
        await type_into(app, pilot, "chair", "IRO Smith")
        await save(app, pilot)
        assert app.screen is screen
        assert "Chair: IRO Smith" in shown(app, "#overview-text")
        saved = read(store, Conference, conference)
        assert saved.starts_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # type: ignore[attr-defined]


async def test_escape_cancels_a_form_without_saving(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "e")
        await type_into(app, pilot, "chair", "Somebody else")
        await keys(app, pilot, "escape")
        assert app.screen is screen
        assert read(store, Conference, conference).chair == "IRO Jones"  # type: ignore[attr-defined]


async def test_the_palette_lists_every_conference_action(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, _pilot, screen):
        titles = {command.title for command in app.get_system_commands(screen)}
    for expected in (
        "conference: mark report shared",
        "conference: mark sent to qau",
        "conference: add report",
        "conference: gp involvement",
        "conference: record child outcome",
        "conference: add family plan task",
        "conference: remove a sharing record",
        "conference: clear sent to qau",
    ):
        assert expected in titles
    assert "Screenshot" not in titles


async def test_wide_terminals_show_full_deadline_words_in_the_report_table(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    conferences.add_report(
        store, conference, title="SW report", author_name="t.worker", agency="CSC"
    )
    async with opened(store, conference, (160, 48)) as (app, pilot, screen):
        assert screen.has_class("-wide")
        assert row_texts(screen, "report-table")[0][2] == "○ Due · Tue 01 Dec 10:00 · 6d left"
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert not screen.has_class("-wide")
        assert row_texts(screen, "report-table")[0][2] == "○ 6d left"


async def test_a_conference_that_is_gone_says_so_and_escape_goes_back(store: Store) -> None:
    family(store)
    async with opened(store, "no-such-conference") as (app, pilot, screen):
        assert "could not be opened" in shown(app, "#conf-title")
        assert any("no longer in this store" in str(n.message) for n in app._notifications)
        await keys(app, pilot, "escape")
        assert app.screen is not screen
