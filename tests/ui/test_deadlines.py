"""The deadlines view: overdue first, each state in words, Enter opens the conference, paging,
and a deadline that is met leaves the list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.enums import ConferenceKind, PersonKind, ShareMethod
from sofs_tui.screens import deadlines as deadlines_screen
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.deadlines import DeadlinesScreen
from sofs_tui.store import cases, conferences
from sofs_tui.store.store import Store

SIZES = [(80, 24), (160, 48)]


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def caseload(store: Store) -> dict[str, str]:
    """Two cases: A's review reports are overdue (due Tue 24 Nov 10:00, now Wed 25 Nov 09:30);
    B's initial conference reports are due Wed 2 Dec 10:00 (48 hours before Fri 4 Dec)."""
    a = cases.create_case(store, reference="A-1", family_name="Alder family")
    b = cases.create_case(store, reference="B-2", family_name="Birch family")
    mum = cases.add_person(
        store, b.id, kind=PersonKind.ADULT, name="Mum", parental_responsibility=True
    )
    review = conferences.schedule_conference(
        store, a.id, kind=ConferenceKind.REVIEW, starts_at=datetime(2026, 12, 1, 10, tzinfo=UTC)
    )
    initial = conferences.schedule_conference(
        store, b.id, kind=ConferenceKind.INITIAL, starts_at=datetime(2026, 12, 4, 10, tzinfo=UTC)
    )
    conferences.add_report(store, review.id, title="SW report", author_name="x", agency="CSC")
    school = conferences.add_report(
        store, initial.id, title="School report", author_name="y", agency="Greenway School"
    )
    return {"a": a.id, "b": b.id, "review": review.id, "initial": initial.id,
            "school": school.id, "mum": mum.id}  # fmt: skip


@asynccontextmanager
async def opened(
    store: Store, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[SofsApp, Pilot[None], DeadlinesScreen]]:
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("d")  # from the caseload
        await settle(app, pilot)
        assert isinstance(app.screen, DeadlinesScreen)
        yield app, pilot, app.screen


def rows(screen: Any) -> list[list[str]]:
    table = screen.query_one("#deadline-table", DataTable)
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


def status(screen: Any) -> str:
    return str(screen.query_one("#deadline-status", Static).render())


async def test_overdue_first_then_by_due_time(store: Store) -> None:
    caseload(store)
    async with opened(store, (160, 48)) as (_app, _pilot, screen):
        assert rows(screen) == [
            ["✗ Overdue · Tue 24 Nov 10:00 · overdue by 23h 30m", "parents", "A-1",
             "SW report · CSC", "Alder family", "Review (RCPC) · Tue 01 Dec 10:00"],
            ["✗ Overdue · Tue 24 Nov 10:00 · overdue by 23h 30m", "QAU", "A-1",
             "SW report · CSC", "Alder family", "Review (RCPC) · Tue 01 Dec 10:00"],
            ["○ Due · Wed 02 Dec 10:00 · 7d left", "parents", "B-2",
             "School report · Greenway School", "Birch family",
             "Initial (ICPC) · Fri 04 Dec 10:00"],
            ["○ Due · Wed 02 Dec 10:00 · 7d left", "QAU", "B-2",
             "School report · Greenway School", "Birch family",
             "Initial (ICPC) · Fri 04 Dec 10:00"],
        ]  # fmt: skip
        assert status(screen) == "4 due in the next 14 days · ✗ 2 overdue"


async def column_starts(pilot: Pilot[None], table: DataTable[Any]) -> dict[str, int]:
    """Where each column starts on screen, once the table has sized its columns to its rows
    (it does that when idle, after the rows arrive)."""
    for _ in range(20):
        if not table._require_update_dimensions:
            break
        await pilot.pause()
    starts, x = {}, 0
    for column in table.ordered_columns:
        starts[str(column.label)] = x
        x += column.get_render_width(table)
    return starts


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_what_is_due_is_on_screen_at_80_and_120_columns(
    store: Store, size: tuple[int, int]
) -> None:
    caseload(store)
    async with opened(store, size) as (_app, pilot, screen):
        table = screen.query_one("#deadline-table", DataTable)
        starts = await column_starts(pilot, table)
        if size[0] < 120:
            # A narrow terminal: the state as its symbol, when it is due and the time left.
            assert [r[:4] for r in rows(screen)[::2]] == [
                ["✗ 24 Nov 10:00 · overdue by 23h 30m", "parents", "A-1", "SW report · CSC"],
                ["○ 02 Dec 10:00 · 7d left", "parents", "B-2", "School report · Greenway School"],
            ]
            # What is due shows at least its first 25 characters.
            assert starts["What"] + 1 + 25 <= table.size.width
        else:
            assert rows(screen)[0][0] == "✗ Overdue · Tue 24 Nov 10:00 · overdue by 23h 30m"
            # What is due, whole, and the family's name.
            assert starts["Family"] + 1 + len("Alder family") <= table.size.width
            assert starts["Family"] - starts["What"] >= len("School report · Greenway School")


async def test_the_state_follows_the_width_when_the_terminal_is_resized(store: Store) -> None:
    caseload(store)
    async with opened(store, (80, 24)) as (app, pilot, screen):
        assert rows(screen)[0][0] == "✗ 24 Nov 10:00 · overdue by 23h 30m"
        await pilot.resize_terminal(160, 48)
        await settle(app, pilot)
        assert rows(screen)[0][0] == "✗ Overdue · Tue 24 Nov 10:00 · overdue by 23h 30m"


async def test_enter_opens_the_conference_and_o_the_case(store: Store) -> None:
    from sofs_tui.screens.conference import ConferenceScreen

    ids = caseload(store)
    async with opened(store) as (app, pilot, screen):
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConferenceScreen)
        assert app.screen.conference_id == ids["initial"]
        app.pop_screen()
        await settle(app, pilot)
        assert app.screen is screen and screen.query_one(DataTable).cursor_row == 2
        await pilot.press("o")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == ids["b"]


async def test_a_deadline_met_leaves_the_list(store: Store) -> None:
    ids = caseload(store)
    async with opened(store) as (app, pilot, screen):
        conferences.record_report_shared_with_parent(
            store, ids["school"], parent_id=ids["mum"],
            shared_at=datetime(2026, 11, 25, 9, tzinfo=UTC), method=ShareMethod.IN_PERSON,
            gone_through_together=True,
        )  # fmt: skip
        await pilot.press("f5")
        await settle(app, pilot)
        assert [(r[1], r[2]) for r in rows(screen)] == [
            ("parents", "A-1"),
            ("QAU", "A-1"),
            ("QAU", "B-2"),
        ]


async def test_long_lists_are_shown_a_page_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines_screen, "PAGE", 3)
    caseload(store)
    async with opened(store) as (app, pilot, screen):
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        assert status(screen) == "4 due in the next 14 days · ✗ 2 overdue · showing 3"
        await pilot.press("end")
        await settle(app, pilot)
        assert table.row_count == 4
        assert status(screen) == "4 due in the next 14 days · ✗ 2 overdue"


async def test_nothing_due_says_so(store: Store) -> None:
    cases.create_case(store, reference="A-1", family_name="Alder family")
    async with opened(store) as (app, pilot, screen):
        assert status(screen) == "Nothing due in 14 days."
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, DeadlinesScreen)
