"""Idle lock and lock-now (SECURITY R10, R11) with an injected clock: the lock screen hides every
case, drops the key and closes the database; the passphrase brings the worker back to exactly
where they were."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy.pool import QueuePool
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from sofs_tui.app import DEMO_PASSPHRASE, SofsApp, _demo_opener
from sofs_tui.config import Settings
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.help import HelpScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.store.errors import StoreLocked, WrongPassphrase
from sofs_tui.store.store import Store
from sofs_tui.widgets.fields import FreeTextInput
from tests.ui.shell_support import (
    PASS,
    SENTINEL,
    FakeMonotonic,
    enrolled,
    focused,
    settle,
    shell_app,
    top,
    unlock_with,
    visible_text,
)


class DraftScreen(StoreScreen):
    """A case-like screen with a field the worker is half-way through typing."""

    PALETTE_GROUP = "draft"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="draft.save"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(f"Notes on the {SENTINEL} family", markup=False)
        yield FreeTextInput(id="note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    enrolled(tmp_path / "data")
    return tmp_path / "data"


async def test_idle_lock_after_the_council_minutes_hides_every_case_and_drops_the_key(
    data_dir: Path,
) -> None:
    clock = FakeMonotonic()
    app, _ = shell_app(data_dir, clock=clock, idle_minutes=5)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert SENTINEL in visible_text(app)  # the case is on screen before the lock
        store = app.store
        assert store is not None and store.key is not None and store.engine is not None
        key, pool = store.key, store.engine.pool
        assert isinstance(pool, QueuePool)

        clock.advance(minutes=5, seconds=1)
        app.check_idle_lock()
        await settle(app, pilot)

        assert isinstance(app.screen, LockScreen)
        assert SENTINEL not in visible_text(app)
        assert "Locked after 5 minutes without use." in visible_text(app)
        assert store.is_locked and key.is_wiped
        assert vars(store)["key"] is None and vars(store)["engine"] is None
        assert pool.checkedout() == 0 and pool.checkedin() == 0  # every connection closed
        assert app.sync_paused
        with pytest.raises(StoreLocked):
            app.require_store()


async def test_unlocking_returns_to_the_same_screen_with_the_unsaved_text(
    data_dir: Path,
) -> None:
    clock = FakeMonotonic()
    app, _ = shell_app(data_dir, clock=clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        draft = DraftScreen()
        await app.push_screen(draft)
        await pilot.press(*"half-written note")
        old_store = app.store

        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "half-written" not in visible_text(app)

        await pilot.press(*"not the passphrase", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)
        assert WrongPassphrase.default_message in visible_text(app)
        assert app.screen.query_one("#passphrase", Input).value == ""  # nothing typed stays

        await unlock_with(app, pilot)
        assert top(app) is draft
        assert draft.query_one("#note", Input).value == "half-written note"
        assert focused(app) is draft.query_one("#note", Input)
        assert app.store is not old_store and app.store is not None
        assert not app.store.is_locked and not app.sync_paused
        assert app.store.actor.username == "t.worker"


async def test_activity_before_the_limit_keeps_the_app_open(data_dir: Path) -> None:
    clock = FakeMonotonic()
    app, _ = shell_app(data_dir, clock=clock, idle_minutes=5)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        clock.advance(minutes=4)
        await pilot.press("down")  # any key counts as activity
        clock.advance(minutes=4)
        app.check_idle_lock()
        await pilot.pause()
        assert isinstance(app.screen, CaseListScreen) and not app.is_locked
        clock.advance(minutes=1, seconds=1)  # now 5 minutes since the last key
        app.check_idle_lock()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)


async def test_the_idle_check_runs_on_a_timer(data_dir: Path) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True):
        timers = [t for t in app._timers if t.name == "idle-lock"]
        assert len(timers) == 1 and timers[0]._callback == app.check_idle_lock


async def test_the_lock_now_key_locks_at_once_even_while_typing(data_dir: Path) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("/", *"Zq")  # in the filter field
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert app.store is not None and app.store.is_locked


async def test_escape_does_not_close_the_lock_screen_and_help_opens_over_it(
    data_dir: Path,
) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("ctrl+l", "escape")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert SENTINEL not in visible_text(app)  # the dimmed screen behind is the lock screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)


async def test_a_screen_opened_by_a_worker_while_locked_waits_for_the_unlock(
    data_dir: Path,
) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        app.push_screen(DraftScreen())  # e.g. a unit of work that finished after the lock
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert SENTINEL not in visible_text(app)
        await unlock_with(app, pilot)
        assert isinstance(app.screen, DraftScreen)


async def test_screens_under_the_lock_get_store_locked_and_nothing_crashes(
    data_dir: Path,
) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        caseload = app.screen
        assert isinstance(caseload, CaseListScreen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        results: list[object] = []
        caseload.run_store(lambda store: results.append(store), on_error=results.append)
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)
        assert [type(r) for r in results] == [StoreLocked]
        assert SENTINEL not in visible_text(app)
        await unlock_with(app, pilot)
        assert id(top(app)) == id(caseload)  # (an `is` would narrow caseload's type)
        caseload.run_store(lambda store: results.append(store))
        await settle(app, pilot)
        assert isinstance(results[-1], Store) and not results[-1].is_locked


async def test_the_demo_store_locks_and_unlocks_with_the_published_demo_passphrase(
    tmp_path: Path,
) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings(), store_dir=tmp_path, demo=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert DEMO_PASSPHRASE in visible_text(app)
        await unlock_with(app, pilot, DEMO_PASSPHRASE)
        assert isinstance(app.screen, CaseListScreen)
        assert app.store is not None and not app.store.is_locked
    # The demo's key was wrapped in memory only: no key file was ever written.
    assert [p.name for p in tmp_path.rglob("*") if "key" in p.name] == []


async def test_a_store_without_a_key_file_says_it_cannot_be_unlocked_again(
    store: Store,
) -> None:
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "cannot be unlocked again" in visible_text(app)
        assert app.screen.query_one("#passphrase", Input).disabled


async def test_a_remapped_lock_key_from_the_settings_locks(data_dir: Path) -> None:
    settings = Settings(keymap={"app.lock": "f9"})
    app, _ = shell_app(data_dir, settings=settings)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)


async def test_clock_is_carried_to_the_reopened_store(data_dir: Path) -> None:
    app, _ = shell_app(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        assert app.store is not None

        def fixed_clock() -> object:
            return "the test's clock"

        app.store.clock = fixed_clock  # type: ignore[assignment]
        await pilot.press("ctrl+l")
        await unlock_with(app, pilot, PASS)
        assert app.store.clock is fixed_clock


async def test_a_save_already_running_at_the_lock_commits_then_its_connection_closes(
    data_dir: Path,
) -> None:
    from sqlalchemy import text

    app, _ = shell_app(data_dir)
    started, release = threading.Event(), threading.Event()
    done: list[object] = []

    def slow_save(store: Store) -> None:
        with store.write() as session:
            session.execute(text("SELECT 1"))  # the transaction has its connection
            started.set()
            release.wait(10)
            session.execute(text("UPDATE family_case SET team = 'saved during the lock'"))

    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseListScreen) and app.store and app.store.engine
        pool = app.store.engine.pool
        assert isinstance(pool, QueuePool)
        screen.run_store(slow_save, on_done=done.append, on_error=done.append)
        assert await asyncio.to_thread(started.wait, 10)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(top(app), LockScreen)
        release.set()
        await settle(app, pilot)
        assert done == [None]  # committed, not failed
        assert pool.checkedin() == 0  # its connection was closed once it came back
        await unlock_with(app, pilot)
        assert app.store is not None
        with app.store.read() as session:
            teams = session.execute(text("SELECT team FROM family_case")).scalars().all()
        assert teams == ["saved during the lock"]
