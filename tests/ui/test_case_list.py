"""The caseload screen: the demo caseload at 80×24 and wide, filtering (debounced, latest
wins), the four orders, paging through 1,000 cases, a new case, and opening one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.coordinate import Coordinate
from textual.events import Paste
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from sofs_tui.app import SofsApp, _demo_opener
from sofs_tui.config import Settings
from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS
from sofs_tui.screens import case_list
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_form import CaseFormScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.deadlines import DeadlinesScreen
from sofs_tui.store import cases
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.queries import CaseSort, case_summaries
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case

SIZES = [(80, 24), (160, 48)]


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    """Let workers finish and their results reach the screen (results can start more work)."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


@asynccontextmanager
async def caseload(
    store: Store, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[SofsApp, Pilot[None], CaseListScreen]]:
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        yield app, pilot, app.screen


def status(screen: Any) -> str:
    return str(screen.query_one("#case-status", Static).render())


def cells(table: DataTable[Any], row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


def sync_word(table: DataTable[Any], row: int) -> str:
    return str(table.get_cell_at(Coordinate(row, table.get_column_index("sync"))))


def references(table: DataTable[Any]) -> list[str]:
    return [cells(table, row)[0] for row in range(table.row_count)]


@pytest.mark.parametrize("size", SIZES)
async def test_demo_opens_on_the_invented_caseload(tmp_path: Path, size: tuple[int, int]) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one(DataTable)
        shown = min(60, case_list.first_page_rows(size[1]))  # two screens of rows first
        assert table.row_count == shown
        assert status(screen) == (
            "60 cases · sorted by reference"
            if shown == 60
            else f"{shown} of 60 cases · sorted by reference"
        )
        first = cells(table, 0)
        assert first[0] == "DEMO-00001" and first[1].endswith(" family")
        # Demo rows arrive as if already synced; in words from 120 columns.
        assert sync_word(table, 0) == ("✓ synced" if size[0] >= case_list.WIDE else "✓")
        assert isinstance(app.focused, DataTable)
        await pilot.press("/")
        assert isinstance(app.focused, Input)
        await pilot.press(*"DEMO-0001", "enter")  # DEMO-00010 … DEMO-00019
        await settle(app, pilot)
        assert screen.query_one(Input).value == "DEMO-0001"
        assert table.row_count == 10
        assert status(screen) == "10 cases matching the filter · sorted by reference"
        assert isinstance(app.focused, DataTable)  # Enter goes back to the list
        await pilot.press("escape")  # clears the filter
        await settle(app, pilot)
        assert table.row_count == shown and screen.query_one(Input).value == ""
    assert app.store is not None and app.store.is_locked  # closing the app locks the store


async def test_typing_does_not_reload_per_keystroke(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debounced: with the delay never reached, typing alone loads nothing; Enter loads once."""
    fill_demo_caseload(store, 30)
    asked: list[str] = []
    real = case_list_summaries = case_summaries

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["text"])
        return case_list_summaries(*args, **kwargs)

    monkeypatch.setattr("sofs_tui.store.queries.case_summaries", recording)
    monkeypatch.setattr(case_list, "FILTER_DELAY", 3600.0)
    async with caseload(store) as (app, pilot, screen):
        await pilot.press("/", *"DEMO-0002")
        await settle(app, pilot)
        assert asked == [""]  # only the first load
        assert screen.query_one(DataTable).row_count == 30
        await pilot.press("enter")
        await settle(app, pilot)
        assert asked == ["", "DEMO-0002"]
        assert references(screen.query_one(DataTable)) == [f"DEMO-000{n}" for n in range(20, 30)]
    assert real is case_summaries


async def test_the_filter_applies_itself_after_the_pause(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_demo_caseload(store, 30)
    monkeypatch.setattr(case_list, "FILTER_DELAY", 0.001)
    async with caseload(store) as (app, pilot, screen):
        await pilot.press("/", *"DEMO-0003")
        await settle(app, pilot)
        assert references(screen.query_one(DataTable)) == ["DEMO-00030"]
        assert isinstance(app.focused, Input)  # still typing


async def test_a_stale_result_is_never_painted(store: Store) -> None:
    fill_demo_caseload(store, 12)
    async with caseload(store) as (app, pilot, screen):
        stale = case_summaries(
            store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar(), text="DEMO-0001"
        )
        screen.reload()  # a newer load has been asked for since `stale` was read
        await settle(app, pilot)
        screen._show(0, stale, 0, store.now(), None)  # an older generation arrives late
        assert screen.query_one(DataTable).row_count == 12


async def test_a_pasted_escape_sequence_is_left_out_of_the_filter(store: Store) -> None:
    fill_demo_caseload(store, 12)
    async with caseload(store) as (_app, pilot, screen):
        field = screen.query_one("#case-filter", Input)
        field.focus()
        await pilot.pause()
        field.post_message(Paste("DEMO\x1b]52;c;SGVsbG8=\x07"))
        await pilot.pause()
        assert field.value == "DEMO]52;c;SGVsbG8="
        message = str(screen.query_one("#case-filter-msg", Static).render())
        assert "Left out 2 hidden control characters" in message and "escape (ESC)" in message
        field.value = "DEMO\x1b[2J"  # by a program, not a paste: cleaned as it goes in
        assert field.value == "DEMO[2J"


async def test_a_thousand_cases_load_a_page_at_a_time(store: Store) -> None:
    fill_demo_caseload(store, 1000)
    async with caseload(store) as (app, pilot, screen):
        table = screen.query_one(DataTable)
        # Two screens of rows first (at 80x24), then a page of 200 at a time.
        assert table.row_count == case_list.first_page_rows(24) == 50
        assert case_list.PAGE == 200
        assert status(screen) == "50 of 1,000 cases · sorted by reference"
        await pilot.press("end")  # the cursor reaches the last row: the next page comes
        await settle(app, pilot)
        assert table.row_count == 250
        assert status(screen) == "250 of 1,000 cases · sorted by reference"
        rows = references(table)
        assert rows[49:51] == ["DEMO-00050", "DEMO-00051"] and len(set(rows)) == 250
        assert table.cursor_row == 49  # the worker stays where they were
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert table.row_count == 250  # paging down within what is loaded loads nothing


async def test_the_four_orders(store: Store) -> None:
    fill_demo_caseload(store, 40)

    def expected(sort: CaseSort) -> list[str]:
        page = case_summaries(
            store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar(), sort=sort
        )
        return [row.reference for row in page.rows]

    async with caseload(store) as (app, pilot, screen):
        table = screen.query_one(DataTable)
        for sort in (CaseSort.FAMILY, CaseSort.NEXT_CONFERENCE, CaseSort.NEAREST_DEADLINE):
            await pilot.press("s")
            await settle(app, pilot)
            assert status(screen) == f"40 cases · sorted by {sort.label}"
            assert references(table) == expected(sort)
        first_deadline = cells(table, 0)[table.get_column_index("deadline")]
        assert first_deadline.startswith("✗ overdue by")  # overdue first, in words
        await pilot.press("s")
        await settle(app, pilot)
        assert references(table) == sorted(references(table))


async def test_a_new_case_opens_once_saved(store: Store) -> None:
    cases.create_case(store, reference="C-001", family_name="First family")
    async with caseload(store) as (app, pilot, _screen):
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseFormScreen)
        await pilot.press(*"C-001", "tab", *"Second family", "tab", *"Team East", "enter")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, CaseFormScreen)  # the reference is taken: the form stays
        error = str(form.query_one("#form-error", Static).render())
        assert "A case with reference C-001 already exists" in error
        assert form.query_one("#case-family", Input).value == "Second family"  # kept
        form.query_one("#case-reference", Input).value = "C-002"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        with store.read() as session:
            created = session.exec(select(Case).where(Case.reference == "C-002")).one()
        assert app.screen.case_id == created.id
        assert (created.family_name, created.team) == ("Second family", "Team East")
        await pilot.press("escape")
        await settle(app, pilot)
        assert references(app.screen.query_one(DataTable)) == ["C-001", "C-002"]


async def test_blank_fields_are_named_and_nothing_is_saved(store: Store) -> None:
    async with caseload(store) as (app, pilot, _screen):
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, CaseFormScreen)
        assert "Give the case reference." in str(form.query_one("#case-reference-msg").render())
        assert "Give the family name." in str(form.query_one("#case-family-msg").render())
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        with store.read() as session:
            assert session.exec(select(Case)).all() == []


async def test_enter_opens_the_case_and_d_the_deadlines(store: Store) -> None:
    ids = [cases.create_case(store, reference=f"C-{n}", family_name="F").id for n in (1, 2)]
    async with caseload(store) as (app, pilot, _screen):
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == ids[1]
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DeadlinesScreen)


@pytest.mark.parametrize(("size", "word"), [((80, 24), "↑ 1"), ((120, 40), "↑ 1 unsent")])
async def test_new_work_shows_as_unsent_in_the_sync_column(
    store: Store, size: tuple[int, int], word: str
) -> None:
    cases.create_case(store, reference="C-1", family_name="F")
    async with caseload(store, size) as (_app, _pilot, screen):
        assert sync_word(screen.query_one(DataTable), 0) == word


async def test_the_palette_lists_the_caseload_actions(store: Store) -> None:
    async with caseload(store) as (app, _pilot, screen):
        titles = {command.title for command in app.get_system_commands(screen)}
    for expected in (
        "case: new case",
        "case: filter",
        "case: sort",
        "case: deadlines",
        "case: sort by nearest deadline",
        "case: sort by family",
    ):
        assert expected in titles
