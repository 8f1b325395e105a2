"""What waits for the caseload's first page: the background sync's set-up and the store's
integrity check start once that page is painted (they would only slow it down), or after
`AFTER_OPEN_AT_LATEST` seconds if the page never comes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sofs_tui import app as app_module
from sofs_tui.app import SofsApp
from sofs_tui.app_sync import BackgroundSync
from sofs_tui.config import Settings
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.store import queries
from sofs_tui.store.store import Store
from tests.ui.shell_support import settle


def _record(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    real_show = CaseListScreen._show
    real_opened = BackgroundSync.store_opened
    real_check = Store.check_integrity

    def show(screen: CaseListScreen, *args: Any) -> None:
        events.append("page shown")
        real_show(screen, *args)

    def store_opened(sync: BackgroundSync, store: Store) -> None:
        events.append("sync set-up")
        real_opened(sync, store)

    def check_integrity(store: Store) -> bool:
        events.append("integrity check")
        return real_check(store)

    monkeypatch.setattr(CaseListScreen, "_show", show)
    monkeypatch.setattr(BackgroundSync, "store_opened", store_opened)
    monkeypatch.setattr(Store, "check_integrity", check_integrity)


async def test_sync_set_up_and_integrity_check_start_after_the_first_page(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    _record(monkeypatch, events)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)

    assert events[0] == "page shown"
    assert sorted(events[1:]) == ["integrity check", "sync set-up"]


async def test_they_start_anyway_when_the_first_page_does_not_come(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events: list[str] = []
    _record(monkeypatch, events)
    monkeypatch.setattr(app_module, "AFTER_OPEN_AT_LATEST", 0.05)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the caseload query failed")

    monkeypatch.setattr(queries, "case_summaries", broken)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await settle(app, pilot)

    assert "page shown" not in events
    assert sorted(events) == ["integrity check", "sync set-up"]


async def test_a_damaged_store_found_after_the_first_page_is_said_on_screen(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Store, "check_integrity", lambda self: False)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        shown = [n.message for n in app._notifications]

    assert app_module.DAMAGED_STORE_NOTICE in shown
