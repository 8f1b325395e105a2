"""Small modal questions the mapping editor asks: confirm, give a reason, pick one of a list.

Named for the mapping so they never clash with the app's shared dialogs; keyboard first
(y/n, Enter, Esc) and every piece of user text shown plain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList
from textual.widgets.option_list import Option

from sofs_tui.paths import STYLES
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.plain import PlainText

DIALOG_CSS = STYLES / "mapping_dialogs.tcss"


class MappingConfirm(ModalScreen[bool]):
    """Yes or no. `y` confirms; `n` or Esc says no (the safe answer)."""

    CSS_PATH = DIALOG_CSS
    ALLOW_SELECT = False
    HELP: ClassVar[str] = "**Confirm.** y goes ahead; n or Esc leaves things as they are."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="mapping_confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="mapping_confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", *, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.question, classes="dialog-question")
            if self.detail:
                yield PlainText(self.detail, classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content(f"{self.yes} (y)"), id="dialog-yes", compact=True)
                yield Button(Content("No (n)"), id="dialog-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#dialog-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "dialog-yes")


class MappingReason(ModalScreen[str | None]):
    """Asks for a short reason (Enter records it, Esc cancels)."""

    CSS_PATH = DIALOG_CSS
    ALLOW_SELECT = False
    HELP: ClassVar[str] = "**Give a reason.** Type it, Enter records it, Esc cancels."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="mapping_reason.cancel"),
    ]

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.question, classes="dialog-question")
            yield LineField(placeholder=self.placeholder, max_length=2000, id="dialog-reason")
            yield PlainText("Enter to record it · Esc to cancel", classes="dialog-detail")

    def on_mount(self) -> None:
        self.query_one(LineField).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(LineField.Changed)
    def _changed(self, event: LineField.Changed) -> None:
        event.stop()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one(LineField)
        if field.problem() is None and field.value.strip():
            self.dismiss(field.value.strip())


class MappingPick(ModalScreen[str | None]):
    """Pick one of a list (Enter), or Esc to cancel. Returns the chosen option's id."""

    CSS_PATH = DIALOG_CSS
    ALLOW_SELECT = False
    HELP: ClassVar[str] = "**Choose one.** Arrows to move, Enter to choose, Esc to cancel."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="mapping_pick.cancel"),
    ]

    def __init__(self, question: str, choices: Sequence[tuple[str, Content]]) -> None:
        super().__init__()
        self.question = question
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.question, classes="dialog-question")
            yield OptionList(*(Option(prompt, id=key) for key, prompt in self.choices))
            yield PlainText("Enter to choose · Esc to cancel", classes="dialog-detail")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
