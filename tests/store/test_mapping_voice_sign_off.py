"""The child's words belong to the case, but a signed-off mapping keeps the words it was signed
off with: later words are not shown in it, and words it holds are not changed or deleted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from sofs_tui.domain.enums import ChildVoiceTool, Section
from sofs_tui.store import mapping
from sofs_tui.store.mapping_views import mapping_view
from sofs_tui.store.store import Actor, Store
from sofs_tui.store.tables import ChildVoice
from tests.conftest import FakeClock
from tests.store.helpers import new_family

DANGER = (
    "The school is worried that when Dad drinks he shouts at Kai, and Kai could be "
    "frightened if nothing changes."
)
GOAL = "Dad will stay sober when caring for Kai, checked by Nan, for the next six months."
WORRIES = ChildVoiceTool.THREE_HOUSES


def _sign_off(store: Store, assessment_id: str) -> None:
    danger = mapping.save_entry(store, assessment_id, section=Section.DANGER_STATEMENT, text=DANGER)
    goal = mapping.save_entry(store, assessment_id, section=Section.SAFETY_GOAL, text=GOAL)
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, assessment_id, scorer_name="Mum", value=4, rationale="Better.")
    mapping.sign_off_assessment(store, assessment_id)


def _words(store: Store, ids: dict[str, str], text: str, voice_id: str | None = None) -> str:
    return mapping.record_child_voice(
        store, ids["case"], child_id=ids["child"], tool=WORRIES, part="worries", text=text,
        written_by="Kai", recorded_on=date(2026, 11, 20), consent_to_share=True,
        voice_id=voice_id,
    ).id  # fmt: skip


def _signed_off_family(store: Store, clock: FakeClock) -> tuple[dict[str, str], str]:
    """A family whose mapping was signed off holding one entry of the child's words."""
    ids = new_family(store)
    voice_id = _words(store, ids, "I am scared at night")
    clock.advance(minutes=5)
    _sign_off(store, ids["assessment"])
    clock.advance(days=1)
    return ids, voice_id


def test_words_added_after_sign_off_are_not_shown_in_the_signed_off_mapping(
    store: Store, clock: FakeClock
) -> None:
    ids, _ = _signed_off_family(store, clock)
    draft = mapping.create_assessment(store, ids["case"], title="Next")
    _words(store, ids, "I feel fine now")
    signed_off = mapping_view(store, ids["assessment"])
    assert [v.text for v in signed_off.voices] == ["I am scared at night"]
    # The new draft shows every live entry on the case.
    assert {v.text for v in mapping_view(store, draft.id).voices} == {
        "I am scared at night",
        "I feel fine now",
    }


def test_words_in_a_signed_off_mapping_cannot_be_changed_or_deleted(
    store: Store, clock: FakeClock
) -> None:
    ids, voice_id = _signed_off_family(store, clock)
    mapping.create_assessment(store, ids["case"], title="Next")
    with pytest.raises(mapping.VoiceSignedOff) as refused:
        _words(store, ids, "I feel fine now", voice_id=voice_id)
    assert refused.value.user_message == (
        "This was part of the mapping signed off on Wed 25 Nov 2026; add a new entry "
        "instead, or reopen that mapping."
    )
    with pytest.raises(mapping.VoiceSignedOff):
        mapping.delete_child_voice(store, voice_id)
    with store.read() as session:
        [row] = session.exec(select(ChildVoice)).all()
    assert (row.text, row.deleted) == ("I am scared at night", False)
    assert [v.text for v in mapping_view(store, ids["assessment"]).voices] == [
        "I am scared at night"
    ]


def test_consent_to_words_in_a_signed_off_mapping_can_still_be_withdrawn(
    store: Store, clock: FakeClock
) -> None:
    ids, voice_id = _signed_off_family(store, clock)
    mapping.record_child_voice(
        store, ids["case"], child_id=ids["child"], tool=WORRIES, part="worries",
        text="I am scared at night", written_by="Kai", recorded_on=date(2026, 11, 20),
        consent_to_share=False, consent_note="Kai asked to keep it private", voice_id=voice_id,
    )  # fmt: skip
    [voice] = mapping_view(store, ids["assessment"]).voices
    assert (voice.consent_to_share, voice.consent_note) == (False, "Kai asked to keep it private")


def test_words_added_after_sign_off_stay_editable_and_are_not_locked(
    store: Store, clock: FakeClock
) -> None:
    ids, voice_id = _signed_off_family(store, clock)
    draft = mapping.create_assessment(store, ids["case"], title="Next")
    later = _words(store, ids, "first try")
    _words(store, ids, "I feel safer now", voice_id=later)
    locked = {v.id: v.signed_off_in for v in mapping_view(store, draft.id).voices}
    assert locked[later] is None and locked[voice_id] is not None
    mapping.delete_child_voice(store, later)
    assert [v.id for v in mapping_view(store, draft.id).voices] == [voice_id]


def test_reopening_the_mapping_frees_its_words_and_sign_off_again_takes_them_in(
    store: Store, clock: FakeClock
) -> None:
    ids, voice_id = _signed_off_family(store, clock)
    store.actor = Actor("m.lead", "manager")
    mapping.reopen_assessment(store, ids["assessment"], reason="Kai said more at school")
    later = _words(store, ids, "I want to stay with Nan")
    _words(store, ids, "I am scared at night, not in the day", voice_id=voice_id)
    clock.advance(minutes=5)
    mapping.sign_off_assessment(store, ids["assessment"])
    view = mapping_view(store, ids["assessment"])
    assert {v.text for v in view.voices} == {
        "I am scared at night, not in the day",
        "I want to stay with Nan",
    }
    with pytest.raises(mapping.VoiceSignedOff):
        mapping.delete_child_voice(store, later)


def test_words_on_a_case_without_a_signed_off_mapping_are_free_to_change(
    store: Store, clock: FakeClock
) -> None:
    ids = new_family(store)
    voice_id = _words(store, ids, "first")
    _words(store, ids, "second", voice_id=voice_id)
    mapping.delete_child_voice(store, voice_id)
    assert mapping_view(store, ids["assessment"]).voices == ()


def _pulled(store: Store, ids: dict[str, str], text: str, recorded_on: date) -> str:
    """Words from another device as a pull stores them: no outbox row here, and `created_at`
    the moment they arrived (sync does not carry when they were first stored)."""
    from sofs_tui.domain.enums import SyncState

    voice = ChildVoice(
        id=f"pulled-{text[:8]}", case_id=ids["case"], child_id=ids["child"], tool=WORRIES,
        part="worries", text=text, written_by="Kai", recorded_on=recorded_on,
        consent_to_share=True, server_rev=7, sync_state=SyncState.CLEAN,
        created_at=store.now(), updated_at=store.now(),
    )  # fmt: skip
    with store.write() as session:
        session.add(voice)
    return voice.id


def test_words_from_another_device_are_dated_by_the_day_they_were_recorded(
    store: Store, clock: FakeClock
) -> None:
    """Pulled a day after the sign-off: the words recorded before it are still part of it."""
    ids, _ = _signed_off_family(store, clock)  # signed off Wed 25 Nov; now Thu 26 Nov
    before = _pulled(store, ids, "I miss my nan", date(2026, 11, 24))
    after = _pulled(store, ids, "I like my new school", date(2026, 11, 26))
    assert {v.text for v in mapping_view(store, ids["assessment"]).voices} == {
        "I am scared at night",
        "I miss my nan",
    }
    with pytest.raises(mapping.VoiceSignedOff):
        mapping.delete_child_voice(store, before)
    mapping.delete_child_voice(store, after)  # not part of the signed-off mapping
