"""The pull page the engine asks for (protocol Limits.max_page): the service's maximum when it
offers less than the app takes, the app's own MAX_PAGE when the service offers more, and
DEFAULT_PAGE before any handshake; every record arrives whatever the service serves."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from sofs_tui.store.store import Store
from sofs_tui.sync.client import SyncClient
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import Backoff, SyncEngine
from sofs_tui.sync.protocol import DEFAULT_PAGE, MAX_PAGE
from tests.store.helpers import new_family
from tests.sync.fake_server import PASSWORD, URL, FakeServer

PULL, INFO = "/sync/v1/changes", "/sync/v1/info"
ENTRIES = 1_200  # more than one page at any size


@dataclass
class PagedService:
    """The fake service offering `max_page` in its handshake and, as the real service does,
    serving at most that many items a page whatever the client asks. Notes each `limit`."""

    server: FakeServer
    max_page: int
    asked: list[int] = field(default_factory=list)
    served: list[int] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == PULL:
            asked = int(request.url.params["limit"])
            self.asked.append(asked)
            url = request.url.copy_set_param("limit", str(min(asked, self.max_page)))
            request = httpx.Request(request.method, url, headers=request.headers)
        response = await self.server.handle(request)
        if request.url.path == INFO and response.status_code == 200:
            body = json.loads(response.content)
            body["limits"]["max_page"] = self.max_page
            response = httpx.Response(200, json=body)
        if request.url.path == PULL and response.status_code == 200:
            self.served.append(len(json.loads(response.content)["items"]))
        return response


@pytest.fixture
async def sign_in() -> AsyncIterator[list[tuple[SyncClient, Credentials]]]:
    """The clients the test opens (closed afterwards) and their credentials."""
    opened: list[tuple[SyncClient, Credentials]] = []
    yield opened
    for client, _ in opened:
        await client.aclose()


async def _engine(
    store: Store, service: PagedService, opened: list[tuple[SyncClient, Credentials]]
) -> SyncEngine:
    client = SyncClient(URL, transport=httpx.MockTransport(service.handle))
    credentials = Credentials(None, URL, "t.worker", device_id=store.device_id)
    await credentials.login(client, PASSWORD)
    opened.append((client, credentials))
    return SyncEngine(store, client, credentials, backoff=Backoff(rand=lambda: 0.5))


def _colleagues_entries(server: FakeServer, assessment_id: str) -> set[str]:
    ids = {str(uuid.uuid4()) for _ in range(ENTRIES)}
    for n, entry_id in enumerate(sorted(ids)):
        server.put(
            "entry",
            entry_id,
            {"assessment_id": assessment_id, "section": "harm", "text": f"Entry {n}.",
             "source": "", "agreement": "not_asked", "disputed_by": "", "position": f"a{n:05d}",
             "goal_for_id": None, "audience": "undecided"},
        )  # fmt: skip
    return ids


@pytest.mark.parametrize("offered", [500, 5 * MAX_PAGE], ids=["smaller", "larger"])
async def test_the_engine_asks_for_the_page_both_sides_can_take(
    store: Store,
    server: FakeServer,
    sign_in: list[tuple[SyncClient, Credentials]],
    offered: int,
) -> None:
    service = PagedService(server, offered)
    engine = await _engine(store, service, sign_in)
    ids = new_family(store)
    assert (await engine.sync()).ok  # the handshake, then push and pull
    _colleagues_entries(server, ids["assessment"])
    service.asked.clear()
    summary = await engine.sync()
    assert summary.ok and summary.received == ENTRIES
    page = min(offered, MAX_PAGE)
    assert set(service.asked) == {page}
    assert len(service.asked) == -(-ENTRIES // page)  # ceil: as few requests as that allows


async def test_before_any_handshake_the_default_page_is_asked_and_a_smaller_one_served(
    store: Store, server: FakeServer, sign_in: list[tuple[SyncClient, Credentials]]
) -> None:
    """An app with nothing to push skips /info (test_idle_sync); a service offering a smaller
    page than DEFAULT_PAGE serves less and says `has_more`, and the engine goes on."""
    older = PagedService(server, 500)
    first = await _engine(store, older, sign_in)
    ids = new_family(store)
    assert (await first.sync()).ok
    expected = _colleagues_entries(server, ids["assessment"])
    _, credentials = sign_in[0]
    client = SyncClient(URL, transport=httpx.MockTransport(older.handle))
    sign_in.append((client, credentials))
    older.asked.clear()
    older.served.clear()
    summary = await SyncEngine(store, client, credentials).sync()  # a new app process
    assert summary.ok and summary.received == len(expected)
    assert older.asked[0] == DEFAULT_PAGE > 500
    assert max(older.served) <= 500 and sum(older.served) == ENTRIES
