"""Text fields that refuse hidden control characters at input (SECURITY R13).

A pasted escape sequence or direction override is rejected with an inline message that says
what to do; the field keeps what the worker typed so nothing is lost.
"""

from __future__ import annotations

from textual.events import Paste
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from sofs_tui.domain.text import clean_text, forbidden_characters, validate_free_text


def refused_message(found: list[tuple[int, str]]) -> str:
    """What was left out of a paste, in words (never the text itself)."""
    names = sorted({name for _, name in found})
    count = len(found)
    what = "a hidden control character" if count == 1 else f"{count} hidden control characters"
    return (
        f"Left out {what} ({', '.join(names)}) from what you pasted; the rest was kept. "
        "Check the text reads as you expect."
    )


class FreeText(Validator):
    """Valid when the text has no control or direction-changing characters (and fits)."""

    def __init__(self, *, max_length: int | None = None, multiline: bool = False) -> None:
        super().__init__()
        self.max_length = max_length
        self.multiline = multiline

    def validate(self, value: str) -> ValidationResult:
        problem = validate_free_text(value, max_length=self.max_length, multiline=self.multiline)
        return self.success() if problem is None else self.failure(problem)


class FreeTextInput(Input):
    """A one-line Input with the FreeText validator always on, whose value is always clean.

    Textual draws an Input's value as it is, so an escape sequence in it would reach the
    terminal (SECURITY R12, R14). Whatever sets the value (construction, a stored value loaded,
    a paste, code) goes through `validate_value`, which cleans it; a paste that carried hidden
    characters is also announced with `Refused` (in words, not the text).
    """

    class Refused(Message):
        def __init__(self, field: FreeTextInput, problem: str) -> None:
            super().__init__()
            self.field = field
            self.problem = problem

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        max_length: int = 400,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self._max_length = max_length
        super().__init__(
            value=value,
            placeholder=placeholder,
            validators=[FreeText(max_length=max_length)],
            validate_on=["changed", "submitted", "blur"],
            id=id,
            classes=classes,
        )

    def validate_value(self, value: str) -> str:
        """Every value the field takes, cleaned for one line (tabs and line breaks become
        spaces); text without control or direction characters is kept as it is."""
        return clean_text(value, multiline=False)

    def problem(self) -> str | None:
        """The current validation message, or None when the text may be saved."""
        return validate_free_text(self.value, max_length=self._max_length, multiline=False)

    def _on_paste(self, event: Paste) -> None:
        found = forbidden_characters(event.text)
        if not found:
            return  # Input's own handler inserts the first line
        event.prevent_default()
        event.stop()
        lines = clean_text(event.text).split("\n")
        line = clean_text(lines[0], multiline=False) if lines else ""
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
        self.post_message(self.Refused(self, refused_message(found)))
