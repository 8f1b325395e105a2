"""A sync with nothing to do from a new engine (`sofs sync` in a new process) skips /info: the
pull answer's Sync-* headers say what the service speaks, and anything they do not settle
brings the full handshake back (issue 4: "requests made by a sync with nothing to do")."""

from __future__ import annotations

import httpx
import pytest

from sofs_tui.secrets import TokenStore
from sofs_tui.store.store import Store
from sofs_tui.sync.client import SyncClient, UpgradeRequired, served_by
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import SyncEngine, SyncSummary
from sofs_tui.sync.protocol import SchemaRange
from tests.store.helpers import new_case, new_family
from tests.sync.fake_server import PASSWORD, URL, FakeServer

INFO, PULL, PUSH, REFRESH = "/sync/v1/info", "/sync/v1/changes", "/sync/v1/push", "/auth/refresh"
CURRENT = {"Sync-Protocols": "1", "Sync-Schema-Min": "1", "Sync-Schema-Max": "2"}


def _headed(server: FakeServer, served: dict[str, str] | None) -> httpx.MockTransport:
    """The fake service, its pull answers carrying `served` as the real one does."""

    async def handle(request: httpx.Request) -> httpx.Response:
        response = await server.handle(request)
        if request.url.path == PULL and served is not None:
            response.headers.update(served)
        return response

    return httpx.MockTransport(handle)


async def _synced_once(store: Store, server: FakeServer, tokens: TokenStore) -> None:
    """A first sync (handshake, registration, snapshot) by an engine that then goes away."""
    new_family(store)
    async with SyncClient(URL, transport=_headed(server, CURRENT)) as client:
        credentials = Credentials(tokens, URL, "t.worker", device_id=store.device_id)
        await credentials.login(client, PASSWORD)
        assert (await SyncEngine(store, client, credentials).sync()).ok


async def _new_process_sync(
    store: Store, server: FakeServer, tokens: TokenStore, served: dict[str, str] | None
) -> tuple[SyncSummary, list[str]]:
    """A new client, credentials (both tokens from the keyring only) and engine."""
    server.requests.clear()
    async with SyncClient(URL, transport=_headed(server, served)) as client:
        credentials = Credentials(tokens, URL, "t.worker", device_id=store.device_id)
        summary = await SyncEngine(store, client, credentials).sync()
    return summary, [r.url.path for r in server.requests]


@pytest.fixture
def synced_server() -> FakeServer:
    return FakeServer()


async def test_a_new_engine_with_nothing_to_do_asks_no_handshake(
    store: Store, synced_server: FakeServer, tokens: TokenStore
) -> None:
    await _synced_once(store, synced_server, tokens)
    summary, paths = await _new_process_sync(store, synced_server, tokens, CURRENT)
    assert summary.ok, summary.errors
    # The access token kept in the keyring is still valid: no refresh, the one pull.
    assert paths == [PULL]


async def test_an_answer_without_the_headers_brings_the_handshake_back(
    store: Store, synced_server: FakeServer, tokens: TokenStore
) -> None:
    await _synced_once(store, synced_server, tokens)
    summary, paths = await _new_process_sync(store, synced_server, tokens, None)
    assert summary.ok, summary.errors
    assert paths == [PULL, INFO]


async def test_a_service_older_than_the_app_found_from_the_pull_answer_stops_the_sync(
    store: Store, synced_server: FakeServer, tokens: TokenStore
) -> None:
    await _synced_once(store, synced_server, tokens)
    synced_server.schema = SchemaRange(min=1, max=1, current=1)
    older = CURRENT | {"Sync-Schema-Max": "1"}
    summary, paths = await _new_process_sync(store, synced_server, tokens, older)
    assert isinstance(summary.error, UpgradeRequired)
    assert paths == [PULL, INFO]


async def test_a_new_engine_with_changes_to_push_does_the_handshake_first(
    store: Store, synced_server: FakeServer, tokens: TokenStore
) -> None:
    await _synced_once(store, synced_server, tokens)
    new_case(store, "C-002")
    summary, paths = await _new_process_sync(store, synced_server, tokens, CURRENT)
    assert summary.ok, summary.errors
    assert paths.index(INFO) < paths.index(PUSH) and paths[-1] == PULL


async def test_a_first_sync_always_does_the_handshake(
    store: Store, synced_server: FakeServer, tokens: TokenStore
) -> None:
    async with SyncClient(URL, transport=_headed(synced_server, CURRENT)) as client:
        credentials = Credentials(tokens, URL, "t.worker", device_id=store.device_id)
        await credentials.login(client, PASSWORD)
        synced_server.requests.clear()
        assert (await SyncEngine(store, client, credentials).sync()).ok
    assert synced_server.requests[0].url.path == INFO


def test_served_headers_are_read_strictly() -> None:
    current = served_by(httpx.Headers(CURRENT))
    assert current is not None and current.speaks_ours
    assert served_by(httpx.Headers({})) is None
    assert served_by(httpx.Headers(CURRENT | {"Sync-Schema-Max": "two"})) is None
    newer = served_by(httpx.Headers(CURRENT | {"Sync-Protocols": "2,3"}))
    assert newer is not None and not newer.speaks_ours
