"""Pull apply, scope changes and conflict resolution on the local store (store.sync_local),
with the fake service where a whole cycle is needed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from sofs_tui.domain.enums import Section, SyncState
from sofs_tui.store import cases, changes, mapping, sync_local
from sofs_tui.store.errors import StoreError, StoreFull
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Case, Entry, Outbox, Person, RevokedCase, Shadow
from sofs_tui.sync.client import BadResponse
from sofs_tui.sync.engine import SyncEngine
from sofs_tui.sync.protocol import (
    ChangeResult,
    ConflictItem,
    OutcomeItem,
    PullItem,
    PullResponse,
    PushResponse,
    RecordItem,
    ScopeItem,
)
from tests.conftest import FakeClock
from tests.store.helpers import new_family
from tests.sync.conftest import outbox_rows, snapshot
from tests.sync.fake_server import SERVER_TIME, FakeServer

PULL = "/sync/v1/changes"


def _page(*items: PullItem, cursor: str = "99") -> PullResponse:
    return PullResponse(
        items=list(items),
        next_cursor=cursor,
        has_more=False,
        server_time=SERVER_TIME,
        server_epoch="epoch-1",
    )


def _entry_data(assessment: str, text: str, **more: Any) -> dict[str, Any]:
    return {
        "assessment_id": assessment, "section": "harm", "text": text, "source": "",
        "agreement": "not_asked", "disputed_by": "", "position": "V", "goal_for_id": None,
        "audience": "undecided", **more,
    }  # fmt: skip


def _record(
    record_id: str, rev: int, data: dict[str, Any], *, case_id: str, entity: str = "entry",
    deleted: bool = False,
) -> RecordItem:  # fmt: skip
    return RecordItem(
        seq=rev, entity=entity, id=record_id, case_id=case_id, rev=rev, deleted=deleted, data=data
    )


def _get(store: Store, table: Any, record_id: str) -> Any:
    with store.read() as session:
        return session.get(table, record_id)


def _shadow(store: Store, record_id: str) -> Shadow:
    shadow: Shadow | None = _get(store, Shadow, record_id)
    assert shadow is not None
    return shadow


async def _clean_entry(store: Store, engine: SyncEngine, text: str = "Base.") -> dict[str, str]:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text=text)
    assert (await engine.sync()).ok
    return ids | {"entry": entry.id}


# --- Apply rules -------------------------------------------------------------------------------


async def test_a_clean_row_takes_the_services_newer_version_and_its_shadow(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    data = _entry_data(ids["assessment"], "Updated on the service.")
    outcome = sync_local.apply_page(
        store, _page(_record(ids["entry"], 2, data, case_id=ids["case"]))
    )
    assert outcome.received == 1
    row = _get(store, Entry, ids["entry"])
    assert (row.text, row.server_rev, row.sync_state) == (
        "Updated on the service.",
        2,
        SyncState.CLEAN,
    )
    assert _shadow(store, ids["entry"]).rev == 2


async def test_pull_never_writes_over_a_row_with_unsent_changes(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    mapping.save_entry(store, ids["assessment"], entry_id=ids["entry"], text="My unsent edit.")
    pending = [(r.change_id, r.fields, r.base_rev) for r in outbox_rows(store)]
    data = _entry_data(ids["assessment"], "Their edit.")
    sync_local.apply_page(store, _page(_record(ids["entry"], 2, data, case_id=ids["case"])))
    row = _get(store, Entry, ids["entry"])
    assert (row.text, row.server_rev, row.sync_state) == ("My unsent edit.", 1, SyncState.DIRTY)
    shadow = _shadow(store, ids["entry"])
    assert shadow.rev == 2 and json.loads(shadow.data)["text"] == "Their edit."
    # The pending change keeps its original base: the service will see the conflict.
    assert [(r.change_id, r.fields, r.base_rev) for r in outbox_rows(store)] == pending


async def test_an_item_no_newer_than_the_shadow_is_ignored(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    stale = _entry_data(ids["assessment"], "An old copy.")
    outcome = sync_local.apply_page(
        store, _page(_record(ids["entry"], 1, stale, case_id=ids["case"]))
    )
    assert outcome.received == 0
    assert _get(store, Entry, ids["entry"]).text == "Base."


async def test_applying_the_same_page_twice_changes_nothing(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    newcomer = str(uuid.uuid4())
    page = _page(
        _record(ids["entry"], 2, _entry_data(ids["assessment"], "Second."), case_id=ids["case"]),
        _record(newcomer, 1, _entry_data(ids["assessment"], "New."), case_id=ids["case"]),
        ScopeItem(seq=3, op="gain", case_id=ids["case"]),
    )
    sync_local.apply_page(store, page)
    once = snapshot(store)
    sync_local.apply_page(store, page)
    assert snapshot(store) == once


async def test_a_tombstone_deletes_a_clean_row_but_only_shadows_a_dirty_one(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    other = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="Other.").id
    await engine.sync()
    mapping.save_entry(store, ids["assessment"], entry_id=other, text="Other, edited here.")
    case = ids["case"]
    tombstones = [
        _record(r, 2, _entry_data(ids["assessment"], "x"), case_id=case, deleted=True)
        for r in (ids["entry"], other)
    ]
    sync_local.apply_page(store, _page(*tombstones))
    assert _get(store, Entry, ids["entry"]).deleted
    kept = _get(store, Entry, other)
    assert not kept.deleted and kept.text == "Other, edited here."
    assert _shadow(store, other).deleted


def test_pulled_text_passes_clean_text_at_the_store_boundary(store: Store) -> None:
    case_id = cases.create_case(store, reference="C-9", family_name="Testfamily").id
    assessment = mapping.create_assessment(store, case_id, title="Mapping").id
    newcomer = str(uuid.uuid4())
    text = "Line one\r\nline two\x1b]0;owned\x07 \u202eevil"
    sync_local.apply_page(
        store, _page(_record(newcomer, 1, _entry_data(assessment, text), case_id=case_id))
    )
    assert _get(store, Entry, newcomer).text == "Line one\nline two]0;owned evil"


def test_a_record_that_arrives_before_its_parent_is_added_when_the_parent_comes(
    store: Store,
) -> None:
    case_id, assessment, entry = (str(uuid.uuid4()) for _ in range(3))
    case = {"reference": "C-7", "family_name": "Far", "lead_worker": "x", "team": "T",
            "status": "open", "opened_on": "2026-11-01", "closed_on": None}  # fmt: skip
    header = {"case_id": case_id, "title": "Mapping", "status": "draft", "zero_wording": "0",
              "ten_wording": "10", "signed_off_by": "", "signed_off_at": None,
              "reopened_by": "", "reopened_at": None, "reopen_reason": ""}  # fmt: skip
    sync_local.apply_page(
        store, _page(_record(entry, 1, _entry_data(assessment, "Early."), case_id=case_id))
    )
    assert _get(store, Entry, entry) is None and _shadow(store, entry).rev == 1
    sync_local.apply_page(
        store,
        _page(
            _record(assessment, 1, header, case_id=case_id, entity="assessment"),
            _record(case_id, 1, case, case_id=case_id, entity="case"),
        ),
    )
    assert _get(store, Entry, entry).text == "Early."
    assert _get(store, Assessment, assessment).sync_state is SyncState.CLEAN


# --- Scope ---------------------------------------------------------------------------------------


async def test_a_revoke_removes_clean_rows_and_keeps_unsent_ones_with_their_parents(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    draft = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="Draft.").id
    outcome = sync_local.apply_page(
        store, _page(ScopeItem(seq=5, op="revoke", case_id=ids["case"]))
    )
    assert outcome.removed == 4  # child, mum, dad, the clean entry
    assert _get(store, Entry, ids["entry"]) is None and _get(store, Shadow, ids["entry"]) is None
    assert _get(store, Person, ids["child"]) is None
    for kept, table in ((draft, Entry), (ids["assessment"], Assessment), (ids["case"], Case)):
        assert _get(store, table, kept) is not None
    assert _get(store, RevokedCase, ids["case"]) is not None


async def test_revoked_drafts_go_once_the_service_has_stored_them(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _clean_entry(store, engine)
    draft = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="Draft.").id
    sync_local.apply_page(store, _page(ScopeItem(seq=5, op="revoke", case_id=ids["case"])))
    server.out_of_scope.add(ids["case"])
    summary = await engine.sync()
    assert summary.ok and summary.rejected == 1  # the service keeps it for the manager
    assert str(uuid.UUID(outbox_rows(store)[-1].change_id)) in server.received
    for gone, table in ((draft, Entry), (ids["assessment"], Assessment), (ids["case"], Case)):
        assert _get(store, table, gone) is None
    assert _get(store, RevokedCase, ids["case"]) is None
    assert outbox_rows(store)[-1].state == "done"  # the sent log keeps its record


async def test_a_gain_brings_a_snapshot_of_the_case(
    store: Store, server: FakeServer, engine: SyncEngine
) -> None:
    case_id, assessment = str(uuid.uuid4()), str(uuid.uuid4())
    server.put(
        "case",
        case_id,
        {
            "reference": "C-8",
            "family_name": "New",
            "lead_worker": "x",
            "team": "T",
            "status": "open",
            "opened_on": None,
            "closed_on": None,
        },
    )
    server.put("assessment", assessment, {"case_id": case_id, "title": "Mapping", "status": "draft",
                                          "zero_wording": "0", "ten_wording": "10",
                                          "signed_off_by": "", "signed_off_at": None,
                                          "reopened_by": "", "reopened_at": None,
                                          "reopen_reason": ""})  # fmt: skip
    server.log.clear()  # written before this worker could see the case
    server.gain(case_id)
    summary = await engine.sync()
    assert summary.ok and summary.received == 2
    assert _get(store, Assessment, assessment).title == "Mapping"


# --- Conflicts and outcomes ---------------------------------------------------------------------


def _conflict(
    ids: dict[str, str], status: str = "open", conflict_id: uuid.UUID | None = None
) -> ConflictItem:
    return ConflictItem(
        seq=7, conflict_id=conflict_id or uuid.uuid4(), entity="entry", record_id=ids["entry"],
        case_id=ids["case"], status=status, base_rev=1, current_rev=2,
        theirs=_entry_data(ids["assessment"], "Theirs."), incoming={"text": "Someone else's."},
        incoming_op="update", author="o.worker", client_time=SERVER_TIME - timedelta(hours=1),
        detected_at=SERVER_TIME,
    )  # fmt: skip


async def test_a_pulled_conflict_keeps_both_versions_and_marks_the_row(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    outcome = sync_local.apply_page(store, _page(_conflict(ids)))
    assert outcome.conflicts == 1
    [view] = sync_local.list_conflicts(store)
    assert view.theirs["text"] == "Theirs." and view.mine["text"] == "Someone else's."
    assert view.author == "o.worker" and view.detected_at == SERVER_TIME
    assert _get(store, Entry, ids["entry"]).sync_state is SyncState.CONFLICT
    assert sync_local.assessment_has_open_conflicts(store, ids["assessment"])


async def test_a_soft_merge_note_is_kept_resolved_and_needs_no_decision(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    note = _conflict(ids, "resolved").model_copy(update={"kind": "soft"})
    assert sync_local.apply_page(store, _page(note)).conflicts == 0
    assert sync_local.list_conflicts(store) == []
    [kept] = sync_local.list_conflicts(store, status=None)
    assert kept.kind == "soft" and kept.theirs["text"] == "Theirs."
    assert _get(store, Entry, ids["entry"]).sync_state is SyncState.CLEAN


async def test_a_conflict_resolved_elsewhere_closes_here_and_the_row_catches_up(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    conflict_id = uuid.uuid4()
    sync_local.apply_page(store, _page(_conflict(ids, conflict_id=conflict_id)))
    resolved = _record(
        ids["entry"], 3, _entry_data(ids["assessment"], "Agreed."), case_id=ids["case"]
    )
    sync_local.apply_page(store, _page(resolved))
    assert _get(store, Entry, ids["entry"]).text == "Base."  # still open: only the shadow moved
    sync_local.apply_page(store, _page(_conflict(ids, "resolved", conflict_id)))
    row = _get(store, Entry, ids["entry"])
    assert (row.text, row.sync_state, row.server_rev) == ("Agreed.", SyncState.CLEAN, 3)
    assert sync_local.list_conflicts(store) == []
    assert [c.status for c in sync_local.list_conflicts(store, status=None)] == ["resolved"]


async def test_an_outcome_item_settles_a_held_change(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _clean_entry(store, engine)
    mapping.save_entry(store, ids["assessment"], entry_id=ids["entry"], text="Held a while.")
    change = outbox_rows(store)[-1]
    server.received[change.change_id] = (change.payload_sha256, _held(change.change_id))
    await engine.sync()
    assert _get(store, Entry, ids["entry"]).sync_state is SyncState.HELD
    item = OutcomeItem(seq=9, change_id=uuid.UUID(change.change_id), status="applied", rev=2)
    sync_local.apply_page(store, _page(item))
    row = _get(store, Entry, ids["entry"])
    assert (row.sync_state, row.server_rev, row.text) == (SyncState.CLEAN, 2, "Held a while.")
    assert json.loads(outbox_rows(store)[-1].result)["status"] == "applied"


def _held(change_id: str) -> Any:
    return ChangeResult(change_id=uuid.UUID(change_id), status="held", reason="processing")


# --- Invalid pages and a full disk ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"text": "fine", "colour": "red"}, id="unknown-field"),
        pytest.param({"section": "gossip"}, id="unknown-enum-value"),
        pytest.param({"text": "bell\x07 in the text"}, id="control-character"),
        pytest.param({"text": "x" * 20_001}, id="over-long-text"),
    ],
)
async def test_F7_an_invalid_page_changes_nothing(
    store: Store, engine: SyncEngine, server: FakeServer, data: dict[str, Any]
) -> None:
    ids = await _clean_entry(store, engine)
    server.put("entry", ids["entry"], {"text": "A valid change on the same page."})
    server.put("entry", str(uuid.uuid4()), _entry_data(ids["assessment"], "ok") | data)
    before = snapshot(store)
    summary = await engine.sync()
    assert isinstance(summary.error, BadResponse)
    after = snapshot(store)
    before.pop("sync_meta"), after.pop("sync_meta")  # the sync lock row only
    assert after == before
    assert sync_local.sync_settings(store).cursor == str(server.seq - 2)


async def test_F7_a_truncated_page_changes_nothing(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _clean_entry(store, engine)
    server.put("entry", ids["entry"], {"text": "Never half-applied."})
    cursor = sync_local.sync_settings(store).cursor
    server.fail("GET", PULL, status=200, body=b'{"items": [{"type": "record", "seq": 1')
    summary = await engine.sync()
    assert isinstance(summary.error, BadResponse)
    assert sync_local.sync_settings(store).cursor == cursor
    assert _get(store, Entry, ids["entry"]).text == "Base."


async def test_F24_a_full_disk_during_pull_apply_rolls_back_the_page_and_its_cursor(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _clean_entry(store, engine)
    cursor = sync_local.sync_settings(store).cursor
    for n in range(40):
        server.put("entry", str(uuid.uuid4()), _entry_data(ids["assessment"], f"{n} " + "y" * 8000))
    assert store.engine is not None
    with store.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

    def small_disk(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 8}")

    event.listen(store.engine.pool, "checkout", small_disk)
    summary = await engine.sync()
    event.remove(store.engine.pool, "checkout", small_disk)
    store.engine.dispose()  # fresh connections: the disk has room again
    assert isinstance(summary.error, StoreFull)
    assert sync_local.sync_settings(store).cursor == cursor
    with store.read() as session:
        assert len(session.exec(select(Entry)).all()) == 1
    assert (await engine.sync()).ok
    with store.read() as session:
        assert len(session.exec(select(Entry)).all()) == 41


# --- Resolving conflicts --------------------------------------------------------------------------


async def _conflicted(store: Store, engine: SyncEngine, server: FakeServer) -> dict[str, str]:
    ids = await _clean_entry(store, engine)
    server.put("entry", ids["entry"], {"text": "Theirs."})
    mapping.save_entry(store, ids["assessment"], entry_id=ids["entry"], text="Mine.")
    assert (await engine.sync()).conflicts == 1
    [view] = sync_local.list_conflicts(store)
    return ids | {"conflict": view.conflict_id}


@pytest.mark.parametrize(
    ("resolve", "expected"),
    [
        pytest.param(sync_local.keep_theirs, "Theirs.", id="keep-theirs"),
        pytest.param(sync_local.keep_mine, "Mine.", id="keep-mine"),
        pytest.param(lambda s, c: sync_local.edit_merged(s, c, {"text": "Both, merged."}),
                     "Both, merged.", id="edit-merged"),
    ],
)  # fmt: skip
async def test_a_resolution_is_an_ordinary_change_that_closes_the_conflict_on_both_sides(
    store: Store, engine: SyncEngine, server: FakeServer, resolve: Any, expected: str
) -> None:
    ids = await _conflicted(store, engine, server)
    change_id = resolve(store, ids["conflict"])
    change = outbox_rows(store)[-1]
    assert change.change_id == change_id and change.state == "pending"
    assert json.loads(change.resolves) == [ids["conflict"]] and change.base_rev == 2
    assert json.loads(change.fields)["text"] == expected
    assert sync_local.get_conflict(store, ids["conflict"]).resolution_pending
    assert (await engine.sync()).ok
    row = _get(store, Entry, ids["entry"])
    assert (row.text, row.sync_state, row.server_rev) == (expected, SyncState.CLEAN, 3)
    assert server.records[ids["entry"]].data["text"] == expected
    assert sync_local.list_conflicts(store) == []
    assert not sync_local.assessment_has_open_conflicts(store, ids["assessment"])


async def test_keep_both_keeps_theirs_and_adds_mine_as_a_new_entry(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _conflicted(store, engine, server)
    new_id = sync_local.keep_both(store, ids["conflict"])
    assert new_id != ids["entry"]
    assert (await engine.sync()).ok
    assert _get(store, Entry, ids["entry"]).text == "Theirs."
    copy = _get(store, Entry, new_id)
    assert copy.text == "Mine." and copy.assessment_id == ids["assessment"]
    assert server.records[new_id].data["text"] == "Mine."


async def test_keep_both_refuses_a_conflict_about_a_deletion(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _clean_entry(store, engine)
    server.put("entry", ids["entry"], {"text": "Theirs."})
    mapping.delete_entry(store, ids["entry"])
    await engine.sync()
    [view] = sync_local.list_conflicts(store)
    with pytest.raises(StoreError, match="deletes the item"):
        sync_local.keep_both(store, view.conflict_id)


async def test_a_resolution_never_folds_into_an_unsent_ordinary_edit(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _conflicted(store, engine, server)
    mapping.save_entry(store, ids["assessment"], entry_id=ids["entry"], text="Mine, again.")
    edit = outbox_rows(store)[-1]
    sync_local.keep_theirs(store, ids["conflict"])
    rows = outbox_rows(store)
    assert rows[-2].change_id == edit.change_id
    assert json.loads(rows[-2].fields)["text"] == "Mine, again."  # still on its way
    assert json.loads(rows[-1].resolves) == [ids["conflict"]]


async def test_a_later_edit_folds_into_an_unsent_resolution(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _conflicted(store, engine, server)
    sync_local.keep_theirs(store, ids["conflict"])
    count = len(outbox_rows(store))
    mapping.save_entry(store, ids["assessment"], entry_id=ids["entry"], text="Theirs, tidied.")
    assert len(outbox_rows(store)) == count
    last = outbox_rows(store)[-1]
    assert json.loads(last.resolves) == [ids["conflict"]]
    assert json.loads(last.fields)["text"] == "Theirs, tidied."
    assert (await engine.sync()).ok
    assert server.records[ids["entry"]].data["text"] == "Theirs, tidied."


async def test_a_resolved_conflict_cannot_be_resolved_again(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _conflicted(store, engine, server)
    sync_local.keep_mine(store, ids["conflict"])
    await engine.sync()
    with pytest.raises(sync_local.ConflictClosed):
        sync_local.keep_theirs(store, ids["conflict"])


# --- Resync sweep and the sent log ------------------------------------------------------------


async def test_the_resync_sweep_keeps_rows_with_unsent_work_and_their_parents(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    draft = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="Draft.").id
    removed = sync_local.sweep_after_resync(store, seen={ids["child"]})
    assert removed == 3  # mum, dad and the clean entry
    for kept, table in ((draft, Entry), (ids["assessment"], Assessment), (ids["case"], Case),
                        (ids["child"], Person)):  # fmt: skip
        assert _get(store, table, kept) is not None
    assert len([r for r in outbox_rows(store) if r.state == "done"]) == 6


async def test_sent_changes_are_kept_thirty_days(
    store: Store, engine: SyncEngine, clock: FakeClock
) -> None:
    await _clean_entry(store, engine)
    clock.advance(days=29)
    assert sync_local.purge_sent_log(store) == 0
    clock.advance(days=2)
    assert sync_local.purge_sent_log(store) == 6
    with store.read() as session:
        assert session.exec(select(Outbox)).all() == []


async def test_a_header_merged_on_the_service_ends_with_both_sides_fields(
    store: Store, engine: SyncEngine
) -> None:
    ids = await _clean_entry(store, engine)
    mine = _get(store, Assessment, ids["assessment"]).title + " (renamed here)"
    with store.write() as session:
        row = session.get(Assessment, ids["assessment"])
        assert row is not None
        changes.update(session, store, row, title=mine)
    # Meanwhile another device changed another field; the pull saw it (shadow only).
    theirs = _shadow(store, ids["assessment"])
    data = json.loads(theirs.data) | {"zero_wording": "Changed elsewhere."}
    sync_local.apply_page(
        store, _page(_record(ids["assessment"], 2, data, case_id=ids["case"], entity="assessment"))
    )
    assert _get(store, Assessment, ids["assessment"]).zero_wording != "Changed elsewhere."
    [sent] = sync_local.take_batch(store, 10, 1_000_000)
    merged = PushResponse(
        batch_id=uuid.uuid4(), device_id=uuid.UUID(store.device_id), server_time=SERVER_TIME,
        last_device_seq=sent.device_seq, results=[ChangeResult(
            change_id=uuid.UUID(sent.change_id), status="applied", rev=3)],
    )  # fmt: skip
    sync_local.apply_push_results(store, [sent.change_id], merged)
    row = _get(store, Assessment, ids["assessment"])
    assert (row.title, row.zero_wording) == (mine, "Changed elsewhere.")
    assert (row.server_rev, row.sync_state) == (3, SyncState.CLEAN)
    assert _shadow(store, ids["assessment"]).rev == 3
