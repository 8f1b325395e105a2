"""The field widgets clean whatever text they are given, not only what is pasted (SECURITY R12,
R14): a value at construction, a stored value loaded, `.value`/`.text` set by code. Textual
draws an Input's value and a TextArea's text as they are, so an escape sequence left in a field
would reach the terminal. Ordinary text (any script, brackets, ZWJ, tabs and line breaks in a
TextArea) is kept exactly.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widget import Widget

from sofs_tui.widgets.fields import FreeTextInput
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.text_area_field import FreeTextArea, TextAreaField

# OSC 52, OSC 0, CSI, a C1 CSI, a right-to-left override, and markup that would click.
HOSTILE = (
    "Mum\x1b]52;c;SGVsbG8=\x1b\\ says\x1b]0;PWNED\x07 \x1b[2Jhi\x9b31m "
    "\u202eok [@click=app.quit]X[/]"
)
HOSTILE_LINE = "Mum]52;c;SGVsbG8=\\ says]0;PWNED [2Jhi31m ok [@click=app.quit]X[/]"
HOSTILE_AREA = "first\x1b[2J line\n\tsecond\x9b line\u202e\r\nthird"
CLEAN_AREA = "first[2J line\n\tsecond line\nthird"
FORBIDDEN = ("\x1b", "\x9b", "\u202e", "\x07")
#: Ordinary words that cleaning must leave alone.
ORDINARY = "Zoë Nowak-Łukasz [TODO] 👩‍👧 سارا «ok»"
ORDINARY_AREA = "Line one [b]\n\tindented: Zoë 👩‍👧\n\nلا بأس"


class Fields(App[None]):
    """Every field widget, built with a hostile value."""

    def compose(self) -> ComposeResult:
        yield FreeTextInput(HOSTILE, id="input")
        yield LineField(HOSTILE, id="line")
        yield FreeTextArea(HOSTILE_AREA, id="area")
        yield TextAreaField(HOSTILE_AREA, id="area-field")


def drawn(app: App[None]) -> str:
    return "".join(
        segment.text for strip in app.screen._compositor.render_strips() for segment in strip
    )


async def test_fields_built_with_hostile_text_hold_and_draw_it_cleaned() -> None:
    app = Fields()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.query_one("#input", FreeTextInput).value == HOSTILE_LINE
        assert app.query_one("#line", LineField).value == HOSTILE_LINE
        assert app.query_one("#area", FreeTextArea).text == CLEAN_AREA
        assert app.query_one("#area-field", TextAreaField).text == CLEAN_AREA
        on_screen = drawn(app)
        assert "Mum]52;c;SGVsbG8=" in on_screen  # the fields are drawn, without the controls
        assert [c for c in FORBIDDEN if c in on_screen] == []


async def test_fields_loaded_or_set_by_code_with_hostile_text_hold_it_cleaned() -> None:
    app = Fields()
    async with app.run_test(size=(120, 30)) as pilot:
        field = app.query_one("#input", FreeTextInput)
        field.value = "x"
        field.value = HOSTILE
        assert field.value == HOSTILE_LINE
        field.cursor_position = len(field.value)
        field.insert_text_at_cursor("\x1b[31m!")  # as code (or the app's clipboard) would
        assert field.value == HOSTILE_LINE + "[31m!"

        line = app.query_one("#line", LineField)
        line.load("")
        line.load(HOSTILE)
        assert line.value == HOSTILE_LINE
        assert line.input.cursor_position == len(HOSTILE_LINE)  # at the end of what is shown

        area = app.query_one("#area", FreeTextArea)
        area.load_text(HOSTILE_AREA)
        assert area.text == CLEAN_AREA
        area.text = "\x1b]0;x\x07" + HOSTILE_AREA
        assert area.text == "]0;x" + CLEAN_AREA

        area_field = app.query_one("#area-field", TextAreaField)
        area_field.load(HOSTILE_AREA)
        assert area_field.text == CLEAN_AREA
        await pilot.pause()
        assert [c for c in FORBIDDEN if c in drawn(app)] == []


async def test_cleaning_keeps_ordinary_text_exactly() -> None:
    app = Fields()
    async with app.run_test(size=(120, 30)) as pilot:
        line = app.query_one("#line", LineField)
        line.load(ORDINARY)
        app.query_one("#input", FreeTextInput).value = ORDINARY
        area_field = app.query_one("#area-field", TextAreaField)
        area_field.load(ORDINARY_AREA)
        app.query_one("#area", FreeTextArea).text = ORDINARY_AREA
        await pilot.pause()
        fields: list[tuple[Widget, str]] = [
            (app.query_one("#input", FreeTextInput), ORDINARY),
            (line, ORDINARY),
            (app.query_one("#area", FreeTextArea), ORDINARY_AREA),
            (area_field, ORDINARY_AREA),
        ]
        for widget, expected in fields:
            if isinstance(widget, FreeTextArea | TextAreaField):
                held = widget.text
            else:
                assert isinstance(widget, FreeTextInput | LineField)
                held = widget.value
            assert held == expected, type(widget).__name__
        # Nothing was found wrong with it either.
        assert line.problem() is None and area_field.problem() is None


async def test_a_single_line_field_takes_a_stored_line_break_as_a_space() -> None:
    """Input draws one line: a tab or line break stored by mistake is shown as a space."""
    app = Fields()
    async with app.run_test(size=(120, 30)):
        line = app.query_one("#line", LineField)
        line.load("Mum\tand\r\nDad")
        assert line.value == "Mum and Dad"


async def test_names_offered_as_completions_are_drawn_cleaned() -> None:
    app = Fields()
    async with app.run_test(size=(120, 30)) as pilot:
        line = app.query_one("#line", LineField)
        line.load("")
        line.suggest(["Mum\x1b]0;PWNED\x07 Nowak\u202e"])
        line.focus()
        await pilot.press("M", "u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert line.input._suggestion == "Mum]0;PWNED Nowak"
        assert [c for c in FORBIDDEN if c in drawn(app)] == []
        assert "Mum]0;PWNED Nowak" in drawn(app)
