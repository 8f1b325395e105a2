"""Fault cases of reference/sync.md §5.2 about what a sync decides, end to end through the real
engine and app, on SQLite and PostgreSQL: concurrent edits, appends, deletes and header
fields (F10-F13), wrong clocks (F15), scope lost and gained (F18, F19), older apps (F20) and a
service restored from a backup (F21). Each asserts the invariants it touches: I2 nothing lost,
I3 one effect per change, I4/I5 no silent overwrite and visible conflicts, I9 clocks decide
nothing, I10 scope, I13 convergence."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select

from sofs_tui.server import decide, pull, sync_api
from sofs_tui.store import sync_local
from sofs_tui.store.tables import Assessment, Entry, Outbox, RevokedCase
from sofs_tui.sync import client as sync_client
from sofs_tui.sync import engine as sync_engine
from sofs_tui.sync.client import UpgradeRequired
from tests.e2e import oracle, scenario
from tests.e2e.faults import kill_at
from tests.e2e.harness import Laptop, World


async def _pair(world: World) -> tuple[Laptop, Laptop, dict[str, str]]:
    """Alice and Bob of one team, both holding a synced case with one entry."""
    alice, bob = world.laptop("alice"), world.laptop("bob")
    case_id = alice.create_case("C-500", "Testfamily")
    assessment_id = alice.create_assessment(case_id)
    entry_id = alice.add_entry(assessment_id, "Dad shouts at night.")
    await alice.sync_ok()
    await bob.sync_ok()
    return alice, bob, {"case": case_id, "assessment": assessment_id, "e1": entry_id}


def _open(world: World) -> list[Any]:
    return [c for c in oracle.conflicts(world.service) if c.status == "open"]


# --- Concurrent edits -------------------------------------------------------------------------


@pytest.mark.parametrize("resolver", ["alice", "bob"])
async def test_F10_one_entry_edited_on_two_laptops_is_one_conflict_until_a_person_resolves_it(
    world: World, resolver: str
) -> None:
    alice, bob, ids = await _pair(world)
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    bob.edit_entry(ids["e1"], "Dad shouted twice this week.")
    assert (await alice.sync_ok()).conflicts == 0
    assert (await bob.sync_ok()).conflicts == 1
    await alice.sync_ok()
    [conflict] = _open(world)
    for laptop in (alice, bob):
        [view] = laptop.open_conflicts()
        assert (view.theirs["text"], view.mine["text"]) == (
            "Dad shouts at night, Mum says.",
            "Dad shouted twice this week.",
        )
    await world.sync_all()  # I5: syncing alone never closes it
    assert [c.id for c in _open(world)] == [conflict.id]

    who = alice if resolver == "alice" else bob
    who.resolve(conflict.id, "edit_merged", "Dad shouts at night; twice this week.")
    await world.sync_all()
    assert not _open(world)
    for laptop in (alice, bob):
        assert not laptop.open_conflicts()
        assert laptop.row(Entry, ids["e1"]).text == "Dad shouts at night; twice this week."
    status, history = await alice.get(f"/sync/v1/records/entry/{ids['e1']}/history")
    assert status == 200
    assert [(r["kind"], r["data"]["text"]) for r in history["revisions"]] == [
        ("create", "Dad shouts at night."),
        ("update", "Dad shouts at night, Mum says."),
        ("resolve", "Dad shouts at night; twice this week."),
    ]
    [kept] = history["conflicts"]
    assert (kept["incoming"]["text"], kept["status"]) == (
        "Dad shouted twice this week.",
        "resolved",
    )
    oracle.check_all(world)


async def test_F11_two_laptops_appending_entries_never_conflict(world: World) -> None:
    alice, bob, ids = await _pair(world)
    mine = alice.add_entry(ids["assessment"], "Grandma visits on Sundays.")
    theirs = bob.add_entry(ids["assessment"], "School reports Kai is tired.")
    await world.sync_all()
    assert not oracle.conflicts(world.service)
    for laptop in (alice, bob):
        assert {r.id for r in laptop.rows(Entry)} == {ids["e1"], mine, theirs}
    oracle.check_all(world)


@pytest.mark.parametrize("first", ["delete", "edit"])
async def test_F12_edit_against_delete_is_a_conflict_and_the_entry_stays(
    world: World, first: str
) -> None:
    alice, bob, ids = await _pair(world)
    if first == "delete":
        alice.delete_entry(ids["e1"])
        bob.edit_entry(ids["e1"], "Dad shouts at night, and it matters.")
    else:
        alice.edit_entry(ids["e1"], "Dad shouts at night, and it matters.")
        bob.delete_entry(ids["e1"])
    await alice.sync_ok()
    assert (await bob.sync_ok()).conflicts == 1
    await world.sync_all()
    [conflict] = _open(world)
    assert conflict.incoming_op == ("update" if first == "delete" else "delete")  # intent kept
    record = oracle.records(world.service)[ids["e1"]]
    assert not record.deleted  # alive for a person to decide
    kinds = [r.kind for r in oracle.revisions(world.service) if r.record_id == ids["e1"]]
    assert kinds == (["create", "delete", "revive"] if first == "delete" else ["create", "update"])
    assert not alice.row(Entry, ids["e1"]).deleted
    oracle.check_all(world)


async def test_F13_header_fields_merge_apart_and_the_same_field_twice_is_a_hard_conflict(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    alice.edit_header(ids["assessment"], title="Mapping after the visit")
    bob.edit_header(ids["assessment"], zero_wording="Kai is not safe at home")
    await world.sync_all()
    [soft] = oracle.conflicts(world.service)
    assert (soft.kind, soft.status) == ("soft", "resolved")  # a note in the history
    for laptop in (alice, bob):
        header = laptop.row(Assessment, ids["assessment"])
        assert (header.title, header.zero_wording) == (
            "Mapping after the visit",
            "Kai is not safe at home",
        )
        assert not laptop.open_conflicts()

    alice.edit_header(ids["assessment"], ten_wording="Kai is safe with Grandma")
    bob.edit_header(ids["assessment"], ten_wording="Kai is safe at home")
    await world.sync_all()
    [hard] = _open(world)
    assert hard.kind == "hard"
    assert json.loads(hard.theirs)["ten_wording"] == "Kai is safe with Grandma"
    assert json.loads(hard.incoming_fields) == {"ten_wording": "Kai is safe at home"}
    oracle.check_all(world)


# --- Clocks ---------------------------------------------------------------------------------------

TEN_YEARS = 3653.0
SKEWS: dict[str, dict[str, float]] = {
    "three_days": {"alice": 3.0, "bob": -3.0},
    "ten_years": {"alice": TEN_YEARS, "bob": -TEN_YEARS},
    "backwards_mid_session": {},
}


def _client_times_are_verbatim(world: World, laptop: Laptop) -> None:
    """client_time as the laptop stamped it, in the service's received changes and revisions."""
    sent = {r.change_id: r.client_time for r in oracle.outbox(laptop)}
    received = {r.change_id: r for r in oracle.received(world.service) if r.change_id in sent}
    assert set(received) == set(sent)
    for change_id, change in received.items():
        stamped = datetime.fromisoformat(json.loads(change.payload)["client_time"])
        assert stamped == sent[change_id]
    for revision in oracle.revisions(world.service):
        if revision.change_id in sent:
            assert revision.client_time == sent[revision.change_id]


@pytest.mark.parametrize("skew", sorted(SKEWS))
async def test_F15_wrong_client_clocks_change_no_outcome(world: World, skew: str) -> None:
    def alice_goes_back(run: scenario.Run) -> None:
        if skew == "backwards_mid_session":
            run.alice.clock.skew(hours=-2)  # after her edits, before her sync

    async def bob_syncs(run: scenario.Run) -> None:
        if skew == "backwards_mid_session":
            run.bob.clock.skew(days=-TEN_YEARS)  # between his edits and his sync
        summary = await run.bob.sync_ok()
        assert summary.clock_warning  # shown to him; it decides nothing

    run = await scenario.play(
        world, "run", skew_days=SKEWS[skew], before_bob=alice_goes_back, faulted_sync=bob_syncs
    )
    await scenario.assert_like_control(world, run)
    for laptop in (run.alice, run.bob):
        _client_times_are_verbatim(world, laptop)


async def test_F15_a_clock_set_back_after_a_crash_does_not_shut_sync_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _bob, ids = await _pair(world)
    alice.add_entry(ids["assessment"], "Sent after the crash.")
    kill_at(monkeypatch, alice, "after_inflight")  # the killed sync leaves its lock behind
    assert await alice.sync() is None
    alice.clock.skew(days=-1)  # the laptop's clock is put right, a day back
    await alice.sync_ok()
    await world.sync_all()
    oracle.check_all(world)


# --- Scope ----------------------------------------------------------------------------------------


async def test_F18_a_case_reassigned_during_offline_work_keeps_the_work_for_the_new_manager(
    world: World,
) -> None:
    alice, _bob, ids = await _pair(world)
    carol = world.laptop("carol", team="team-b")
    mo = world.laptop("mo", "manager", team="team-b", manages=("team-b",))
    draft = "Written offline before the case moved."
    alice.edit_entry(ids["e1"], draft)
    world.service.reassign(ids["case"], team="team-b", lead="carol")

    summary = await alice.sync_ok()
    assert [(n.status, n.reason) for n in summary.notices] == [("rejected", "out_of_scope")]
    [stored] = [
        r
        for r in oracle.received(world.service)
        if json.loads(r.payload)["fields"].get("text") == draft
    ]
    assert (stored.status, stored.reason, stored.case_id) == (
        "rejected",
        "out_of_scope",
        ids["case"],
    )
    assert oracle.records(world.service)[ids["e1"]].rev == 1  # stored, not applied
    status, queue = await mo.get("/sync/v1/held")
    assert status == 200
    assert [(i["author"], i["fields"]["text"]) for i in queue["items"]] == [("alice", draft)]
    assert not [r for r in oracle.synced_rows(alice) if r.id in ids.values()]  # revoked
    await world.sync_all()
    assert carol.row(Entry, ids["e1"]).text == "Dad shouts at night."
    oracle.check_all(world)


async def test_F18_a_draft_saved_while_the_case_is_revoked_stays_until_the_service_has_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _bob, ids = await _pair(world)
    world.laptop("carol", team="team-b")
    world.service.reassign(ids["case"], team="team-b", lead="carol")
    draft = "Saved while the sync was running."
    original, saved = sync_local.purge_revoked, list[bool]()

    def save_between_push_and_pull(store: Any) -> int:
        if store is alice.store and not saved:
            alice.edit_entry(ids["e1"], draft)  # the worker saves between push and pull
            saved.append(True)
        return original(store)

    monkeypatch.setattr(sync_local, "purge_revoked", save_between_push_and_pull)
    await alice.sync_ok()
    assert alice.row(Entry, ids["e1"]).text == draft  # unsent: kept through the revoke
    assert alice.rows(RevokedCase) and oracle.unsent(alice)
    oracle.check_nothing_lost(world)
    await alice.sync_ok()  # pushed (stored, out of scope), then removed
    assert not [r for r in oracle.synced_rows(alice) if r.id in ids.values()]
    assert not alice.rows(RevokedCase)
    await world.sync_all()
    oracle.check_all(world)


async def test_F19_a_case_gained_arrives_whole_with_records_older_than_the_cursor(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    carol = world.laptop("carol", team="team-b")
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    bob.edit_entry(ids["e1"], "Dad shouted twice this week.")
    second = alice.add_entry(ids["assessment"], "Grandma visits on Sundays.")
    await alice.sync_ok()
    await bob.sync_ok()
    await carol.sync_ok()  # her cursor is now past every record of the case
    seen_up_to = pull.Cursor.decode(sync_local.sync_settings(carol.store).cursor).seq
    world.service.reassign(ids["case"], team="team-b", lead="carol")
    await carol.sync_ok()
    assert {r.id for r in carol.rows(Entry)} == {ids["e1"], second}
    [conflict] = _open(world)
    assert [c.conflict_id for c in carol.open_conflicts()] == [conflict.id]
    assert oracle.case_record_set(world.service, ids["case"]) == oracle.local_record_set(
        carol, {r.id for r in oracle.synced_rows(carol)}, confirmed={ids["e1"]}
    )
    assert seen_up_to > 0
    await world.sync_all()
    oracle.check_all(world)


# --- Older apps, restored service -----------------------------------------------------------------


def _as_schema_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app is an older build: it speaks entity schema 1 (entries had no audience)."""
    monkeypatch.setattr(sync_engine, "SCHEMA_CURRENT", 1)
    monkeypatch.setattr(sync_client, "SCHEMA_CURRENT", 1)


def _written_by_the_old_app(laptop: Laptop) -> None:
    """Its outbox as schema 1 wrote it: no audience in a new entry."""
    from sofs_tui.store import changes

    with laptop.store.write() as session:
        for row in session.exec(select(Outbox).where(Outbox.entity == "entry")):
            fields = json.loads(row.fields)
            fields.pop("audience", None)
            row.fields = json.dumps(fields)
            row.payload_sha256 = changes._sha(row.entity, row.record_id, row.op, fields)
            session.add(row)


async def test_F20_a_push_from_an_older_schema_is_upcast_and_applied(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_schema_one(monkeypatch)
    alice = world.laptop("alice")
    case_id = alice.create_case("C-600")
    entry = alice.add_entry(alice.create_assessment(case_id), "Drafted under the old app.")
    _written_by_the_old_app(alice)
    await alice.sync_ok()
    on_service = oracle.records(world.service)[entry]
    assert json.loads(on_service.data)["audience"] == "undecided"
    assert {r.schema_version for r in oracle.received(world.service)} == {1}
    await world.sync_all()
    oracle.check_all(world)


async def test_F20_a_push_below_the_minimum_schema_is_held_and_pull_asks_for_an_upgrade(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_schema_one(monkeypatch)
    alice = world.laptop("alice")
    mia = world.laptop("mia", "manager", manages=("team-a",))
    case_id = alice.create_case("C-700")
    entry = alice.add_entry(alice.create_assessment(case_id), "Drafted under the old app.")
    _written_by_the_old_app(alice)
    await alice.sync_ok()
    # The service is upgraded past the app while the worker is offline.
    monkeypatch.setattr(decide, "SCHEMA_MIN", 2)
    monkeypatch.setattr(sync_api, "SCHEMA_MIN", 2)
    draft = "Edited offline under the old app, after the service moved on."
    alice.edit_entry(entry, draft)
    summary = await alice.sync()
    assert summary is not None and isinstance(summary.error, UpgradeRequired)
    assert [(n.status, n.reason) for n in summary.notices] == [("held", "schema")]
    [held] = [r for r in oracle.received(world.service) if r.status == "held"]
    assert (held.reason, held.case_id, held.schema_version) == ("schema", case_id, 1)
    assert alice.row(Entry, entry).text == draft  # kept here too
    token = await alice.engine._credentials.access_token(alice.client)
    with pytest.raises(UpgradeRequired) as refused:
        await alice.client.pull(token, None, 10)
    assert refused.value.status == 426
    status, queue = await mia.get("/sync/v1/held")
    assert status == 200
    assert [(i["reason"], i["fields"]["text"]) for i in queue["items"]] == [("schema", draft)]
    oracle.check_nothing_lost(world, on_service=True)


async def test_F21_a_service_restored_from_a_backup_gets_back_every_change_acked_after_it(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    restore = world.service.backup()
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    later = alice.add_entry(ids["assessment"], "Acked after the backup.")
    await alice.sync_ok()
    await bob.sync_ok()
    oracle.check_nothing_lost(world, on_service=True)  # all there before the restore

    restore()
    assert later not in oracle.records(world.service)  # the backup's moment: it is gone
    await world.sync_all()
    alice.add_entry(ids["assessment"], "Written after the restore.")
    await world.sync_all()
    oracle.check_all(world)
    assert oracle.records(world.service)[later].rev == 1


async def test_F21_after_a_restore_lost_changes_go_again_before_new_work_whether_or_not_restarted(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    restore = world.service.backup()
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    bob_later = bob.add_entry(ids["assessment"], "Bob's, acked after the backup.")
    await alice.sync_ok()
    await bob.sync_ok()
    await alice.sync_ok()

    restore()
    alice.reopen()  # the app started again: its handshake finds the new epoch before a push
    alice_new = alice.add_entry(ids["assessment"], "Alice's, after the restore.")
    bob_new = bob.add_entry(ids["assessment"], "Bob's, after the restore.")  # bob still running
    first = await alice.sync_ok()
    assert (first.sent, first.held, first.conflicts) == (2, 0, 0)  # the lost edit, then hers
    assert oracle.records(world.service)[alice_new].rev == 1
    await bob.sync_ok()  # his new work went first, waited for the lost one, then applied
    await world.sync_all()
    await world.sync_all()
    oracle.check_all(world)
    assert not oracle.conflicts(world.service)
    for laptop in (alice, bob):
        assert {json.loads(r.result)["status"] for r in laptop.rows(Outbox)} == {"applied"}
        assert sync_local.sync_status(laptop.store).held_records == 0
        assert {bob_later, bob_new, alice_new} <= {e.id for e in laptop.rows(Entry)}
    assert alice.row(Entry, ids["e1"]).text == "Dad shouts at night, Mum says."


async def test_F21_a_conflict_lost_in_a_restore_is_met_again_and_stays_one_conflict(
    world: World,
) -> None:
    alice, bob, ids = await _pair(world)
    restore = world.service.backup()
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    bob.edit_entry(ids["e1"], "Dad shouted twice this week.")
    await alice.sync_ok()
    assert (await bob.sync_ok()).conflicts == 1
    await alice.sync_ok()

    restore()
    await world.sync_all()
    await world.sync_all()
    oracle.check_all(world)
    [conflict] = _open(world)
    texts = {json.loads(conflict.incoming_fields)["text"], json.loads(conflict.theirs)["text"]}
    assert texts == {
        "Dad shouts at night, Mum says.",
        "Dad shouted twice this week.",
    }
    for laptop in (alice, bob):
        assert [c.conflict_id for c in laptop.open_conflicts()] == [conflict.id]
