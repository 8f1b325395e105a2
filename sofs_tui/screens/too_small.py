"""Shown instead of a broken layout when the terminal is smaller than the app needs.

Every screen is designed for 80×24 first. Below that, this screen says how big the window must
be and how big it is now; the app removes it as soon as the window is large enough, and the
screens underneath are untouched.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from sofs_tui.paths import STYLES

MIN_WIDTH = 80
MIN_HEIGHT = 24


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


def size_message(width: int, height: int) -> str:
    return (
        f"Make the window at least {MIN_WIDTH}×{MIN_HEIGHT} (it is {width}×{height}).\n"
        "Your work is kept as it is. ctrl+q quits."
    )


class TooSmallScreen(Screen[None]):
    """One message, centred; no case data."""

    CSS_PATH = STYLES / "too_small.tcss"
    ALLOW_SELECT = False
    HELP: ClassVar[str] = (
        f"## Window too small\n\nsofs needs a terminal of at least {MIN_WIDTH} columns and "
        f"{MIN_HEIGHT} rows. Make the window bigger (or the font smaller) and your screen "
        "comes back as it was."
    )

    _warning = ""

    def compose(self) -> ComposeResult:
        yield Static(self._message(*self.app.size), id="too-small-message", markup=False)

    def _message(self, width: int, height: int) -> str:
        message = size_message(width, height)
        return f"{message}\n\n{self._warning}" if self._warning else message

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#too-small-message", Static).update(
            self._message(event.size.width, event.size.height)
        )

    def shows_unsaved_form_warning(self) -> bool:
        return bool(self._warning)  # kept through every resize

    def warn_unsaved_form(self, message: str) -> None:
        """ctrl+q was pressed while a form underneath holds changes not yet saved."""
        self._warning = message
        self.query_one("#too-small-message", Static).update(self._message(*self.app.size))
