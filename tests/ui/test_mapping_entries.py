"""Entries in the mapping editor: reorder, delete with confirmation, who says it, agreed or
disputed, audience, and pairing from either side."""

from __future__ import annotations

from sofs_tui.domain.enums import Agreement, Audience, Section
from sofs_tui.screens.mapping_dialogs import MappingConfirm, MappingPick
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.store import mapping
from sofs_tui.store.store import Store
from sofs_tui.widgets.entry_list import EntryList
from tests.store.helpers import new_family
from tests.ui.test_mapping import (
    DANGERS,
    GOALS,
    entries,
    highlight,
    make_app,
    open_mapping,
    prompts,
    settle,
    summary,
)


async def test_reorder_moves_an_entry_up_and_down_within_its_section(store: Store) -> None:
    ids = new_family(store)
    made = [
        mapping.save_entry(store, ids["assessment"], section=Section.NEXT_STEPS, text=t)
        for t in ("a", "b", "c")
    ]
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("3")
        steps = screen.query_one("#list-needs_to_happen", EntryList)
        await highlight(pilot, steps, f"entry:{made[2].id}")
        await pilot.press("shift+up")
        await settle(app, pilot)
        await pilot.press("shift+up")
        await settle(app, pilot)
        assert [e.text for e in entries(store, ids["assessment"])] == ["c", "a", "b"]
        assert steps.highlighted_entry_id == made[2].id  # the moved entry stays highlighted
        assert [p.split("\n")[0] for p in prompts(steps) if p[0].isdigit()] == [
            "1. c",
            "2. a",
            "3. b",
        ]
        await pilot.press("shift+down")
        await settle(app, pilot)
        assert [e.text for e in entries(store, ids["assessment"])] == ["a", "c", "b"]


async def test_delete_asks_first_and_no_keeps_the_entry(store: Store) -> None:
    ids = new_family(store)
    keep = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="keep me")
    gone = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="delete me")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        worries = screen.query_one("#list-worries", EntryList)
        await highlight(pilot, worries, f"entry:{gone.id}")
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, MappingConfirm)
        await pilot.press("n")
        await settle(app, pilot)
        assert [e.text for e in entries(store, ids["assessment"])] == ["keep me", "delete me"]
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert [e.id for e in entries(store, ids["assessment"])] == [keep.id]
        assert not any("delete me" in p for p in prompts(worries))


async def test_who_says_it_and_a_dispute_are_saved_and_shown_in_words(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(
        store, ids["assessment"], section=Section.COMPLICATING_FACTORS, text="Housing is damp."
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        worries = screen.query_one("#list-worries", EntryList)
        await highlight(pilot, worries, f"entry:{entry.id}")
        await pilot.press("enter")
        editor = screen.query_one(EntryEditor)
        assert editor.disputed_field.input.disabled  # only asked for when disputed
        # Keyboard only: from the words, shift+tab goes up through audience, agreement, source
        # (the disabled disputed-by field is skipped).
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert app.focused is editor.source_field.input
        await pilot.press(*"Housing officer", "tab")  # -> Agreed? select
        await pilot.press("enter", "down", "down", "enter")  # Not asked -> Agreed -> Disputed
        await settle(app, pilot)
        assert editor.agreement is Agreement.DISPUTED
        assert not editor.disputed_field.input.disabled
        await pilot.press("tab", *"Mum", "tab")  # disputed by, then the audience select
        await pilot.press("enter", "down", "enter")  # Family
        await pilot.press("escape")
        await settle(app, pilot)
        [saved] = entries(store, ids["assessment"])
        assert (saved.source, saved.agreement, saved.disputed_by, saved.audience) == (
            "Housing officer",
            Agreement.DISPUTED,
            "Mum",
            Audience.FAMILY,
        )
        drawn = "\n".join(prompts(worries))
        assert "Who says it: Housing officer · Disputed by Mum · For the family" in drawn


async def test_a_goal_can_be_paired_from_its_side_and_unpaired(store: Store) -> None:
    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    goal = mapping.save_entry(store, ids["assessment"], section=Section.SAFETY_GOAL, text=GOALS[0])
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("3")
        needs = screen.query_one("#list-needs_to_happen", EntryList)
        await highlight(pilot, needs, f"entry:{goal.id}")
        assert any("✗ Not paired with a danger statement yet" in p for p in prompts(needs))
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, MappingPick)
        await pilot.press("enter")
        await settle(app, pilot)
        assert {e.id: e.goal_for_id for e in entries(store, ids["assessment"])}[
            goal.id
        ] == danger.id
        assert any("✓ Answers: The school is worried" in p for p in prompts(needs))
        # Unpair from the danger statement's side: the last choice is "Unpair".
        await pilot.press("1")
        worries = screen.query_one("#list-worries", EntryList)
        await highlight(pilot, worries, f"entry:{danger.id}")
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("end", "enter")
        await settle(app, pilot)
        assert all(e.goal_for_id is None for e in entries(store, ids["assessment"]))
        assert any("✗ No safety goal yet" in p for p in prompts(worries))
        assert "1 danger statement without a safety goal." in summary(screen)


async def test_pairing_without_any_goal_says_what_to_do(store: Store) -> None:
    ids = new_family(store)
    danger = mapping.save_entry(
        store, ids["assessment"], section=Section.DANGER_STATEMENT, text=DANGERS[0]
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await highlight(pilot, screen.query_one("#list-worries", EntryList), f"entry:{danger.id}")
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is screen
        assert "No unpaired safety goals yet" in summary(screen)


async def test_moving_an_entry_to_another_section_follows_it_to_its_column(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="Gran helps")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await highlight(pilot, screen.query_one("#list-worries", EntryList), f"entry:{entry.id}")
        await pilot.press("e")
        editor = screen.query_one(EntryEditor)
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
        assert app.focused is editor.query_one("#entry-section")
        # Harm -> Danger statements -> Complicating factors -> Grey areas -> Existing strengths
        await pilot.press("enter", "down", "down", "down", "down", "enter")
        await settle(app, pilot)
        assert editor.section is Section.EXISTING_STRENGTHS
        await pilot.press("escape")
        await settle(app, pilot)
        [saved] = entries(store, ids["assessment"])
        assert saved.section is Section.EXISTING_STRENGTHS
        assert screen.panel == "working_well"
        assert screen.query_one("#list-working_well", EntryList).highlighted_entry_id == entry.id
