"""The engine declares the device_seqs it keeps back (flagged changes, never sent) in every push
(`PushRequest.skipped_seqs`, F22), so the service does not hold the later changes as a gap; the
field is left out of the body when there is nothing to declare (an older service refuses
fields it does not know), and a sync with nothing pending still sends no push."""

from __future__ import annotations

import json

from sqlmodel import col, select

from sofs_tui.domain.enums import Section
from sofs_tui.store import mapping, sync_push
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Outbox
from sofs_tui.sync.engine import SyncEngine
from tests.store.helpers import new_family
from tests.sync.conftest import outbox_rows
from tests.sync.fake_server import FakeServer

PUSH = "/sync/v1/push"


def _entry(store: Store, assessment: str, text: str) -> str:
    return mapping.save_entry(store, assessment, section=Section.HARM, text=text).id


def _damage(store: Store, record_id: str) -> int:
    """Break a pending outbox row so the protocol cannot express it (a local fault)."""
    with store.write() as session:
        row = session.exec(select(Outbox).where(Outbox.record_id == record_id)).one()
        row.resolves = '["not-a-conflict-id"]'
        session.add(row)
        return row.device_seq


def _bodies(server: FakeServer) -> list[dict[str, object]]:
    return [json.loads(r.content) for r in server.requests_to(PUSH)]


async def test_a_push_without_kept_back_changes_leaves_the_field_out(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    assert (await engine.sync()).ok
    assert all("skipped_seqs" not in body for body in _bodies(server))


async def test_a_kept_back_change_is_declared_by_the_pushes_after_it(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = new_family(store)
    assert (await engine.sync()).ok
    broken = _entry(store, ids["assessment"], "Kept back by a local fault.")
    broken_seq = _damage(store, broken)
    _entry(store, ids["assessment"], "Sent in the same sync.")
    summary = await engine.sync()
    assert summary.ok and summary.flagged == 1
    assert sync_push.flagged_seqs(store, 100) == [broken_seq]
    assert _bodies(server)[-1]["skipped_seqs"] == [broken_seq]
    assert all(c.device_seq != broken_seq for p in server.pushes for c in p.changes)

    # It stays kept back, and every later push says so again.
    server.requests.clear()
    assert (await engine.sync()).ok
    assert server.requests_to(PUSH) == []  # nothing pending: no push for the declaration
    _entry(store, ids["assessment"], "The next day.")
    assert (await engine.sync()).ok
    assert [b["skipped_seqs"] for b in _bodies(server)] == [[broken_seq]]
    kept = [r for r in outbox_rows(store) if r.state == "flagged"]
    assert [(r.record_id, r.last_error) for r in kept] == [(broken, "invalid_local_change")]


def test_flagged_seqs_lists_the_newest_in_order(store: Store) -> None:
    ids = new_family(store)
    made = [_entry(store, ids["assessment"], f"Entry {n}.") for n in range(4)]
    seqs = [_damage(store, record_id) for record_id in made]
    with store.write() as session:
        for row in session.exec(select(Outbox).where(col(Outbox.record_id).in_(made))).all():
            row.state = "flagged"
            session.add(row)
    assert sync_push.flagged_seqs(store, 10) == seqs
    assert sync_push.flagged_seqs(store, 2) == seqs[2:]
