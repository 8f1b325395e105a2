"""A yes/no question before something that cannot simply be undone (removing a person…)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button

from sofs_tui.paths import STYLES
from sofs_tui.widgets.plain import PlainText


class ConfirmScreen(ModalScreen[bool]):
    """Asks `question` (plain text, may hold names from the case); True means go ahead.

    Focus starts on the safe answer, so an absent-minded Enter changes nothing.
    """

    CSS_PATH = STYLES / "confirm.tcss"
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    HELP: ClassVar[str] = (
        "**Confirm.** Press y to go ahead, n or Escape to leave things as they are."
    )

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self._question = question
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield PlainText(self._question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                # Content: the labels are plain text, never markup.
                yes, no = Content(f"{self._yes} (y)"), Content(f"{self._no} (n)")
                yield Button(yes, id="confirm-yes", variant="error", compact=True)
                yield Button(no, id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#confirm-yes")
    def _yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no_pressed(self) -> None:
        self.dismiss(False)
