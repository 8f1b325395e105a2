"""F1: what the current screen is for, and every key that works on it right now.

The words come from the screen's own `HELP` (markdown we wrote, never case text); the keys come
from the bindings active when F1 was pressed, so a remapped key shows as remapped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from sofs_tui.paths import STYLES
from sofs_tui.widgets.keys_footer import KeysFooter

NO_HELP = "## {name}\n\nNo help has been written for this screen yet. The keys are below."
APP_HELP = (
    "Everywhere: **F1** help, **ctrl+p** every action by name, **ctrl+l** lock now, "
    "**ctrl+q** quit."
)


def keys_for(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(key, what it does) for every binding with a description active on `screen`: the
    screen's and the app's first, then those of the focused widget (cursor keys and the like).
    Copying is left out where the screen allows no selection (case screens, R15)."""
    own: list[tuple[str, str]] = []
    widgets: list[tuple[str, str]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action in seen:
            continue
        if binding.action.endswith("copy_text") and not screen.ALLOW_SELECT:
            continue
        seen.add(binding.action)
        # The full name where the footer shows a short one (see `app._screen_commands`).
        row = (screen.app.get_key_display(binding), binding.tooltip or binding.description)
        (own if active.node in (screen, screen.app) else widgets).append(row)
    return own + widgets


class HelpScreen(ModalScreen[None]):
    """Help for the screen underneath; escape or F1 closes it."""

    CSS_PATH = STYLES / "help.tcss"
    ALLOW_SELECT = False
    AUTO_FOCUS = "#help-box"
    HELP: ClassVar[str] = "## Help\n\nPress **escape** or **F1** to close this help."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close help", id="help.close"),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        name = type(screen).__name__.removesuffix("Screen") or "This screen"
        text = getattr(screen, "HELP", "") or NO_HELP.format(name=name)
        self.help_text = f"{text}\n\n{APP_HELP}"
        self.keys = keys_for(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            # Only when asked: Markdown brings markdown-it and pygments, and DataTable is not
            # needed for the first screen (guard.py imports this module at start).
            from textual.widgets import DataTable, Markdown

            yield Markdown(self.help_text, id="help-text")
            yield Static("Keys on this screen", id="help-keys-heading", markup=False)
            yield DataTable(id="help-keys", cursor_type="row", show_header=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        from textual.widgets import DataTable

        table = self.query_one("#help-keys", DataTable)
        table.can_focus = False  # the box scrolls; the table is only read
        table.add_columns("Key", "Action")
        table.add_rows([(Text(key), Text(action)) for key, action in self.keys])

    def action_close(self) -> None:
        self.dismiss()
