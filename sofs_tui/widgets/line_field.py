"""A one-line free-text field with its inline message: control characters refused at input.

Builds on `FreeTextInput` (the validator) and adds what a form needs: a paste is cleaned before it
is inserted (so an escape sequence never sits in the field, where Textual would write it to the
terminal), and the message sits under the field in words.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input

from sofs_tui.domain.text import clean_text, validate_free_text
from sofs_tui.widgets.fields import FreeTextInput
from sofs_tui.widgets.plain import PlainText

#: The one-line field every form uses (the paste cleaning now lives in FreeTextInput).
GuardedInput = FreeTextInput


def _suggester(names: list[str]) -> SuggestFromList:
    """Names offered as completions, cleaned: the rest of a name is drawn after the cursor."""
    return SuggestFromList([clean_text(n, multiline=False) for n in names], case_sensitive=False)


class LineField(Vertical):
    """A labelled one-line field's input and its message (shown only when there is one)."""

    DEFAULT_CSS = """
    LineField {
        height: auto;
        & > .field-problem { display: none; height: auto; color: $text-error; }
        &.-problem > .field-problem { display: block; }
    }
    """

    class Changed(Message):
        def __init__(self, field: LineField, value: str) -> None:
            super().__init__()
            self.field = field
            self.value = value

        @property
        def control(self) -> LineField:
            return self.field

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        max_length: int = 200,
        suggestions: list[str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._initial = value
        self._placeholder = placeholder
        self.max_length = max_length
        self._suggestions = suggestions or []
        self._refused = ""

    def compose(self) -> ComposeResult:
        field = GuardedInput(
            self._initial, placeholder=self._placeholder, max_length=self.max_length
        )
        field.compact = True
        field.suggester = _suggester(self._suggestions)
        yield field
        yield PlainText("", classes="field-problem")

    @property
    def input(self) -> GuardedInput:
        return self.query_one(GuardedInput)

    @property
    def value(self) -> str:
        return self.input.value

    def load(self, value: str) -> None:
        self._refused = ""
        self.input.value = value  # cleaned by the input
        self.input.cursor_position = len(self.input.value)
        self._show_problem()

    def suggest(self, names: list[str]) -> None:
        """Names offered as the worker types (people and roles on the case)."""
        self.input.suggester = _suggester(names)

    def problem(self) -> str | None:
        return validate_free_text(self.value, max_length=self.max_length, multiline=False)

    def focus(self, scroll_visible: bool = True) -> LineField:
        self.input.focus(scroll_visible)
        return self

    def _show_problem(self) -> None:
        message = self.problem() or self._refused
        self.query_one(".field-problem", PlainText).show(message)
        self.set_class(bool(message), "-problem")

    @on(Input.Changed)
    def _value_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refused = ""
        self._show_problem()
        self.post_message(self.Changed(self, self.value))

    @on(GuardedInput.Refused)
    def _paste_refused(self, event: GuardedInput.Refused) -> None:
        event.stop()
        self._refused = event.problem
        self._show_problem()
