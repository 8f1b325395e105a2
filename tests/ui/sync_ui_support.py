"""The real service in process for the app's sync tests: `create_app` over a SQLite file, people
made with the admin functions, and a `SyncConnector` that reaches it through
`httpx.ASGITransport` (loopback address, no socket) with an in-memory credential store.

The app gets long `SyncTiming`s, so nothing syncs unless a test presses f6 (never a sleep).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from sofs_tui.app import SofsApp
from sofs_tui.app_sync_setup import SyncTiming
from sofs_tui.config import Settings
from sofs_tui.secrets import TokenStore
from sofs_tui.server import admin
from sofs_tui.server.app import create_app
from sofs_tui.server.db import CaseScope
from sofs_tui.server.settings import ServerSettings
from sofs_tui.store import sync_local
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from sofs_tui.sync.client import SyncClient
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import Backoff, SyncEngine
from sofs_tui.widgets.sync_status import SyncStatusBar
from tests.support.memory_keyring import MemoryKeyring
from tests.ui.shell_support import FakeMonotonic

URL = "http://127.0.0.1"
PASSWORD = "a long and lovely password"
TEAM = "North"
#: Nothing fires on its own during a test: the keys the test presses start each sync.
NEVER = SyncTiming(first=3600, interval=3600, after_save=3600, status_poll=3600)


@dataclass
class Service:
    """The FastAPI service on a SQLite file, with a clock the test chooses."""

    app: Any
    clock: Callable[[], datetime]

    def session(self) -> Session:
        return Session(self.app.state.engine, expire_on_commit=False)

    def user(self, username: str, role: str = "worker") -> None:
        with self.session() as session:
            admin.create_user(
                session, username, PASSWORD, role, TEAM, actor="admin", now=self.clock()
            )

    def case_ids(self) -> list[str]:
        with self.session() as session:
            return list(session.exec(select(CaseScope.case_id)).all())

    def close(self) -> None:
        self.app.state.engine.dispose()


def start_service(tmp: Path, clock: Callable[[], datetime]) -> Service:
    folder = tmp / "service"
    folder.mkdir()
    app = create_app(
        ServerSettings(data_dir=folder, database_url=f"sqlite:///{folder}/s.db"), clock=clock
    )
    service = Service(app, clock)
    with service.session() as session:
        admin.create_team(session, TEAM, actor="admin", now=clock())
    return service


class Offline(httpx.AsyncBaseTransport):
    """A network that refuses every connection (the laptop on a train)."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        raise httpx.ConnectError("connection refused", request=request)


class Gate(httpx.AsyncBaseTransport):
    """The service, except that a push waits until the test opens the gate (a slow sync)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.waiting = asyncio.Event()
        self.open = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push") and not self.open.is_set():
            self.waiting.set()
            await self.open.wait()
        return await self.inner.handle_async_request(request)


@dataclass
class Connector:
    """What `SofsApp(sync_connector=…)` takes: a transport to the service and a keyring."""

    transport: httpx.AsyncBaseTransport
    tokens: TokenStore
    clients: list[SyncClient] = field(default_factory=list)

    def client(self, url: str, ca_file: str) -> SyncClient:
        client = SyncClient(url, transport=self.transport)
        self.clients.append(client)
        return client

    async def token_store(self) -> TokenStore:
        return self.tokens


def open_store(tmp: Path, username: str, clock: Callable[[], datetime]) -> Store:
    """A worker's encrypted store on this laptop, set to sync with the service as `username`
    (as `sofs login` leaves it)."""
    store = open_with_key(
        tmp / username / DB_NAME, DataKey.generate(), Actor(username, "worker"), create=True
    )
    store.clock = clock
    sync_local.set_server(store, URL, username)
    return store


async def signed_in(service: Service, store: Store, username: str) -> TokenStore:
    """A keyring holding `username`'s refresh token, as after `sofs login` on a trusted one."""
    tokens = TokenStore(MemoryKeyring())
    async with SyncClient(URL, transport=httpx.ASGITransport(app=service.app)) as client:
        await Credentials(tokens, URL, username, device_id=store.device_id).login(client, PASSWORD)
    return tokens


@contextlib.asynccontextmanager
async def engine_for(service: Service, store: Store, username: str) -> AsyncIterator[SyncEngine]:
    """A SyncEngine without a screen (the other worker's laptop, or `sofs sync`)."""
    tokens = await signed_in(service, store, username)
    async with SyncClient(URL, transport=httpx.ASGITransport(app=service.app)) as client:
        credentials = Credentials(tokens, URL, username, device_id=store.device_id)
        yield SyncEngine(store, client, credentials, backoff=Backoff(rand=lambda: 0.5))


def sync_app(store: Store, connector: Connector, **kwargs: Any) -> SofsApp:
    return SofsApp(
        lambda: store,
        Settings(),
        clock=FakeMonotonic(),
        sync_connector=connector,
        sync_timing=NEVER,
        **kwargs,
    )


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    """Let workers (the sync included) finish and their results reach the screen."""
    for _ in range(4):
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


def bar(app: SofsApp) -> str:
    """What the sync status bar on the top screen says ('' when it is hidden)."""
    bars = app.screen.query(SyncStatusBar)
    assert len(bars) == 1, f"{type(app.screen).__name__} has {len(bars)} status bars"
    shown = bars.first()
    return shown.text if shown.display else ""


def notes(app: SofsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def later(clock: Callable[[], datetime], **delta: float) -> Callable[[], datetime]:
    """A clock that runs `delta` ahead of `clock` (a service whose clock is wrong)."""
    return lambda: clock() + timedelta(**delta)
