"""A row table for long lists that arrive a page at a time (the caseload, the deadlines).

Home and End move the cursor to the first and last loaded row (DataTable only scrolls there),
and `NearEnd` is posted whenever the cursor lands on the last loaded row, so the screen can
load the next page. It never loads anything itself.

Column widths: DataTable measures every cell of every new row through Rich (a console options
object and a measure call per cell: about 35 ms for a 200-row page of seven columns). Our
cells are one-line `Text`, whose width is its longest line's cell length, so new rows are
measured that way here, with the same result; anything else is left to DataTable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


def text_width(cell: Text) -> int:
    """What Rich's measure gives a Text cell: the cell length of its longest line."""
    return max((cell_len(line) for line in cell.plain.splitlines()), default=0)


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

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Widen the columns for one-line rows of Text cells here (see the module docstring);
        DataTable measures the other rows and sets the scrollable size."""
        columns = self.ordered_columns
        left: list[RowKey] = []
        for row_key in new_rows:
            row = self.rows.get(row_key)
            if row is None:
                continue  # removed before the table went idle
            cells = self._data.get(row_key, {})
            values = [cells.get(column.key) for column in columns]
            if (
                row.label is not None
                or row.height != 1
                or not all(value is None or isinstance(value, Text) for value in values)
            ):
                left.append(row_key)
                continue
            for column, value in zip(columns, values, strict=True):
                if value is not None:
                    column.content_width = max(column.content_width, text_width(value))
        super()._update_dimensions(left)

    def set_column_width(self, key: str, width: int) -> None:
        """Give a fixed-width column (added with a `width`) another width, e.g. when the
        terminal crosses a breakpoint; its cells are redrawn at the new width."""
        column = self.columns[ColumnKey(key)]
        column.width = width
        self._require_update_dimensions = True  # the scrollable width, from the columns'
        self.measure_new_rows()
        self._clear_caches()
        self.refresh()

    def measure_new_rows(self) -> None:
        """Measure the rows just added now rather than when the table next goes idle.

        DataTable sizes its columns on idle; a screen painted in between paints every cell at
        the header's widths, then again at the right ones (two renders of the page, and a
        frame with cut cells). Call after adding rows that are about to be shown."""
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)
