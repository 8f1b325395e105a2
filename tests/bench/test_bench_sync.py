"""Sync over real HTTP: push and pull of 1,000 records against bare FastAPI yardsticks, and the
requests a sync with nothing to do makes (issue 4, bullet 8; perf-baseline.md §4).

Every server is uvicorn in a subprocess on 127.0.0.1 (a random port), the same stack on both
sides of a ratio; the database is SQLite (WAL, synchronous=FULL) or a PostgreSQL schema.
Rounds alternate the sides (perf-baseline.md conventions). Only correctness is asserted.

Goals: push (client + service) ≤ 3× the bare bulk POST; pull ≤ 1.5× the bare GET; a sync with
nothing to do makes 1 request. Run: `python -m pytest tests/bench -s -n 0 -k sync` (`-k
bench_sync` picks only these and the load test: `-k sync` also matches every async test through
`asyncio`).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select

from sofs_tui.server.db import METADATA, make_engine
from sofs_tui.store.sync_local import sync_settings
from sofs_tui.store.tables import SyncMeta
from sofs_tui.sync.client import SyncClient
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import SyncEngine, SyncProgress
from sofs_tui.sync.protocol import (
    DEFAULT_PAGE,
    SCHEMA_CURRENT,
    Change,
    DeviceRegistration,
    PullResponse,
    PushRequest,
    PushResponse,
    RecordItem,
)
from tests.bench import _measure as m
from tests.bench import _sync_support as s
from tests.server.sync_support import assessment_fields, case_fields, entry_fields, sha

ROUNDS = 5
PULL_ROUNDS = 7
CHANGES = 1_000
BATCH = 100
KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
CHANGE_LIST = TypeAdapter(list[Change])


class Device:
    """A laptop seen from the wire: its own id and device_seq counter (no store)."""

    def __init__(self, client: TimedClient, credentials: Credentials) -> None:
        self.client = client
        self.credentials = credentials
        self.id = uuid.uuid4()
        self.seq = 0

    async def register(self) -> None:
        token = await self.credentials.access_token(self.client)
        registration = DeviceRegistration(
            label="bench device", app_version="bench", schema_version=SCHEMA_CURRENT
        )
        await self.client.register_device(token, str(self.id), registration)

    def change(self, entity: str, record_id: str, fields: dict[str, Any]) -> Change:
        self.seq += 1
        return Change(
            change_id=uuid.uuid4(),
            device_seq=self.seq,
            entity=entity,
            id=record_id,
            op="create",
            fields=fields,
            client_time=datetime.now(UTC),
            payload_sha256=sha(entity, record_id, "create", fields),
        )

    def new_case(self) -> tuple[str, str, list[Change]]:
        case_id, assessment_id = str(uuid.uuid4()), str(uuid.uuid4())
        made = [
            self.change("case", case_id, case_fields(reference=f"C-{case_id[:6]}")),
            self.change("assessment", assessment_id, assessment_fields(case_id)),
        ]
        return case_id, assessment_id, made

    def entries(self, assessment_id: str, count: int, rng: random.Random) -> list[Change]:
        return [
            self.change("entry", str(uuid.uuid4()), entry_fields(assessment_id, s.entry_text(rng)))
            for _ in range(count)
        ]

    async def push(self, changes: list[Change]) -> list[str]:
        """Push in batches of 100; every result's status, in order."""
        token = await self.credentials.access_token(self.client)
        statuses: list[str] = []
        for start in range(0, len(changes), BATCH):
            request = PushRequest(
                device_id=self.id,
                batch_id=uuid.uuid4(),
                schema_version=SCHEMA_CURRENT,
                changes=changes[start : start + BATCH],
            )
            response = await self.client.push(token, request)
            statuses += [result.status for result in response.results]
        return statuses


class TimedClient(SyncClient):
    """The real client, noting the seconds spent waiting on push and pull answers (what is
    left of an engine's sync is its own and the store's work)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.waited = 0.0

    async def push(self, token: str, request: PushRequest) -> PushResponse:
        start = time.perf_counter()
        try:
            return await super().push(token, request)
        finally:
            self.waited += time.perf_counter() - start

    async def pull(self, token: str, cursor: str | None, limit: int) -> PullResponse:
        start = time.perf_counter()
        try:
            return await super().pull(token, cursor, limit)
        finally:
            self.waited += time.perf_counter() - start


async def signed_in(url: str, username: str) -> Device:
    client = TimedClient(url)
    credentials = Credentials(None, url, username)
    await credentials.login(client, s.PASSWORD)
    return Device(client, credentials)


def count_rows(database_url: str, table: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(METADATA.tables[table])
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


# --- 1. push ---------------------------------------------------------------------------------


@pytest.mark.bench
@pytest.mark.parametrize("kind", KINDS)
async def test_push_of_1000_changes_against_a_bare_bulk_insert(kind: str, tmp_path: Path) -> None:
    rng = random.Random(4)
    with (
        s.database(kind, tmp_path, "service") as service_url,
        s.database(kind, tmp_path, "bare") as bare_url,
        s.service(service_url, tmp_path) as real,
        s.bare_app(bare_url, tmp_path, create=True) as bare,
    ):
        s.add_people(service_url, {"laptop-team": ["bench.laptop"], "wire-team": ["bench.wire"]})
        # The engine's laptop: an encrypted store, its case synced once (registers the device).
        laptop = await signed_in(real.url, "bench.laptop")
        store = s.open_store(tmp_path / "laptop", "bench.laptop")
        engine = SyncEngine(store, laptop.client, laptop.credentials, device_label="bench")
        case_id, assessment_id = s.add_case(store, "C-BENCH")
        assert (await engine.sync()).sent == 2
        # The client HTTP path alone: SyncClient.push of ready-made changes, another team.
        wire = await signed_in(real.url, "bench.wire")
        await wire.register()
        _, wire_assessment, made = wire.new_case()
        assert await wire.push(made) == ["applied", "applied"]
        http = httpx.AsyncClient(base_url=bare.url, timeout=60)

        bare_body: list[bytes] = []
        wire_changes: list[Change] = []
        waited: list[float] = []  # of the engine's push phase, waiting on the service

        async def prepare(_: int) -> None:
            """Untimed: 1,000 saved entries on the laptop; the same changes for the bare side
            (its own database); 1,000 more for the client path."""
            s.add_entries(store, assessment_id, CHANGES, rng)
            pending = s.pending_changes(store)
            bare_body[:] = [CHANGE_LIST.dump_json(batch) for batch in _chunks(pending, BATCH)]
            wire_changes[:] = wire.entries(wire_assessment, CHANGES, rng)

        async def through_engine(_: int) -> float:
            pushed: list[float] = []  # when each batch's results were stored
            pushed_wait: list[float] = []  # the client's waiting so far, at those moments

            def progress(step: SyncProgress) -> None:
                if step.phase == "push":
                    pushed.append(time.perf_counter())
                    pushed_wait.append(laptop.client.waited)

            laptop.client.waited = 0.0
            start = time.perf_counter()
            summary = await engine.sync(progress=progress)
            assert summary.ok and summary.sent == CHANGES, summary.errors
            waited.append(pushed_wait[-1])
            return pushed[-1] - start  # the pull that follows is not the push's

        async def through_client(_: int) -> None:
            assert await wire.push(wire_changes) == ["applied"] * CHANGES

        async def bare_post(_: int) -> None:
            for body in bare_body:
                answer = await http.post(
                    "/bulk", params={"case_id": case_id}, content=body,
                    headers={"content-type": "application/json"},
                )  # fmt: skip
                assert answer.status_code == 200 and answer.json() == {"n": BATCH}, answer.text

        seconds = await s.round_robin(
            ROUNDS,
            {"engine": through_engine, "client": through_client, "bare": bare_post},
            prepare,
        )
        await http.aclose()
        await laptop.client.aclose()
        await wire.client.aclose()

        m.header(f"sync push: {CHANGES:,} changes as {CHANGES // BATCH} × {BATCH} ({kind})")
        m.figure("engine.sync() push phase (store + HTTP + service)", seconds["engine"])
        m.figure("  of which waiting on push answers", waited)
        local = [total - wait for total, wait in zip(seconds["engine"], waited, strict=True)]
        m.figure("  of which the engine and the store (the rest)", local)
        m.figure("SyncClient.push of ready changes + service", seconds["client"])
        m.figure("bare bulk POST (validate + executemany)", seconds["bare"])
        # The goal compares the push (the upload: client and service) with a bare POST of the
        # same rows (perf-baseline.md "Sync upload"); the engine's figure adds the laptop's
        # own durable bookkeeping (outbox, shadows, sync states), which the POST has no match
        # for: printed, with no goal.
        m.ratio("client+service / bare (the push; goal ≤ 3)", seconds["client"], seconds["bare"])
        m.ratio("engine / bare (+ laptop bookkeeping; no goal)", seconds["engine"], seconds["bare"])
        revisions = count_rows(service_url, "record_revision")
        bare_rows = count_rows(bare_url, "record_revision")
        m.note(f"service revisions {revisions:,}; bare revisions {bare_rows:,}")
        assert revisions == 4 + 2 * ROUNDS * CHANGES
        assert bare_rows == ROUNDS * CHANGES
    store.lock()


def _chunks(items: list[Change], size: int) -> list[list[Change]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


# --- 3. pull ---------------------------------------------------------------------------------


@pytest.mark.bench
@pytest.mark.parametrize("kind", KINDS)
async def test_pull_of_1000_records_against_a_bare_get(kind: str, tmp_path: Path) -> None:
    rng = random.Random(3)
    with (
        s.database(kind, tmp_path, "service") as service_url,
        s.service(service_url, tmp_path) as real,
    ):
        s.add_people(service_url, {"pull-team": ["bench.writer", "bench.reader"]})
        reader = await signed_in(real.url, "bench.reader")
        token = await reader.credentials.access_token(reader.client)
        before = await reader.client.pull(token, None, DEFAULT_PAGE)  # the reader is up to date...
        assert not before.has_more and not before.items
        cursor = before.next_cursor
        writer = await signed_in(real.url, "bench.writer")  # ...then a colleague writes
        await writer.register()
        case_id, assessment_id, made = writer.new_case()
        made += writer.entries(assessment_id, CHANGES - 2, rng)
        assert set(await writer.push(made)) == {"applied"}
        await writer.client.aclose()

        with s.bare_app(service_url, tmp_path, create=False) as bare:
            http = httpx.AsyncClient(base_url=bare.url, timeout=60)

            async def pages(start: str | None) -> list[Any]:
                items: list[Any] = []
                at = start
                while True:
                    page = await reader.client.pull(token, at, DEFAULT_PAGE)  # as the engine asks
                    items += page.items
                    at = page.next_cursor
                    if not page.has_more:
                        return items

            async def log_pages(_: int) -> None:
                items = await pages(cursor)
                assert len(items) == CHANGES and all(isinstance(i, RecordItem) for i in items)

            async def snapshot_pages(_: int) -> None:
                assert len(await pages(None)) == CHANGES

            waited: list[float] = []  # of the full sync, waiting on pull answers

            async def into_a_store(index: int) -> float:
                store = s.open_store(tmp_path / f"reader-{kind}-{index}", "bench.reader")
                engine = SyncEngine(store, reader.client, reader.credentials)
                await engine.handshake()  # registration is not the pull's
                with store.write() as session:  # as if it had synced before the colleague
                    meta = session.get(SyncMeta, 1)
                    assert meta is not None
                    meta.cursor, meta.server_epoch = cursor, before.server_epoch
                    session.add(meta)
                reader.client.waited = 0.0
                start = time.perf_counter()
                summary = await engine.sync()
                seconds = time.perf_counter() - start
                waited.append(reader.client.waited)
                assert summary.ok and summary.received == CHANGES, summary.errors
                assert sync_settings(store).cursor != cursor
                store.lock()
                return seconds

            async def bare_get(_: int) -> None:
                answer = await http.get("/records", params={"case_id": case_id})
                assert len(answer.json()) == CHANGES

            await log_pages(-1)  # warm both servers' paths once
            await bare_get(-1)
            seconds = await s.round_robin(
                PULL_ROUNDS,
                {
                    "log": log_pages,
                    "snapshot": snapshot_pages,
                    "full": into_a_store,
                    "bare": bare_get,
                },
            )
            await http.aclose()
        await reader.client.aclose()

    m.header(f"sync pull: {CHANGES:,} records, pages of {DEFAULT_PAGE:,} ({kind})")
    m.figure("GET /sync/v1/changes after a cursor + parse", seconds["log"])
    m.figure("GET /sync/v1/changes snapshot (no cursor) + parse", seconds["snapshot"])
    m.figure("engine.sync() pulling them into a new store", seconds["full"])
    m.figure("  of which waiting on pull answers (parsed)", waited)
    local = [total - wait for total, wait in zip(seconds["full"], waited, strict=True)]
    m.figure("  of which checking and applying (the rest)", local)
    m.figure("bare GET (select + FastAPI JSON) + .json()", seconds["bare"])
    m.ratio("HTTP only: log pages / bare (goal ≤ 1.5)", seconds["log"], seconds["bare"])
    m.ratio("HTTP only: snapshot / bare", seconds["snapshot"], seconds["bare"])
    m.ratio("full, with the local apply / bare", seconds["full"], seconds["bare"])


# --- 2. requests of a sync with nothing to do ---------------------------------------------------


@pytest.mark.bench
async def test_requests_made_by_a_sync_with_nothing_to_do(tmp_path: Path) -> None:
    from sofs_tui.secrets import TokenStore
    from tests.support.memory_keyring import MemoryKeyring

    keyring = TokenStore(MemoryKeyring())
    with s.database("sqlite", tmp_path) as service_url, s.service(service_url, tmp_path) as real:
        s.add_people(service_url, {"idle-team": ["bench.idle"]})
        store = s.open_store(tmp_path / "laptop", "bench.idle")
        counted = s.CountingTransport()
        client = SyncClient(real.url, transport=counted)
        credentials = Credentials(keyring, real.url, "bench.idle", device_id=store.device_id)
        await credentials.login(client, s.PASSWORD)
        engine = SyncEngine(store, client, credentials)
        s.add_case(store, "C-IDLE")
        first = await engine.sync()
        assert first.ok and first.sent == 2
        counted.requests.clear()
        idle = await engine.sync()  # the app's background sync: the same engine
        assert idle.ok and (idle.sent, idle.received, idle.conflicts) == (0, 0, 0)
        same_engine = list(counted.requests)
        await client.aclose()

        # `sofs sync` in a new process: a new client, engine and credentials (both tokens
        # from the keyring: the access token is still within its 15 minutes).
        fresh = s.CountingTransport()
        client = SyncClient(real.url, transport=fresh)
        credentials = Credentials(keyring, real.url, "bench.idle", device_id=store.device_id)
        again = await SyncEngine(store, client, credentials).sync()
        assert again.ok and (again.sent, again.received) == (0, 0)
        new_process = list(fresh.requests)
        await client.aclose()
    store.lock()

    m.header("sync with nothing to do: HTTP requests (goal: 1)")
    m.note(f"same engine (app's background sync): {len(same_engine)}: {', '.join(same_engine)}")
    m.note(f"new process (`sofs sync`):          {len(new_process)}: {', '.join(new_process)}")
    m.note(
        "a new process skips /info (registered here, holds a cursor, nothing to push: the pull "
        "answer's Sync-* headers and a 410 bring the handshake back when needed) and the "
        "refresh (the access token kept in the keyring is used within its 15 minutes)"
    )
    assert not any("push" in request for request in same_engine + new_process)
    assert "GET /sync/v1/info" not in same_engine + new_process
