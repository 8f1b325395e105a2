"""The mapping editor's read model: one read gives the assessment, its entries in order, pairing,
scores, the case's children and their words, and whether the worker may reopen it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from sofs_tui.domain.enums import (
    AssessmentStatus,
    ChildVoiceTool,
    PersonKind,
    Section,
    SyncState,
)
from sofs_tui.store import cases, mapping
from sofs_tui.store.changes import RecordNotFound
from sofs_tui.store.mapping_views import mapping_view
from sofs_tui.store.store import Store
from sofs_tui.store.tables import ChildVoice, Entry
from tests.store.helpers import fields_of, new_family, outbox

DANGER = (
    "The school is worried that when Dad drinks he shouts at Kai, and Kai could be "
    "frightened if nothing changes."
)
GOAL = "Dad will stay sober when caring for Kai, checked by Nan, for the next six months."


def test_entries_come_in_display_order_without_deleted_ones(store: Store) -> None:
    ids = new_family(store)
    made = [
        mapping.save_entry(store, ids["assessment"], section=Section.NEXT_STEPS, text=t)
        for t in ("a", "b", "c")
    ]
    mapping.move_entry(store, made[2].id, offset=-2)
    mapping.delete_entry(store, made[1].id)
    view = mapping_view(store, ids["assessment"])
    assert [e.text for e in view.in_section(Section.NEXT_STEPS)] == ["c", "a"]
    assert view.entry(made[1].id) is None


def test_pairing_helpers_follow_the_stored_pairs(store: Store) -> None:
    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGER
    )
    other = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text="second"
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOAL)
    spare = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text="x")
    mapping.pair_safety_goal(store, danger.id, goal.id)
    view = mapping_view(store, ids["assessment"])
    paired = view.goal_of(danger.id)
    assert paired is not None and paired.id == goal.id
    assert view.goal_of(other.id) is None
    assert [g.id for g in view.unpaired_goals()] == [spare.id]
    assert [d.id for d in view.unpaired_dangers()] == [other.id]
    status = view.completeness()
    assert status.without_goal == (other.id,)
    assert set(status.without_score) == {danger.id, other.id}


def test_scores_are_kept_per_person_and_read_only_follows_sign_off(store: Store) -> None:
    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGER
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOAL)
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, ids["assessment"], scorer_name="Mum", value=4, rationale="new")
    gone = mapping.record_score(
        store, ids["assessment"], scorer_name="Dad", value=8, rationale="fine"
    )
    mapping.delete_score(store, gone.id)
    view = mapping_view(store, ids["assessment"])
    assert [(s.scorer_name, s.value) for s in view.scores] == [("Mum", 4)]
    assert view.completeness().complete and not view.read_only
    mapping.sign_off_assessment(store, ids["assessment"])
    signed = mapping_view(store, ids["assessment"])
    assert signed.read_only and signed.status is AssessmentStatus.FINAL
    assert signed.signed_off_by == "t.worker" and signed.signed_off_at == store.now()


def test_children_people_and_the_childs_words_come_with_the_mapping(store: Store) -> None:
    ids = new_family(store)
    cases.add_person(
        store, ids["case"], kind=PersonKind.PROFESSIONAL, name="Ms Okafor", role="Teacher"
    )
    sister = cases.add_person(store, ids["case"], kind=PersonKind.CHILD, name="Ava")
    for tool, part in (
        (ChildVoiceTool.SAFETY_HOUSE, "roof"),
        (ChildVoiceTool.THREE_HOUSES, "dreams"),
        (ChildVoiceTool.THREE_HOUSES, "worries"),
    ):
        mapping.record_child_voice(
            store, ids["case"], child_id=ids["child"], tool=tool, part=part, text=part,
            written_by="Kai",
        )  # fmt: skip
    view = mapping_view(store, ids["assessment"])
    assert [c.name for c in view.children] == ["Ava", "Kai"]
    assert view.child_name(sister.id) == "Ava"
    assert [(v.tool, v.part) for v in view.voices] == [
        (ChildVoiceTool.THREE_HOUSES, "worries"),
        (ChildVoiceTool.THREE_HOUSES, "dreams"),
        (ChildVoiceTool.SAFETY_HOUSE, "roof"),
    ]
    assert {"Mum", "Dad", "Kai", "Ms Okafor", "Teacher"} <= set(view.people)
    assert len(view.people) == len(set(view.people))
    assert view.case_reference == "C-001" and view.family_name == "Testfamily"


def test_only_a_manager_may_reopen(store: Store) -> None:
    ids = new_family(store)
    assert mapping_view(store, ids["assessment"]).can_reopen is False
    store.actor = replace(store.actor, role="manager")
    assert mapping_view(store, ids["assessment"]).can_reopen is True


def test_open_conflicts_are_counted(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="x")
    assert mapping_view(store, ids["assessment"]).open_conflicts == 0
    with store.write() as session:
        row = session.get(Entry, entry.id)
        assert row is not None
        row.sync_state = SyncState.CONFLICT
        session.add(row)
    assert mapping_view(store, ids["assessment"]).open_conflicts == 1


def test_a_missing_assessment_says_so_in_words(store: Store) -> None:
    new_family(store)
    with pytest.raises(RecordNotFound) as missing:
        mapping_view(store, "no-such-assessment")
    assert "assessment is no longer in this store" in missing.value.user_message


def test_deleting_the_childs_words_leaves_a_tombstone_that_sync_carries(store: Store) -> None:
    ids = new_family(store)
    voice = mapping.record_child_voice(
        store, ids["case"], child_id=ids["child"], tool=ChildVoiceTool.THREE_HOUSES,
        part="worries", text="I get scared", written_by="Kai",
    )  # fmt: skip
    mapping.delete_child_voice(store, voice.id)
    with store.read() as session:
        [row] = session.exec(select(ChildVoice)).all()
    assert row.deleted and row.text == "I get scared"  # never removed, only marked
    change = outbox(store)[-1]
    assert (change.entity, change.record_id, change.op) == ("child_voice", voice.id, "delete")
    assert fields_of(change) == {"deleted": True}
    assert mapping_view(store, ids["assessment"]).voices == ()
    with pytest.raises(RecordNotFound):
        mapping.delete_child_voice(store, voice.id)
