"""The caseload: each case with its plans, next conference, nearest deadline, reports and sync.

Rows come from SQL a page (200) at a time; the next page loads when the cursor reaches the last
row, so 10,000 cases never become 10,000 rows. The filter runs 150 ms after the last keystroke
in an exclusive worker, and a stale result is never painted. The sync column is filled in by a
second, slower query once the rows are painted; states already read are shown at once when a
case comes back into the list (the filter or order changed), and read again after any return
to the list or refresh (work, or a sync round, may have changed them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import get_current_worker

from sofs_tui.domain.deadlines import DeadlineState
from sofs_tui.domain.enums import SyncState
from sofs_tui.domain.text import validate_free_text
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.widgets.case_table import CaseTable
from sofs_tui.widgets.deadline import deadline_text, when
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText, safe_text

if TYPE_CHECKING:
    from sofs_tui.store.case_page import CasePage, CaseSort, CaseSummary, CaseSync

PAGE = 200
#: The fewest rows a list's first page has (at the unlock, and after each filter or sort):
#: each row costs time before the list is painted (about 0.2 ms to read and 0.1 ms to add).
#: The next `PAGE` come when the cursor reaches the last row.
FIRST_PAGE_ROWS = 50


def first_page_rows(terminal_height: int) -> int:
    """Rows for a list's first page: two screens' worth, within a page."""
    return min(PAGE, max(FIRST_PAGE_ROWS, 2 * terminal_height))


FILTER_DELAY = 0.15  # seconds after the last keystroke
MOST_ROWS_KEPT_ON_RETURN = 5 * PAGE
#: From this width the sync state is in words ("✓ synced"); narrower, its symbol and count.
WIDE = 120
SYNC_WIDTH = len("⚠ 999+ conflicts")
SYNC_WIDTH_NARROW = len("↑ 999+")
# What is due comes straight after the family, then the sync state: at 80 columns those are
# on screen and the reports begin; at 120 the reports and most of the next conference too.
# The rest is reached by scrolling sideways (the case screen has all of it).
COLUMNS = (
    ("reference", "Reference"),
    ("family", "Family"),
    ("deadline", "Nearest deadline"),
    ("sync", "Sync"),
    ("reports", "Reports"),
    ("next", "Next conference"),
    ("plans", "Plans"),
)
SORTS = ("reference", "family", "next_conference", "nearest_deadline")
_SORT_OF_COLUMN = {
    "reference": "reference",
    "family": "family",
    "next": "next_conference",
    "deadline": "nearest_deadline",
}
_TARGET_WORDS = {"parents": "parents", "qau": "QAU"}


def deadline_cell(summary: CaseSummary, now: datetime) -> Text:
    """'✗ overdue by 1d 2h (parents)': the state's symbol and words, then who it is for."""
    nearest = summary.nearest
    if nearest is None:
        return Text("-")
    return Text.assemble(
        deadline_text(nearest.state, nearest.due, now, short=True),
        f" ({_TARGET_WORDS.get(nearest.target, nearest.target)})",
    )


def reports_cell(summary: CaseSummary) -> Text:
    """Reports still to share with parents, and how many are overdue, in words."""
    parts = []
    if summary.reports_overdue:
        parts.append(
            Text(f"{DeadlineState.OVERDUE.symbol} {summary.reports_overdue} overdue", "bold red")
        )
    if summary.reports_unshared:
        parts.append(Text(f"{summary.reports_unshared} unshared"))
    return Text(" · ").join(parts) if parts else Text("-")


def _count(number: int) -> str:
    return f"{number}" if number <= 999 else "999+"


def sync_cell(sync: CaseSync | None, *, wide: bool = True) -> Text:
    """Where the case stands against the service, in a symbol and words (never colour alone);
    narrow (`wide=False`), the symbol and its count: "✓", "↑ 3", "‖ 3", "⚠ 2"."""
    if sync is None:
        return Text("…")
    if sync.conflicts:
        noun = "conflict" if sync.conflicts == 1 else "conflicts"
        words = f"{_count(sync.conflicts)} {noun}" if wide else _count(sync.conflicts)
        return Text(f"⚠ {words}", "bold red")
    if sync.state is SyncState.HELD:
        held = _count(sync.unsynced)
        return Text(f"‖ held ({held})" if wide else f"‖ {held}", "yellow")
    if sync.unsynced:
        unsent = _count(sync.unsynced)
        return Text(f"↑ {unsent} unsent" if wide else f"↑ {unsent}", "yellow")
    return Text("✓ synced" if wide else "✓", "green")


def case_row(
    summary: CaseSummary, now: datetime, sync: CaseSync | None = None, *, wide: bool = True
) -> list[Text]:
    """The row's cells in `COLUMNS` order."""
    cells = {
        "reference": safe_text(summary.reference),
        "family": safe_text(summary.family_name),
        "deadline": deadline_cell(summary, now),
        "sync": sync_cell(sync, wide=wide),
        "reports": reports_cell(summary),
        "next": Text(when(summary.next_conference_at)),
        "plans": Text(" ".join(c.value for c in summary.categories) or "-"),
    }
    return [cells[key] for key, _label in COLUMNS]


_warmed_up = False
_warm_up_guard = threading.Lock()


def _warm_up_steps() -> list[Callable[[], object]]:
    """The warm-up in steps of roughly a tenth of a second each (SQLAlchemy, SQLModel, our
    tables, the rest of the store, the queries' compilation, the bank holidays)."""
    from importlib import import_module

    def compile_queries() -> None:
        from sofs_tui.store.queries import compile_caseload_queries

        compile_caseload_queries()

    def bank_holidays() -> None:
        from sofs_tui.domain.calendar import warm_bank_holidays

        warm_bank_holidays()

    modules = ("sqlalchemy", "sqlmodel", "sofs_tui.store.tables", "sofs_tui.store.store")
    return [*(partial(import_module, name) for name in modules), compile_queries, bank_holidays]


def warm_up(*, background: bool = False) -> None:
    """Do ahead what the first page would wait for: import the store, compile the caseload's
    queries (SQLAlchemy writes code the first time it meets a statement) and read the bank
    holidays. Touches neither the store nor the screen, so it runs in a background thread from
    app start, while the worker types their passphrase. A failure only costs that time later.
    Once per process; a second caller waits for the first.

    In the background (`background=True`) it pauses between steps while a first page is on its
    way (`start_gate`). Called without it, by what needs the database layer now, a paused
    warm-up goes on at once.
    """
    global _warmed_up
    from sofs_tui import start_gate
    from sofs_tui.logging_setup import log_event

    if not background:
        start_gate.release()
    with _warm_up_guard:
        if _warmed_up:
            return
        _warmed_up = True
        try:
            for step in _warm_up_steps():
                if background:
                    start_gate.wait_for_the_way()
                step()
            start_gate.freeze_what_is_loaded("database layer")
        except Exception as exc:
            log_event("warm_up_failed", type=type(exc).__name__)


class CaseListScreen(StoreScreen):
    """A page of the caseload at a time, filtered as you type, sorted four ways."""

    # Also in SofsApp.CSS_PATH (read at start-up); Textual reads a sheet once, and this one
    # keeps the screen styled wherever it is used on its own.
    CSS_PATH = STYLES / "case_list.tcss"
    AUTO_FOCUS = "#case-table"
    PALETTE_GROUP = "case"
    HELP: ClassVar[str] = (
        "**Caseload.** Every case you can see, a page at a time.\n\n"
        "- **/** filter by reference or family name (Enter goes back to the list)\n"
        "- **Enter** open the case · **n** new case\n"
        "- **s** change the order: reference, family, next conference, nearest deadline\n"
        "- **d** deadlines due in the next 14 days · **t** team statistics (for managers)\n\n"
        "Deadlines show a symbol and words: ○ due, ◔ due soon, ✗ overdue; the time left moves "
        "on every minute. Sync shows ✓ synced, ↑ unsent changes, ‖ held by the service, "
        "⚠ conflicts to resolve; below 120 columns as the symbol and its count. The next "
        "conference and the plans are to the right: scroll with → (the case shows them too)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("/", "focus_filter", "Filter", id="case_list.focus_filter"),
        Binding("n", "new_case", "New case", id="case_list.new_case"),
        Binding("s", "next_sort", "Sort", id="case_list.next_sort"),
        Binding("t", "team_stats", "Team", id="case_list.team_stats", tooltip="Team statistics"),
        Binding("d", "deadlines", "Deadlines", id="case_list.deadlines"),
        Binding("f5", "refresh", "Refresh", id="case_list.refresh", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="case_list.clear_filter", show=False),
    ]

    def __init__(self, first_page: tuple[CasePage, datetime] | None = None) -> None:
        """`first_page`: the first page (unfiltered, by reference) and when it was read, to
        show at once instead of reading it (the app reads it while unlocking)."""
        super().__init__()
        self._given_page = first_page
        self.filter_text = ""
        self.sort: str = "reference"
        self.loaded = 0  # rows in the table
        self.total = 0  # cases matching the filter
        self._generation = 0  # bumps on every reload; older results are dropped
        self._more_pending = False
        self._first_page_shown = False
        self._filter_timer: Timer | None = None
        #: Sync states read since the last full reload; `_sync_epoch` bumps when they are
        #: dropped, so a read that started before is not kept.
        self._sync_known: dict[str, CaseSync] = {}
        self._sync_epoch = 0
        self.wide = True

    def give_first_page(self, first_page: tuple[CasePage, datetime] | None) -> None:
        """The first page to show when this screen is first shown (see `__init__`)."""
        self._given_page = first_page

    def compose(self) -> ComposeResult:
        yield Header()
        yield GuardedInput(placeholder="Filter by reference or family  ( / )", id="case-filter")
        yield PlainText("", id="case-filter-msg", multiline=False)
        yield Static("Opening the case store…", id="case-status", markup=False)
        yield CaseTable(id="case-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.wide = self.app.size.width >= WIDE
        table = self.query_one("#case-table", DataTable)
        for key, label in COLUMNS:
            # The sync cells arrive after the rows (re-measuring a column per cell is slow),
            # so that column is as wide as its longest words from the start.
            table.add_column(label, key=key, width=self._sync_width() if key == "sync" else None)

    def _sync_width(self) -> int:
        return SYNC_WIDTH if self.wide else SYNC_WIDTH_NARROW

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= WIDE
        if wide == self.wide:
            return
        self.wide = wide  # the sync cells in the other form, in place: cursor and scroll stay
        table = self.table
        table.set_column_width("sync", self._sync_width())
        known = self._sync_known  # emptied by a reload on its way: "…" until it is shown
        for row_key in list(table.rows):
            case_id = str(row_key.value)
            table.update_cell(case_id, "sync", sync_cell(known.get(case_id), wide=wide))

    def on_screen_resume(self) -> None:
        if self._first_page_shown:
            # Back on the caseload: the case the worker left is not reopened at the next start.
            self.sofs.forget_case()
        given, self._given_page = self._given_page, None
        if given is not None and not self.filter_text and self.sort == "reference":
            page, now = given
            self._generation += 1
            self._show(self._generation, page, 0, now, None)
            return
        # First show, and every return from a case: keep the worker where they were.
        self.reload(keep_cursor=True)

    # --- loading -------------------------------------------------------------------------

    @property
    def table(self) -> CaseTable:
        return self.query_one("#case-table", CaseTable)

    def _sort_enum(self) -> CaseSort:
        from sofs_tui.store.case_page import CaseSort

        return CaseSort(self.sort)

    def reload(self, *, keep_cursor: bool = False) -> None:
        """Load the first page again (as many rows as were shown, within reason). With
        `keep_cursor` (back on the list, or a refresh) sync states are read afresh too."""
        if keep_cursor:
            self._sync_known = {}
            self._sync_epoch += 1
        keep = self._cursor_case() if keep_cursor else None
        first_rows = first_page_rows(self.app.size.height)
        limit = (
            min(max(first_rows, self.loaded), MOST_ROWS_KEPT_ON_RETURN)
            if keep_cursor
            else first_rows
        )
        self._generation += 1
        self._more_pending = False
        self._load(self._generation, self.filter_text, self.sort, 0, limit, keep)

    def _cursor_case(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def _read_page(
        self, text: str, sort: str, offset: int, limit: int
    ) -> tuple[CasePage, datetime]:
        """Rows `offset` to `offset + limit` of the list as filtered and sorted, and when they
        were read (in a worker thread)."""
        from sofs_tui.domain.calendar import default_calendar
        from sofs_tui.store.queries import CaseSort, case_summaries

        council = self.sofs.settings.council
        store = self.store
        page = case_summaries(
            store,
            rules=council.deadlines,
            calendar=default_calendar(),
            text=text,
            offset=offset,
            limit=limit,
            sort=CaseSort(sort),
            due_soon=timedelta(hours=council.due_soon_hours),
            with_sync=False,
        )
        return page, store.now()

    @work(thread=True, exclusive=True, group="case_list.page", exit_on_error=False)
    def _load(
        self, generation: int, text: str, sort: str, offset: int, limit: int, keep: str | None
    ) -> None:
        worker = get_current_worker()
        try:
            page, now = self._read_page(text, sort, offset, limit)
        except Exception as exc:  # shown in words (or as an incident), never swallowed
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, exc, None)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, generation, page, offset, now, keep)

    def refresh_time_left(self) -> None:
        """Read the rows in view (and a screen's worth either side) again and put their
        deadline and reports cells right in place: the cursor, the scroll and the rows stay
        where they are (F5 reloads the list)."""
        if not self.loaded or self._more_pending:
            return
        table = self.table
        margin = table.size.height
        first = max(0, int(table.scroll_y) - margin)
        limit = min(self.loaded - first, table.size.height + 2 * margin)
        self._read_time_left(self._generation, self.filter_text, self.sort, first, limit)

    @work(thread=True, exclusive=True, group="case_list.time_left", exit_on_error=False)
    def _read_time_left(
        self, generation: int, text: str, sort: str, offset: int, limit: int
    ) -> None:
        from sofs_tui.store.errors import StoreLocked

        worker = get_current_worker()
        try:
            page, now = self._read_page(text, sort, offset, limit)
        except StoreLocked:
            return  # locked meanwhile: the next minute after the unlock reads again
        except Exception as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, exc, None)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_time_left, generation, page, now)

    def _show_time_left(self, generation: int, page: CasePage, now: datetime) -> None:
        if generation != self._generation:
            return  # the list was filtered, sorted or reloaded meanwhile: it is newer
        table = self.table
        for summary in page.rows:
            if summary.case_id in table.rows:  # a case that joined the list waits for F5
                table.update_cell(
                    summary.case_id, "deadline", deadline_cell(summary, now), update_width=True
                )
                table.update_cell(
                    summary.case_id, "reports", reports_cell(summary), update_width=True
                )

    def _show(
        self, generation: int, page: CasePage, offset: int, now: datetime, keep: str | None
    ) -> None:
        if generation != self._generation:
            return  # a newer filter or sort has been asked for
        table = self.table
        if offset == 0:
            table.clear()
        known = self._sync_known
        unknown = []
        rows = table.rows
        for summary in page.rows:
            case_id = summary.case_id
            if case_id in rows:
                continue  # a case moved between pages while loading: show it once
            table.add_row(*case_row(summary, now, known.get(case_id), wide=self.wide), key=case_id)
            if case_id not in known:
                unknown.append(case_id)
        table.measure_new_rows()
        self.loaded = table.row_count
        self.total = page.total
        self._more_pending = False
        self._update_status()
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        if unknown:
            # After the paint: the sync query must not hold up the rows the worker waits for.
            self.call_after_refresh(self._load_sync, generation, self._sync_epoch, unknown)
        if offset == 0 and not self._first_page_shown:
            self._first_page_shown = True
            # After the paint and after whatever else waited for it (the sync column's read).
            self.call_after_refresh(self.app.call_later, self.sofs.caseload_painted)

    @work(thread=True, group="case_list.sync", exit_on_error=False)
    def _load_sync(self, generation: int, epoch: int, case_ids: list[str]) -> None:
        from sofs_tui.store.queries import case_sync_states

        if generation != self._generation:
            return  # the list changed again before this read started: the next one asks
        try:
            states = case_sync_states(self.store, case_ids)
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc, None)
            return
        # Kept even if the list moved on meanwhile: the states are still right for now.
        self.app.call_from_thread(self._show_sync, epoch, states)

    def _show_sync(self, epoch: int, states: dict[str, CaseSync]) -> None:
        if epoch != self._sync_epoch:
            return  # read before a refresh: may be out of date
        self._sync_known.update(states)
        table = self.table
        for case_id, sync in states.items():
            if case_id in table.rows:
                table.update_cell(case_id, "sync", sync_cell(sync, wide=self.wide))

    def _update_status(self) -> None:
        label = self._sort_enum().label
        if self.loaded >= self.total:
            shown = f"{self.total:,} case{'s' if self.total != 1 else ''}"
        else:
            shown = f"{self.loaded:,} of {self.total:,} cases"
        matching = " matching the filter" if self.filter_text.strip() else ""
        status = f"{shown}{matching} · sorted by {label}"
        # One line tall whatever it says (case_list.tcss): no layout pass needed.
        self.query_one("#case-status", Static).update(status, layout=False)

    def _load_more(self) -> None:
        if self._more_pending or self.loaded >= self.total:
            return
        self._more_pending = True
        self.query_one("#case-status", Static).update(
            f"{self.loaded:,} of {self.total:,} cases · loading more…"
        )
        self._load(self._generation, self.filter_text, self.sort, self.loaded, PAGE, None)

    @on(CaseTable.NearEnd, "#case-table")
    def _near_end(self) -> None:
        self._load_more()

    # --- filtering -----------------------------------------------------------------------

    @on(Input.Changed, "#case-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        problem = validate_free_text(event.value, max_length=200, multiline=False)
        self._say_filter_problem(problem)
        if problem:
            return  # keep the list as it was; the message says what to fix
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    @on(GuardedInput.Refused)
    def _filter_paste_refused(self, event: GuardedInput.Refused) -> None:
        if event.field.id == "case-filter":
            event.stop()
            self._say_filter_problem(event.problem)

    def _say_filter_problem(self, problem: str | None) -> None:
        message = self.query_one("#case-filter-msg", PlainText)
        message.show(problem or "")
        message.set_class(bool(problem), "-shown")

    @on(Input.Submitted, "#case-filter")
    def _filter_submitted(self) -> None:
        self._apply_filter()
        self.table.focus()

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        value = self.query_one("#case-filter", Input).value
        if validate_free_text(value, max_length=200, multiline=False) is not None:
            return
        if value != self.filter_text or not self.loaded:
            self.filter_text = value
            self.reload()

    # --- actions -------------------------------------------------------------------------

    def action_team_stats(self) -> None:
        from sofs_tui.screens.team_stats import TeamStatsScreen

        self.app.push_screen(TeamStatsScreen())

    def action_focus_filter(self) -> None:
        self.query_one("#case-filter", Input).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#case-filter", Input)
        if field.value:
            field.value = ""
            self._apply_filter()
        self.table.focus()

    def action_refresh(self) -> None:
        self.reload(keep_cursor=True)

    def action_next_sort(self) -> None:
        self.set_sort(SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)])

    def set_sort(self, sort: str) -> None:
        if sort in SORTS and sort != self.sort:
            self.sort = sort
            self.reload()

    @on(DataTable.HeaderSelected, "#case-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = _SORT_OF_COLUMN.get(str(event.column_key.value))
        if sort is not None:
            self.set_sort(sort)

    @on(DataTable.RowSelected, "#case-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_case(str(event.row_key.value))

    def open_case(self, case_id: str) -> None:
        from sofs_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def action_new_case(self) -> None:
        from sofs_tui.screens.case_form import CaseFormScreen

        def created(case_id: str | None) -> None:
            if case_id:
                self.notify("Case created.", markup=False)
                self.open_case(case_id)

        self.app.push_screen(CaseFormScreen(), created)

    def action_deadlines(self) -> None:
        from sofs_tui.screens.deadlines import DeadlinesScreen

        self.app.push_screen(DeadlinesScreen())

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        from sofs_tui.store.queries import CaseSort

        return [
            (
                f"sort by {s.label}",
                f"List the caseload by {s.label}.",
                partial(self.set_sort, s.value),
            )
            for s in CaseSort
        ]
