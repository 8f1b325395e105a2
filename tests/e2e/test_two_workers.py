"""Issue 4's "Done when", as a test: two workers on two laptops, a manager and the service edit
one case offline (different entries and the same entry), sync, see exactly one conflict,
resolve it, and end with identical records on both laptops and the service. Runs on SQLite
and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import pytest

from sofs_tui.store.tables import Entry
from tests.e2e import oracle
from tests.e2e.harness import Laptop, World


async def _team_with_a_case(world: World) -> tuple[Laptop, Laptop, Laptop, dict[str, str]]:
    """Alice creates a case offline with a mapping of two entries; everyone syncs."""
    alice = world.laptop("alice")
    bob = world.laptop("bob")
    mia = world.laptop("mia", "manager", manages=("team-a",))
    case_id = alice.create_case("C-200", "Testfamily")
    assessment_id = alice.create_assessment(case_id)
    ids = {
        "case": case_id,
        "assessment": assessment_id,
        "e1": alice.add_entry(assessment_id, "Dad shouts at night."),
        "e2": alice.add_entry(assessment_id, "Kai is scared of the dog."),
    }
    await world.sync_all(rounds=1)
    assert bob.row(Entry, ids["e1"]).text == "Dad shouts at night."
    return alice, bob, mia, ids


@pytest.mark.parametrize("how", ["keep_theirs", "keep_mine", "keep_both", "edit_merged"])
async def test_two_workers_editing_one_case_offline_end_with_identical_records(
    world: World, how: str
) -> None:
    alice, bob, mia, ids = await _team_with_a_case(world)
    assessment = ids["assessment"]

    # Offline, both of them: different entries, and the same entry.
    alice.edit_entry(ids["e1"], "Dad shouts at night, Mum says.")
    a3 = alice.add_entry(assessment, "Grandma visits on Sundays.")
    bob.edit_entry(ids["e1"], "Dad shouted twice this week.")
    bob.edit_entry(ids["e2"], "Kai is scared of the neighbour's dog.")
    b3 = bob.add_entry(assessment, "School reports Kai is tired.")

    assert (await alice.sync_ok()).conflicts == 0
    assert (await bob.sync_ok()).conflicts == 1
    await alice.sync_ok()

    # Exactly one conflict, the same one everywhere, with both texts.
    open_on_service = [c for c in oracle.conflicts(world.service) if c.status == "open"]
    assert len(open_on_service) == 1
    conflict_id = open_on_service[0].id
    for laptop in (alice, bob):
        [view] = laptop.open_conflicts()
        assert view.conflict_id == conflict_id and view.record_id == ids["e1"]
        assert view.theirs["text"] == "Dad shouts at night, Mum says."
        assert view.mine["text"] == "Dad shouted twice this week."
    assert bob.open_conflicts()[0].mine_is_local and not alice.open_conflicts()[0].mine_is_local
    status, queue = await mia.get("/sync/v1/conflicts")
    assert status == 200 and [i["conflict_id"] for i in queue["items"]] == [conflict_id]
    assert queue["items"][0]["incoming"]["text"] == "Dad shouted twice this week."
    oracle.check_nothing_lost(world)

    # Bob resolves it on his laptop.
    merged = "Dad shouts at night (Mum); twice this week (Bob's visit)."
    result = bob.resolve(conflict_id, how, merged if how == "edit_merged" else None)
    await world.sync_all(rounds=2)

    expected_e1 = {
        "keep_theirs": "Dad shouts at night, Mum says.",
        "keep_mine": "Dad shouted twice this week.",
        "keep_both": "Dad shouts at night, Mum says.",
        "edit_merged": merged,
    }[how]
    live_texts = {
        "e1": expected_e1,
        "e2": "Kai is scared of the neighbour's dog.",
        "a3": "Grandma visits on Sundays.",
        "b3": "School reports Kai is tired.",
    }
    entry_ids = {"e1": ids["e1"], "e2": ids["e2"], "a3": a3, "b3": b3}
    if how == "keep_both":
        entry_ids["copy"] = result
        live_texts["copy"] = "Dad shouted twice this week."
    service_records = oracle.records(world.service, {ids["case"]})
    for key, entry_id in entry_ids.items():
        assert service_records[entry_id].rev >= 1
        for laptop in (alice, bob, mia):
            assert laptop.row(Entry, entry_id).text == live_texts[key], (laptop.name, key)
    assert not [c for c in oracle.conflicts(world.service) if c.status == "open"]
    status, queue = await mia.get("/sync/v1/conflicts")
    assert (status, queue["items"]) == (200, [])

    # Identical records on both laptops and the service; nothing lost, nothing doubled.
    on_service = oracle.case_record_set(world.service, ids["case"])
    for laptop in (alice, bob, mia):
        assert oracle.local_record_set(laptop, {r[1] for r in on_service}) == on_service
    oracle.check_all(world)


async def test_a_case_reassigned_while_both_worked_offline_reaches_the_new_managers_queue(
    world: World,
) -> None:
    alice, bob, mia, ids = await _team_with_a_case(world)
    carol = world.laptop("carol", team="team-b")
    mo = world.laptop("mo", "manager", team="team-b", manages=("team-b",))
    await carol.sync_ok()

    alice.edit_entry(ids["e1"], "Alice's note, written on the train.")
    bob.add_entry(ids["assessment"], "Bob's note, written at the school.")
    world.service.reassign(ids["case"], team="team-b", lead="carol")

    for laptop in (alice, bob):
        summary = await laptop.sync_ok()
        assert (summary.rejected, summary.sent) == (1, 1)
    status, queue = await mo.get("/sync/v1/held")
    assert status == 200
    assert sorted((i["author"], i["reason"], i["fields"]["text"]) for i in queue["items"]) == [
        ("alice", "out_of_scope", "Alice's note, written on the train."),
        ("bob", "out_of_scope", "Bob's note, written at the school."),
    ]
    status, old_queue = await mia.get("/sync/v1/held")
    assert (status, old_queue["items"]) == (200, [])  # no longer her team's case

    await world.sync_all(rounds=2)
    for laptop in (alice, bob, mia):  # the case left their scope: nothing of it stays
        assert not [r for r in oracle.synced_rows(laptop) if r.id in ids.values()]
    assert carol.row(Entry, ids["e1"]).text == "Dad shouts at night."
    oracle.check_all(world)
