"""The time left moves on while a screen stays open: every TIME_LEFT_EVERY seconds the
caseload, the deadlines, a case and a conference show their deadlines as of now (due, due
soon, overdue), the caseload in place (cursor and rows stay), and none of them while a form,
help or the lock screen is over it."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import WorkerCancelled

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.screens import base
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.screens.deadlines import DeadlinesScreen
from sofs_tui.screens.help import HelpScreen
from sofs_tui.store import conferences
from sofs_tui.store.store import Store
from tests.conftest import FakeClock
from tests.ui.test_deadlines import caseload


@pytest.fixture(autouse=True)
def _often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "TIME_LEFT_EVERY", 0.05)


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    """Let workers finish; a refresh every 50 ms cancels the one before it (exclusive)."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


def deadline_of(screen: CaseListScreen, case_id: str) -> str:
    table = screen.query_one("#case-table", DataTable)
    return str(table.get_cell(case_id, "deadline"))


async def until(pilot: Pilot[None], check: Any, what: str) -> None:
    for _ in range(300):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never: {what}")


async def test_the_caseload_s_time_left_moves_on_in_place(store: Store, clock: FakeClock) -> None:
    ids = caseload(store)  # B's reports are due Wed 2 Dec 10:00; now Wed 25 Nov 09:30
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseListScreen)
        table = screen.query_one("#case-table", DataTable)
        order = list(table.rows)
        table.move_cursor(row=1)
        assert deadline_of(screen, ids["b"]) == "○ 7d left (parents)"

        clock.advance(days=7)  # Wed 2 Dec 09:30: half an hour left
        await until(pilot, lambda: "◔" in deadline_of(screen, ids["b"]), "B due soon")
        clock.advance(hours=1)  # 10:30: missed
        await until(pilot, lambda: "✗" in deadline_of(screen, ids["b"]), "B overdue")
        assert list(table.rows) == order and table.cursor_row == 1  # in place


class Counted:
    """Counts the time-left refreshes of each screen class."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {}
        for cls in (CaseListScreen, DeadlinesScreen, CaseScreen, ConferenceScreen):
            real = cls.refresh_time_left

            def counted(screen: Any, real: Any = real) -> None:
                name = type(screen).__name__
                self.calls[name] = self.calls.get(name, 0) + 1
                real(screen)

            monkeypatch.setattr(cls, "refresh_time_left", counted)

    def of(self, screen: Screen[Any]) -> int:
        return self.calls.get(type(screen).__name__, 0)


@pytest.mark.parametrize("which", ["caseload", "deadlines", "case", "conference"])
async def test_each_deadline_screen_refreshes_while_on_top_and_waits_under_help(
    store: Store, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    ids = caseload(store)
    counted = Counted(monkeypatch)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        if which == "deadlines":
            await app.push_screen(DeadlinesScreen())
        elif which == "case":
            await app.push_screen(CaseScreen(ids["b"]))
        elif which == "conference":
            await app.push_screen(ConferenceScreen(ids["initial"]))
        await settle(app, pilot)
        screen = app.screen
        start = counted.of(screen)
        await until(pilot, lambda: counted.of(screen) >= start + 2, f"{which} refreshed")

        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        under_help = counted.of(screen)
        await pilot.pause(0.3)
        assert counted.of(screen) == under_help  # not while help is over it
        await pilot.press("escape")
        await until(pilot, lambda: counted.of(screen) > under_help, f"{which} again")
        assert app.crash_incident is None


async def test_the_deadlines_keep_the_cursor_on_its_deadline_when_rows_come_above_it(
    store: Store,
) -> None:
    ids = caseload(store)  # A's two reports overdue, then B's two due
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(DeadlinesScreen())
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DeadlinesScreen)
        table = screen.query_one("#deadline-table", DataTable)
        table.move_cursor(row=2)
        chosen = screen.selected()
        assert chosen is not None and chosen.reference == "B-2"

        # Another report for A's review, overdue too (from another device, say): two rows
        # come above B's; the minute's refresh keeps the cursor on B's report to the parents.
        conferences.add_report(
            store, ids["review"], title="Police report", author_name="z", agency="Police"
        )
        await until(pilot, lambda: len(screen.items) == 6, "the new rows")
        await settle(app, pilot)
        assert table.cursor_row == 4
        assert screen.selected() == chosen
