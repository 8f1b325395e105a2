"""User text on screen: always plain, always cleaned. The only way case text reaches a widget.

Textual renders `str` as markup by default (`[@click=app.quit]` runs an action, `[/b]` crashes)
and writes escape sequences straight to the terminal, so every piece of user- or server-supplied
text goes through `clean_text` and into a `Text`/`Content` here, never an f-string.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from sofs_tui.domain.text import clean_text


def safe_text(value: object, *, multiline: bool = False, style: str = "") -> Text:
    """A Rich `Text` for tables and trees: cleaned, never parsed as markup."""
    return Text(clean_text("" if value is None else str(value), multiline=multiline), style=style)


def safe_content(value: object, *, multiline: bool = True) -> Content:
    """A Textual `Content` for Static/Label: cleaned, never parsed as markup."""
    return Content(clean_text("" if value is None else str(value), multiline=multiline))


class PlainText(Static):
    """A Static that shows exactly the text it is given (cleaned), never markup."""

    def __init__(
        self,
        text: object = "",
        *,
        multiline: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self._multiline = multiline
        super().__init__(
            safe_content(text, multiline=multiline), id=id, classes=classes, markup=False
        )

    def show(self, text: object) -> None:
        """Replace the text (cleaned, plain)."""
        self.update(safe_content(text, multiline=self._multiline))
