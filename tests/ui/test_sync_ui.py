"""Sync inside the app, against the real service in process (httpx.ASGITransport): the status
bar, sync now, offline, signing in (never keeping the password), a refused sign-in, a wrong
clock, and a lock in the middle of a sync. Every sync is started by a key (f6), never a timer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from textual.widgets import Input

from sofs_tui.app import SofsApp
from sofs_tui.app_sync_setup import SIGNED_OUT, SyncTiming, outcome_message, progress_words
from sofs_tui.config import CouncilRules, Settings
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_form import CaseFormScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.conflicts import ConflictsScreen
from sofs_tui.screens.deadlines import DeadlinesScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.screens.sync_sign_in import SignInScreen
from sofs_tui.secrets import TokenStore, token_name
from sofs_tui.store import cases, sync_local
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key, unlock
from sofs_tui.store.tables import Outbox
from sofs_tui.sync.client import Unauthorised
from sofs_tui.sync.summary import SyncProgress, SyncSummary
from sofs_tui.widgets.sync_status import (
    SyncStatusBar,
    SyncView,
    ago,
    clock_warning,
    status_lines,
)
from tests.conftest import FakeClock
from tests.support.memory_keyring import MemoryKeyring
from tests.ui.shell_support import PASS, FakeMonotonic, enrolled, unlock_with
from tests.ui.sync_ui_support import (
    PASSWORD,
    URL,
    Connector,
    Gate,
    Offline,
    Service,
    bar,
    later,
    notes,
    open_store,
    settle,
    signed_in,
    start_service,
    sync_app,
)

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    started = start_service(tmp_path, clock)
    started.user("bob")
    yield started
    started.close()


@pytest.fixture
def bob(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_store(tmp_path, "bob", clock)
    yield store
    store.lock()


def outbox(store: Store) -> list[Outbox]:
    with store.read() as session:
        return list(session.exec(select(Outbox)).all())


def to_service(service: Service) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=service.app)


# --- the status bar and sync now -------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_a_save_shows_as_to_send_and_sync_now_sends_it(
    service: Service, bob: Store, size: tuple[int, int]
) -> None:
    app = sync_app(bob, Connector(to_service(service), await signed_in(service, bob, "bob")))
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(app, pilot)
        assert bar(app).startswith("◌ Waiting to sync · ✓ nothing to send · never synced")
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseFormScreen)
        await pilot.press(*"REF-1", "tab", *"Smith family", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        assert "↑ 1 to send" in bar(app)  # the save, on the screen the worker is on
        assert service.case_ids() == []

        await pilot.press("f6")
        await settle(app, pilot)
        assert bar(app).startswith("● Online · ✓ nothing to send · synced just now")
        assert len(service.case_ids()) == 1
        assert any(n.startswith("Synced: sent 1 change, received 0 updates") for n in notes(app))
        assert all(row.state == "done" for row in outbox(bob))


async def test_offline_says_so_and_keeps_every_change(bob: Store) -> None:
    cases.create_case(bob, reference="REF-1", family_name="Smith family")
    before = [(r.change_id, r.state, r.attempts, r.fields) for r in outbox(bob)]
    keyring = MemoryKeyring()
    tokens = TokenStore(keyring)
    tokens.set(token_name(URL, "bob"), "a-refresh-token-from-an-earlier-sign-in")
    network = Offline()
    app = sync_app(bob, Connector(network, tokens))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        assert network.attempts >= 1
        assert bar(app).startswith("○ Offline · ↑ 1 to send · never synced")
        assert "could not be reached" in bar(app)
        assert any(n.startswith("Sync stopped: Offline") for n in notes(app))
        assert app.background_sync.phase == "offline"
        after = [(r.change_id, r.state, r.attempts, r.fields) for r in outbox(bob)]
        assert after == before  # refused before a byte left: not even an attempt is counted


async def test_retry_after_is_honoured_and_a_save_does_not_hurry_the_next_sync(
    bob: Store,
) -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "120"}, json={"detail": "busy"})

    tokens = TokenStore(MemoryKeyring())
    tokens.set(token_name(URL, "bob"), "a-refresh-token-from-an-earlier-sign-in")
    timing = SyncTiming(first=3600, interval=3600, after_save=1.0, status_poll=3600)
    app = SofsApp(
        lambda: bob,
        Settings(),
        clock=FakeMonotonic(),
        sync_connector=Connector(httpx.MockTransport(busy), tokens),
        sync_timing=timing,
    )
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        assert bar(app).startswith("◐ Service unavailable · ✓ nothing to send")
        wait = app.background_sync.next_sync_in()
        assert wait is not None and 100 < wait <= 120
        cases.create_case(bob, reference="REF-1", family_name="Smith family")  # a save
        await settle(app, pilot)
        assert "↑ 1 to send" in bar(app)
        wait = app.background_sync.next_sync_in()
        assert wait is not None and wait > 100  # not in 1 s: the service asked for 2 minutes


async def test_without_a_trusted_keyring_sign_in_asks_for_the_password_and_keeps_nothing(
    service: Service, bob: Store
) -> None:
    cases.create_case(bob, reference="REF-1", family_name="Smith family")
    untrusted = TokenStore.unavailable("No trusted credential store is available (test).")
    app = sync_app(bob, Connector(to_service(service), untrusted))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        assert bar(app).startswith("⚠ Sign in to sync (f6) · ↑ 1 to send")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"sync: now", "sync: sign in", "sync: conflicts"} <= titles

        app.background_sync.sign_in()  # the palette's "sync: sign in"
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "keeps nothing" in str(app.screen.query_one("#sign-in-note").render())
        await pilot.press(*"not the password", "enter")
        await settle(app, pilot)
        assert any("did not accept that username and password" in n for n in notes(app))
        assert bar(app).startswith("⚠ Sign in to sync")
        assert service.case_ids() == []

        await pilot.press("f6")  # sync now, signed out: the same question
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press(*PASSWORD, "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, SignInScreen)
        assert bar(app).startswith("● Online · ✓ nothing to send")
        assert len(service.case_ids()) == 1
        assert any("Signed in for this session only" in n for n in notes(app))
        credentials = app.background_sync._credentials
        assert credentials is not None and not credentials.keeps_tokens
        assert PASSWORD not in repr(vars(credentials))  # only the service's tokens are held


async def test_a_refused_refresh_token_asks_to_sign_in_and_deletes_nothing(
    service: Service, bob: Store
) -> None:
    cases.create_case(bob, reference="REF-1", family_name="Smith family")
    keyring = MemoryKeyring()
    tokens = TokenStore(keyring)
    tokens.set(token_name(URL, "bob"), "a-refresh-token-the-service-has-revoked")
    app = sync_app(bob, Connector(to_service(service), tokens))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        assert bar(app).startswith("◌ Waiting to sync")
        await pilot.press("f6")
        await settle(app, pilot)
        # One refresh (refused, so forgotten), then the app asks: it never guesses a password.
        assert ("get", "sofs-tui", token_name(URL, "bob")) in keyring.calls
        assert ("delete", "sofs-tui", token_name(URL, "bob")) in keyring.calls
        assert not isinstance(app.screen, SignInScreen)  # a background question never pops up
        assert bar(app).startswith("⚠ Sign in to sync (f6) · ↑ 1 to send")
        assert SIGNED_OUT in notes(app)
        assert [r.state for r in outbox(bob)] == ["pending"]

        await pilot.press("f6")
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press(*PASSWORD, "enter")
        await settle(app, pilot)
        assert bar(app).startswith("● Online · ✓ nothing to send")
        assert ("set", "sofs-tui", token_name(URL, "bob")) in keyring.calls  # trusted: kept


async def test_a_service_clock_3_hours_ahead_shows_a_clock_warning(
    tmp_path: Path, clock: FakeClock, bob: Store
) -> None:
    service = start_service(tmp_path, later(clock, hours=3))
    try:
        service.user("bob")
        app = sync_app(bob, Connector(to_service(service), await signed_in(service, bob, "bob")))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert "clock" not in bar(app)
            await pilot.press("f6")
            await settle(app, pilot)
            text = bar(app)
            assert text.startswith("● Online")
            assert "⚠ Your computer's clock is 3 h off (behind the service)" in text
    finally:
        service.close()


async def test_the_bar_is_on_every_store_screen_and_hidden_without_a_service(
    service: Service, bob: Store, tmp_path: Path, clock: FakeClock
) -> None:
    case = cases.create_case(bob, reference="REF-1", family_name="Smith family")
    app = sync_app(bob, Connector(to_service(service), await signed_in(service, bob, "bob")))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for screen in (CaseScreen(case.id), DeadlinesScreen(), ConflictsScreen()):
            await app.push_screen(screen)
            await settle(app, pilot)
            assert bar(app).startswith("◌ Waiting to sync · ↑ 1 to send"), type(screen).__name__
            await app.pop_screen()
            await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)

    local = open_with_key(
        tmp_path / "local" / DB_NAME, DataKey.generate(), Actor("t.worker"), create=True
    )
    local.clock = clock
    try:
        app = SofsApp(lambda: local, Settings(), clock=FakeMonotonic())
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(app, pilot)
            # No service set up: the bar takes no line, and f6 says how to set one up.
            assert [shown.display for shown in app.screen.query(SyncStatusBar)] == [False]
            await pilot.press("f6")
            await settle(app, pilot)
            assert any("not connected to a sync service" in n for n in notes(app))
    finally:
        local.lock()


# --- locking ---------------------------------------------------------------------------------


async def test_a_lock_during_a_sync_pauses_it_repaints_nothing_and_loses_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    service = start_service(tmp_path, clock)
    data_dir = tmp_path / "data"
    enrolled(data_dir)  # one case, saved and not yet sent
    opened = unlock(data_dir, PASS)
    sync_local.set_server(opened, URL, "t.worker")
    service.user("t.worker")
    tokens = await signed_in(service, opened, "t.worker")
    opened.lock()
    gate = Gate(httpx.ASGITransport(app=service.app))
    app = SofsApp(
        None,
        Settings(council=CouncilRules(idle_lock_minutes=5)),
        store_dir=data_dir,
        clock=FakeMonotonic(),
        sync_connector=Connector(gate, tokens),
        sync_timing=SyncTiming(first=3600, interval=3600, after_save=3600, status_poll=3600),
    )
    try:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await unlock_with(app, pilot)
            assert isinstance(app.screen, CaseListScreen)
            assert "↑ 1 to send" in bar(app)
            await pilot.press("f6")
            await gate.waiting.wait()  # the push is on its way
            await pilot.pause()
            assert app.background_sync.running
            assert bar(app).startswith("⟳ Syncing… · ↑ 1 to send")
            app.action_lock()
            await pilot.pause()
            assert isinstance(app.screen, LockScreen) and app.sync_paused
            gate.open.set()  # the service stores the change; the laptop cannot record it
            await settle(app, pilot)
            assert not app.background_sync.running
            assert app.background_sync.phase == "paused"
            assert isinstance(app.screen, LockScreen)  # nothing repainted over the lock
            assert notes(app) == []
            app.background_sync.sync_now()  # no sync starts while locked
            assert not app.background_sync.running

            await unlock_with(app, pilot)
            assert isinstance(app.screen, CaseListScreen)
            assert "↑ 1 to send" in bar(app)  # its outcome is unknown here: still to send
            await pilot.press("f6")
            await settle(app, pilot)
            assert bar(app).startswith("● Online · ✓ nothing to send")
            assert len(service.case_ids()) == 1  # sent twice, stored once
        store = unlock(data_dir, PASS)
        try:
            assert [row.state for row in outbox(store)] == ["done"]
        finally:
            store.lock()
    finally:
        service.close()


# --- the bar's words -------------------------------------------------------------------------


def test_the_bar_says_each_fact_in_words_and_symbols(clock: FakeClock) -> None:
    now = clock()
    view = SyncView(
        phase="online",
        pending=2,
        flagged=1,
        conflicts=3,
        held=1,
        last_success_at=now.replace(minute=27),
        now=now,
        clock_offset_s=-7200.0,
    )
    first, warning = status_lines(view)
    assert first == (
        "● Online · ↑ 2 to send · ⚠ 3 conflicts (f7) · ‖ 1 held · ✗ 1 kept back: contact IT"
        " · synced 3 min ago"
    )
    assert warning.startswith("⚠ Your computer's clock is 2 h off (ahead of the service)")
    assert clock_warning(299.0) == "" and "5 min" in clock_warning(301.0)
    assert ago(None, now) == "never synced" and ago(now, now) == "synced just now"
    offline = status_lines(SyncView(phase="offline", problem="Offline: not reached."))
    assert offline == ["○ Offline · ✓ nothing to send · never synced", "Offline: not reached."]


def test_a_long_sync_reports_its_progress_and_its_outcome_in_counts() -> None:
    assert progress_words(SyncProgress("push", 200, 450)) == "sending 200 of 450"
    assert progress_words(SyncProgress("pull", 300, None)) == "receiving, 300 so far"
    assert progress_words(SyncProgress("pull", 300, 300)) == "received 300"
    done = SyncSummary(sent=3, received=1, conflicts=1, held=2)
    words, severity = outcome_message(done, explicit=True, problem="") or ("", "")
    assert words == (
        "Synced: sent 3 changes, received 1 update; 1 new conflict, 2 held. Press f7 to "
        "choose which versions to keep."
    )
    assert severity == "information"
    assert outcome_message(SyncSummary(received=4), explicit=False, problem="") is None
    background = outcome_message(SyncSummary(conflicts=2), explicit=False, problem="")
    assert background is not None and background[0].startswith("2 new conflicts")
    refused = SyncSummary()
    refused.stop(Unauthorised())
    assert outcome_message(refused, explicit=False, problem="") == (SIGNED_OUT, "warning")


async def test_the_password_field_is_emptied_when_the_sign_in_is_cancelled(
    service: Service, bob: Store
) -> None:
    untrusted = TokenStore.unavailable("No trusted credential store is available (test).")
    app = sync_app(bob, Connector(to_service(service), untrusted))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, SignInScreen)
        field = dialog.query_one("#sign-in-password", Input)
        await pilot.press(*"half a password")
        assert field.value == "half a password"
        await pilot.press("escape")
        await settle(app, pilot)
        assert field.value == ""
        assert isinstance(app.screen, CaseListScreen)
        assert bar(app).startswith("⚠ Sign in to sync")
