"""Unlocking shows the caseload's first page before the store itself has opened
(`SofsApp.store_unlocked`): what needs the store meanwhile waits for it, locking meanwhile
locks it the moment it opens, and a failed opening says so in words.

The store's opening is held back by hand (`HeldOpening`) so each moment can be looked at.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

import sofs_tui.store.store as store_module
from sofs_tui.app import SofsApp
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.store.errors import StoreIOError
from sofs_tui.store.files import DB_NAME
from sofs_tui.store.first_page import FirstLook
from tests.ui.shell_support import PASS, SENTINEL, enrolled, settle, shell_app, visible_text

FAMILIES = [f"{SENTINEL} family", "Second family", "Third family"]


class HeldCall:
    """`module.name` waits, in whatever thread calls it, until `release()`; with `fail`, it
    then raises that instead of calling the real function."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        module: ModuleType,
        name: str,
        fail: Exception | None = None,
    ) -> None:
        self.started = threading.Event()
        self._released = threading.Event()
        real = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.started.set()
            assert self._released.wait(30), f"the test never released {name}"
            if fail is not None:
                raise fail
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)

    def release(self) -> None:
        self._released.set()


class HeldOpening(HeldCall):
    """`open_with_key` waits until `release()`; with `fail`, it then raises that."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: Exception | None = None) -> None:
        super().__init__(monkeypatch, store_module, "open_with_key", fail)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def rows_shown(app: SofsApp) -> int:
    screen = app.screen
    if not isinstance(screen, CaseListScreen):
        return -1
    return screen.query_one("#case-table", DataTable).row_count


def sync_cells(app: SofsApp) -> list[str]:
    table = app.screen.query_one("#case-table", DataTable)
    sync = table.get_column_index("sync")
    return [str(table.get_row_at(row)[sync]) for row in range(table.row_count)]


async def unlocked_with_page_shown(app: SofsApp, pilot: Pilot[None]) -> None:
    await until(pilot, lambda: app.screen.query("#passphrase").results() is not None, "unlock")
    await pilot.pause()
    await pilot.press(*PASS, "enter")
    await until(pilot, lambda: rows_shown(app) == len(FAMILIES), "the first page")


async def test_the_first_page_shows_before_the_store_opens_and_work_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    opening = HeldOpening(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        assert app.store is None and app.store_opening
        assert SENTINEL in visible_text(app)
        assert sync_cells(app) == ["…"] * 3  # read from the store, once it is open
        assert opening.started.wait(10)  # started after the page was painted

        await pilot.press("enter")  # open the first case while the store is still opening
        await until(pilot, lambda: isinstance(app.screen, CaseScreen), "the case screen")
        opening.release()
        await until(pilot, lambda: app.store is not None, "the store")
        await settle(app, pilot)
        assert not app.store_opening
        assert isinstance(app.screen, CaseScreen)
        assert SENTINEL in visible_text(app)  # the case loaded once the store was there
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert all(cell != "…" for cell in sync_cells(app)), sync_cells(app)


async def test_locking_while_the_store_opens_locks_it_the_moment_it_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    opening = HeldOpening(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        assert opening.started.wait(10)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen) and app.is_locked
        assert SENTINEL not in visible_text(app)

        opening.release()
        await until(pilot, lambda: app.store is not None, "the store to open")
        assert app.store is not None
        assert app.store.is_locked and app.store.key is None and app.store.engine is None
        assert isinstance(app.screen, LockScreen)

        await pilot.press(*PASS, "enter")
        await until(pilot, lambda: not app.is_locked, "the unlock")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert app.store is not None and not app.store.is_locked
        assert all(cell != "…" for cell in sync_cells(app)), sync_cells(app)


async def test_locking_before_the_opening_starts_wipes_the_key_it_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    opening = HeldOpening(monkeypatch)
    looks: list[FirstLook] = []
    real_unlocked = SofsApp.store_unlocked

    def store_unlocked(app: SofsApp, look: FirstLook, replacing: Any = None) -> None:
        looks.append(look)
        real_unlocked(app, look, replacing)

    monkeypatch.setattr(SofsApp, "store_unlocked", store_unlocked)
    # Nothing starts the opening: not the paint, not the timer, not a read of the sync column.
    monkeypatch.setattr(SofsApp, "_start_opening", lambda app: None)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        assert not looks[0].key.is_wiped
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert looks[0].key.is_wiped
        assert not opening.started.is_set()
        # What waited for that store (the sync column's read) stops as locked, instead of
        # waiting for ever (quitting from the lock screen would then never end).
        await until(
            pilot,
            lambda: not [w for w in app.workers if w.is_running and w._thread_worker],
            "the waiting reads to stop",
        )

        opening.release()
        await pilot.press(*PASS, "enter")
        await until(pilot, lambda: not app.is_locked, "the unlock")
        await settle(app, pilot)
        assert app.store is not None and not app.store.is_locked and not app.store_opening
        assert isinstance(app.screen, CaseListScreen)
        # The sync column's read waited for the store; the lock screen's opening gave it one.
        assert all(cell != "…" for cell in sync_cells(app)), sync_cells(app)


async def test_an_opening_that_fails_says_so_in_words_and_keeps_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    failure = StoreIOError("The case store could not be read (test). Nothing was changed.")
    opening = HeldOpening(monkeypatch, fail=failure)
    incidents: list[BaseException] = []
    monkeypatch.setattr(SofsApp, "report_incident", lambda app, exc: incidents.append(exc) or "x")
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        opening.release()
        await until(pilot, lambda: not app.store_opening, "the opening to end")
        await settle(app, pilot)
        messages = [str(n.message) for n in app._notifications]
        assert failure.user_message in messages
        assert incidents == []
        assert app.store is None
        assert rows_shown(app) == len(FAMILIES)  # what was on screen stays
        # Each later action says what is wrong, not that the store is locked.
        with pytest.raises(StoreIOError):
            app.require_store()


async def test_a_first_page_left_to_the_full_open_is_read_once_the_store_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    import sofs_tui.store.first_page as first_page

    monkeypatch.setattr(first_page, "read_first_page", lambda *args, **kwargs: None)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*PASS, "enter")
        await until(pilot, lambda: rows_shown(app) == len(FAMILIES), "the caseload")
        await until(pilot, lambda: app.store is not None, "the store")
        await settle(app, pilot)
        assert SENTINEL in visible_text(app)
        assert all(cell != "…" for cell in sync_cells(app)), sync_cells(app)


async def test_the_first_unlock_keeps_the_bank_holidays_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sofs_tui import holiday_cache
    from sofs_tui.domain import calendar

    monkeypatch.setattr(calendar, "_remembered", {})
    enrolled(tmp_path / "data", FAMILIES)
    app, paths = shell_app(tmp_path / "data")
    cache = paths.state_dir / holiday_cache.CACHE_NAME
    assert not cache.exists()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        await until(pilot, lambda: app.store is not None, "the store")
    assert cache.exists()
    second, _ = shell_app(tmp_path / "data")
    loads: list[bool] = []
    real_load = holiday_cache.load
    monkeypatch.setattr(holiday_cache, "load", lambda *a: loads.append(real_load(*a)) or loads[-1])
    async with second.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(second, pilot)
    assert loads == [True]


async def test_closing_while_the_store_opens_waits_for_it_and_closes_it_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quit or hang-up with the first page shown and the store still opening: the exit waits
    for the opening and closes what it opened (no WAL left by a thread the exit ends)."""
    enrolled(tmp_path / "data", FAMILIES)
    opening = HeldOpening(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked_with_page_shown(app, pilot)
        assert opening.started.wait(10)
        threading.Timer(0.3, opening.release).start()  # opens while the close waits
        app.finish_opening(10)  # as the hang-up's handler and the exit call it
        assert not app.store_opening
        store = app.store
        assert store is not None and not store.is_locked  # closed as any open store is:
        app.lock("Closing.")
        await settle(app, pilot)
        assert store.is_locked
        assert not (tmp_path / "data" / (DB_NAME + "-wal")).exists()  # checkpointed, removed
