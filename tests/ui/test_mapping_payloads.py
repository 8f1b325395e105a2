"""Hostile text through every text field of the mapping editor (SECURITY R12–R14).

Markup is stored and shown literally; escape sequences and direction overrides are refused at
input with an inline message (the rest of the paste is kept) and never stored or drawn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlmodel import select
from textual.pilot import Pilot

from sofs_tui.app import SofsApp
from sofs_tui.domain.text import clean_text
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.screens.mapping_autosave import AutosaveForm
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.store.store import Store
from sofs_tui.store.tables import ChildVoice, Entry, Score
from sofs_tui.widgets.entry_list import EntryList
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.scaling_panel import ScoreList
from sofs_tui.widgets.text_area_field import TextAreaField
from sofs_tui.widgets.voice_list import VoiceList
from tests.store.helpers import new_family
from tests.ui.test_mapping import (
    make_app,
    open_mapping,
    paste,
    prompts,
    settle,
)

MARKUP = ["[@click=app.quit]quit?[/]", "[/b] closing tag", "[TODO] keep the brackets"]
CONTROL = [
    "AAA\x1b]52;c;SGVsbG8=\x07BBB",  # OSC 52: write the clipboard
    "AAA\x1b]0;pwned-title\x07BBB",  # OSC 0: retitle the window
    "AAA\x1b[31mBBB\x1b[2J",  # CSI: colour, clear the screen
    "AAA\u202eBBB",  # right-to-left override
]
PAYLOADS = MARKUP + CONTROL

Fill = Callable[[SofsApp, Pilot[Any], tuple[str, str, str]], Awaitable[None]]


async def _problem_shown(app: SofsApp) -> str:
    """The inline message of the field holding the focus."""
    focused = app.focused
    assert focused is not None
    field = focused.parent
    assert isinstance(field, LineField | TextAreaField)
    return str(field.query_one(".field-problem").render())


async def _pasted(app: SofsApp, pilot: Pilot[Any], payload: str) -> None:
    """Paste the payload; a refused character is named inline, the rest is kept."""
    await paste(app, pilot, payload)
    message = await _problem_shown(app)
    if payload in CONTROL:
        assert message.startswith("Left out ") and "the rest was kept" in message
    else:
        assert message == ""


# --- each editor, three payloads at a time (one per text field) -----------------------------------


async def fill_entry(app: SofsApp, pilot: Pilot[Any], payloads: tuple[str, str, str]) -> None:
    """Words, then disputed by (after choosing Disputed), then who says it."""
    text, source, disputed_by = payloads
    await pilot.press("1", "a")
    await _pasted(app, pilot, text)
    await pilot.press("shift+tab", "shift+tab")  # audience, then agreement
    await pilot.press("enter", "down", "down", "enter", "tab")  # Disputed; disputed by
    await settle(app, pilot)
    await _pasted(app, pilot, disputed_by)
    await pilot.press("shift+tab", "shift+tab")  # agreement, then who says it
    await _pasted(app, pilot, source)


async def fill_score(app: SofsApp, pilot: Pilot[Any], payloads: tuple[str, str, str]) -> None:
    """Scorer name, role, a number, and the rationale."""
    name, role, rationale = payloads
    await pilot.press("4", "home", "a")
    await _pasted(app, pilot, name)
    await pilot.press("tab")
    await _pasted(app, pilot, role)
    await pilot.press("tab", "tab", "5", "tab")
    await _pasted(app, pilot, rationale)


async def fill_voice(app: SofsApp, pilot: Pilot[Any], payloads: tuple[str, str, str]) -> None:
    """The child's words, the consent note, then who wrote it."""
    words, writer, note = payloads
    await pilot.press("5", "a")
    await _pasted(app, pilot, words)
    await pilot.press("shift+tab")
    await _pasted(app, pilot, note)
    await pilot.press("shift+tab", "shift+tab", "shift+tab")
    await _pasted(app, pilot, writer)


def _stored(store: Store, table: type[Any], column: str) -> list[str]:
    with store.read() as session:
        return [getattr(row, column) for row in session.exec(select(table)).all()]


EDITORS: list[tuple[str, Fill, type[Any], tuple[str, str, str], str]] = [
    ("entry", fill_entry, Entry, ("text", "source", "disputed_by"), "#list-worries"),
    ("score", fill_score, Score, ("scorer_name", "scorer_role", "rationale"), "#score-list"),
    (
        "child's voice",
        fill_voice,
        ChildVoice,
        ("text", "written_by", "consent_note"),
        "#voice-list",
    ),
]


@pytest.mark.parametrize(
    ("fill", "table", "columns", "list_id"),
    [pytest.param(f, t, c, lst, id=name) for name, f, t, c, lst in EDITORS],
)
async def test_payloads_are_stored_and_shown_literally_and_controls_never_get_in(
    store: Store, fill: Fill, table: type[Any], columns: tuple[str, str, str], list_id: str
) -> None:
    ids = new_family(store)
    app = make_app(store)
    count = len(PAYLOADS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        # Record i puts payload i, i+1 and i+2 in the three fields: every field sees every one.
        for i in range(count):
            payloads = (PAYLOADS[i], PAYLOADS[(i + 1) % count], PAYLOADS[(i + 2) % count])
            await fill(app, pilot, payloads)
            await pilot.press("escape")  # leaving saves first
            await settle(app, pilot)
            assert screen.open_form() is None, f"not saved: {payloads!r}"
        assert app.is_running and app.screen is screen
        expected = sorted(clean_text(p, multiline=False) for p in PAYLOADS)
        drawn = "\n".join(prompts(screen.query_one(list_id, EntryList | ScoreList | VoiceList)))
        for column in columns:
            stored = _stored(store, table, column)
            assert sorted(stored) == expected, column
            assert not any(c in "".join(stored) for c in "\x1b\x07\u202e")
            assert all(p in stored for p in MARKUP)  # markup untouched
        for text in expected:
            assert text in drawn, f"not shown literally: {text!r}"
        picture = app.export_screenshot()
        assert "\x1b" not in picture and "\u202e" not in picture and "&#27;" not in picture


async def test_a_control_character_that_slips_past_the_paste_is_refused_and_kept(
    store: Store,
) -> None:
    """Text put in by other means (not a paste) is validated: inline message, not saved."""
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"Mum said ")
        editor = screen.query_one(EntryEditor)
        editor.text_field.area.insert("\x1b[31mred")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        problem = str(editor.text_field.query_one(".field-problem").render())
        assert "hidden control character (escape (ESC)) at position 10" in problem
        assert editor.status_text().startswith("✗ Not saved: This text contains")
        assert editor.text_field.text == "Mum said \x1b[31mred"  # kept for the worker to fix
        assert _stored(store, Entry, "text") == []


async def test_typed_markup_is_stored_literally_and_the_app_keeps_running(store: Store) -> None:
    ids = new_family(store)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a", *"[/b] [@click=app.quit]x[/] [TODO]", "escape")
        await settle(app, pilot)
        assert _stored(store, Entry, "text") == ["[/b] [@click=app.quit]x[/] [TODO]"]
        drawn = prompts(screen.query_one("#list-worries", EntryList))
        assert any("[/b] [@click=app.quit]x[/] [TODO]" in p for p in drawn)
        assert app.is_running and isinstance(app.screen, MappingScreen)
        assert not any(isinstance(f, AutosaveForm) and f.dirty for f in screen.query(AutosaveForm))
