"""The caseload: every case with its next conference and nearest report deadline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.deadlines import describe_time_left
from sofs_tui.domain.text import clean_text
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen

if TYPE_CHECKING:
    from sofs_tui.store.queries import CasePage, CaseSummary

PAGE = 200
COLUMNS = ("Reference", "Family", "Plans", "Next conference", "Nearest deadline", "Unshared")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(COUNCIL_TZ).strftime("%a %d %b %H:%M") if moment else "-"


def _row(summary: CaseSummary, now: datetime) -> list[Text]:
    nearest = summary.nearest
    deadline = "-"
    if nearest is not None:
        who = "parents" if nearest.target == "parents" else "QAU"
        deadline = f"{nearest.state.symbol} {who} {describe_time_left(nearest.due, now)}"
    return [
        Text(clean_text(summary.reference, multiline=False)),
        Text(clean_text(summary.family_name, multiline=False)),
        Text(" ".join(c.value for c in summary.categories) or "-"),
        Text(_when(summary.next_conference_at)),
        Text(deadline),
        Text(str(summary.reports_unshared) if summary.reports_unshared else "-"),
    ]


class CaseListScreen(StoreScreen):
    """A page of the caseload at a time, filtered as you type."""

    CSS_PATH = STYLES / "case_list.tcss"
    AUTO_FOCUS = "#case-table"
    PALETTE_GROUP = "case"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("/", "focus_filter", "Filter", id="case_list.focus_filter"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter by reference or family", id="case-filter")
        yield Static("Opening the case store…", id="case-status", markup=False)
        yield DataTable(id="case-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.load_page("")

    def action_focus_filter(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed, "#case-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.load_page(event.value)

    @work(thread=True, exclusive=True, group="store", exit_on_error=False)
    def load_page(self, text: str) -> None:
        from sofs_tui.domain.calendar import default_calendar
        from sofs_tui.store.queries import case_summaries

        store = self.store
        council = self.sofs.settings.council
        page = case_summaries(
            store,
            rules=council.deadlines,
            calendar=default_calendar(),
            text=text,
            limit=PAGE,
        )
        self.app.call_from_thread(self._show, page, store.now())

    def _show(self, page: CasePage, now: datetime) -> None:
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows([_row(summary, now) for summary in page.rows])
        shown = len(page.rows)
        status = f"{page.total} cases" if shown == page.total else f"{shown} of {page.total} cases"
        self.query_one("#case-status", Static).update(status)
