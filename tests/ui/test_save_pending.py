"""The last save before the app closes: ctrl+q, the terminal closed (SIGHUP) or SIGTERM save
what was typed and is still waiting for the autosave's pause, before the store is locked; once,
and without ever holding the app up for long (SECURITY R11, R24)."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static, TextArea

import sofs_tui.guard as guard
from sofs_tui.screens.mapping_autosave import AUTOSAVE_DELAY
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.store import mapping
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from sofs_tui.store.tables import Outbox
from tests.store.helpers import new_family
from tests.ui.test_mapping import entries, make_app, open_mapping, settle
from tests.ui.test_worker_flow import type_text


@pytest.fixture
def raw_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def disk_store(store_path: Path, raw_key: bytes) -> Store:
    """A store the app will lock on its way out; `reopen` reads it again afterwards."""
    return open_with_key(
        store_path / DB_NAME, DataKey(raw_key), Actor("t.worker", "worker"), create=True
    )


def reopen(store_path: Path, raw_key: bytes) -> Store:
    return open_with_key(store_path / DB_NAME, DataKey(raw_key))


def outbox_texts(store: Store, record_id: str) -> list[str]:
    with store.read() as session:
        rows = session.exec(select(Outbox).where(Outbox.record_id == record_id)).all()
    return [json.loads(row.fields)["text"] for row in rows]


class SlowSaves:
    """`mapping.save_entry`, counted; a call can be held until the test lets it go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        self.hold_first = False
        self.released = threading.Event()
        self._real = mapping.save_entry
        monkeypatch.setattr(mapping, "save_entry", self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.texts.append(kwargs["text"])
        if self.hold_first and len(self.texts) == 1:
            assert self.released.wait(10)
        return self._real(*args, **kwargs)

    def release_in(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self.released.set)
        timer.daemon = True
        timer.start()


@pytest.fixture
def saves(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowSaves]:
    # Wait as long as it takes for a held save (released after 0.2 s) on a loaded machine;
    # the bound itself has its own test.
    monkeypatch.setattr(guard, "PENDING_SAVE_SECONDS", 10.0)
    counted = SlowSaves(monkeypatch)
    yield counted
    counted.released.set()  # never leave a worker's thread waiting


async def test_the_hook_saves_what_waits_for_the_pause_once(store: Store, saves: SlowSaves) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")
        await type_text(pilot, "Dad shouts")
        editor = screen.query_one(EntryEditor)
        assert "Not saved yet" in editor.status_text() and saves.texts == []

        app.save_pending_edits()  # synchronous: committed when it returns

        (entry,) = entries(store, ids["assessment"])
        assert entry.text == "Dad shouts"
        assert outbox_texts(store, entry.id) == ["Dad shouts"]  # in the same transaction
        assert editor.status_text().startswith("✓ Saved at") and not editor.dirty
        await pilot.pause(AUTOSAVE_DELAY + 0.3)  # the pause would have ended by now
        await settle(app, pilot)
        assert saves.texts == ["Dad shouts"]  # the timer found nothing left to save
        app.save_pending_edits()
        assert saves.texts == ["Dad shouts"]


async def test_a_save_running_is_waited_for_and_the_rest_updates_the_same_entry(
    store: Store, saves: SlowSaves
) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        saves.hold_first = True
        await pilot.press("a")
        await type_text(pilot, "first")
        await pilot.press("ctrl+s")  # the new entry's first save starts, and is held
        await type_text(pilot, " more")
        editor = screen.query_one(EntryEditor)
        assert saves.texts == ["first"] and editor.record_id is None

        saves.release_in(0.2)
        app.save_pending_edits()

        assert saves.texts == ["first", "first more"]
        (entry,) = entries(store, ids["assessment"])  # one entry, not a second new one
        assert entry.text == "first more" and editor.record_id == entry.id
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)  # the held save's own callback comes back: nothing to do
        assert saves.texts == ["first", "first more"]
        assert editor.status_text().startswith("✓ Saved at") and not editor.dirty


async def test_a_save_that_does_not_finish_holds_the_app_up_no_longer_than_the_bound(
    store: Store, saves: SlowSaves, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard, "PENDING_SAVE_SECONDS", 0.3)
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        saves.hold_first = True
        await pilot.press("a")
        await type_text(pilot, "first")
        await pilot.press("ctrl+s")
        await type_text(pilot, " more")

        started = time.monotonic()
        app.save_pending_edits()
        waited = time.monotonic() - started

        assert 0.25 <= waited < 2.0  # the save is held for 10 s
        assert saves.texts == ["first"]  # no second save of a record not yet created
        saves.released.set()
        await settle(app, pilot)


async def test_ctrl_q_during_a_save_keeps_what_was_typed_after_it_started(
    store_path: Path, raw_key: bytes, disk_store: Store, saves: SlowSaves
) -> None:
    ids = new_family(disk_store)
    app = make_app(disk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        saves.hold_first = True
        await pilot.press("a")
        await type_text(pilot, "last words")
        await pilot.press("ctrl+s")
        await type_text(pilot, " before the train")
        saves.release_in(0.2)
        await pilot.press("ctrl+q")
    assert disk_store.is_locked
    store = reopen(store_path, raw_key)
    try:
        assert [e.text for e in entries(store, ids["assessment"])] == [
            "last words before the train"
        ]
    finally:
        store.lock()


async def test_a_hang_up_saves_the_words_before_the_store_is_locked(
    store_path: Path, raw_key: bytes, disk_store: Store, saves: SlowSaves,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ended: list[int] = []
    monkeypatch.setattr(guard, "_end_process", lambda code, pool: ended.append(code))
    ids = new_family(disk_store)
    app = make_app(disk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")
        await type_text(pilot, "Dad shouts")
        app._close_on_signal("SIGHUP", 129)
        assert disk_store.is_locked  # locked at once, after the save
        await asyncio.sleep(0.3)
    assert app.return_code == 129 and app.crash_incident is None
    assert saves.texts == ["Dad shouts"]
    store = reopen(store_path, raw_key)
    try:
        (entry,) = entries(store, ids["assessment"])
        assert entry.text == "Dad shouts"
        assert outbox_texts(store, entry.id) == ["Dad shouts"]
    finally:
        store.lock()


class Pending(Screen[None]):
    """A screen of another kind with something to save, and a widget on it with more."""

    def __init__(self, calls: list[str], *, fail: bool = False) -> None:
        super().__init__()
        self.calls = calls
        self.fail = fail

    def compose(self) -> ComposeResult:
        yield PendingWidget(self.calls)

    def save_pending_now(self, deadline: float) -> None:
        assert deadline > time.monotonic()
        self.calls.append("screen")
        if self.fail:
            raise RuntimeError("could not save")


class PendingWidget(Static):
    def __init__(self, calls: list[str]) -> None:
        super().__init__("")
        self.calls = calls

    def save_pending_now(self, deadline: float) -> None:
        self.calls.append("widget")


async def test_every_screen_in_the_stack_and_its_widgets_are_asked_and_a_failure_stops_none(
    store: Store,
) -> None:
    calls: list[str] = []
    app = make_app(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await app.push_screen(Pending(calls, fail=True))
        await app.push_screen(Pending(calls))
        await settle(app, pilot)
        app.save_pending_edits()
        assert calls == ["screen", "widget"] * 2
        await pilot.pause()
        assert any("incident" in n.message for n in app._notifications)
        app.lock("Locked.")  # locked, the key is gone: nothing can be saved, nothing asked
        calls.clear()
        app.save_pending_edits()
        assert calls == []


async def test_lock_now_saves_what_was_typed_a_moment_before_and_keeps_it_on_screen(
    store_path: Path, raw_key: bytes, disk_store: Store, saves: SlowSaves
) -> None:
    ids = new_family(disk_store)
    app = make_app(disk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")
        await type_text(pilot, "Mum left the baby")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.is_locked and disk_store.is_locked
        store = reopen(store_path, raw_key)  # the laptop is shut while locked
        try:
            assert [e.text for e in entries(store, ids["assessment"])] == ["Mum left the baby"]
        finally:
            store.lock()
        field = screen.query_one(EntryEditor).query_one(TextArea)
        assert field.text == "Mum left the baby"  # still there under the lock screen
