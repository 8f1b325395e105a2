"""The access token kept in the credential store beside the refresh token, so that a new process
(`sofs sync`) with nothing to do syncs in one request (issue 4, bullet 8): used only while it is
valid by the client clock, renewed once on a 401, deleted on sign-out and on a refused refresh,
and never kept without a trusted store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sofs_tui.secrets import MAX_TOKEN_CHARS, SERVICE, TokenStore, token_name
from sofs_tui.store.store import Store
from sofs_tui.sync.client import SyncClient, Unauthorised
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import SyncEngine, SyncSummary
from sofs_tui.sync.protocol import TokenResponse
from tests.conftest import FakeClock
from tests.e2e.faults import FaultTransport
from tests.e2e.harness import PASSWORD as SERVICE_PASSWORD
from tests.e2e.harness import SERVICE_URL, Clock, Service
from tests.store.helpers import new_family
from tests.support.memory_keyring import FailingKeyring, MemoryKeyring
from tests.sync.fake_server import PASSWORD, URL, FakeServer
from tests.sync.test_idle_sync import CURRENT, _headed

PULL, REFRESH = "/sync/v1/changes", "/auth/refresh"
REFRESH_ENTRY = (SERVICE, token_name(URL, "t.worker"))
ACCESS_ENTRY = (SERVICE, token_name(URL, "t.worker", kind="access"))


def _credentials(tokens: TokenStore | None, store: Store, clock: FakeClock) -> Credentials:
    """Credentials as a new process builds them (nothing in memory), on the test's clock."""
    return Credentials(tokens, URL, "t.worker", device_id=store.device_id, clock=clock)


@pytest.fixture
async def headed(server: FakeServer) -> AsyncIterator[SyncClient]:
    """A client whose pull answers say what the service speaks, as the real one's do, so a new
    engine with nothing to do skips /info (tests/sync/test_idle_sync.py)."""
    async with SyncClient(URL, transport=_headed(server, CURRENT)) as opened:
        yield opened


async def _synced_once(
    store: Store, server: FakeServer, client: SyncClient, tokens: TokenStore, clock: FakeClock
) -> None:
    """`sofs login` then a first sync, by a process that then goes away."""
    new_family(store)
    credentials = _credentials(tokens, store, clock)
    await credentials.login(client, PASSWORD)
    assert (await SyncEngine(store, client, credentials).sync()).ok
    server.requests.clear()


async def _new_process_sync(
    store: Store, server: FakeServer, client: SyncClient, tokens: TokenStore, clock: FakeClock
) -> tuple[SyncSummary, list[str]]:
    server.requests.clear()
    credentials = _credentials(tokens, store, clock)
    summary = await SyncEngine(store, client, credentials).sync()
    return summary, [r.url.path for r in server.requests]


# --- A kept access token saves the refresh ------------------------------------------------------


async def test_a_new_process_with_nothing_to_do_syncs_in_one_request(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    clock: FakeClock,
) -> None:
    await _synced_once(store, server, headed, tokens, clock)
    clock.advance(minutes=10)
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert summary.ok, summary.errors
    assert paths == [PULL]  # no refresh: the access token came from the keyring


async def test_new_credentials_over_the_same_keyring_answer_without_a_request(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    await _credentials(tokens, store, clock).login(client, PASSWORD)
    assert set(keyring_backend.entries) == {REFRESH_ENTRY, ACCESS_ENTRY}
    kept = keyring_backend.entries[ACCESS_ENTRY]
    assert kept.endswith(":access-1") and len(kept) <= MAX_TOKEN_CHARS
    server.requests.clear()
    again = _credentials(tokens, store, clock)
    assert await again.access_token(client) == "access-1"
    assert not again.just_issued  # the keyring held it: a 401 on it deserves a renewal
    assert server.requests == []


@pytest.mark.parametrize(
    ("later_s", "refreshes"),
    [(0, 0), (869, 0), (870, 1), (3_600, 1), (-31, 1)],
    ids=["just-kept", "inside-the-margin", "at-the-margin", "long-expired", "clock-went-back"],
)
async def test_a_kept_access_token_is_used_only_while_the_client_clock_says_it_is_valid(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
    later_s: int,
    refreshes: int,
) -> None:
    # The service says 900 s; the kept token is not used within 30 s of that, nor before it
    # was received (a clock moved back), so the service is never sent one it has let expire.
    await _credentials(tokens, store, clock).login(client, PASSWORD)
    server.requests.clear()
    clock.advance(seconds=later_s)
    token = await _credentials(tokens, store, clock).access_token(client)
    assert len(server.requests_to(REFRESH)) == refreshes and len(server.requests) == refreshes
    assert token == ("access-1" if refreshes == 0 else "access-2")
    assert keyring_backend.entries[ACCESS_ENTRY].endswith(f":{token}")


async def test_an_entry_this_version_cannot_read_is_not_used(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    await _credentials(tokens, store, clock).login(client, PASSWORD)
    keyring_backend.entries[ACCESS_ENTRY] = "access-1"  # no times: never trusted
    assert await _credentials(tokens, store, clock).access_token(client) == "access-2"
    assert len(server.requests_to(REFRESH)) == 1


# --- A 401 on a kept token: one refresh, never a loop ------------------------------------------


async def test_a_401_on_a_kept_access_token_refreshes_once_and_replaces_it(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    await _synced_once(store, server, headed, tokens, clock)
    server.expire_access_tokens()  # revoked on the service, still "valid" by the client clock
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert summary.ok, summary.errors
    assert paths == [PULL, REFRESH, PULL]
    assert keyring_backend.entries[REFRESH_ENTRY] == "refresh-2"
    assert keyring_backend.entries[ACCESS_ENTRY].endswith(":access-2")  # the stale one replaced
    _, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert paths == [PULL]


async def test_a_service_refusing_every_token_costs_one_refresh_then_unauthorised(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    clock: FakeClock,
) -> None:
    await _synced_once(store, server, headed, tokens, clock)
    for _ in range(3):
        server.fail("GET", PULL, status=401)
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert isinstance(summary.error, Unauthorised)
    assert paths == [PULL, REFRESH, PULL]


async def test_a_fresh_token_refused_is_not_renewed_again_when_none_was_kept(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    # A keyring with a refresh token only (as an older sofs left it): the access token comes
    # fresh from the service, and a 401 on that one is final, as SYNC.md "auth" says.
    await _synced_once(store, server, headed, tokens, clock)
    del keyring_backend.entries[ACCESS_ENTRY]
    for _ in range(3):
        server.fail("GET", PULL, status=401)
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert isinstance(summary.error, Unauthorised)
    assert paths == [REFRESH, PULL]
    assert ACCESS_ENTRY not in keyring_backend.entries  # the refused one is not kept


async def test_a_keyring_with_a_refresh_token_only_keeps_the_new_access_token(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    await _synced_once(store, server, headed, tokens, clock)
    del keyring_backend.entries[ACCESS_ENTRY]
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert summary.ok and paths == [REFRESH, PULL]
    _, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert paths == [PULL]


async def test_a_refused_refresh_deletes_the_kept_access_token_too(
    store: Store,
    server: FakeServer,
    headed: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    await _synced_once(store, server, headed, tokens, clock)
    server.expire_access_tokens()
    server.refusing_refresh = True
    summary, paths = await _new_process_sync(store, server, headed, tokens, clock)
    assert isinstance(summary.error, Unauthorised)
    assert paths == [PULL, REFRESH]
    assert keyring_backend.entries == {}


# --- Signing out, and no trusted store ---------------------------------------------------------


async def test_forget_removes_both_kept_tokens(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
) -> None:
    signed_in = _credentials(tokens, store, clock)
    await signed_in.login(client, PASSWORD)
    assert set(keyring_backend.entries) == {REFRESH_ENTRY, ACCESS_ENTRY}
    await signed_in.forget()
    assert keyring_backend.entries == {}
    assert not signed_in.has_access_token
    server.requests.clear()
    with pytest.raises(Unauthorised):
        await _credentials(tokens, store, clock).access_token(client)
    assert server.requests == []


@pytest.mark.parametrize("store_kind", ["none", "unavailable"])
async def test_without_a_trusted_store_the_access_token_lives_in_memory_only(
    store: Store, server: FakeServer, client: SyncClient, clock: FakeClock, store_kind: str
) -> None:
    tokens = None if store_kind == "none" else TokenStore.unavailable("No trusted store here.")
    signed_in = _credentials(tokens, store, clock)
    await signed_in.login(client, PASSWORD)
    server.requests.clear()
    assert await signed_in.access_token(client) == "access-1" and server.requests == []
    again = _credentials(tokens, store, clock)
    assert not again.keeps_tokens and not again.has_access_token
    with pytest.raises(Unauthorised):
        await again.access_token(client)  # nothing kept, no prompt: sign in again
    assert server.requests == []


async def test_a_failing_store_keeps_the_tokens_in_memory_and_never_logs_them(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    signed_in = _credentials(TokenStore(FailingKeyring(echo_secret=True)), store, clock)
    await signed_in.login(client, PASSWORD)
    assert signed_in.problem is not None
    server.requests.clear()
    assert await signed_in.access_token(client) == "access-1" and server.requests == []
    assert "access-1" not in caplog.text and "refresh-1" not in caplog.text


async def test_an_access_token_too_long_for_the_store_stays_in_memory(
    store: Store,
    server: FakeServer,
    client: SyncClient,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long_token = "L" * MAX_TOKEN_CHARS
    issue = server.issue_tokens

    def long_access() -> TokenResponse:
        issued = issue()
        server.access.add(long_token)
        return issued.model_copy(update={"access_token": long_token})

    monkeypatch.setattr(server, "issue_tokens", long_access)
    caplog.set_level(logging.DEBUG)
    signed_in = _credentials(tokens, store, clock)
    await signed_in.login(client, PASSWORD)
    assert signed_in.problem is None  # the refresh token, which is what matters, is kept
    assert set(keyring_backend.entries) == {REFRESH_ENTRY}
    assert await signed_in.access_token(client) == long_token
    assert long_token not in caplog.text


# --- Against the real service ------------------------------------------------------------------


async def test_the_real_service_token_fits_the_store_and_a_new_process_needs_one_request(
    store: Store,
    tokens: TokenStore,
    keyring_backend: MemoryKeyring,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    server_clock = Clock()
    service = Service(f"sqlite:///{tmp_path / 'service.db'}", tmp_path / "service", server_clock)
    service.team("team-a")
    service.person("t.worker", "worker", "team-a")
    url = SERVICE_URL
    access_entry = (SERVICE, token_name(url, "t.worker", kind="access"))
    transport = FaultTransport(service.app)

    def new_credentials() -> Credentials:
        return Credentials(tokens, url, "t.worker", device_id=store.device_id, clock=clock)

    try:
        async with SyncClient(url, transport=transport) as client:
            first = new_credentials()
            issued = await first.login(client, SERVICE_PASSWORD)
            assert (await SyncEngine(store, client, first).sync()).ok
            kept = keyring_backend.entries[access_entry]
            assert len(kept) <= MAX_TOKEN_CHARS and kept.endswith(f":{issued.access_token}")

            transport.log.clear()
            assert (await SyncEngine(store, client, new_credentials()).sync()).ok
            assert transport.log == [("GET", PULL, "200")]

            server_clock.advance(minutes=16)  # expired on the service; the laptop's clock still
            transport.log.clear()  # says it is valid: one 401, one refresh, the pull again
            assert (await SyncEngine(store, client, new_credentials()).sync()).ok
            assert transport.log == [
                ("GET", PULL, "401"),
                ("POST", REFRESH, "200"),
                ("GET", PULL, "200"),
            ]
            assert not keyring_backend.entries[access_entry].endswith(f":{issued.access_token}")
    finally:
        service.close()
