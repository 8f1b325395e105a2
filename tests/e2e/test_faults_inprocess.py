"""Fault cases of reference/sync.md §5.2 through the real engine, the real app and a fault
transport, on SQLite and PostgreSQL: the network and the service failing (F1-F7), either side
killed at a failpoint (F8, F9), offline chains (F14), tokens and devices (F16, F17) and a
poison change (F25). Each asserts the invariants it touches: I2 nothing lost, I3 one effect
per change, I11 errors delete nothing, I12 crash equivalence, I13 convergence."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from sofs_tui.domain.enums import SyncState
from sofs_tui.server import admin, sync_api
from sofs_tui.store.tables import Entry, Outbox
from sofs_tui.sync.client import (
    BadResponse,
    DeviceRevoked,
    Offline,
    ServerBusy,
    Timeout,
    Unauthorised,
)
from tests.e2e import oracle, scenario
from tests.e2e.faults import (
    CLIENT_FAILPOINTS,
    PULL,
    SERVER_FAILPOINTS,
    ClientCrash,
    crash_server,
    fail_server,
    kill_at,
    server_failpoint,
)
from tests.e2e.harness import Laptop, World


async def _pair(world: World) -> tuple[Laptop, Laptop, dict[str, str]]:
    """Alice and Bob of one team, both holding a synced case with one entry."""
    alice, bob = world.laptop("alice"), world.laptop("bob")
    case_id = alice.create_case("C-300", "Testfamily")
    assessment_id = alice.create_assessment(case_id)
    entry_id = alice.add_entry(assessment_id, "Dad shouts at night.")
    await alice.sync_ok()
    await bob.sync_ok()
    return alice, bob, {"case": case_id, "assessment": assessment_id, "e1": entry_id}


def _states(laptop: Laptop) -> list[tuple[str, int]]:
    return [(r.state, r.attempts) for r in oracle.outbox(laptop) if r.state != "done"]


def _row_ids(laptop: Laptop) -> set[str]:
    return {r.id for r in oracle.synced_rows(laptop)}


# --- The network and the service failing ---------------------------------------------------------


async def test_F1_a_service_that_is_down_costs_time_not_data(world: World) -> None:
    alice, bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Written while the service was down.")
    before = oracle.everything(alice)
    alice.transport.inject("refuse", times=4)
    waits: list[float] = []
    for _ in range(4):
        summary = await alice.sync()
        assert summary is not None and isinstance(summary.error, Offline)
        assert summary.retry_in is not None
        waits.append(summary.retry_in)
    assert oracle.everything(alice) == before  # not even an attempt counted
    assert waits == sorted(waits) and waits[-1] > waits[0]  # back-off grows
    alice.add_entry(ids["assessment"], "Editing goes on meanwhile.")
    await world.sync_all()
    assert len(bob.rows(Entry)) == 3
    oracle.check_all(world)


async def test_F2_a_timeout_before_the_service_read_the_push_sends_the_same_changes_again(
    world: World,
) -> None:
    alice, _bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Sent twice, stored once.")
    alice.transport.inject("timeout_before")
    summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, Timeout)
    assert _states(alice) == [("pending", 1)]
    assert len(oracle.received(world.service)) == 3  # the first sync's three only
    await world.sync_all()
    oracle.check_all(world)


async def test_F3_a_timeout_after_the_service_committed_replays_the_stored_result(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    alice.add_entry(ids["assessment"], "Grandma visits on Sundays.")
    alice.transport.inject("timeout_after")
    summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, Timeout)
    assert [s for s, _ in _states(alice)] == ["pending", "pending"]
    assert len(oracle.received(world.service)) == 5  # the service has them already
    await alice.sync_ok()
    results = [json.loads(r.result) for r in oracle.outbox(alice)[-2:]]
    assert all(r["replayed"] for r in results)
    on_service = oracle.records(world.service)
    assert alice.row(Entry, ids["e1"]).server_rev == on_service[ids["e1"]].rev == 2
    await world.sync_all()
    assert bob.row(Entry, ids["e1"]).text == "Dad shouts at night, Mum says."
    oracle.check_all(world)


@pytest.mark.parametrize(("point", "kept"), [("push.after_commit", 4), ("push.before_commit", 2)])
async def test_F4_a_500_after_k_of_n_changes_replays_those_and_applies_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch, point: str, kept: int
) -> None:
    # Batches of two: the failure hits the second batch, after (or before) its commit.
    monkeypatch.setattr(sync_api, "MAX_BATCH_CHANGES", 2)
    alice = world.laptop("alice")
    case_id = alice.create_case("C-400")
    assessment_id = alice.create_assessment(case_id)
    for n in range(4):
        alice.add_entry(assessment_id, f"Entry {n}.")
    with server_failpoint(point, fail_server, skip=1):
        summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, ServerBusy)
    assert len(oracle.received(world.service)) == kept
    assert [r.state for r in oracle.outbox(alice)] == ["done"] * 2 + ["pending"] * 4
    await alice.sync_ok()
    outbox = oracle.outbox(alice)
    assert [r.state for r in outbox] == ["done"] * 6
    replayed = [json.loads(r.result)["replayed"] for r in outbox]
    assert replayed == [False, False] + [kept == 4] * 2 + [False, False]
    assert oracle.last_device_seq(world.service, alice.device_id) == 6
    oracle.check_all(world)


async def test_F5_a_503_with_retry_after_on_pull_keeps_the_cursor_and_waits(world: World) -> None:
    alice, bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Bob will get this later.")
    await alice.sync_ok()
    before = oracle.everything(bob)
    bob.transport.inject(
        "status", method="GET", path=PULL, status=503, headers={"Retry-After": "120"}
    )
    summary = await bob.sync()
    assert summary is not None and isinstance(summary.error, ServerBusy)
    assert summary.retry_in is not None and summary.retry_in >= 120
    assert oracle.everything(bob) == before
    await world.sync_all()
    assert len(bob.rows(Entry)) == 2
    oracle.check_all(world)


def _drop_last(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"results": body["results"][:-1]}


def _add_stranger(body: dict[str, Any]) -> dict[str, Any]:
    stranger = body["results"][0] | {"change_id": str(uuid.uuid4())}
    return body | {"results": [*body["results"], stranger]}


def _answer_twice(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"results": [*body["results"], body["results"][0]]}


def _other_batch(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"batch_id": str(uuid.uuid4())}


PUSH_ANSWERS: dict[str, dict[str, Any]] = {
    "html": {"kind": "html"},
    "truncated": {"kind": "truncate"},
    "missing_result": {"kind": "tamper", "tamper": _drop_last},
    "unknown_change_id": {"kind": "tamper", "tamper": _add_stranger},
    "duplicate_result": {"kind": "tamper", "tamper": _answer_twice},
    "wrong_batch_id": {"kind": "tamper", "tamper": _other_batch},
}


async def test_F6_a_malformed_push_answer_marks_no_change_done_without_its_result(
    world: World,
) -> None:
    alice, _bob, ids = await _pair(world)
    for n, (answer, fault) in enumerate(sorted(PUSH_ANSWERS.items())):
        alice.edit_entry(ids["e1"], f"Dad shouts at night ({answer}).")
        alice.add_entry(ids["assessment"], f"Entry sent into a {answer} answer.")
        rows_before, unsent_before = _row_ids(alice), oracle.unsent(alice)
        alice.transport.inject(**fault)
        summary = await alice.sync()
        assert summary is not None and isinstance(summary.error, BadResponse), answer
        left = [r.state for r in oracle.outbox(alice)[-2:]]
        expected = ["done", "pending"] if answer == "missing_result" else ["pending"] * 2
        assert left == expected, answer
        assert _row_ids(alice) == rows_before, answer  # I11: an error deletes nothing
        assert oracle.unsent(alice) <= unsent_before, answer
        await alice.sync_ok()
        assert {r.state for r in oracle.outbox(alice)} == {"done"}, answer
        assert len(alice.rows(Entry)) == n + 2
        oracle.check_no_duplicates(world.service)
    await world.sync_all()
    oracle.check_all(world)


def _bad_section(body: dict[str, Any]) -> dict[str, Any]:
    for item in body["items"]:
        if item["type"] == "record" and item["entity"] == "entry":
            item["data"]["section"] = "not-a-section"
    return body


def _unknown_field(body: dict[str, Any]) -> dict[str, Any]:
    body["items"][0]["surprise"] = 1
    return body


PULL_PAGES: dict[str, dict[str, Any]] = {
    "truncated": {"kind": "truncate"},
    "invalid_value": {"kind": "tamper", "tamper": _bad_section},
    "unknown_field": {"kind": "tamper", "tamper": _unknown_field},
    "connection_reset": {"kind": "read_error_after"},
    "html": {"kind": "html"},
}


async def test_F7_a_malformed_or_cut_pull_page_changes_nothing(world: World) -> None:
    alice, bob, ids = await _pair(world)
    for page, fault in sorted(PULL_PAGES.items()):
        alice.add_entry(ids["assessment"], f"Bob gets this after a {page} page.")
        alice.edit_entry(ids["e1"], f"Dad shouts at night ({page}).")
        await alice.sync_ok()
        before = oracle.everything(bob)
        bob.transport.inject(method="GET", path=PULL, **fault)
        summary = await bob.sync()
        assert summary is not None and summary.error is not None, page
        assert oracle.everything(bob) == before, page  # a page and its cursor, or nothing
        await bob.sync_ok()
        assert bob.row(Entry, ids["e1"]).text == f"Dad shouts at night ({page}).", page
    await world.sync_all()
    oracle.check_all(world)


# --- Either side killed at a failpoint ----------------------------------------------------------


@pytest.mark.parametrize("point", CLIENT_FAILPOINTS)
async def test_F8_a_laptop_killed_at_a_failpoint_ends_like_an_uninterrupted_run(
    world: World, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    async def killed(run: scenario.Run) -> None:
        kill_at(monkeypatch, run.bob, point)
        assert await run.bob.sync() is None  # killed, and started again from its files
        assert run.bob.crashes == 1
        assert oracle.last_device_seq(world.service, run.bob.device_id) in (0, 4)
        await run.bob.sync_ok()
        assert not [r for r in oracle.outbox(run.bob) if r.state == "inflight"]

    run = await scenario.play(world, "run", faulted_sync=killed)
    await scenario.assert_like_control(world, run)


async def test_F8_a_laptop_killed_inside_a_save_keeps_nothing_of_it(world: World) -> None:
    alice, _bob, ids = await _pair(world)
    from sofs_tui.store import changes

    original = changes._outbox

    def killed(session: Any, store: Any, row: Any, op: str, fields: Any) -> Any:
        original(session, store, row, op, fields)
        alice.die()
        raise ClientCrash("killed inside the save")

    with pytest.MonkeyPatch.context() as patches, pytest.raises(ClientCrash):
        patches.setattr(changes, "_outbox", killed)
        alice.add_entry(ids["assessment"], "Never saved: the app never said so.")
    await alice.restart()
    assert len(alice.rows(Entry)) == 1 and not oracle.unsent(alice)
    assert world.journal.latest()[-1].value != "Never saved: the app never said so."
    alice.add_entry(ids["assessment"], "Typed again after the restart.")
    await world.sync_all()
    oracle.check_all(world)


@pytest.mark.parametrize("point", SERVER_FAILPOINTS)
async def test_F9_a_service_worker_killed_at_a_failpoint_ends_like_an_uninterrupted_run(
    world: World, point: str
) -> None:
    async def faulted(run: scenario.Run) -> None:
        with server_failpoint(point, crash_server) as reached:
            summary = await run.bob.sync()
        assert reached, f"the push never reached {point}"
        assert summary is not None and isinstance(summary.error, Offline)
        committed = point == "push.after_commit"
        assert bool(oracle.last_device_seq(world.service, run.bob.device_id)) is committed

    run = await scenario.play(world, "run", faulted_sync=faulted)
    await scenario.assert_like_control(world, run)


# --- Chains, tokens, devices, poison ------------------------------------------------------------


async def test_F14_an_offline_chain_cut_after_its_first_edit_applies_in_order(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    alice.edit_entry(ids["e1"], "Version 1.")
    alice.transport.inject("read_error_after")  # the service applied it; Alice never heard
    assert isinstance((await alice.sync()).error, Offline)  # type: ignore[union-attr]
    alice.edit_entry(ids["e1"], "Version 2.")
    alice.edit_entry(ids["e1"], "Version 3.")
    chain = oracle.outbox(alice)[-2:]
    assert chain[1].base_change_id == chain[0].change_id  # rev unknown: based on the change
    summary = await alice.sync_ok()
    assert summary.conflicts == 0
    assert alice.row(Entry, ids["e1"]).server_rev == 3
    await world.sync_all()
    assert bob.row(Entry, ids["e1"]).text == "Version 3."
    assert not oracle.conflicts(world.service)
    oracle.check_all(world)


async def test_F16_an_expired_access_token_is_renewed_once_and_sync_goes_on(world: World) -> None:
    alice, _bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Saved with an expired token.")
    world.server_clock.advance(minutes=16)
    await alice.sync_ok()
    assert alice.transport.requests_to("/auth/refresh") == 1
    await world.sync_all()
    oracle.check_all(world)


async def test_F16_a_refused_sign_in_stops_sync_and_keeps_the_outbox(world: World) -> None:
    alice, _bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Kept while signed out.")
    before = oracle.everything(alice, ignore=("last_error", "attempts"))
    with world.service.session() as session:
        admin.disable_user(session, "alice", actor="admin", now=world.server_clock())
    summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, Unauthorised)
    assert oracle.everything(alice, ignore=("last_error", "attempts")) == before
    assert [state for state, _ in _states(alice)] == ["pending"]
    oracle.check_nothing_lost(world)


async def test_F17_a_revoked_device_stops_sync_and_keeps_every_local_row(world: World) -> None:
    alice, _bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Kept on the withdrawn laptop.")
    before = oracle.everything(alice, ignore=("last_error", "attempts"))
    with world.service.session() as session:
        admin.revoke_device(session, alice.device_id, actor="admin", now=world.server_clock())
    summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, DeviceRevoked)
    assert summary.retry_in is None
    assert oracle.everything(alice, ignore=("last_error", "attempts")) == before
    assert [state for state, _ in _states(alice)] == ["pending"]
    oracle.check_nothing_lost(world)


def _choke_on(poisoned: str) -> Any:
    def choke(change_id: str, record_id: str) -> None:
        if record_id == poisoned:
            raise RuntimeError("poison")

    return choke


async def test_F25_a_poison_change_is_held_and_its_neighbours_apply(world: World) -> None:
    alice, bob, ids = await _pair(world)
    poisoned = alice.add_entry(ids["assessment"], "The service chokes on this one.")
    healthy = alice.add_entry(ids["assessment"], "This one is fine.")
    with server_failpoint("push.decide", _choke_on(poisoned), times=99):
        summary = await alice.sync_ok()
    assert (summary.held, summary.sent) == (1, 2)
    assert [(n.record_id, n.status, n.reason) for n in summary.notices] == [
        (poisoned, "held", "processing")
    ]
    assert alice.row(Entry, poisoned).sync_state is SyncState.HELD
    await bob.sync_ok()
    assert {r.id for r in bob.rows(Entry)} == {ids["e1"], healthy}
    alice.edit_entry(healthy, "This one is fine, and a push retries the held ones.")
    await world.sync_all()
    assert alice.row(Entry, poisoned).sync_state is SyncState.CLEAN
    assert bob.row(Entry, poisoned).text == "The service chokes on this one."
    statuses = [json.loads(r.result)["status"] for r in alice.rows(Outbox)]
    assert set(statuses) == {"applied"}  # the held one's outcome came in the pull stream
    oracle.check_all(world)


async def test_F25_an_edit_made_while_its_create_is_held_applies_after_it_without_a_conflict(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    mia = world.laptop("mia", "manager", manages=("team-a",))
    poisoned = alice.add_entry(ids["assessment"], "The service chokes on this one.")
    with server_failpoint("push.decide", _choke_on(poisoned), times=99):
        assert (await alice.sync_ok()).held == 1
        alice.edit_entry(poisoned, "The service chokes on this one, still.")
        assert (await alice.sync_ok()).held == 1  # later changes to it wait behind it
    create, edit = [r for r in oracle.outbox(alice) if r.record_id == poisoned]
    assert (edit.base_rev, edit.base_change_id) == (None, create.change_id)  # after it
    status, queue = await mia.get("/sync/v1/held")  # a new record's held changes: its case's
    assert status == 200
    assert {(i["change_id"], i["case_id"], i["reason"]) for i in queue["items"]} == {
        (create.change_id, ids["case"], "processing"),
        (edit.change_id, ids["case"], "dependency"),
    }
    alice.add_entry(ids["assessment"], "Any push retries the held ones.")
    await world.sync_all()
    oracle.check_all(world)
    assert not oracle.conflicts(world.service)
    assert bob.row(Entry, poisoned).text == "The service chokes on this one, still."
