"""The mapping's units of work keep the practice rules: pairing, scores, sign-off."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from sofs_tui.domain.enums import AssessmentStatus, ChildVoiceTool, Section, SyncState
from sofs_tui.domain.mapping import ordered
from sofs_tui.store import mapping
from sofs_tui.store.store import Actor, Store
from sofs_tui.store.tables import Assessment, Entry
from tests.store.helpers import fields_of, new_family, outbox

DANGER = (
    "The school is worried that when Dad drinks he shouts at Kai, and Kai could be "
    "frightened if nothing changes."
)
GOAL = "Dad will stay sober when caring for Kai, checked by Nan, for the next six months."


def _entries(store: Store, assessment_id: str) -> list[Entry]:
    with store.read() as session:
        return list(session.exec(select(Entry).where(Entry.assessment_id == assessment_id)).all())


def _texts(store: Store, assessment_id: str) -> list[str]:
    """Entry texts in display order."""
    return [e.text for e in ordered(_entries(store, assessment_id))]  # type: ignore[attr-defined]


def _complete_mapping(store: Store, assessment_id: str) -> tuple[str, str]:
    danger = mapping.save_entry(store, assessment_id, section=Section.DANGER_STATEMENT, text=DANGER)
    goal = mapping.save_entry(store, assessment_id, section=Section.SAFETY_GOAL, text=GOAL)
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(
        store, assessment_id, scorer_name="Mum", value=4, rationale="Better but new.",
        danger_statement_id=danger.id,
    )  # fmt: skip
    return danger.id, goal.id


def test_new_entries_go_to_the_end_of_their_section(store: Store) -> None:
    ids = new_family(store)
    for text in ("first", "second", "third"):
        mapping.save_entry(store, ids["assessment"], section=Section.EXISTING_STRENGTHS, text=text)
    assert _texts(store, ids["assessment"]) == ["first", "second", "third"]


def test_move_entry_reorders_without_touching_neighbours(store: Store) -> None:
    ids = new_family(store)
    made = [
        mapping.save_entry(store, ids["assessment"], section=Section.NEXT_STEPS, text=t)
        for t in ("a", "b", "c")
    ]
    count = len(outbox(store))
    mapping.move_entry(store, made[2].id, offset=-2)
    assert _texts(store, ids["assessment"]) == ["c", "a", "b"]
    # Only the moved entry changed (the new change folds into its pending create).
    assert len(outbox(store)) == count
    mapping.move_entry(store, made[2].id, offset=-5)  # past the top: stays first
    assert _texts(store, ids["assessment"])[0] == "c"


def test_pairing_is_one_to_one(store: Store) -> None:
    ids = new_family(store)
    danger, goal = _complete_mapping(store, ids["assessment"])
    other_goal = mapping.save_entry(
        store, ids["assessment"], section=Section.SAFETY_GOAL, text="g2"
    )
    with pytest.raises(mapping.MappingRuleError, match="already has a safety goal"):
        mapping.pair_safety_goal(store, danger, other_goal.id)
    with pytest.raises(mapping.MappingRuleError, match="safety goal"):
        mapping.pair_safety_goal(store, goal, danger)
    second = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGER + " Again."
    )
    with pytest.raises(mapping.MappingRuleError, match="already answers another"):
        mapping.pair_safety_goal(store, second.id, goal)  # never moves a goal silently
    mapping.pair_safety_goal(store, danger, None)
    mapping.pair_safety_goal(store, danger, other_goal.id)
    paired = {e.id: e.goal_for_id for e in _entries(store, ids["assessment"])}
    assert paired[goal] is None and paired[other_goal.id] == danger


def test_moving_a_danger_statement_out_of_its_section_unpairs_its_goal(store: Store) -> None:
    ids = new_family(store)
    danger, goal = _complete_mapping(store, ids["assessment"])
    mapping.save_entry(
        store, ids["assessment"], entry_id=danger, text=DANGER, section=Section.GREY_AREAS
    )
    paired = {e.id: e.goal_for_id for e in _entries(store, ids["assessment"])}
    assert paired[goal] is None


def test_scores_record_the_scale_wording_in_force(store: Store) -> None:
    ids = new_family(store)
    score = mapping.record_score(
        store, ids["assessment"], scorer_name="Kai", value=7, rationale="I feel safer."
    )
    assert score.zero_wording and score.ten_wording
    assert fields_of(outbox(store)[-1])["value"] == 7


@pytest.mark.parametrize("value", [-1, 11])
def test_a_score_off_the_scale_is_refused(store: Store, value: int) -> None:
    ids = new_family(store)
    with pytest.raises(mapping.MappingRuleError, match="0 to 10"):
        mapping.record_score(
            store, ids["assessment"], scorer_name="Mum", value=value, rationale="why"
        )


def test_sign_off_needs_a_complete_mapping(store: Store) -> None:
    ids = new_family(store)
    mapping.save_entry(store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGER)
    with pytest.raises(mapping.MappingRuleError, match="without a safety goal"):
        mapping.sign_off_assessment(store, ids["assessment"])


def test_sign_off_makes_the_assessment_read_only(store: Store) -> None:
    ids = new_family(store)
    danger, _goal = _complete_mapping(store, ids["assessment"])
    signed = mapping.sign_off_assessment(store, ids["assessment"])
    assert signed.status is AssessmentStatus.FINAL and signed.signed_off_by == "t.worker"
    with pytest.raises(mapping.AssessmentSignedOff):
        mapping.save_entry(store, ids["assessment"], entry_id=danger, text="changed")
    with pytest.raises(mapping.AssessmentSignedOff):
        mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="new")
    with pytest.raises(mapping.AssessmentSignedOff):
        mapping.record_score(store, ids["assessment"], scorer_name="X", value=1, rationale="r")


def test_sign_off_is_refused_while_a_conflict_is_open(store: Store) -> None:
    ids = new_family(store)
    danger, _goal = _complete_mapping(store, ids["assessment"])
    with store.write() as session:
        row = session.get(Entry, danger)
        assert row is not None
        row.sync_state = SyncState.CONFLICT
        session.add(row)
    with pytest.raises(mapping.MappingRuleError, match="conflicts"):
        mapping.sign_off_assessment(store, ids["assessment"])


def test_only_a_manager_reopens_and_the_reason_is_recorded(store: Store) -> None:
    ids = new_family(store)
    _complete_mapping(store, ids["assessment"])
    mapping.sign_off_assessment(store, ids["assessment"])
    with pytest.raises(mapping.MappingRuleError, match="Only a manager"):
        mapping.reopen_assessment(store, ids["assessment"], reason="typo")
    store.actor = Actor("m.lead", "manager")
    with pytest.raises(mapping.MappingRuleError, match="why"):
        mapping.reopen_assessment(store, ids["assessment"], reason=" ")
    mapping.reopen_assessment(store, ids["assessment"], reason="New information from school")
    with store.read() as session:
        row = session.get(Assessment, ids["assessment"])
    assert row is not None and row.status is AssessmentStatus.DRAFT
    assert (row.reopened_by, row.reopen_reason) == ("m.lead", "New information from school")
    # Never sent, so sign-off and reopen folded into the assessment's pending create.
    (change,) = [c for c in outbox(store) if c.record_id == ids["assessment"]]
    assert fields_of(change)["status"] == "draft" and fields_of(change)["reopened_by"] == "m.lead"


def test_child_voice_keeps_words_and_consent(store: Store) -> None:
    ids = new_family(store)
    voice = mapping.record_child_voice(
        store, ids["case"], child_id=ids["child"], tool=ChildVoiceTool.THREE_HOUSES,
        part="dreams", text="A dog called Biscuit.", written_by="Kai",
        recorded_on=date(2026, 11, 20), consent_to_share=True,
    )  # fmt: skip
    assert voice.text == "A dog called Biscuit." and voice.consent_to_share
    with pytest.raises(mapping.MappingRuleError, match="no part"):
        mapping.record_child_voice(
            store, ids["case"], child_id=ids["child"], tool=ChildVoiceTool.SAFETY_HOUSE,
            part="dreams", text="x", written_by="Kai",
        )  # fmt: skip


def test_a_save_over_text_changed_elsewhere_keeps_both_versions(store: Store) -> None:
    """A sync replaced the text while the editor held the old one: nothing is written over."""
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="original")
    after = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="next one")
    with store.write() as session:  # what a pull does to a clean row
        row = session.get(Entry, entry.id)
        assert row is not None
        row.text, row.sync_state = "the other worker's words", SyncState.CLEAN
        session.add(row)
    saved = mapping.save_entry(
        store, ids["assessment"], entry_id=entry.id, text="my words", expected_text="original"
    )
    assert saved.id != entry.id
    assert _texts(store, ids["assessment"]) == ["the other worker's words", "my words", "next one"]
    assert after.id in {e.id for e in _entries(store, ids["assessment"])}
    # Saving again from the new entry is an ordinary edit of it.
    again = mapping.save_entry(
        store, ids["assessment"], entry_id=saved.id, text="my words, more", expected_text="my words"
    )
    assert again.id == saved.id
    # Without a change elsewhere, expected_text changes nothing.
    same = mapping.save_entry(
        store, ids["assessment"], entry_id=after.id, text="next one!", expected_text="next one"
    )
    assert same.id == after.id
