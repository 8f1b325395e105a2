"""A row table for long lists that arrive a page at a time (the caseload, the deadlines).

Home and End move the cursor to the first and last loaded row (DataTable only scrolls there),
and `NearEnd` is posted whenever the cursor lands on the last loaded row, so the screen can
load the next page. It never loads anything itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable


class CaseTable(DataTable[Any]):
    """A DataTable with a row cursor, zebra stripes and page-loading hints."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    class NearEnd(Message):
        """The cursor is on the last loaded row."""

        def __init__(self, table: CaseTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> CaseTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old != new and self.row_count and new.row >= self.row_count - 1:
            self.post_message(self.NearEnd(self))

    def action_page_down(self) -> None:
        """Page down; on the last row already, ask for more rows."""
        at_end = self.row_count > 0 and self.cursor_row >= self.row_count - 1
        super().action_page_down()
        if at_end:
            self.post_message(self.NearEnd(self))
