"""A multi-line free-text field (TextArea) that refuses hidden control characters at input.

Verbatim words in any language go in; escape sequences and direction overrides do not (SECURITY
R13). A paste that carries them is inserted without them and the field says what was left out,
so the worker keeps everything else they pasted and typed.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Paste
from textual.message import Message
from textual.widgets import TextArea

from sofs_tui.domain.text import clean_text, forbidden_characters, validate_free_text
from sofs_tui.widgets.fields import refused_message
from sofs_tui.widgets.plain import PlainText


class FreeTextArea(TextArea):
    """A TextArea whose loaded text and pastes never bring control or direction characters in.

    Textual draws a TextArea's text as it is, so an escape sequence in it would reach the
    terminal (SECURITY R12, R14). Text given at construction or loaded (`load_text`,
    `.text = …`) is cleaned; tabs and line breaks are kept. Typed keys cannot insert such
    characters (TextArea only inserts printable ones); a paste is cleaned before it is inserted
    and `Refused` says what was left out. An insert made by code is not cleaned but validated:
    the field's message says what is wrong and the form does not save it.
    """

    class Refused(Message):
        def __init__(self, area: FreeTextArea, problem: str) -> None:
            super().__init__()
            self.area = area
            self.problem = problem

    def __init__(self, text: str = "", **options: Any) -> None:
        super().__init__(clean_text(text), **options)

    def load_text(self, text: str) -> None:
        """Replace the text (a stored value, or `.text = …`) with `text` cleaned."""
        super().load_text(clean_text(text))

    async def _on_paste(self, event: Paste) -> None:
        if self.read_only:
            return
        found = forbidden_characters(event.text)
        if not found:
            return  # TextArea's own handler inserts it
        event.prevent_default()
        kept = clean_text(event.text)
        if kept:
            result = self.replace(kept, *self.selection)
            self.move_cursor(result.end_location)
        self.post_message(self.Refused(self, refused_message(found)))


class TextAreaField(Vertical):
    """A FreeTextArea with its inline message underneath (shown only when there is one)."""

    DEFAULT_CSS = """
    TextAreaField {
        height: auto;
        & > FreeTextArea { height: 6; }
        & > .field-problem { display: none; height: auto; color: $text-error; }
        &.-problem > .field-problem { display: block; }
    }
    """

    class Changed(Message):
        """The text changed (by the worker, or by a paste)."""

        def __init__(self, field: TextAreaField, text: str) -> None:
            super().__init__()
            self.field = field
            self.text = text

        @property
        def control(self) -> TextAreaField:
            return self.field

    def __init__(
        self,
        text: str = "",
        *,
        max_length: int | None = None,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._initial = text
        self.max_length = max_length
        self._placeholder = placeholder
        self._refused = ""

    def compose(self) -> ComposeResult:
        yield FreeTextArea(
            self._initial,
            soft_wrap=True,
            tab_behavior="focus",
            compact=True,
            placeholder=self._placeholder,
        )
        yield PlainText("", classes="field-problem")

    @property
    def area(self) -> FreeTextArea:
        return self.query_one(FreeTextArea)

    @property
    def text(self) -> str:
        return self.area.text

    def load(self, text: str) -> None:
        """Show `text` (a stored value) with the cursor at its end, and no message."""
        self._refused = ""
        self.area.load_text(text)
        self.area.move_cursor(self.area.document.end)
        self._show_problem()

    def problem(self) -> str | None:
        """Why the text may not be saved as it is, or None."""
        return validate_free_text(self.text, max_length=self.max_length)

    def set_read_only(self, read_only: bool) -> None:
        self.area.read_only = read_only

    def focus(self, scroll_visible: bool = True) -> TextAreaField:
        self.area.focus(scroll_visible)
        return self

    def _show_problem(self) -> None:
        message = self.problem() or self._refused
        self.query_one(".field-problem", PlainText).show(message)
        self.set_class(bool(message), "-problem")

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._refused = ""
        self._show_problem()
        self.post_message(self.Changed(self, self.text))

    @on(FreeTextArea.Refused)
    def _paste_refused(self, event: FreeTextArea.Refused) -> None:
        event.stop()
        self._refused = event.problem
        self._show_problem()
