"""The child's words a signed-off mapping holds: shown as signed off, not changed or deleted
from a later draft (only their consent may still change), at 80×24."""

from __future__ import annotations

from datetime import date

from sqlmodel import select
from textual.widgets import Checkbox

from sofs_tui.domain.enums import ChildVoiceTool, Section
from sofs_tui.screens.mapping_dialogs import MappingConfirm
from sofs_tui.screens.mapping_voice import VoiceEditor
from sofs_tui.store import mapping
from sofs_tui.store.store import Store
from sofs_tui.store.tables import ChildVoice
from sofs_tui.widgets.voice_list import VOICE_PREFIX, VoiceList
from tests.conftest import FakeClock
from tests.store.helpers import new_family
from tests.ui.test_mapping import (
    DANGERS,
    GOALS,
    highlight,
    make_app,
    open_mapping,
    prompts,
    settle,
    shown,
    summary,
)

KEPT = (
    "This was part of the mapping signed off on Wed 25 Nov 2026; add a new entry instead, "
    "or reopen that mapping."
)


def _voice(store: Store, ids: dict[str, str], text: str) -> str:
    return mapping.record_child_voice(
        store, ids["case"], child_id=ids["child"], tool=ChildVoiceTool.THREE_HOUSES,
        part="worries", text=text, written_by="Kai", recorded_on=date(2026, 11, 20),
        consent_to_share=True,
    ).id  # fmt: skip


def _signed_off_then_draft(store: Store, clock: FakeClock) -> tuple[dict[str, str], str, str]:
    """A mapping signed off with Kai's words, then a day later a new draft on the case."""
    ids = new_family(store)
    voice_id = _voice(store, ids, "I am scared at night")
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOALS[0])
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, ids["assessment"], scorer_name="Mum", value=5, rationale="ok")
    mapping.sign_off_assessment(store, ids["assessment"])
    clock.advance(days=1)
    draft = mapping.create_assessment(store, ids["case"], title="Review mapping")
    return ids, voice_id, draft.id


def _row(store: Store, voice_id: str) -> ChildVoice:
    with store.read() as session:
        row = session.exec(select(ChildVoice).where(ChildVoice.id == voice_id)).one()
    return row


async def test_deleting_words_a_signed_off_mapping_holds_is_refused_in_words(
    store: Store, clock: FakeClock
) -> None:
    _, voice_id, draft_id = _signed_off_then_draft(store, clock)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, draft_id)
        await pilot.press("5")
        await highlight(pilot, screen.query_one(VoiceList), VOICE_PREFIX + voice_id)
        await pilot.press("delete")
        await settle(app, pilot)
        assert not isinstance(app.screen, MappingConfirm)
        assert f"Not deleted. {KEPT}" in summary(screen)
        assert _row(store, voice_id).deleted is False


async def test_words_a_signed_off_mapping_holds_open_locked_but_consent_can_change(
    store: Store, clock: FakeClock
) -> None:
    _, voice_id, draft_id = _signed_off_then_draft(store, clock)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, draft_id)
        await pilot.press("5")
        await highlight(pilot, screen.query_one(VoiceList), VOICE_PREFIX + voice_id)
        await pilot.press("enter")
        editor = screen.query_one(VoiceEditor)
        assert screen.open_form() is editor
        assert KEPT in editor.status_text()
        assert editor.text_field.area.read_only
        assert editor.query_one("#voice-written-by").query_one("Input").disabled
        await pilot.press(*"changed ")  # the words do not take it
        assert editor.text_field.text == "I am scared at night"
        # Consent stays open: withdrawing it is saved.
        await pilot.press("shift+tab", "shift+tab")
        assert isinstance(app.focused, Checkbox)
        await pilot.press("space", "ctrl+s")
        await settle(app, pilot)
        row = _row(store, voice_id)
        assert (row.text, row.consent_to_share) == ("I am scared at night", False)
        assert "Saved" in editor.status_text()


async def test_new_words_can_still_be_added_and_edited_from_the_draft(
    store: Store, clock: FakeClock
) -> None:
    ids, _, draft_id = _signed_off_then_draft(store, clock)
    later = _voice(store, ids, "I like my new school")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, draft_id)
        await pilot.press("5")
        await highlight(pilot, screen.query_one(VoiceList), VOICE_PREFIX + later)
        await pilot.press("enter")
        editor = screen.query_one(VoiceEditor)
        assert "🔒" not in editor.status_text()
        await pilot.press("end", *" a lot", "ctrl+s")
        await settle(app, pilot)
        assert _row(store, later).text == "I like my new school a lot"


async def test_the_signed_off_mapping_shows_only_the_words_it_was_signed_off_with(
    store: Store, clock: FakeClock
) -> None:
    ids, _, _ = _signed_off_then_draft(store, clock)
    _voice(store, ids, "I like my new school")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("5")
        drawn = "\n".join(prompts(screen.query_one(VoiceList)))
        assert "I am scared at night" in drawn
        assert "I like my new school" not in drawn
        assert "(1 recorded)" in drawn
        assert "Signed off" in shown(screen.query_one("#mapping-title"))
