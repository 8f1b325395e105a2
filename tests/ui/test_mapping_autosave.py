"""Autosave in the mapping editor: saved within a second of the last keystroke or on leaving the
field, "Saved" only after the commit, and a failed save never loses what was typed."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from textual.widgets import TextArea

from sofs_tui.domain.enums import Section
from sofs_tui.screens.mapping_autosave import AUTOSAVE_DELAY
from sofs_tui.screens.mapping_dialogs import MappingConfirm
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.store import mapping
from sofs_tui.store.errors import StoreFull
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from tests.store.helpers import new_family
from tests.ui.test_mapping import (
    entries,
    make_app,
    open_mapping,
    paste,
    settle,
)


def test_the_autosave_pause_keeps_the_one_second_promise() -> None:
    assert 0 < AUTOSAVE_DELAY <= 0.6  # leaves time for the commit inside the second


async def test_typing_is_saved_within_a_second_and_saved_shows_only_then(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")  # the first heading: Harm
        editor = screen.query_one(EntryEditor)
        await pilot.press(*"Kai had a bruise")
        # Before the pause has passed: nothing stored, and the editor does not claim it is.
        assert "Not saved yet" in editor.status_text()
        assert entries(store, ids["assessment"]) == []
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)
        assert editor.status_text() == "✓ Saved at 09:30:00"  # the store's clock, council time
        saved = entries(store, ids["assessment"])
        assert [(e.section, e.text) for e in saved] == [(Section.HARM, "Kai had a bruise")]
        # More typing updates the same entry (no second entry).
        await pilot.press(*" on 3 May")
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)
        assert [e.text for e in entries(store, ids["assessment"])] == ["Kai had a bruise on 3 May"]
        assert editor.status_text().startswith("✓ Saved at")


async def test_saved_appears_only_after_the_commit_returns(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = new_family(store)
    app = make_app(store)
    seen: list[tuple[str, str]] = []
    real_save = mapping.save_entry

    def watched_save(*args: Any, **kwargs: Any) -> Any:
        editor = app.screen.query_one(EntryEditor)
        seen.append(("before commit", app.call_from_thread(editor.status_text)))
        entry = real_save(*args, **kwargs)
        seen.append(("after commit", app.call_from_thread(editor.status_text)))
        return entry

    monkeypatch.setattr(mapping, "save_entry", watched_save)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"Mum shouts")
        editor = screen.query_one(EntryEditor)
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)
        assert seen == [("before commit", "Saving…"), ("after commit", "Saving…")]
        assert editor.status_text().startswith("✓ Saved at")
        assert [e.text for e in entries(store, ids["assessment"])] == ["Mum shouts"]


async def test_leaving_the_field_saves_without_waiting(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"Dad left Kai alone", "tab")  # tab leaves the words field
        await settle(app, pilot)
        assert [e.text for e in entries(store, ids["assessment"])] == ["Dad left Kai alone"]
        assert screen.query_one(EntryEditor).status_text().startswith("✓ Saved at")


async def test_leaving_the_editor_saves_first(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"typed then straight out", "escape")
        await settle(app, pilot)
        assert screen.open_form() is None
        assert [e.text for e in entries(store, ids["assessment"])] == ["typed then straight out"]


async def test_a_failed_save_keeps_the_text_says_why_and_retries(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = new_family(store)
    app = make_app(store)

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise StoreFull()

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        monkeypatch.setattr(mapping, "save_entry", disk_full)
        await pilot.press("a", *"Words the worker must not lose")
        editor = screen.query_one(EntryEditor)
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)
        status = editor.status_text()
        assert status.startswith("✗ Not saved: Your last change was not saved because the disk")
        assert "Saved at" not in status
        assert editor.query_one(TextArea).text == "Words the worker must not lose"
        assert entries(store, ids["assessment"]) == []
        assert editor.dirty

        # Leaving asks before anything is dropped; the safe answer (n) stays with the text.
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, MappingConfirm)
        await pilot.press("n")
        await settle(app, pilot)
        assert screen.open_form() is editor
        assert editor.query_one(TextArea).text == "Words the worker must not lose"

        # Space freed: the explicit save key tries again and succeeds.
        monkeypatch.undo()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert editor.status_text().startswith("✓ Saved at")
        assert [e.text for e in entries(store, ids["assessment"])] == [
            "Words the worker must not lose"
        ]


async def test_disk_full_in_the_real_store_keeps_the_text_on_screen(store: Store) -> None:
    """R25 through the screen: SQLite refuses the page, the transaction rolls back."""
    ids = new_family(store)
    kept = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="earlier")
    engine = store.engine
    assert engine is not None
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    def cap(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    def space_freed(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1073741823")

    big = "Gran said: " + "the house is cold and there is no food. " * 600
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")
        editor = screen.query_one(EntryEditor)
        event.listen(engine, "checkout", cap)
        try:
            await paste(app, pilot, big)
            await pilot.pause(AUTOSAVE_DELAY + 0.3)
            await settle(app, pilot)
            assert editor.status_text().startswith("✗ Not saved: Your last change was not saved")
            assert editor.query_one(TextArea).text == big
            assert [e.text for e in entries(store, ids["assessment"])] == [kept.text]
        finally:
            event.remove(engine, "checkout", cap)
        event.listen(engine, "checkout", space_freed)  # pooled connections keep the cap
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert editor.status_text().startswith("✓ Saved at")
        assert sorted(e.text for e in entries(store, ids["assessment"])) == sorted([kept.text, big])
    event.remove(engine, "checkout", space_freed)


async def test_changes_made_while_a_save_is_in_flight_are_saved_after_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = new_family(store)
    app = make_app(store)
    calls: list[str] = []
    real_save = mapping.save_entry

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["text"])
        if len(calls) == 1:  # type more while the first save is still running
            app.call_from_thread(app.screen.query_one(EntryEditor).text_field.area.insert, " more")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(mapping, "save_entry", counted)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"first", "ctrl+s")
        await settle(app, pilot)
        await pilot.pause(AUTOSAVE_DELAY + 0.3)
        await settle(app, pilot)
        assert calls == ["first", "first more"]
        assert [e.text for e in entries(store, ids["assessment"])] == ["first more"]
        assert screen.query_one(EntryEditor).status_text().startswith("✓ Saved at")


async def test_quitting_straight_after_typing_keeps_the_words(store_path: Path) -> None:
    """ctrl+q before the autosave pause: the open editor saves on the way out."""
    raw = secrets.token_bytes(32)
    store = open_with_key(
        store_path / DB_NAME, DataKey(raw), Actor("t.worker", "worker"), create=True
    )
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"last words before the train", "ctrl+q")
    assert store.is_locked  # the app closed the store
    reopened = open_with_key(store_path / DB_NAME, DataKey(raw))
    try:
        assert [e.text for e in entries(reopened, ids["assessment"])] == [
            "last words before the train"
        ]
    finally:
        reopened.lock()
