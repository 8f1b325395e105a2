"""Fixtures for the sync client tests: a fake service, a signed-in engine on the test store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from sofs_tui.secrets import TokenStore
from sofs_tui.store.store import Store
from sofs_tui.store.tables import SYNCED_TABLES, LocalConflict, Outbox, Shadow, SyncMeta
from sofs_tui.sync.client import SyncClient
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import Backoff, SyncEngine
from tests.support.memory_keyring import MemoryKeyring
from tests.sync.fake_server import PASSWORD, URL, FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def tokens(keyring_backend: MemoryKeyring) -> TokenStore:
    return TokenStore(keyring_backend)


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[SyncClient]:
    async with SyncClient(URL, transport=server.transport()) as opened:
        yield opened


@pytest.fixture
async def credentials(store: Store, client: SyncClient, tokens: TokenStore) -> Credentials:
    signed_in = Credentials(tokens, URL, "t.worker", device_id=store.device_id)
    await signed_in.login(client, PASSWORD)
    return signed_in


@pytest.fixture
def engine(store: Store, client: SyncClient, credentials: Credentials) -> SyncEngine:
    return SyncEngine(
        store, client, credentials, device_label="test laptop", backoff=Backoff(rand=lambda: 0.5)
    )


def outbox_rows(store: Store) -> list[Outbox]:
    with store.read() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.device_seq)).all())  # type: ignore[arg-type]


def snapshot(store: Store) -> dict[str, Any]:
    """Every row of every table the sync touches, as plain data (to prove "unchanged")."""
    tables: list[Any] = [*SYNCED_TABLES, Outbox, Shadow, LocalConflict, SyncMeta]
    with store.read() as session:
        return {
            table.__tablename__: sorted(
                (
                    json.dumps(row.model_dump(mode="json"), sort_keys=True)
                    for row in session.exec(select(table)).all()
                ),
            )
            for table in tables
        }
