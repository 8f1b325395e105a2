"""The scaling panel and the child's voice: scores side by side (never averaged), a validated
0–10 input, edit and delete; the child's words per part with who wrote them and consent."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from sofs_tui.domain.enums import ChildVoiceTool, Section
from sofs_tui.screens.mapping_dialogs import MappingConfirm
from sofs_tui.screens.mapping_scores import ScoreEditor
from sofs_tui.screens.mapping_voice import VoiceEditor
from sofs_tui.store import mapping
from sofs_tui.store.store import Store
from sofs_tui.store.tables import ChildVoice, Score
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.scaling_panel import ScoreList
from sofs_tui.widgets.voice_list import VoiceList
from tests.store.helpers import new_family
from tests.ui.test_mapping import (
    DANGERS,
    highlight,
    make_app,
    open_mapping,
    paste,
    prompts,
    settle,
    shown,
)


def live_scores(store: Store) -> list[Score]:
    with store.read() as session:
        return [s for s in session.exec(select(Score)).all() if not s.deleted]


async def test_scores_sit_side_by_side_with_the_wording_and_no_average(store: Store) -> None:
    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    for name, value in (("Mum", 7), ("School", 2), ("Dad", 6)):
        mapping.record_score(
            store, ids["assessment"], scorer_name=name, value=value, rationale=f"{name}'s view"
        )
    mapping.record_score(
        store,
        ids["assessment"],
        scorer_name="Kai",
        value=9,
        rationale="I feel safe",
        danger_statement_id=danger.id,
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("4")
        drawn = prompts(screen.query_one(ScoreList))
        assert drawn[0].startswith(" Overall: the whole mapping")
        assert "Side by side: Dad 6 · Mum 7 · School 2" in drawn[0]
        assert any("Side by side: Kai 9" in p for p in drawn)
        assert any(p.startswith("Mum: 7 out of 10  0 ·······●··· 10") for p in drawn)
        assert any("Why: I feel safe" in p for p in drawn)
        everything = "\n".join(drawn) + shown(screen.query_one("#scale-wording", PlainText))
        assert "5 out of 10" not in everything  # (7 + 2 + 6) / 3 appears nowhere
        assert "average" not in everything.lower().replace("never averaged", "")
        assert "0 means: Things are so bad" in everything
        assert "10 means: Everyone knows the child is safe enough" in everything


async def test_the_score_must_be_a_whole_number_from_0_to_10(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("4", "a", *"Mum", "tab", "tab", "tab", "1", "1", "tab")
        await paste(app, pilot, "Things are better")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        editor = screen.query_one(ScoreEditor)
        assert editor.status_text() == "✗ Not saved: A score is a whole number from 0 to 10."
        assert live_scores(store) == []
        assert editor.value_input.value == "11"
        await pilot.press("shift+tab", "end", "backspace", "ctrl+s")  # 11 -> 1
        await settle(app, pilot)
        assert [(s.scorer_name, s.value) for s in live_scores(store)] == [("Mum", 1)]
        # Letters cannot be typed into the number at all.
        await pilot.press("x")
        assert editor.value_input.value == "1"


async def test_editing_a_score_keeps_it_one_persons_and_delete_asks(store: Store) -> None:
    ids = new_family(store)
    score = mapping.record_score(
        store, ids["assessment"], scorer_name="Mum", value=3, rationale="Early days"
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("4")
        scores = screen.query_one(ScoreList)
        await highlight(pilot, scores, f"score:{score.id}")
        await pilot.press("enter")
        editor = screen.query_one(ScoreEditor)
        assert editor.scorer_field.value == "Mum" and editor.value_input.value == "3"
        await pilot.press("tab", "tab", "tab", "backspace", "6", "escape")
        await settle(app, pilot)
        assert [(s.id, s.value) for s in live_scores(store)] == [(score.id, 6)]
        assert scores.highlighted_score_id == score.id
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, MappingConfirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert live_scores(store) == []
        assert "Side by side: No scores yet." in prompts(scores)[0]


async def test_the_childs_words_are_kept_verbatim_with_who_wrote_them_and_consent(
    store: Store,
) -> None:
    ids = new_family(store)
    words = "I don't like it when daddy shouts 😢 — ça me fait peur"
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("5")
        assert prompts(screen.query_one(VoiceList))[0].startswith(" Kai ")
        await pilot.press("a")
        editor = screen.query_one(VoiceEditor)
        await paste(app, pilot, words)
        # Up through consent note and the consent box (tick it), the date, to who wrote it.
        await pilot.press("shift+tab", "shift+tab", "space")
        assert "Yes: consent to share is recorded" in str(editor.query_one("#voice-consent").label)
        await pilot.press("shift+tab", "shift+tab", *"Kai, with Sam (social worker)")
        await pilot.press("escape")
        await settle(app, pilot)
        with store.read() as session:
            [voice] = session.exec(select(ChildVoice)).all()
        assert (voice.child_id, voice.tool, voice.part) == (
            ids["child"],
            ChildVoiceTool.THREE_HOUSES,
            "worries",
        )
        assert voice.text == words
        assert voice.written_by == "Kai, with Sam (social worker)"
        assert voice.consent_to_share is True
        assert voice.recorded_on == date(2026, 11, 25)  # the store's clock
        drawn = "\n".join(prompts(screen.query_one(VoiceList)))
        assert "Three Houses · House of worries" in drawn
        assert f'"{words}"' in drawn
        assert "Written by Kai, with Sam (social worker) · 25 Nov 2026" in drawn
        assert "✓ Consent to share recorded" in drawn


async def test_each_tool_offers_its_own_parts(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("5", "a")
        editor = screen.query_one(VoiceEditor)
        part = editor.query_one("#voice-part")
        tool = editor.query_one("#voice-tool")
        assert [str(o[0]) for o in part._options] == [  # type: ignore[attr-defined]
            "House of worries",
            "House of good things",
            "House of dreams",
        ]
        await pilot.press(*["shift+tab"] * 6)  # from the words up to the tool
        assert app.focused is tool
        await pilot.press("enter", "down", "enter")  # Safety House
        await settle(app, pilot)
        labels = [str(o[0]) for o in part._options]  # type: ignore[attr-defined]
        assert labels[0].startswith("Inside the house") and "The safety rules" in labels
        await pilot.press("enter", "down", "enter")  # Words and Pictures
        await settle(app, pilot)
        labels = [str(o[0]) for o in part._options]  # type: ignore[attr-defined]
        assert labels == ["The story in words and pictures"]
        assert editor.snapshot()[2] == "story"


async def test_a_case_without_children_says_where_to_add_them(store: Store) -> None:
    from tests.store.helpers import new_case

    case_id = new_case(store, "C-NOKIDS")
    assessment = mapping.create_assessment(store, case_id, title="Pre-birth mapping")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, assessment.id)
        await pilot.press("5")
        assert "No children on this case yet" in shown(screen.query_one("#voice-note"))
        await pilot.press("a")
        assert screen.open_form() is None
        assert "Add them on the case screen first" in shown(screen.query_one("#mapping-summary"))
