"""After the service is restored from a backup (F21): what the store puts back in the queue."""

from __future__ import annotations

from sofs_tui.domain.enums import SyncState
from sofs_tui.store import sync_local
from sofs_tui.store.store import Store
from sofs_tui.store.tables import LocalConflict, Person, SyncMeta
from sofs_tui.sync.engine import SyncEngine
from tests.store.helpers import new_family
from tests.sync.conftest import outbox_rows


async def test_changes_the_restored_service_lost_go_back_to_pending_and_their_rows_wait(
    store: Store, engine: SyncEngine
) -> None:
    ids = new_family(store)
    assert (await engine.sync()).ok
    sent = outbox_rows(store)
    assert len(sent) > 2 and {r.state for r in sent} == {"done"}
    kept = sent[1].device_seq  # the backup holds the first two changes
    sync_local.flag_changes(store, [sent[-1].change_id], "too_large")  # never stored: stays

    again = sync_local.resend_after_restore(store, "epoch-2", kept)

    after = {r.change_id: r for r in outbox_rows(store)}
    assert again == len(sent) - 3
    for before in sent:
        row = after[before.change_id]
        assert row.attempts == before.attempts  # sent before: rule L2 never folds into it
        if before.device_seq <= kept:
            assert (row.state, row.last_error) == ("done", before.last_error)
        elif before.change_id != sent[-1].change_id:
            assert (row.state, row.last_error) == ("pending", "service_restored")
            assert row.fields == before.fields and row.payload_sha256 == before.payload_sha256
    with store.read() as session:
        mum = session.get(Person, ids["mum"])
        meta = session.get(SyncMeta, 1)
    assert mum is not None and mum.sync_state is SyncState.DIRTY  # unsent: no sweep
    assert meta is not None and (meta.server_epoch, meta.cursor) == ("epoch-2", "")
    assert sync_local.pending_count(store) == again


async def test_a_resync_closes_mirrored_conflicts_the_service_no_longer_has_open(
    store: Store, engine: SyncEngine
) -> None:
    ids = new_family(store)
    assert (await engine.sync()).ok
    with store.write() as session:
        for conflict_id, record_id in (("gone", ids["mum"]), ("still-open", ids["dad"])):
            session.add(
                LocalConflict(
                    conflict_id=conflict_id,
                    entity="person",
                    record_id=record_id,
                    case_id=ids["case"],
                    noticed_at=store.now(),
                )
            )
            row = session.get(Person, record_id)
            assert row is not None
            row.sync_state = SyncState.CONFLICT
            session.add(row)
    seen = set(ids.values())

    assert sync_local.sweep_after_resync(store, seen, {"still-open"}) == 0

    with store.read() as session:
        gone, kept = session.get(LocalConflict, "gone"), session.get(LocalConflict, "still-open")
        mum, dad = session.get(Person, ids["mum"]), session.get(Person, ids["dad"])
    assert gone is not None and (gone.status, gone.resolved_at) == ("resolved", store.now())
    assert kept is not None and kept.status == "open"
    assert mum is not None and mum.sync_state is SyncState.CLEAN  # no longer shown in conflict
    assert dad is not None and dad.sync_state is SyncState.CONFLICT
    assert sync_local.sweep_after_resync(store, seen) == 0  # without names: conflicts untouched
    assert [c.conflict_id for c in sync_local.list_conflicts(store)] == ["still-open"]
