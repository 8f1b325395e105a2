"""The case screen, driven by the keyboard: the family at 80×24 and wide; adding a child, an
adult and a GP; editing and removing (with a confirm); scheduling a conference in London time;
starting and opening a mapping; opening a conference; and markup and escape sequences through
every text field of its forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import select
from textual.events import Paste
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from sofs_tui.app import SofsApp
from sofs_tui.config import CouncilRules, Settings
from sofs_tui.domain.enums import ConferenceKind, ConferenceModel, PersonKind, PlanCategory
from sofs_tui.domain.scaling import ScaleWording
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.confirm import ConfirmScreen
from sofs_tui.screens.person_form import PersonFormScreen
from sofs_tui.screens.schedule_form import ScheduleConferenceScreen
from sofs_tui.store import cases, conferences, mapping
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Case, Conference, Person
from tests.conftest import FakeClock

SIZES = [(80, 24), (160, 48)]


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def family(store: Store) -> dict[str, str]:
    case = cases.create_case(store, reference="C-001", family_name="Testfamily", team="East")
    child = cases.add_person(
        store, case.id, kind=PersonKind.CHILD, name="Kai", date_of_birth=date(2019, 3, 2)
    )
    cases.update_person(
        store, child.id, plan_start=date(2026, 11, 2), plan_category_initial=PlanCategory.NEG,
        plan_category_latest=PlanCategory.EMO,
    )  # fmt: skip
    mum = cases.add_person(
        store, case.id, kind=PersonKind.ADULT, name="Mum", relationship="Mother",
        parental_responsibility=True,
    )  # fmt: skip
    return {"case": case.id, "child": child.id, "mum": mum.id}


@asynccontextmanager
async def opened(
    store: Store, case_id: str, size: tuple[int, int] = (80, 24), settings: Settings | None = None
) -> AsyncIterator[tuple[SofsApp, Pilot[None], CaseScreen]]:
    app = SofsApp(lambda: store, settings or Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = CaseScreen(case_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        yield app, pilot, screen


def rows(screen: Any, table_id: str) -> list[list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


def shown(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def is_shown(app: SofsApp, selector: str) -> bool:
    """Whether the widget and every container around it are displayed."""
    widget = app.screen.query_one(selector)
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))


def people(store: Store, case_id: str) -> list[Person]:
    with store.read() as session:
        return list(
            session.exec(
                select(Person).where(Person.case_id == case_id, Person.deleted == False)  # noqa: E712
            ).all()
        )


async def choose(app: SofsApp, pilot: Pilot[None], select_id: str, label: str) -> None:
    """Pick an option of a Select by its words, with the keyboard."""
    widget = app.screen.query_one(f"#{select_id}", Select)
    labels = [str(prompt) for prompt, _value in widget._options]
    widget.focus()
    await pilot.pause()
    await pilot.press("enter", "home", *["down"] * labels.index(label), "enter")
    await settle(app, pilot)


async def paste(app: SofsApp, pilot: Pilot[None], field_id: str, text: str) -> None:
    field = app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    field.select_all()
    await pilot.pause()
    field.post_message(Paste(text))
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_the_family_at_a_glance(store: Store, size: tuple[int, int]) -> None:
    ids = family(store)
    remembered: list[str] = []
    async with opened(store, ids["case"], size) as (app, pilot, screen):
        assert shown(screen, "#case-title") == "C-001 · Testfamily · lead t.worker · East"
        assert rows(screen, "people-table") == [
            ["Child", "Kai", "born 02 Mar 2019 (7)", "NEG → EMO since 02 Nov 2026"],
            ["Adult", "Mum", "Mother · parental responsibility", "-"],
        ]
        assert screen.query_one(TabbedContent).active == "tab-people"
        wide = size[0] >= 120
        assert screen.has_class("-wide") is wide
        assert screen.query_one("#case-summary").display is wide
        assert "Kai: NEG → EMO since 02 Nov 2026" in shown(screen, "#case-summary")
        await pilot.press("4")
        assert screen.query_one(TabbedContent).active == "tab-timeline"
        assert rows(screen, "timeline-table") == [
            ["02 Nov 2026", "Kai: child protection plan started (NEG)"],
            ["25 Nov 2026", "Case opened"],
        ]
        await pilot.press("2")
        assert "No mapping yet. Press m to start one." in shown(screen, "#assessments-hint")
        app.remember_case = remembered.append  # type: ignore[method-assign]
        await app.push_screen(CaseScreen(ids["case"]))
        await settle(app, pilot)
        assert remembered == [ids["case"]]  # the shell reopens it at the next start


async def test_add_a_child_an_adult_and_a_gp(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, PersonFormScreen)
        await pilot.press(*"Ava", "tab", *"31/02/2024")
        assert "There is no 31 February 2024." in shown(app.screen, "#person-dob-msg")
        app.screen.query_one("#person-dob", Input).value = "28/02/2024"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        # An adult: the kind first, then the fields that belong to adults.
        await pilot.press("a")
        await settle(app, pilot)
        await choose(app, pilot, "person-kind", "Adult (parent or carer)")
        assert is_shown(app, "#person-relationship") and is_shown(app, "#person-pr")
        assert not is_shown(app, "#person-dob") and not is_shown(app, "#person-role")
        app.screen.query_one("#person-name", Input).focus()
        await pilot.press(*"Dad", "tab", *"Father", "tab", "space", "ctrl+s")
        await settle(app, pilot)
        # A GP needs the practice.
        await pilot.press("a")
        await settle(app, pilot)
        await choose(app, pilot, "person-kind", "Professional")
        app.screen.query_one("#person-name", Input).focus()
        await pilot.press(*"Dr Patel", "tab", *"GP", "tab", "tab", "space", "ctrl+s")
        await settle(app, pilot)
        assert "Give the GP's practice." in shown(app.screen, "#person-practice-msg")
        await pilot.press(*"Riverside Surgery", "enter")  # the focus is on the field to fix
        await settle(app, pilot)
        assert app.screen is screen
        assert rows(screen, "people-table") == [
            ["Child", "Ava", "born 28 Feb 2024 (2)", "-"],
            ["Child", "Kai", "born 02 Mar 2019 (7)", "NEG → EMO since 02 Nov 2026"],
            ["Adult", "Dad", "Father · parental responsibility", "-"],
            ["Adult", "Mum", "Mother · parental responsibility", "-"],
            ["Professional", "Dr Patel", "GP · Riverside Surgery", "-"],
        ]
        stored = {p.name: p for p in people(store, ids["case"])}
        assert stored["Ava"].date_of_birth == date(2024, 2, 28)
        assert stored["Dad"].parental_responsibility and stored["Dad"].relationship == "Father"
        gp = stored["Dr Patel"]
        assert (gp.kind, gp.is_gp, gp.role, gp.gp_practice) == (
            PersonKind.PROFESSIONAL, True, "GP", "Riverside Surgery",
        )  # fmt: skip
        assert screen.query_one("#people-table", DataTable).cursor_row == 4  # the new one


async def test_an_unborn_child_has_an_expected_date_not_a_birthday(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, _screen):
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press(*"Baby", "tab", *"2027-01-10", "ctrl+s")
        await settle(app, pilot)
        message = shown(app.screen, "#person-dob-msg")
        assert "cannot be in the future" in message and "expected date" in message
        app.screen.query_one("#person-dob", Input).value = ""
        app.screen.query_one("#person-expected", Input).value = "2027-01-10"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        (baby,) = [p for p in people(store, ids["case"]) if p.name == "Baby"]
        assert (baby.date_of_birth, baby.expected_on) == (None, date(2027, 1, 10))


async def test_edit_a_person(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("down", "enter")  # Mum's row
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, PersonFormScreen)
        assert form.query_one("#person-kind", Select).disabled  # the kind stays
        assert form.query_one("#person-name", Input).value == "Mum"
        form.query_one("#person-relationship", Input).value = "Stepmother"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert rows(screen, "people-table")[1][2] == "Stepmother · parental responsibility"
        (mum,) = [p for p in people(store, ids["case"]) if p.id == ids["mum"]]
        assert mum.relationship == "Stepmother"


async def test_remove_a_person_after_confirming(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("down", "x")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove Mum (adult) from this case?" in shown(app.screen, "#confirm-question")
        await pilot.press("enter")  # the safe answer has the focus: nothing happens
        await settle(app, pilot)
        assert len(people(store, ids["case"])) == 2
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert app.screen is screen
        assert [p.name for p in people(store, ids["case"])] == ["Kai"]
        assert [r[1] for r in rows(screen, "people-table")] == ["Kai"]
        with store.read() as session:
            gone = session.get(Person, ids["mum"])
        assert gone is not None and gone.deleted  # a tombstone, for sync


async def test_nobody_is_removed_unseen_from_another_tab(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("4", "x")
        await settle(app, pilot)
        assert app.screen is screen  # no question yet: the People tab is shown first
        assert screen.query_one(TabbedContent).active == "tab-people"
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove Kai (child)" in shown(app.screen, "#confirm-question")


async def test_schedule_a_conference_in_london_time(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ScheduleConferenceScreen)
        await pilot.press(*"2027-03-28 01:30")  # the clocks go forward that night
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "01:30 does not exist on 28 Mar 2027" in shown(form, "#conference-when-msg")
        form.query_one("#conference-when", Input).value = "2026-12-07 10:00"
        await pilot.press("tab", *"IRO Jones", "tab", *"Civic Centre", "tab", *"20/11/2026")
        await pilot.pause()
        hint = shown(form, "#conference-hint")
        assert "Due by Fri 11 Dec 2026 (15 working days after the discussion)." in hint
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.query_one(TabbedContent).active == "tab-conferences"
        assert rows(screen, "conference-table") == [
            [
                "Mon 07 Dec 10:00", "Initial (ICPC)", "Standard", "○ Planned", "-", "IRO Jones",
            ]
        ]  # fmt: skip
        with store.read() as session:
            (saved,) = session.exec(select(Conference)).all()
        assert saved.starts_at == datetime(2026, 12, 7, 10, tzinfo=UTC)  # GMT in December
        assert (saved.kind, saved.model) == (ConferenceKind.INITIAL, ConferenceModel.STANDARD)
        assert saved.strategy_discussion_on == date(2026, 11, 20)
        assert (saved.chair, saved.location) == ("IRO Jones", "Civic Centre")


async def test_a_summer_review_is_stored_an_hour_earlier_in_utc(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, _screen):
        await pilot.press("c")
        await settle(app, pilot)
        await choose(app, pilot, "conference-kind", "Review (RCPC)")
        await choose(app, pilot, "conference-model", "Families First")
        assert not is_shown(app, "#conference-strategy")
        app.screen.query_one("#conference-when", Input).value = "2027-06-01 10:00"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with store.read() as session:
            (saved,) = session.exec(select(Conference)).all()
        assert saved.starts_at == datetime(2027, 6, 1, 9, tzinfo=UTC)  # BST is UTC+1
        assert (saved.kind, saved.model) == (ConferenceKind.REVIEW, ConferenceModel.FAMILIES_FIRST)
        assert saved.strategy_discussion_on is None


async def test_a_new_mapping_uses_the_councils_scale_and_opens(store: Store) -> None:
    from sofs_tui.screens.mapping import MappingScreen

    ids = family(store)
    wording = ScaleWording(zero="Council zero words", ten="Council ten words")
    settings = Settings(council=CouncilRules(scale=wording))
    async with opened(store, ids["case"], settings=settings) as (app, pilot, screen):
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, MappingScreen)
        with store.read() as session:
            (created,) = session.exec(select(Assessment)).all()
        assert app.screen.assessment_id == created.id
        assert (created.zero_wording, created.ten_wording) == (wording.zero, wording.ten)
        assert created.title == "Mapping 25 Nov 2026"
        app.pop_screen()
        await settle(app, pilot)
        assert rows(screen, "assessment-table")[0][:3] == ["Mapping 25 Nov 2026", "✎ Draft", "0"]


async def test_enter_opens_a_mapping_and_a_conference(store: Store) -> None:
    from sofs_tui.screens.conference import ConferenceScreen
    from sofs_tui.screens.mapping import MappingScreen

    ids = family(store)
    assessment = mapping.create_assessment(store, ids["case"], title="First mapping")
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW,
        starts_at=datetime(2026, 12, 8, 10, tzinfo=UTC),
    )  # fmt: skip
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("2", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MappingScreen)
        assert app.screen.assessment_id == assessment.id
        app.pop_screen()
        await settle(app, pilot)
        await pilot.press("3", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConferenceScreen)
        app.pop_screen()
        await settle(app, pilot)
        assert app.screen is screen
        assert conference.id in screen.query_one("#conference-table", DataTable).rows


async def test_a_case_removed_elsewhere_closes_with_a_message(store: Store) -> None:
    from sofs_tui.store import changes

    ids = family(store)
    with store.write() as session:
        changes.tombstone(session, store, changes.get(session, Case, ids["case"], "case"))
    async with opened(store, ids["case"]) as (app, _pilot, _screen):
        assert not isinstance(app.screen, CaseScreen)


async def test_deadlines_show_in_words_on_the_conference_tab(
    store: Store, clock: FakeClock
) -> None:
    ids = family(store)
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW,
        starts_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
    )  # fmt: skip
    conferences.add_report(store, conference.id, title="SW", author_name="A", agency="CSC")
    async with opened(store, ids["case"]) as (_app, pilot, screen):
        await pilot.press("3")
        assert rows(screen, "conference-table")[0][4] == "✗ overdue by 23h 30m (parents)"


# --- markup and escape sequences through every text field --------------------------------------

MARKUP = "[@click=app.quit]{}[/b] [TODO]"
CONTROL = ("a\x1b]52;c;SGVsbG8=\x07b", "a\x1b]0;title\x07b", "a\x1b[31mred", "a\u202eb")


def everything_shown(app: SofsApp) -> str:
    screen = app.screen
    parts = [str(s.render()) for s in screen.query(Static)]
    for table in screen.query(DataTable):
        parts += [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]
    return "\n".join(parts)


async def test_markup_goes_through_every_field_literally(store: Store) -> None:
    payload = {name: MARKUP.format(name) for name in ("reference", "family", "team")}
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        for field, text in payload.items():
            await paste(app, pilot, f"case-{field}", text)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        person_fields = {
            PersonKind.CHILD: ("name",),
            PersonKind.ADULT: ("name", "relationship"),
            PersonKind.NETWORK: ("name", "relationship"),
            PersonKind.PROFESSIONAL: ("name", "role", "agency", "practice"),
        }
        for kind, fields in person_fields.items():
            await pilot.press("a")
            await settle(app, pilot)
            app.screen.query_one("#person-kind", Select).value = kind
            await pilot.pause()
            for field in fields:
                await paste(app, pilot, f"person-{field}", MARKUP.format(f"{kind}-{field}"))
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is screen, kind
        await pilot.press("c")
        await settle(app, pilot)
        app.screen.query_one("#conference-when", Input).value = "2026-12-07 10:00"
        for field in ("chair", "location"):
            await paste(app, pilot, f"conference-{field}", MARKUP.format(field))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.is_running and app.screen is screen  # nothing clicked, nothing crashed

        with store.read() as session:
            (case,) = session.exec(select(Case)).all()
            stored_people = session.exec(select(Person)).all()
            (conference,) = session.exec(select(Conference)).all()
        assert (case.reference, case.family_name, case.team) == tuple(payload.values())
        by_kind = {p.kind: p for p in stored_people}
        assert by_kind[PersonKind.ADULT].relationship == MARKUP.format("adult-relationship")
        professional = by_kind[PersonKind.PROFESSIONAL]
        assert (professional.role, professional.agency, professional.gp_practice) == (
            MARKUP.format("professional-role"),
            MARKUP.format("professional-agency"),
            MARKUP.format("professional-practice"),
        )
        assert (conference.chair, conference.location) == (
            MARKUP.format("chair"), MARKUP.format("location"),
        )  # fmt: skip
        shown_text = everything_shown(app)
        for text in (
            *payload.values(),
            *(MARKUP.format(f"{k}-name") for k in person_fields),
            MARKUP.format("network-relationship"),
            MARKUP.format("professional-role"),
            MARKUP.format("chair"),
        ):
            assert text in shown_text, text


@pytest.mark.parametrize("payload", CONTROL)
async def test_control_characters_are_left_out_with_a_message(store: Store, payload: str) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("a")
        await settle(app, pilot)
        await paste(app, pilot, "person-name", payload)
        field = app.screen.query_one("#person-name", Input)
        assert "\x1b" not in field.value and "\u202e" not in field.value
        assert "Left out" in shown(app.screen, "#person-name-msg")
        typed = field.value
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert typed in [p.name for p in people(store, ids["case"])]
        assert "\x1b" not in app.export_screenshot() and "\u202e" not in app.export_screenshot()


async def test_control_characters_put_in_by_a_program_are_left_out(store: Store) -> None:
    """A field's value set by code is cleaned as it goes in (never drawn, never saved)."""
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        form.query_one("#conference-when", Input).value = "2026-12-07 10:00"
        chair = form.query_one("#conference-chair", Input)
        chair.value = CONTROL[1]
        await pilot.pause()
        assert chair.value == "a]0;titleb"  # the printable rest
        assert shown(form, "#conference-chair-msg") == ""
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        with store.read() as session:
            (conference,) = session.exec(select(Conference)).all()
        assert conference.chair == "a]0;titleb"


async def test_stored_escape_sequences_never_reach_the_screen(store: Store) -> None:
    """Text that did not come through a form (synced, imported) is cleaned at the store and
    again at display."""
    case = cases.create_case(store, reference="C-1", family_name="".join(CONTROL))
    cases.add_person(store, case.id, kind=PersonKind.NETWORK, name="".join(CONTROL))
    async with opened(store, case.id) as (app, pilot, screen):
        await pilot.press("4")
        shot = app.export_screenshot()
        assert "\x1b]" not in shot and "\u202e" not in shot and "\x07" not in shot
        assert "a]52;c;SGVsbG8=b" in shown(screen, "#case-title")


# --- the family's own details, and a child's plan by hand ---------------------------------------


async def test_the_case_details_are_edited_and_the_case_read_again(store: Store) -> None:
    from sofs_tui.domain.enums import CaseStatus
    from sofs_tui.screens.case_form import CaseFormScreen

    ids = family(store)
    cases.create_case(store, reference="C-009", family_name="Otherfamily")
    async with opened(store, ids["case"]) as (app, pilot, screen):
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "case: edit case details" in titles
        await pilot.press("i")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, CaseFormScreen)
        assert shown(form, "#form-title") == "Case details: C-001"
        values = {f: form.query_one(f"#case-{f}", Input).value for f in ("reference", "lead")}
        assert values == {"reference": "C-001", "lead": "t.worker"}
        # A reference another case has: the form stays with the reason.
        await paste(app, pilot, "case-reference", "C-009")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "C-009 already exists" in shown(form, "#form-error")
        await paste(app, pilot, "case-reference", "C-001A")
        await paste(app, pilot, "case-family", "Brackwell family")
        await paste(app, pilot, "case-team", "West")
        await paste(app, pilot, "case-lead", "s.other")
        await choose(app, pilot, "case-status", "Closed")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert shown(screen, "#case-title") == (
            "C-001A · Brackwell family · lead s.other · West · Closed"
        )
        with store.read() as session:
            case = session.get(Case, ids["case"])
        assert case is not None
        assert (case.reference, case.family_name, case.team, case.lead_worker) == (
            "C-001A", "Brackwell family", "West", "s.other",
        )  # fmt: skip
        assert (case.status, case.closed_on) == (CaseStatus.CLOSED, date(2026, 11, 25))
        await pilot.press("4")
        assert ["25 Nov 2026", "Case closed"] in rows(screen, "timeline-table")


async def test_escape_leaves_the_case_details_unchanged(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("i")
        await settle(app, pilot)
        await paste(app, pilot, "case-family", "Changed")
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen
        with store.read() as session:
            case = session.get(Case, ids["case"])
        assert case is not None and case.family_name == "Testfamily"


async def test_a_child_already_on_a_plan_is_recorded_by_hand(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press(*"Ava")
        assert is_shown(app, "#person-plan-initial") and is_shown(app, "#person-plan-end")
        # A latest category without the one the plan started with, or without a start.
        await choose(app, pilot, "person-plan-latest", "EMO · Emotional abuse")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PersonFormScreen)
        assert "Give the date the plan started" in shown(app.screen, "#person-plan-start-msg")
        await paste(app, pilot, "person-plan-start", "2026-03-02")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Choose the category the plan started with." in shown(
            app.screen, "#person-plan-initial-msg"
        )
        await choose(app, pilot, "person-plan-initial", "NEG · Neglect")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert rows(screen, "people-table")[0] == [
            "Child", "Ava", "date of birth not recorded", "NEG → EMO since 02 Mar 2026",
        ]  # fmt: skip
        (ava,) = [p for p in people(store, ids["case"]) if p.name == "Ava"]
        assert (ava.plan_category_initial, ava.plan_category_latest, ava.plan_start) == (
            PlanCategory.NEG, PlanCategory.EMO, date(2026, 3, 2),
        )  # fmt: skip
        await pilot.press("4")
        assert ["02 Mar 2026", "Ava: child protection plan started (NEG)"] in rows(
            screen, "timeline-table"
        )


async def test_a_wrong_plan_category_is_corrected_and_a_plan_ended(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, screen):
        await pilot.press("enter")  # Kai: NEG → EMO since 02 Nov 2026
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, PersonFormScreen)
        assert form.query_one("#person-plan-initial", Select).value is PlanCategory.NEG
        assert form.query_one("#person-plan-latest", Select).value is PlanCategory.EMO
        assert form.query_one("#person-plan-start", Input).value == "2026-11-02"
        await choose(app, pilot, "person-plan-latest", "PHY · Physical abuse")
        await paste(app, pilot, "person-plan-end", "2026-11-01")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "A plan cannot end before it started." in shown(form, "#person-plan-end-msg")
        await paste(app, pilot, "person-plan-end", "2026-11-24")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert rows(screen, "people-table")[0][3] == ("NEG → PHY 02 Nov 2026 – 24 Nov 2026 (ended)")
        (kai,) = [p for p in people(store, ids["case"]) if p.id == ids["child"]]
        assert (kai.plan_category_latest, kai.plan_end) == (PlanCategory.PHY, date(2026, 11, 24))


async def test_the_timeline_shows_the_sign_off_and_who_reopened_it_and_why(
    store: Store, clock: FakeClock
) -> None:
    from sofs_tui.domain.enums import Section
    from sofs_tui.store.store import Actor

    ids = family(store)
    assessment = mapping.create_assessment(store, ids["case"], title="First mapping")
    danger = mapping.save_entry(
        store, assessment.id, section=Section.DANGER_STATEMENT,
        text="Mum worries that when Dad drinks he hits Kai, and Kai could be hurt.",
    )  # fmt: skip
    goal = mapping.save_entry(
        store, assessment.id, section=Section.SAFETY_GOAL,
        text="Dad stays sober around Kai for six months.",
    )  # fmt: skip
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, assessment.id, scorer_name="Mum", value=4, rationale="ok")
    mapping.sign_off_assessment(store, assessment.id)
    clock.advance(hours=2)
    store.actor = Actor("m.lead", "manager")
    mapping.reopen_assessment(store, assessment.id, reason="New police information")
    async with opened(store, ids["case"]) as (_app, pilot, screen):
        await pilot.press("4")
        timeline = rows(screen, "timeline-table")
        assert ["25 Nov 2026 09:30", "Mapping signed off by t.worker: First mapping"] in timeline
        assert [
            "25 Nov 2026 11:30",
            "Mapping reopened by m.lead: First mapping. Reason: New police information",
        ] in timeline
