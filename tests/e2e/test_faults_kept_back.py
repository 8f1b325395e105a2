"""Changes a laptop keeps back and never sends (F22), through the real engine and the real app,
on SQLite and PostgreSQL: one too large for the service (a 413 for that change alone), and one
the engine cannot express (a local fault, `invalid_local_change`). The kept-back change stays
on the laptop, flagged, with its text; the changes after it must not wait for it on the
service: each push declares the kept-back device_seqs (`skipped_seqs`), so the service applies
the later changes in order instead of holding them as a gap for ever."""

from __future__ import annotations

from sqlmodel import select

from sofs_tui.server.settings import ServerSettings
from sofs_tui.store.tables import Entry, Outbox
from tests.e2e import oracle
from tests.e2e.harness import Laptop, World

#: A pasted paragraph bigger than the service takes in one request body (its default limit).
TOO_LARGE = "Pasted from a report. " * (ServerSettings.max_body_bytes // 20)


async def _pair(world: World) -> tuple[Laptop, Laptop, str, str]:
    """Alice and Bob of one team, both holding a synced case, assessment and entry."""
    alice, bob = world.laptop("alice"), world.laptop("bob")
    case_id = alice.create_case("C-220", "Testfamily")
    assessment_id = alice.create_assessment(case_id)
    entry_id = alice.add_entry(assessment_id, "Dad shouts at night.")
    await alice.sync_ok()
    await bob.sync_ok()
    return alice, bob, assessment_id, entry_id


def _texts(laptop: Laptop) -> set[str]:
    return {row.text for row in laptop.rows(Entry)}


def _flagged(laptop: Laptop) -> list[tuple[str, str]]:
    return [(r.record_id, r.last_error) for r in oracle.outbox(laptop) if r.state == "flagged"]


async def test_F22_a_change_too_large_for_the_service_is_kept_and_the_next_changes_still_apply(
    world: World,
) -> None:
    alice, bob, assessment_id, entry_id = await _pair(world)
    before = alice.add_entry(assessment_id, "Saved before the big one.")
    big = alice.add_entry(assessment_id, TOO_LARGE)
    after = alice.add_entry(assessment_id, "Saved after the big one.")
    alice.edit_entry(entry_id, "Dad shouts at night, Mum says.")
    assert len(TOO_LARGE.encode()) > ServerSettings.max_body_bytes

    summary = await alice.sync_ok()
    assert summary.flagged == 1
    assert _flagged(alice) == [(big, "too_large")]
    assert alice.row(Entry, big).text == TOO_LARGE  # kept, word for word
    on_service = oracle.records(world.service)
    assert big not in on_service
    assert {before, after} <= on_service.keys()
    assert not [c for c in oracle.received(world.service) if c.status != "applied"]
    big_seq = next(r.device_seq for r in oracle.outbox(alice) if r.record_id == big)
    last_seq = max(r.device_seq for r in oracle.outbox(alice))
    assert big_seq < last_seq == oracle.last_device_seq(world.service, alice.device_id)

    await world.sync_all()
    assert _texts(bob) == {
        "Dad shouts at night, Mum says.",
        "Saved before the big one.",
        "Saved after the big one.",
    }
    assert _flagged(alice) == [(big, "too_large")]  # still kept back, never sent
    alice.add_entry(assessment_id, "Written the next day.")
    await world.sync_all()
    assert "Written the next day." in _texts(bob)
    assert alice.row(Entry, big).text == TOO_LARGE
    oracle.check_no_duplicates(world.service)
    oracle.check_nothing_lost(world)  # the big text is on Alice's laptop


async def test_F22_a_change_the_engine_cannot_send_is_kept_and_the_next_changes_still_apply(
    world: World,
) -> None:
    alice, bob, assessment_id, _ = await _pair(world)
    broken = alice.add_entry(assessment_id, "Its outbox row is damaged by a local bug.")
    with alice.store.write() as session:  # a row the protocol cannot express
        row = session.exec(select(Outbox).where(Outbox.record_id == broken)).one()
        row.resolves = '["not-a-conflict-id"]'
        session.add(row)
    after = alice.add_entry(assessment_id, "Saved after the damaged one.")

    summary = await alice.sync_ok()
    assert summary.flagged == 1
    assert _flagged(alice) == [(broken, "invalid_local_change")]
    assert after in oracle.records(world.service)
    await world.sync_all()
    assert _texts(bob) == {"Dad shouts at night.", "Saved after the damaged one."}
    assert alice.row(Entry, broken).text == "Its outbox row is damaged by a local bug."
    oracle.check_nothing_lost(world)
