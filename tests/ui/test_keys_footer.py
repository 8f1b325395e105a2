"""The footer keeps its keys while what it shows stays the same, and shows every change.

Textual's Footer rebuilds all its keys on every focus move; `KeysFooter` only when a shown key,
its display, its enabled state or its tooltip changes (sofs_tui/widgets/keys_footer.py).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from sofs_tui.widgets.keys_footer import KeysFooter


class NoteField(Input):
    """A field with a key of its own in the footer while it has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f5", "note", "Add note")]

    def action_note(self) -> None:
        self.value = "noted"


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f6", "archive", "Archive", id="demo.archive")]
    archive_allowed = True

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")
        yield NoteField(id="note")
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "archive" and not self.archive_allowed:
            return None  # shown, dimmed
        return True

    def action_archive(self) -> None:
        pass


def shown(app: App[None]) -> dict[str, FooterKey]:
    return {key.description: key for key in app.screen.query(FooterKey)}


async def test_moving_between_fields_that_add_no_key_keeps_the_same_keys() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = list(app.screen.query(FooterKey))
        assert "Archive" in shown(app)
        await pilot.press("tab")  # first -> second: neither has a key of its own
        await pilot.pause()
        assert app.focused is app.query_one("#second")
        assert list(app.screen.query(FooterKey)) == before


async def test_a_field_with_its_own_key_shows_it_while_it_has_the_focus() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Add note" not in shown(app)
        app.query_one("#note").focus()
        await pilot.pause()
        assert shown(app)["Add note"].key == "f5"
        app.query_one("#first").focus()
        await pilot.pause()
        assert "Add note" not in shown(app)


async def test_a_key_that_stops_being_allowed_is_shown_dimmed_and_comes_back() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not shown(app)["Archive"].has_class("-disabled")
        app.archive_allowed = False
        app.refresh_bindings()
        await pilot.pause()
        assert shown(app)["Archive"].has_class("-disabled")
        app.archive_allowed = True
        app.refresh_bindings()
        await pilot.pause()
        assert not shown(app)["Archive"].has_class("-disabled")


async def test_a_key_given_another_key_in_the_keymap_shows_the_new_key() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert shown(app)["Archive"].key == "f6"
        app.update_keymap({"demo.archive": "f7"})
        await pilot.pause()
        assert shown(app)["Archive"].key == "f7"


async def test_the_keys_are_in_the_first_frame_not_added_after_it() -> None:
    """Textual's Footer composes empty and fills itself once the screen's bindings have
    settled, a frame later; the first frame of every screen already shows its keys."""
    app = FooterApp()
    async with app.run_test(size=(80, 24)):
        assert "Archive" in shown(app)  # no pause: as the app is first ready
