"""Load on the service: 50 devices pushing at once to 4 uvicorn workers over one PostgreSQL
database (issue 4, bullet 8). Goal: nothing lost, nothing duplicated; the figures are the
changes per second and the p95 push latency.

`python -m sofs_tui serve --workers 4` on 127.0.0.1 with SOFS_DATABASE_URL on a fresh schema.
10 workers in 2 teams, 5 laptops each: every laptop creates its case, an assessment, entries,
and edits some of its earlier entries (base_rev 1): 200 changes in device order, 20 per push,
all laptops at once through one httpx.AsyncClient with at most 16 requests in flight. Each
laptop sends one of its batches twice (an answer lost on the way back, F3), to prove replays
have one effect across workers. Then the database is checked: every acknowledged change has
exactly one revision. Only correctness is asserted. Skipped where PostgreSQL is absent.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sofs_tui.server.db import METADATA, make_engine
from sofs_tui.sync.protocol import SCHEMA_CURRENT, Change, PushRequest, PushResponse
from tests.bench import _measure as m
from tests.bench import _sync_support as s
from tests.server.sync_support import assessment_fields, case_fields, entry_fields, sha

WORKERS = 4
TEAMS = 2
USERS_PER_TEAM = 5
DEVICES_PER_USER = 5  # 2 × 5 × 5 = 50 laptops
CHANGES_PER_DEVICE = 200
BATCH = 20
IN_FLIGHT = 16
REPLAYED_BATCH = 4  # the fifth push of every laptop is sent twice
EDIT_EVERY = 5  # one change in five edits an entry pushed in an earlier batch
REVISION = METADATA.tables["record_revision"]
RECEIVED = METADATA.tables["received_change"]
CHANGE_LOG = METADATA.tables["change_log"]


@dataclass
class Laptop:
    username: str
    device_id: uuid.UUID = field(default_factory=uuid.uuid4)
    requests: list[PushRequest] = field(default_factory=list)

    def plan(self, rng: random.Random) -> None:
        """200 changes in device order, as an outbox would send them, in pushes of 20."""
        case_id, assessment_id = str(uuid.uuid4()), str(uuid.uuid4())
        made = [
            _change(1, "case", case_id, "create", case_fields(reference=f"C-{case_id[:6]}")),
            _change(2, "assessment", assessment_id, "create", assessment_fields(case_id)),
        ]
        created: list[tuple[int, str]] = []  # (device_seq, entry id), not yet edited
        for seq in range(3, CHANGES_PER_DEVICE + 1):
            older = [c for c in created if c[0] <= seq - BATCH]
            if seq % EDIT_EVERY == 0 and older:
                _, entry_id = older[0]
                created.remove(older[0])
                text = {"text": s.entry_text(rng, 600)}
                made.append(_change(seq, "entry", entry_id, "update", text, base_rev=1))
            else:
                entry_id = str(uuid.uuid4())
                fields = entry_fields(assessment_id, s.entry_text(rng))
                made.append(_change(seq, "entry", entry_id, "create", fields))
                created.append((seq, entry_id))
        self.requests = [
            PushRequest(
                device_id=self.device_id,
                batch_id=uuid.uuid4(),
                schema_version=SCHEMA_CURRENT,
                changes=made[start : start + BATCH],
            )
            for start in range(0, len(made), BATCH)
        ]


def _change(
    seq: int,
    entity: str,
    record_id: str,
    op: str,
    fields: dict[str, Any],
    base_rev: int | None = None,
) -> Change:
    return Change(
        change_id=uuid.uuid4(),
        device_seq=seq,
        entity=entity,
        id=record_id,
        op=op,
        base_rev=base_rev,
        fields=fields,
        client_time=datetime.now(UTC),
        payload_sha256=sha(entity, record_id, op, fields),
    )


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # first sends only
    replay_latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # change id -> status
    replays_answered_as_replays: int = 0
    replays_sent: int = 0


@pytest.mark.bench
@pytest.mark.postgres
async def test_fifty_devices_push_at_once_to_four_workers_on_postgresql(tmp_path: Path) -> None:
    rng = random.Random(50)
    teams = {
        f"load-team-{t}": [f"load.worker{t}{u}" for u in range(USERS_PER_TEAM)]
        for t in range(TEAMS)
    }
    laptops = [
        Laptop(username) for usernames in teams.values() for username in usernames
        for _ in range(DEVICES_PER_USER)
    ]  # fmt: skip
    for laptop in laptops:
        laptop.plan(rng)
    bodies = {id(r): r.model_dump_json().encode() for lap in laptops for r in lap.requests}
    total = len(laptops) * CHANGES_PER_DEVICE

    with s.database("postgresql", tmp_path, "load") as url:
        with s.service(url, tmp_path, workers=WORKERS) as server:
            s.add_people(url, teams)
            limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
            async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
                tokens: dict[str, str] = {}
                for username in {lap.username for lap in laptops}:
                    answer = await http.post(
                        "/auth/token", json={"username": username, "password": s.PASSWORD}
                    )
                    assert answer.status_code == 200, answer.text
                    tokens[username] = answer.json()["access_token"]
                for laptop in laptops:
                    answer = await http.put(
                        f"/sync/v1/devices/{laptop.device_id}",
                        json={"label": "load laptop", "app_version": "bench", "schema_version": 2},
                        headers={"Authorization": f"Bearer {tokens[laptop.username]}"},
                    )
                    assert answer.status_code == 200, answer.text

                tally = Tally()
                gate = asyncio.Semaphore(IN_FLIGHT)

                async def send(laptop: Laptop, body: bytes, into: list[float]) -> PushResponse:
                    headers = {
                        "Authorization": f"Bearer {tokens[laptop.username]}",
                        "Content-Type": "application/json",
                    }
                    async with gate:
                        start = time.perf_counter()
                        answer = await http.post("/sync/v1/push", content=body, headers=headers)
                        into.append(time.perf_counter() - start)
                    assert answer.status_code == 200, answer.text
                    return PushResponse.model_validate_json(answer.content)

                async def run(laptop: Laptop) -> None:
                    for index, request in enumerate(laptop.requests):
                        response = await send(laptop, bodies[id(request)], tally.latencies)
                        for result in response.results:
                            tally.acknowledged[str(result.change_id)] = result.status
                        if index == REPLAYED_BATCH:  # the answer was lost: the laptop sends again
                            again = request.model_copy(update={"batch_id": uuid.uuid4()})
                            replay = await send(
                                laptop, again.model_dump_json().encode(), tally.replay_latencies
                            )
                            tally.replays_sent += 1
                            first = [(r.change_id, r.status, r.rev) for r in response.results]
                            second = [(r.change_id, r.status, r.rev) for r in replay.results]
                            if first == second and all(r.replayed for r in replay.results):
                                tally.replays_answered_as_replays += 1

                start = time.perf_counter()
                await asyncio.gather(*(run(laptop) for laptop in laptops))
                wall = time.perf_counter() - start

        # Checked on the database once the service has stopped (nothing in flight).
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                per_change: dict[str, int] = dict(
                    connection.execute(
                        select(REVISION.c.change_id, func.count())
                        .where(REVISION.c.change_id.is_not(None))
                        .group_by(REVISION.c.change_id)
                    ).all()
                )
                received = int(
                    connection.execute(select(func.count()).select_from(RECEIVED)).scalar_one()
                )
                seqs = connection.execute(
                    select(func.count(), func.min(CHANGE_LOG.c.seq), func.max(CHANGE_LOG.c.seq))
                ).one()
        finally:
            engine.dispose()

    statuses = Counter(tally.acknowledged.values())
    applied = {cid for cid, status in tally.acknowledged.items() if status == "applied"}
    lost = len(applied - per_change.keys())
    duplicated = len([count for count in per_change.values() if count > 1])
    pushes = len(tally.latencies)

    m.header(
        f"load: {len(laptops)} laptops × {CHANGES_PER_DEVICE} changes, pushes of {BATCH}, "
        f"{WORKERS} uvicorn workers, PostgreSQL"
    )
    m.note(
        f"{len(teams) * USERS_PER_TEAM} users × {DEVICES_PER_USER} laptops; at most {IN_FLIGHT} "
        f"requests in flight; {total:,} changes in {pushes} pushes + {tally.replays_sent} replays"
    )
    m.note(
        f"wall {wall:.2f} s (replays included): {total / wall:,.0f} changes/s, "
        f"{pushes / wall:.1f} pushes/s"
    )
    m.figure("push latency (first sends)", tally.latencies)
    m.note(
        f"push latency p50 {statistics.median(tally.latencies) * 1e3:.0f} ms, "
        f"p95 {s.p95(tally.latencies) * 1e3:.0f} ms, max {max(tally.latencies) * 1e3:.0f} ms"
    )
    m.figure("replayed push latency", tally.replay_latencies)
    m.note(f"results: {dict(statuses)}; replays answered as replays: "
           f"{tally.replays_answered_as_replays}/{tally.replays_sent}")  # fmt: skip
    m.note(
        f"received_change rows {received:,}; change_log rows {seqs[0]:,} (seq {seqs[1]}–{seqs[2]})"
    )
    m.note(
        f"lost (acknowledged applied, no revision): {lost}; duplicated (>1 revision): {duplicated}"
    )

    assert len(tally.acknowledged) == total
    assert statuses == Counter({"applied": total})
    assert (lost, duplicated) == (0, 0)
    assert tally.replays_answered_as_replays == tally.replays_sent == len(laptops)
    assert received == total
    assert seqs[0] == seqs[2] - seqs[1] + 1  # the stream has no gaps
