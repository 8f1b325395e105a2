"""The mapping editor: a worker's whole flow, keyboard only, at 80×24 and wide.

Helpers here are shared by the other tests/ui/test_mapping_*.py files.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from textual import events
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import OptionList, Select

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.enums import AssessmentStatus, Section
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.screens.mapping_dialogs import MappingConfirm, MappingPick
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.screens.mapping_scores import ScoreEditor
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Entry, Score
from sofs_tui.widgets.entry_list import EntryList
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.scaling_panel import ScoreList
from tests.store.helpers import new_family

DANGERS = [
    "The school is worried that when Dad drinks he shouts at Kai, and Kai could be "
    "frightened and hurt if nothing changes.",
    "The health visitor is worried that Mum leaves Kai alone at night, and Kai could be "
    "hurt if nothing changes.",
    "Gran is worried that Kai misses school when Mum stays in bed, and Kai might fall "
    "behind if nothing changes.",
]
GOALS = [
    "Dad will stay sober when caring for Kai, checked by Gran, for the next six months.",
    "Mum will make sure an adult is always at home with Kai at night for six months.",
    "Mum will take Kai to school every day for a whole school term.",
]


# --- helpers shared with the other mapping tests ------------------------------------------------


def make_app(store: Store) -> SofsApp:
    return SofsApp(lambda: store, Settings())


async def settle(app: SofsApp, pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def open_mapping(app: SofsApp, pilot: Pilot[Any], assessment_id: str) -> MappingScreen:
    await settle(app, pilot)  # the app shows the caseload first
    screen = MappingScreen(assessment_id)
    app.push_screen(screen)
    await settle(app, pilot)
    assert app.screen is screen
    return screen


def shown(widget: Widget) -> str:
    """What a Static/PlainText shows, as plain text."""
    return str(widget.render())


def prompts(options: OptionList) -> list[str]:
    """Every option's text as it is drawn (plain: markup would have been eaten)."""
    return [str(getattr(o.prompt, "plain", o.prompt)) for o in options.options]


def summary(screen: MappingScreen) -> str:
    return shown(screen.query_one("#mapping-summary", PlainText))


async def paste(app: SofsApp, pilot: Pilot[Any], text: str) -> None:
    """Paste into the focused field, as a terminal's bracketed paste delivers it (the driver
    posts it to the app, which forwards it to the focused widget)."""
    assert app.focused is not None
    app.post_message(events.Paste(text))
    await pilot.pause()


async def highlight(pilot: Pilot[Any], options: OptionList, option_id: str) -> None:
    """Move the highlight with the arrow keys until `option_id` is highlighted."""
    target = options.get_option_index(option_id)
    for _ in range(options.option_count + 1):
        current = options.highlighted or 0
        if current == target:
            return
        await pilot.press("down" if current < target else "up")
    raise AssertionError(f"could not reach {option_id}")


def entries(store: Store, assessment_id: str) -> list[Entry]:
    with store.read() as session:
        rows = session.exec(
            select(Entry).where(Entry.assessment_id == assessment_id, Entry.deleted == False)  # noqa: E712
        ).all()
    return sorted(rows, key=lambda e: (e.position, e.id))


async def add_entry(
    app: SofsApp, pilot: Pilot[Any], screen: MappingScreen, section: Section, text: str
) -> None:
    """From the list: highlight the section's heading, add, paste the words, go back."""
    options = screen.query_one(f"#list-{section.column.value}", EntryList)
    await highlight(pilot, options, f"section:{section.value}")
    await pilot.press("a")
    editor = screen.query_one(EntryEditor)
    assert screen.open_form() is editor and editor.section is section
    await paste(app, pilot, text)
    await pilot.press("escape")  # leaving saves first
    await settle(app, pilot)
    assert screen.open_form() is None


# --- the worker's flow ---------------------------------------------------------------------------


async def test_worker_maps_three_dangers_with_goals_scores_and_signs_off(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        assert not screen.has_class("-wide")
        assert "There are no danger statements yet." in summary(screen)

        for text in DANGERS:
            await add_entry(app, pilot, screen, Section.DANGER_STATEMENT, text)
        await pilot.press("3")  # one column at a time: the strip says which
        assert "▶3 Needs to happen" in shown(screen.query_one("#mapping-tabs"))
        assert screen.query_one("#column-needs_to_happen").display
        assert not screen.query_one("#column-worries").display
        for text in GOALS:
            await add_entry(app, pilot, screen, Section.SAFETY_GOAL, text)
        assert "3 danger statements without a safety goal." in summary(screen)

        # Pair each danger statement with its goal from a pick list of unpaired goals.
        await pilot.press("1")
        worries = screen.query_one("#list-worries", EntryList)
        dangers = [
            e for e in entries(store, ids["assessment"]) if e.section is Section.DANGER_STATEMENT
        ]
        assert [d.text for d in dangers] == DANGERS
        for danger in dangers:
            await highlight(pilot, worries, f"entry:{danger.id}")
            await pilot.press("p")
            await pilot.pause()
            assert isinstance(app.screen, MappingPick)
            await pilot.press("enter")  # the first unpaired goal is the matching one
            await settle(app, pilot)
        goals = {e.goal_for_id: e.text for e in entries(store, ids["assessment"]) if e.goal_for_id}
        assert [goals[d.id] for d in dangers] == GOALS
        assert all(
            "✓ Safety goal:" in p for p in prompts(worries) if p.startswith(("1.", "2.", "3."))
        )
        assert "without a safety goal" not in summary(screen)
        assert "3 danger statements without a score." in summary(screen)

        # Two people score: Mum overall, the school for the first danger statement.
        await pilot.press("4")
        scores = screen.query_one(ScoreList)
        await highlight(pilot, scores, "group:overall")
        await pilot.press("a")
        assert isinstance(screen.open_form(), ScoreEditor)
        await pilot.press(*"Mum", "tab", *"mother", "tab", "tab", "4", "tab")
        await paste(app, pilot, "Dad has been sober at weekends but it is new.")
        await pilot.press("escape")
        await settle(app, pilot)
        await highlight(pilot, scores, f"group:{dangers[0].id}")
        await pilot.press("a")
        editor = screen.query_one(ScoreEditor)
        assert editor.target == dangers[0].id  # the group it was added from
        await pilot.press(*"School", "tab", "tab", "tab", "3", "tab")
        await paste(app, pilot, "Kai still talks about shouting at home.")
        await pilot.press("escape")
        await settle(app, pilot)
        with store.read() as session:
            saved = {s.scorer_name: s for s in session.exec(select(Score)).all()}
        assert (saved["Mum"].value, saved["Mum"].danger_statement_id) == (4, None)
        assert (saved["School"].value, saved["School"].danger_statement_id) == (3, dangers[0].id)
        drawn = "\n".join(prompts(scores))
        assert "Side by side: Mum 4" in drawn and "Side by side: School 3" in drawn
        assert "average" not in drawn.lower() and "mean" not in drawn.lower()
        assert summary(screen).startswith("✓ Complete")

        # Sign off: confirm, then everything is read-only and says why.
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, MappingConfirm)
        await pilot.press("y")
        await settle(app, pilot)
        with store.read() as session:
            assessment = session.get(Assessment, ids["assessment"])
        assert assessment is not None and assessment.status is AssessmentStatus.FINAL
        assert "Signed off" in shown(screen.query_one("#mapping-title"))
        assert "🔒 Read-only" in summary(screen) and "A manager can reopen it" in summary(screen)

        before = len(entries(store, ids["assessment"]))
        await pilot.press("1", "a")
        assert screen.open_form() is None and "Not changed" in summary(screen)
        await highlight(pilot, worries, f"entry:{dangers[0].id}")
        await pilot.press("e")  # opening still shows the whole entry, read-only
        entry_editor = screen.query_one(EntryEditor)
        assert screen.open_form() is entry_editor
        assert entry_editor.text_field.area.read_only
        assert all(s.disabled for s in entry_editor.query(Select))
        assert entry_editor.source_field.input.disabled
        assert "Read-only: this mapping was signed off by t.worker" in entry_editor.status_text()
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(entries(store, ids["assessment"])) == before


async def test_reopen_is_for_managers_and_says_so(store: Store) -> None:
    ids = new_family(store)
    from sofs_tui.store import mapping

    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOALS[0])
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, ids["assessment"], scorer_name="Mum", value=5, rationale="ok")
    mapping.sign_off_assessment(store, ids["assessment"])
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("r")
        assert "Only a manager can reopen" in summary(screen)
        with store.read() as session:
            assessment = session.get(Assessment, ids["assessment"])
        assert assessment is not None and assessment.status is AssessmentStatus.FINAL


async def test_a_manager_reopens_with_a_recorded_reason(store: Store) -> None:
    from dataclasses import replace

    from sofs_tui.store import mapping

    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOALS[0])
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, ids["assessment"], scorer_name="Mum", value=5, rationale="ok")
    mapping.sign_off_assessment(store, ids["assessment"])
    store.actor = replace(store.actor, role="manager")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"New police information", "enter")
        await settle(app, pilot)
        with store.read() as session:
            assessment = session.get(Assessment, ids["assessment"])
        assert assessment is not None and assessment.status is AssessmentStatus.DRAFT
        assert assessment.reopen_reason == "New police information"
        assert "Draft (reopened)" in shown(screen.query_one("#mapping-title"))
        assert "Read-only" not in summary(screen)
        # Who reopened it, when and why stay on screen.
        assert (
            "↺ Reopened by t.worker on Wed 25 Nov 09:30. Reason: New police information"
            in summary(screen)
        )
        # Signed off again: the reopening before it is still said.
        store.actor = replace(store.actor, role="worker")
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, MappingConfirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert "Signed off" in shown(screen.query_one("#mapping-title"))
        assert "🔒 Read-only" in summary(screen)
        assert "↺ Earlier reopened by t.worker" in summary(screen)


async def test_sign_off_refusal_is_shown_in_words(store: Store) -> None:
    from sofs_tui.store import mapping

    ids = new_family(store)
    mapping.save_entry(store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0])
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("f")
        await settle(app, pilot)
        assert (
            "Not signed off: Not ready to sign off: 1 danger statement without a safety goal."
            in summary(screen)
        )
        with store.read() as session:
            assessment = session.get(Assessment, ids["assessment"])
        assert assessment is not None and assessment.status is AssessmentStatus.DRAFT


async def test_wide_terminal_shows_the_three_columns_side_by_side(store: Store) -> None:
    from sofs_tui.store import mapping

    ids = new_family(store)
    mapping.save_entry(
        store, ids["assessment"], section=Section.EXISTING_STRENGTHS, text="Gran visits daily."
    )
    app = make_app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        assert screen.has_class("-wide")
        columns = [
            screen.query_one(f"#column-{c}") for c in ("worries", "working_well", "needs_to_happen")
        ]
        assert all(c.display for c in columns)
        assert len({c.region.x for c in columns}) == 3  # side by side, not stacked
        assert len({c.region.y for c in columns}) == 1
        await pilot.press("2")
        assert app.focused is screen.query_one("#list-working_well")
        assert "▶2 Working well" in shown(screen.query_one("#mapping-tabs"))
        assert any(
            "Gran visits daily." in p
            for p in prompts(screen.query_one("#list-working_well", EntryList))
        )
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert not screen.has_class("-wide")
        assert [c.display for c in columns] == [False, True, False]


async def test_wording_guidance_is_a_gentle_warning_that_never_blocks(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await add_entry(app, pilot, screen, Section.DANGER_STATEMENT, "DV")
        drawn = "\n".join(prompts(screen.query_one("#list-worries", EntryList)))
        assert "⚠ Suggestion: Say who is worried" in drawn
        assert 'rather than using the label "DV"' in drawn
        assert "✗ No safety goal yet" in drawn
        assert [e.text for e in entries(store, ids["assessment"])] == ["DV"]  # saved anyway


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_panel_opens_and_the_palette_lists_mapping_actions(
    store: Store, size: tuple[int, int]
) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        for key, widget_id in (("4", "#scaling"), ("5", "#voice"), ("1", "#columns")):
            await pilot.press(key)
            await settle(app, pilot)
            assert screen.query_one(widget_id).display
        titles = [c.title for c in app.get_system_commands(screen)]
        for name in ("add", "delete", "pair goal", "sign off", "reopen", "move up", "save now"):
            assert f"mapping: {name}" in titles
        assert "Screenshot" not in titles
        assert "**a** add" in MappingScreen.HELP and "**f** sign off" in MappingScreen.HELP


async def test_section_labels_come_from_the_councils_settings(store: Store) -> None:
    from sofs_tui.config import CouncilRules

    ids = new_family(store)
    council = CouncilRules(section_labels={Section.GREY_AREAS: "Things we are not sure about"})
    app = SofsApp(lambda: store, Settings(council=council))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        drawn = prompts(screen.query_one("#list-worries", EntryList))
        assert any(p.startswith(" Things we are not sure about ") for p in drawn)
        assert not any(p.startswith(" Grey areas ") for p in drawn)
        worries = screen.query_one("#list-worries", EntryList)
        await highlight(pilot, worries, "section:grey_areas")
        await pilot.press("a")
        heading = shown(screen.query_one("#entry-heading"))
        assert heading.startswith("New entry in Things we are not sure about")
