"""The manager's list of changes the service kept but did not apply (issue 4: "changes to a case
reassigned while offline are stored, not applied, and shown to the manager").

Alice maps a family and syncs; the case moves to another team while she is offline; her next
change reaches the service, which stores it without applying it. Mo, who manages that team,
opens "sync: changes waiting for a manager" from the palette and sees it, in words, with
Alice's text as plain text. Everything runs against the real service in process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import DataTable, Static

from sofs_tui.domain.enums import Section
from sofs_tui.screens.held import ONLY_MANAGERS, HeldScreen
from sofs_tui.server import admin
from sofs_tui.store import cases, mapping, sync_local
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from tests.conftest import FakeClock
from tests.ui.sync_ui_support import (
    TEAM,
    URL,
    Connector,
    Service,
    engine_for,
    open_store,
    settle,
    signed_in,
    start_service,
    sync_app,
)

FIRST = "Dad drinks when he looks after Kai."
OFFLINE = "Kai told me on Monday that \x1b[2Jdad shouted at \u202ehim [b]all night[/b]."


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    started = start_service(tmp_path, clock)
    started.user("alice")
    started.user("mo", "manager")
    with started.session() as session:
        admin.create_team(session, "South", actor="admin", now=clock())
        admin.create_user(
            session, "carol", "a long and lovely password", "worker", "South",
            actor="admin", now=clock(),
        )  # fmt: skip
        for team in (TEAM, "South"):
            admin.make_manager_of(session, "mo", team, actor="admin", now=clock())
    yield started
    started.close()


@pytest.fixture
def alice(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_store(tmp_path, "alice", clock)
    yield store
    store.lock()


@pytest.fixture
def mo(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_with_key(
        tmp_path / "mo" / DB_NAME, DataKey.generate(), Actor("mo", "manager"), create=True
    )
    store.clock = clock
    sync_local.set_server(store, URL, "mo")
    yield store
    store.lock()


async def a_change_kept_but_not_applied(service: Service, alice: Store) -> str:
    """Alice's case moves to the South team while she is offline; her change is kept."""
    case = cases.create_case(alice, reference="REF-9", family_name="Marlowe family")
    assessment = mapping.create_assessment(alice, case.id, title="First mapping")
    entry = mapping.save_entry(alice, assessment.id, section=Section.HARM, text=FIRST)
    async with engine_for(service, alice, "alice") as engine:
        assert (await engine.sync()).ok
        with service.session() as session:
            admin.reassign_case(
                session, case.id, team="South", lead="carol", actor="admin", now=service.clock()
            )
        mapping.save_entry(alice, assessment.id, text=OFFLINE, entry_id=entry.id)
        await engine.sync()
    return case.id


def cells(table: DataTable[Any], row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


def shown(screen: HeldScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_manager_sees_a_change_kept_for_a_case_moved_while_its_author_was_offline(
    service: Service, alice: Store, mo: Store, size: tuple[int, int]
) -> None:
    await a_change_kept_but_not_applied(service, alice)
    connector = Connector(httpx.ASGITransport(app=service.app), await signed_in(service, mo, "mo"))
    app = sync_app(mo, connector)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")  # Mo's laptop receives the case
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"waiting for a manager")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HeldScreen)
        table = screen.query_one("#held-table", DataTable)
        assert table.row_count == 1
        row = cells(table, 0)
        assert row[1:] == [
            "alice",
            "REF-9",
            "Mapping entry, change",
            "the case had moved to someone else",
        ]
        assert "1 change waiting. Nothing was lost." in shown(screen, "#held-status")
        words = shown(screen, "#held-text")
        assert "Kai told me on Monday that" in words and "[b]all night[/b]" in words
        assert "\x1b" not in words and "\u202e" not in words
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, HeldScreen)


async def test_a_worker_is_told_the_list_is_for_managers(
    service: Service, alice: Store, clock: FakeClock
) -> None:
    connector = Connector(
        httpx.ASGITransport(app=service.app), await signed_in(service, alice, "alice")
    )
    app = sync_app(alice, connector)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "sync: changes waiting for a manager" not in titles
        assert "sync: conflicts" in titles
        app.background_sync.show_held()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HeldScreen)
        assert shown(screen, "#held-status") == ONLY_MANAGERS
        assert screen.query_one("#held-table", DataTable).row_count == 0


async def test_offline_the_list_says_so_and_the_app_carries_on(service: Service, mo: Store) -> None:
    from tests.ui.sync_ui_support import Offline

    connector = Connector(Offline(), await signed_in(service, mo, "mo"))
    app = sync_app(mo, connector)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.background_sync.show_held()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HeldScreen)
        status = shown(screen, "#held-status")
        assert status.startswith("The list could not be read. Offline")
        assert app.crash_incident is None
