"""Everything due across the caseload in the next 14 days, overdue first.

Reports to the parents and to the QA Unit (until done), and the core groups and reviews that
conferences set. The list is read once (in a worker) and shown a page at a time.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import DataTable, Header, Static

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.deadlines import DeadlineState
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.widgets.case_table import CaseTable
from sofs_tui.widgets.deadline import deadline_text, when
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.store.deadline_views import DueItem
    from sofs_tui.store.store import Store

DAYS = 14
PAGE = 200
#: Terminal width from which the state is given in full ("✗ Overdue · Tue 24 Nov 10:00 · …").
WIDE = 120
#: What is due comes before the family and the conference, so it is on screen at 80 columns.
COLUMNS = ("State", "For", "Case", "What", "Family", "Conference")


def compact_state(state: DeadlineState, due: datetime, now: datetime) -> Text:
    """The state for a narrow terminal: symbol, when it is due and the time left, without the
    state's name and the weekday ('✗ 24 Nov 10:00 · overdue by 23h 30m')."""
    short = deadline_text(state, due, now, short=True)
    tail = short.plain.removeprefix(state.symbol).strip()
    moment = due.astimezone(COUNCIL_TZ).strftime("%d %b %H:%M")
    return Text(f"{state.symbol} {moment} · {tail}", style=short.style)


def _same_deadline(item: DueItem, other: DueItem) -> bool:
    return (item.kind, item.conference_id, item.report_id) == (
        other.kind,
        other.conference_id,
        other.report_id,
    )


def due_row(item: DueItem, now: datetime, *, wide: bool = True) -> list[Text]:
    """State first, in the same words as everywhere; then who it is for, the case and what."""
    if item.report_id is not None:
        what = Text.assemble(safe_text(item.title), " · ", safe_text(item.agency or "-"))
    else:
        what = Text.assemble("for ", safe_text(item.title))
    state = (
        deadline_text(item.state, item.due, now)
        if wide
        else compact_state(item.state, item.due, now)
    )
    return [
        state,
        Text(item.kind.label),
        safe_text(item.reference),
        what,
        safe_text(item.family_name),
        Text(f"{item.conference_kind.label} · {when(item.conference_at)}"),
    ]


class DeadlinesScreen(StoreScreen):
    """The caseload's deadlines for the next 14 days; Enter opens the conference."""

    CSS_PATH = STYLES / "deadlines.tcss"
    AUTO_FOCUS = "#deadline-table"
    PALETTE_GROUP = "deadlines"
    HELP: ClassVar[str] = (
        "**Deadlines.** Everything due across the caseload in the next 14 days, overdue "
        "first, then by when it is due: reports to the parents and to the QA Unit, first core "
        "groups and reviews.\n\n"
        "- **Enter** open the conference · **o** open the case\n"
        "- **F5** refresh · **Escape** back\n\n"
        "✗ overdue, ◔ due within a day, ○ due. On a narrow terminal the state shows as its "
        "symbol, when it is due and the time left; from 120 columns its name shows too."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="deadlines.back"),
        Binding("o", "open_case", "Open case", id="deadlines.open_case"),
        Binding("f5", "refresh", "Refresh", id="deadlines.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[DueItem] = []
        self.now: datetime | None = None
        self.shown = 0
        self.wide = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading deadlines…", id="deadline-status", markup=False)
        yield CaseTable(id="deadline-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.wide = self.app.size.width >= WIDE
        self.query_one("#deadline-table", DataTable).add_columns(*COLUMNS)

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= WIDE
        if wide != self.wide:
            self.wide = wide
            if self.now is not None:
                self._show((self.items, self.now))  # the state column in the other form

    def on_screen_resume(self) -> None:
        self.load()  # first show, and back from a conference where something was done

    def refresh_time_left(self) -> None:
        self.load()

    def load(self) -> None:
        from sofs_tui.domain.calendar import default_calendar

        council = self.sofs.settings.council

        def read(store: Store) -> tuple[list[DueItem], datetime]:
            from sofs_tui.store.deadline_views import deadlines_due

            now = store.now()
            items = deadlines_due(
                store,
                council.deadlines,
                default_calendar(),
                now,
                DAYS,
                due_soon=timedelta(hours=council.due_soon_hours),
            )
            return items, now

        self.run_store(read, self._show, description="deadlines")

    def _show(self, loaded: tuple[list[DueItem], datetime]) -> None:
        # The cursor stays on the same deadline (items move as they fall due or are met, and
        # a sync may add some) and the view where it was: this runs every minute too.
        was = self.selected()
        self.items, self.now = loaded
        table = self.query_one("#deadline-table", DataTable)
        scrolled = table.scroll_y
        same = [i for i, item in enumerate(self.items) if was and _same_deadline(item, was)]
        keep = same[0] if same else min(table.cursor_row, max(len(self.items) - 1, 0))
        table.clear()
        self.shown = 0
        self._add_page(upto=keep + 1)
        table.scroll_to(y=scrolled, animate=False)  # after the next refresh
        if keep < table.row_count:
            table.move_cursor(row=keep, animate=False)
        overdue = sum(1 for i in self.items if i.state is DeadlineState.OVERDUE)
        total = len(self.items)
        status = f"{total:,} due in the next {DAYS} days" if total else "Nothing due in 14 days."
        if overdue:
            status += f" · {DeadlineState.OVERDUE.symbol} {overdue:,} overdue"
        if self.shown < total:
            status += f" · showing {self.shown:,}"
        self.query_one("#deadline-status", Static).update(status)

    def _add_page(self, upto: int = 0) -> None:
        """The next page of rows (or as many as reach row `upto`)."""
        assert self.now is not None
        table = self.query_one("#deadline-table", CaseTable)
        end = min(len(self.items), max(self.shown + PAGE, upto))
        for index in range(self.shown, end):
            table.add_row(*due_row(self.items[index], self.now, wide=self.wide), key=str(index))
        table.measure_new_rows()
        self.shown = end

    @on(CaseTable.NearEnd, "#deadline-table")
    def _near_the_end(self) -> None:
        if self.shown < len(self.items):
            self._add_page()
            status = self.query_one("#deadline-status", Static)
            text = str(status.render()).split(" · showing")[0]
            more = f" · showing {self.shown:,}" if self.shown < len(self.items) else ""
            status.update(text + more)

    def selected(self) -> DueItem | None:
        table = self.query_one("#deadline-table", DataTable)
        if table.row_count == 0 or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowSelected, "#deadline-table")
    def _chosen(self) -> None:
        item = self.selected()
        if item is None:
            return
        if importlib.util.find_spec("sofs_tui.screens.conference") is not None:
            from sofs_tui.screens.conference import ConferenceScreen

            self.app.push_screen(ConferenceScreen(item.conference_id))
        else:
            self._open(item)

    def action_open_case(self) -> None:
        item = self.selected()
        if item is not None:
            self._open(item)

    def _open(self, item: Any) -> None:
        from sofs_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(item.case_id))

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
