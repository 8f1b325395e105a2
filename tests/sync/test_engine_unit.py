"""The sync engine against a fake service: push and pull outcomes, and the fault cases
(F-numbers from reference/sync.md §5.2) that need no real service."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from sofs_tui.domain.enums import Section, SyncState
from sofs_tui.secrets import TokenStore
from sofs_tui.store import mapping, sync_local
from sofs_tui.store.store import Store
from sofs_tui.store.sync_lock import sync_lock_path
from sofs_tui.store.tables import Entry, LocalConflict, Shadow, SyncMeta
from sofs_tui.sync.client import (
    BadResponse,
    DeviceRevoked,
    Offline,
    ServerBusy,
    SyncClient,
    Timeout,
    Unauthorised,
    UpgradeRequired,
)
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import Backoff, SyncBusy, SyncEngine, SyncProgress
from sofs_tui.sync.protocol import ChangeResult, PushResponse, SchemaRange
from tests.conftest import FakeClock
from tests.store.helpers import new_family
from tests.support.memory_keyring import MemoryKeyring
from tests.sync.conftest import outbox_rows, snapshot
from tests.sync.fake_server import PASSWORD, URL, FakeServer
from tests.sync.test_sync_lock import spawn_lock_holder

PUSH, PULL = "/sync/v1/push", "/sync/v1/changes"


def _entry(store: Store, assessment: str, text: str = "Kai was calm at school.") -> str:
    return mapping.save_entry(store, assessment, section=Section.HARM, text=text).id


def _edit(store: Store, assessment: str, entry_id: str, text: str) -> None:
    mapping.save_entry(store, assessment, entry_id=entry_id, text=text)


def _row(store: Store, entry_id: str) -> Entry:
    with store.read() as session:
        row = session.get(Entry, entry_id)
    assert row is not None
    return row


def _outbox_view(store: Store) -> list[tuple[str, int, str, int, str]]:
    return [(r.change_id, r.device_seq, r.state, r.attempts, r.fields) for r in outbox_rows(store)]


def _meta(store: Store) -> SyncMeta:
    with store.read() as session:
        meta = session.get(SyncMeta, 1)
    assert meta is not None
    return meta


async def _synced_family(store: Store, engine: SyncEngine) -> dict[str, str]:
    ids = new_family(store)
    assert (await engine.sync()).ok
    return ids


# --- The ordinary cycle ------------------------------------------------------------------------


async def test_push_marks_applied_changes_done_and_their_rows_clean_at_the_service_rev(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = new_family(store)
    entry_id = _entry(store, ids["assessment"])
    summary = await engine.sync()
    assert summary.ok and summary.sent == 6 and summary.conflicts == 0
    assert {r.state for r in outbox_rows(store)} == {"done"}
    assert all(r.done_at is not None for r in outbox_rows(store))
    row = _row(store, entry_id)
    assert row.sync_state is SyncState.CLEAN and row.server_rev == server.records[entry_id].rev
    with store.read() as session:
        shadow = session.get(Shadow, entry_id)
    assert shadow is not None and shadow.rev == 1
    assert json.loads(shadow.data)["text"] == "Kai was calm at school."
    assert shadow.case_id == ids["case"]


async def test_a_sync_with_nothing_to_do_makes_exactly_one_request(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    await _synced_family(store, engine)
    before = len(server.requests)
    assert (await engine.sync()).ok
    assert [r.url.path for r in server.requests[before:]] == [PULL]


async def test_a_new_change_made_after_a_sent_one_is_based_on_the_service_rev(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"])
    await engine.sync()
    _edit(store, ids["assessment"], entry_id, "Kai was calm at school today.")
    change = outbox_rows(store)[-1]
    assert (change.base_rev, change.base_change_id) == (1, None)
    assert (await engine.sync()).ok
    assert server.records[entry_id].data["text"] == "Kai was calm at school today."
    assert _row(store, entry_id).server_rev == 2


async def test_pull_brings_another_devices_record_into_the_store(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    other = str(uuid.uuid4())
    server.put(
        "entry",
        other,
        {"assessment_id": ids["assessment"], "section": "harm", "text": "From the school.",
         "source": "", "agreement": "not_asked", "disputed_by": "", "position": "V",
         "goal_for_id": None, "audience": "undecided"},
    )  # fmt: skip
    summary = await engine.sync()
    assert summary.received == 1
    row = _row(store, other)
    assert row.text == "From the school." and row.sync_state is SyncState.CLEAN
    assert row.server_rev == 1


async def test_progress_reports_push_then_pull(store: Store, engine: SyncEngine) -> None:
    new_family(store)
    steps: list[SyncProgress] = []
    await engine.sync(progress=steps.append)
    assert [s.phase for s in steps] == ["push", "pull"]
    assert (steps[0].done, steps[0].total) == (5, 5)


async def test_a_conflicting_change_is_mirrored_with_both_full_versions(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Base text.")
    await engine.sync()
    server.put("entry", entry_id, {"text": "Their text."})
    _edit(store, ids["assessment"], entry_id, "My text.")
    summary = await engine.sync()
    assert summary.ok and summary.conflicts == 1
    row = _row(store, entry_id)
    assert row.sync_state is SyncState.CONFLICT and row.text == "My text."
    [conflict] = sync_local.list_conflicts(store)
    assert conflict.mine["text"] == "My text." and conflict.mine_is_local
    assert conflict.theirs["text"] == "Their text." and conflict.theirs_rev == 2
    assert conflict.author == "t.worker" and conflict.client_time is not None
    assert outbox_rows(store)[-1].state == "done"
    # Later syncs leave it open: only a person closes a conflict.
    assert (await engine.sync()).ok
    assert [c.conflict_id for c in sync_local.list_conflicts(store)] == [conflict.conflict_id]


async def test_held_and_rejected_changes_are_done_but_shown_and_the_text_stays(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    server.out_of_scope.add(ids["case"])
    entry_id = _entry(store, ids["assessment"], "Written after the case moved.")
    summary = await engine.sync()
    assert summary.ok and summary.rejected == 1
    [notice] = summary.notices
    assert (notice.status, notice.reason, notice.record_id) == (
        "rejected",
        "out_of_scope",
        entry_id,
    )
    assert outbox_rows(store)[-1].state == "done"
    row = _row(store, entry_id)
    assert row.sync_state is SyncState.HELD and row.text == "Written after the case moved."


async def test_an_idempotency_mismatch_keeps_the_change_flagged_and_never_done(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Mine.")
    change = outbox_rows(store)[-1]
    server.received[change.change_id] = (
        "0" * 64,
        ChangeResult(change_id=uuid.UUID(change.change_id), status="applied", rev=1),
    )
    summary = await engine.sync()
    assert summary.flagged == 1
    flagged = outbox_rows(store)[-1]
    assert (flagged.state, flagged.last_error) == ("flagged", "idempotency_mismatch")
    assert _row(store, entry_id).sync_state is SyncState.DIRTY
    pushes = len(server.pushes)
    await engine.sync()
    assert len(server.pushes) == pushes  # kept back, not resent forever
    assert sync_local.sync_status(store).flagged == 1


async def test_a_service_clock_hours_away_is_warned_about_and_recorded(
    store: Store, engine: SyncEngine, server: FakeServer, clock: FakeClock
) -> None:
    server.clock = lambda: clock() + timedelta(hours=2)
    summary = await engine.sync()
    assert summary.ok and summary.clock_warning
    assert summary.clock_offset_s == pytest.approx(7200)
    assert _meta(store).clock_offset_s == pytest.approx(7200)


async def test_a_service_that_already_saw_higher_device_seqs_moves_ours_past_them(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    server.devices[store.device_id] = 41
    await engine.sync()
    assert _meta(store).next_device_seq == 42


async def test_a_client_schema_above_the_service_range_sends_nothing(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    server.schema = SchemaRange(min=1, max=1, current=1)
    summary = await engine.sync()
    assert isinstance(summary.error, UpgradeRequired) and server.pushes == []
    assert {r.state for r in outbox_rows(store)} == {"pending"}


async def test_a_client_schema_below_the_service_minimum_still_pushes_but_does_not_pull(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    server.schema = SchemaRange(min=3, max=3, current=3)
    summary = await engine.sync()
    assert isinstance(summary.error, UpgradeRequired) and summary.retry_in is None
    assert summary.sent == 5 and server.requests_to(PULL) == []


# --- Fault cases ----------------------------------------------------------------------------------


async def test_F1_a_service_refusing_connections_leaves_the_outbox_unchanged(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Offline draft.")
    before = _outbox_view(store)
    server.fail("POST", PUSH, raise_=httpx.ConnectError)
    summary = await engine.sync()
    assert isinstance(summary.error, Offline) and summary.retry_in is not None
    assert _outbox_view(store) == before
    # Still never sent, so the next edit folds into the same change (rule L2).
    _edit(store, ids["assessment"], entry_id, "Offline draft, longer.")
    assert len(outbox_rows(store)) == len(before)
    assert (await engine.sync()).ok
    assert server.records[entry_id].data["text"] == "Offline draft, longer."


async def test_F1_an_unreachable_service_at_the_first_sync_touches_nothing(
    store: Store, server: FakeServer, credentials: Credentials, client: SyncClient
) -> None:
    new_family(store)
    before = snapshot(store)
    server.fail("GET", "/sync/v1/info", raise_=httpx.ConnectError)
    engine = SyncEngine(store, client, credentials)
    summary = await engine.sync()
    assert isinstance(summary.error, Offline)
    after = snapshot(store)
    before.pop("sync_meta"), after.pop("sync_meta")  # only the lock row moved
    assert after == before


async def test_F2_a_timeout_before_the_service_read_the_push_retries_the_same_changes(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    ids_before = [r.change_id for r in outbox_rows(store)]
    server.fail("POST", PUSH, raise_=httpx.ReadTimeout)
    summary = await engine.sync()
    assert isinstance(summary.error, Timeout)
    assert {(r.state, r.attempts) for r in outbox_rows(store)} == {("pending", 1)}
    assert (await engine.sync()).ok
    assert [r.change_id for r in outbox_rows(store)] == ids_before
    assert sorted(server.applied_changes) == sorted(ids_before)


async def test_F3_a_timeout_after_the_service_committed_replays_the_stored_result(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = new_family(store)
    server.fail("POST", PUSH, raise_=httpx.ReadTimeout, after=True)
    assert isinstance((await engine.sync()).error, Timeout)
    assert {r.state for r in outbox_rows(store)} == {"pending"}
    assert (await engine.sync()).ok
    assert len(server.applied_changes) == len(set(server.applied_changes)) == 5
    assert all(json.loads(r.result)["replayed"] for r in outbox_rows(store))
    with store.read() as session:
        shadow = session.get(Shadow, ids["case"])
    assert shadow is not None and shadow.rev == server.records[ids["case"]].rev


async def test_F5_a_503_with_retry_after_on_pull_leaves_the_cursor_where_it_was(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    cursor = _meta(store).cursor
    server.put("assessment", ids["assessment"], {"title": "Renamed on the service"})
    server.fail("GET", PULL, status=503, headers={"Retry-After": "120"})
    summary = await engine.sync()
    assert isinstance(summary.error, ServerBusy)
    assert summary.retry_in is not None and summary.retry_in >= 120
    assert _meta(store).cursor == cursor
    assert (await engine.sync()).ok
    assert _meta(store).cursor != cursor


def _drop_last(answer: PushResponse) -> PushResponse:
    return answer.model_copy(update={"results": answer.results[:-1]})


def _add_stranger(answer: PushResponse) -> PushResponse:
    stranger = ChangeResult(change_id=uuid.uuid4(), status="applied", rev=1)
    return answer.model_copy(update={"results": [*answer.results, stranger]})


def _twice(answer: PushResponse) -> PushResponse:
    return answer.model_copy(update={"results": [*answer.results, answer.results[0]]})


def _other_batch(answer: PushResponse) -> PushResponse:
    return answer.model_copy(update={"batch_id": uuid.uuid4()})


@pytest.mark.parametrize(
    ("fault", "tamper"),
    [
        pytest.param({"status": 200, "body": b"<html>Sign in to the hotel Wi-Fi</html>",
                      "content_type": "text/html"}, None, id="html-200"),
        pytest.param({"status": 200, "body": b'{"batch_id": "'}, None, id="truncated-json"),
        pytest.param(None, _add_stranger, id="unknown-result"),
        pytest.param(None, _twice, id="duplicate-result"),
        pytest.param(None, _other_batch, id="wrong-batch-id"),
    ],
)  # fmt: skip
async def test_F6_a_malformed_push_answer_marks_no_change_done(
    store: Store,
    engine: SyncEngine,
    server: FakeServer,
    fault: dict[str, Any] | None,
    tamper: Any,
) -> None:
    new_family(store)
    if fault is not None:
        server.fail("POST", PUSH, after=True, **fault)
    server.tamper_push = tamper
    summary = await engine.sync()
    assert isinstance(summary.error, BadResponse) and summary.retry_in is not None
    assert {r.state for r in outbox_rows(store)} == {"pending"}
    assert all(r.result == "" for r in outbox_rows(store))
    assert (await engine.sync()).ok  # the replay settles every change
    assert {r.state for r in outbox_rows(store)} == {"done"}


async def test_F6_a_missing_result_leaves_that_change_pending_and_the_rest_done(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    server.tamper_push = _drop_last
    summary = await engine.sync()
    assert isinstance(summary.error, BadResponse)
    assert [r.state for r in outbox_rows(store)] == ["done"] * 4 + ["pending"]


async def test_F8_changes_left_in_flight_by_a_crash_are_sent_again_once(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    sync_local.take_batch(store, 100, 1_000_000)  # marked in flight, then the app "died"
    assert {r.state for r in outbox_rows(store)} == {"inflight"}
    assert sync_local.reset_inflight(store) == 5  # what start-up does
    sync_local.take_batch(store, 2, 1_000_000)  # and a second crash mid-sync
    assert (await engine.sync()).ok
    assert {r.state for r in outbox_rows(store)} == {"done"}
    assert len(server.applied_changes) == len(set(server.applied_changes)) == 5


async def test_F14_an_offline_chain_of_three_edits_applies_in_order_without_conflict(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Version 0.")
    await engine.sync()
    for n in (1, 2):
        _edit(store, ids["assessment"], entry_id, f"Version {n}.")
        server.fail("POST", PUSH, raise_=httpx.ReadTimeout, after=True)
        assert isinstance((await engine.sync()).error, Timeout)
    _edit(store, ids["assessment"], entry_id, "Version 3.")
    chain = [r for r in outbox_rows(store) if r.record_id == entry_id and r.op == "update"]
    assert [r.base_change_id for r in chain] == [None, chain[0].change_id, chain[1].change_id]
    summary = await engine.sync()
    assert summary.ok and summary.conflicts == 0
    assert (
        server.records[entry_id].data["text"] == "Version 3." and server.records[entry_id].rev == 4
    )
    row = _row(store, entry_id)
    assert (row.text, row.server_rev, row.sync_state) == ("Version 3.", 4, SyncState.CLEAN)


async def test_F16_an_expired_access_token_is_refreshed_once_and_sync_goes_on(
    store: Store, engine: SyncEngine, server: FakeServer, keyring_backend: MemoryKeyring
) -> None:
    ids = await _synced_family(store, engine)
    _entry(store, ids["assessment"])
    server.expire_access_tokens()
    summary = await engine.sync()
    assert summary.ok and summary.sent == 1
    assert len(server.requests_to("/auth/refresh")) == 1
    kept = {name: value for (_, name), value in keyring_backend.entries.items()}
    assert kept[f"{URL}|t.worker|refresh"] == "refresh-2"  # the rotated one
    assert kept[f"{URL}|t.worker|access"].endswith(":access-2")  # the stale one replaced


async def test_F16_a_refused_refresh_stops_with_unauthorised_and_keeps_the_outbox(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Unsent.")
    before = [(r.change_id, r.fields) for r in outbox_rows(store)]
    server.expire_access_tokens()
    server.refusing_refresh = True
    summary = await engine.sync()
    assert isinstance(summary.error, Unauthorised) and summary.retry_in is None
    assert [(r.change_id, r.fields) for r in outbox_rows(store)] == before
    assert outbox_rows(store)[-1].state == "pending"
    assert _row(store, entry_id).text == "Unsent."
    assert len(server.requests_to("/auth/refresh")) == 1


async def test_without_a_credential_store_the_password_is_asked_at_each_sync(
    store: Store, server: FakeServer, client: SyncClient
) -> None:
    asked: list[str] = []

    async def prompt() -> str:
        asked.append("asked")
        return PASSWORD

    for _ in range(2):  # two runs of `sofs sync`: nothing persists between them
        nothing_kept = TokenStore.unavailable("No trusted credential store here.")
        credentials = Credentials(
            nothing_kept, URL, "t.worker", device_id=store.device_id, ask_password=prompt
        )
        assert not credentials.keeps_tokens
        assert (await SyncEngine(store, client, credentials).sync()).ok
    assert asked == ["asked", "asked"]


async def test_F17_a_revoked_device_stops_sync_and_keeps_every_local_row(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Kept whatever happens.")
    server.revoked_devices.add(store.device_id)
    summary = await engine.sync()
    assert isinstance(summary.error, DeviceRevoked) and summary.retry_in is None
    assert outbox_rows(store)[-1].state == "pending"
    assert _row(store, entry_id).text == "Kept whatever happens."


async def test_F22_a_413_halves_the_batch_until_the_service_takes_it(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    for n in range(60):
        _entry(store, ids["assessment"], f"Entry {n}.")
    server.max_batch = 20
    summary = await engine.sync()
    assert summary.ok and summary.sent == 60
    assert [len(p.changes) for p in server.pushes[1:]] == [15, 15, 15, 15]
    assert {r.state for r in outbox_rows(store)} == {"done"}


async def test_F23_two_syncs_at_once_on_one_engine_never_send_a_change_twice(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    new_family(store)
    await _two_syncs_at_once(server, engine, engine)
    assert server.most_active_pushes == 1
    assert len(server.applied_changes) == len(set(server.applied_changes)) == 5
    assert {r.state for r in outbox_rows(store)} == {"done"}


async def test_F23_a_second_engine_on_the_same_store_waits_for_the_first(
    store: Store,
    engine: SyncEngine,
    server: FakeServer,
    credentials: Credentials,
    client: SyncClient,
) -> None:
    new_family(store)
    second = SyncEngine(store, client, credentials, lock_poll=0.01)
    summaries = await _two_syncs_at_once(server, engine, second)
    assert all(s.ok for s in summaries)
    sent = [str(c.change_id) for p in server.pushes for c in p.changes]
    assert len(sent) == len(set(sent)) == 5


async def _two_syncs_at_once(server: FakeServer, one: SyncEngine, two: SyncEngine) -> list[Any]:
    server.push_gate = asyncio.Event()
    first = asyncio.create_task(one.sync())
    while server.active_pushes == 0:  # the first sync is inside its push
        await asyncio.sleep(0)
    second = asyncio.create_task(two.sync())
    for _ in range(50):  # give the second every chance to run
        await asyncio.sleep(0.001)
    server.push_gate.set()
    return list(await asyncio.gather(first, second))


async def test_F8_a_sync_lock_held_by_a_live_process_blocks_and_a_killed_ones_is_free_at_once(
    store: Store, server: FakeServer, credentials: Credentials, client: SyncClient
) -> None:
    holder = spawn_lock_holder(sync_lock_path(store))  # `sofs sync` in another window
    try:
        impatient = SyncEngine(store, client, credentials, lock_wait=0)
        assert isinstance((await impatient.sync()).error, SyncBusy)
        os.kill(holder.pid, signal.SIGKILL)  # killed mid-sync: no clean-up ran
        holder.wait(timeout=10)
        assert (await impatient.sync()).ok  # seconds later, no lease to wait out
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


async def test_a_410_resyncs_from_a_snapshot_and_keeps_held_work_and_the_outbox(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    dropped = _entry(store, ids["assessment"], "Clean, but gone from the service.")
    await engine.sync()
    server.out_of_scope.add(ids["case"])
    held = _entry(store, ids["assessment"], "Rejected, kept here.")
    await engine.sync()
    server.out_of_scope.clear()
    del server.records[dropped]  # e.g. the service was restored from an older backup
    server.gone_cursors.add(_meta(store).cursor)
    outbox_before = _outbox_view(store)
    summary = await engine.sync()
    assert summary.ok and summary.removed == 1
    with store.read() as session:
        assert session.get(Entry, dropped) is None
        assert session.get(Shadow, dropped) is None
    assert _row(store, held).text == "Rejected, kept here."
    assert _outbox_view(store) == outbox_before
    assert _meta(store).cursor == str(server.seq)


def test_backoff_grows_with_full_jitter_and_honours_retry_after() -> None:
    top = Backoff(rand=lambda: 1.0)
    assert [top.failure() for _ in range(12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900
    ]  # fmt: skip
    low = Backoff(rand=lambda: 0.0)
    assert low.failure() == 1.0 and low.failure(retry_after=30) == 30
    half = Backoff(rand=lambda: 0.5)
    half.failure(), half.failure(), half.failure()
    assert half.failure() == 4.0  # half of 8
    half.success()
    assert half.failure() == 1.0


async def test_conflict_rows_are_counted_in_the_status_bar(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Base.")
    await engine.sync()
    server.put("entry", entry_id, {"text": "Theirs."})
    _edit(store, ids["assessment"], entry_id, "Mine.")
    _entry(store, ids["assessment"], "Pending.")
    server.fail("GET", PULL, raise_=httpx.ConnectError)
    await engine.sync()
    status = sync_local.sync_status(store)
    assert (status.open_conflicts, status.pending, status.flagged) == (1, 0, 0)
    with store.read() as session:
        mirrors = session.exec(select(LocalConflict)).all()
    # Before the pull, "theirs" is our last confirmed copy; both sides are whole.
    assert json.loads(mirrors[0].theirs)["text"] == "Base."
    assert json.loads(mirrors[0].mine)["text"] == "Mine."


async def test_a_service_that_forgot_this_device_gets_it_registered_again(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    _entry(store, ids["assessment"])
    server.fail("POST", PUSH, status=404, body=b'{"detail": "unknown_device"}')
    summary = await engine.sync()
    assert summary.ok and summary.sent == 1
    assert len(server.requests_to(f"/sync/v1/devices/{store.device_id}")) == 2


async def test_too_many_sign_in_attempts_say_how_long_to_wait(
    store: Store, server: FakeServer, client: SyncClient
) -> None:
    server.fail("POST", "/auth/token", status=429, headers={"Retry-After": "300"})
    credentials = Credentials(None, URL, "t.worker", device_id=store.device_id)
    with pytest.raises(ServerBusy, match="Wait about 5 minutes") as busy:
        await credentials.login(client, PASSWORD)
    assert busy.value.retry_after == 300


async def test_the_first_pull_from_a_new_service_takes_its_snapshot_as_the_truth(
    store: Store, engine: SyncEngine, server: FakeServer
) -> None:
    ids = await _synced_family(store, engine)
    entry_id = _entry(store, ids["assessment"], "Old service text.")
    await engine.sync()
    for n in range(3):
        server.put("entry", entry_id, {"text": f"Old service, edit {n}."})
    await engine.sync()
    assert _row(store, entry_id).server_rev == 4
    # The council moves to a new service holding rev 1 of the entry and nothing else.
    new = FakeServer()
    new.put("case", ids["case"], server.records[ids["case"]].data)
    new.put("assessment", ids["assessment"], server.records[ids["assessment"]].data)
    new.put("entry", entry_id, server.records[entry_id].data | {"text": "New service text."})
    sync_local.set_server(store, "https://new.sofs.test", "t.worker")
    async with SyncClient("https://new.sofs.test", transport=new.transport()) as client:
        credentials = Credentials(None, client.base_url, "t.worker", device_id=store.device_id)
        await credentials.login(client, PASSWORD)
        summary = await SyncEngine(store, client, credentials).sync()
    assert summary.ok and summary.removed == 3  # the people the new service does not have
    row = _row(store, entry_id)
    assert (row.text, row.server_rev, row.sync_state) == ("New service text.", 1, SyncState.CLEAN)
