"""Text fields that refuse hidden control characters at input (SECURITY R13).

A pasted escape sequence or direction override is rejected with an inline message that says
what to do; the field keeps what the worker typed so nothing is lost.
"""

from __future__ import annotations

from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from sofs_tui.domain.text import validate_free_text


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
    """A one-line Input with the FreeText validator always on."""

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        max_length: int = 400,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            value=value,
            placeholder=placeholder,
            validators=[FreeText(max_length=max_length)],
            validate_on=["changed", "submitted", "blur"],
            id=id,
            classes=classes,
        )

    def problem(self) -> str | None:
        """The current validation message, or None when the text may be saved."""
        return validate_free_text(self.value, max_length=400, multiline=False)
