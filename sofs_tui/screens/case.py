"""One case: the family's people, its mappings, its conferences and a dated timeline.

At 80×24 each is a tab (keys 1–4); from 120 columns a summary of the family stays beside them.
People are added, edited and removed here; a mapping or a conference opens in its own screen.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import CaseStatus
from sofs_tui.paths import STYLES
from sofs_tui.screens import case_rows as rows
from sofs_tui.screens.base import StoreScreen
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.store.case_views import CaseDetail, PersonView
    from sofs_tui.store.store import Store

WIDE = 120  # columns from which the family summary stays on screen beside the tabs
TABS = ("people", "assessments", "conferences", "timeline")
_TABLES = {
    "people": ("people-table", rows.PEOPLE_COLUMNS),
    "assessments": ("assessment-table", rows.ASSESSMENT_COLUMNS),
    "conferences": ("conference-table", rows.CONFERENCE_COLUMNS),
    "timeline": ("timeline-table", rows.TIMELINE_COLUMNS),
}
_EMPTY = {
    "people": "Nobody is recorded on this case yet. Press a to add a person.",
    "assessments": "No mapping yet. Press m to start one.",
    "conferences": "No conference yet. Press c to schedule one.",
    "timeline": "Nothing has happened on this case yet.",
}


class CaseScreen(StoreScreen):
    """A family's case. Every change is its own unit of work; the screen reloads after it."""

    CSS_PATH = STYLES / "case.tcss"
    AUTO_FOCUS = "#people-table"
    PALETTE_GROUP = "case"
    HELP: ClassVar[str] = (
        "**Case.** The family, its mappings, conferences and timeline.\n\n"
        "- **1–4** people · assessments · conferences · timeline\n"
        "- **a** add a person · **e** or **Enter** edit · **x** remove (asks first)\n"
        "- **i** case details: family, team, lead worker; close or reopen\n"
        "- **m** start a new mapping · **Enter** on a mapping opens it\n"
        "- **c** schedule a conference · **Enter** on a conference opens it\n"
        "- **d** deadlines across the caseload · **Escape** back to the caseload"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="case.back"),
        # Short words in the footer (80 columns), the full names in help and the palette.
        Binding("a", "add_person", "Add", id="case.add_person", tooltip="Add person"),
        Binding("e", "edit_person", "Edit", id="case.edit_person", tooltip="Edit person"),
        Binding("x", "remove_person", "Remove person", id="case.remove_person", show=False),
        Binding("i", "edit_case", "Edit case details", id="case.edit_case", show=False),
        Binding("m", "new_assessment", "Mapping", id="case.new_assessment", tooltip="New mapping"),
        Binding(
            "c",
            "schedule_conference",
            "Conference",
            id="case.schedule_conference",
            tooltip="Schedule conference",
        ),
        Binding("d", "deadlines", "Deadlines", id="case.deadlines", show=False),
        Binding("f5", "refresh", "Refresh", id="case.refresh", show=False),
        *(
            Binding(
                str(n), f"show_tab('{tab}')", tab.capitalize(), id=f"case.show_{tab}", show=False
            )
            for n, tab in enumerate(TABS, start=1)
        ),
    ]

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.detail: CaseDetail | None = None
        self._select_after_load: tuple[str, str] | None = None  # (tab, row key)
        # True while another screen is over this one (a mapping, a conference, a form may change
        # the case); a load clears it, so the return reads the case once, not twice.
        self._stale = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainText("Opening the case…", id="case-title", multiline=False)
        with Horizontal(id="case-body"):
            with TabbedContent(id="case-tabs", initial="tab-people"):
                for number, tab in enumerate(TABS, start=1):
                    table_id, _columns = _TABLES[tab]
                    with TabPane(f"{number} {tab.capitalize()}", id=f"tab-{tab}"):
                        yield PlainText("", id=f"{tab}-hint", classes="hint")
                        yield DataTable(id=table_id, cursor_type="row", zebra_stripes=True)
            yield PlainText("", id="case-summary")
        yield KeysFooter()

    def on_mount(self) -> None:
        for table_id, columns in _TABLES.values():
            self.query_one(f"#{table_id}", DataTable).add_columns(*columns)
        remember: Callable[[str], None] | None = getattr(self.sofs, "remember_case", None)
        if remember is not None:
            remember(self.case_id)
        self.load()

    def on_screen_suspend(self) -> None:
        self._stale = True

    def on_screen_resume(self) -> None:
        # Back from a mapping or a conference (which pop themselves, so no result callback
        # runs), a form, the deadlines or the lock screen: show what was just written. The
        # first show is read by on_mount; a saved form's callback has already started a load.
        if self._stale:
            self.load()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    def refresh_time_left(self) -> None:
        self.load()  # the conferences' nearest deadlines and the summary's

    # --- loading -------------------------------------------------------------------------

    def load(self) -> None:
        """Read the case again (after every change, back on this screen, and on F5); the
        cursor stays on the same row of each table."""
        from sofs_tui.domain.calendar import default_calendar

        self._stale = False
        council = self.sofs.settings.council
        case_id = self.case_id

        def read(store: Store) -> tuple[CaseDetail, datetime]:
            from sofs_tui.store.case_views import case_detail

            detail = case_detail(
                store,
                case_id,
                rules=council.deadlines,
                calendar=default_calendar(),
                due_soon=timedelta(hours=council.due_soon_hours),
            )
            return detail, store.now()

        self.run_store(read, self._show, on_error=self._load_failed, description="case")

    def _load_failed(self, exc: Exception) -> None:
        from sofs_tui.store.changes import RecordNotFound

        if isinstance(exc, RecordNotFound) and self.is_current:
            self.app.pop_screen()  # the case is gone; the message says so

    def _show(self, loaded: tuple[CaseDetail, datetime]) -> None:
        detail, now = loaded
        self.detail = detail
        closed = " · Closed" if detail.status is CaseStatus.CLOSED else ""
        self.query_one("#case-title", PlainText).show(rows.case_title(detail) + closed)
        self.query_one("#case-summary", PlainText).show(rows.case_summary(detail, now))
        today = now.astimezone(COUNCIL_TZ).date()
        self._fill("people", [(p.id, rows.person_row(p, today)) for p in detail.people])
        self._fill("assessments", [(a.id, rows.assessment_row(a)) for a in detail.assessments])
        self._fill("conferences", [(c.id, rows.conference_row(c, now)) for c in detail.conferences])
        self._fill(
            "timeline",
            [(f"event-{i}", rows.timeline_row(e)) for i, e in enumerate(detail.timeline)],
        )
        if self._select_after_load is not None:
            tab, key = self._select_after_load
            self._select_after_load = None
            self.action_show_tab(tab)
            self._move_to(tab, key)

    def _fill(self, tab: str, items: Sequence[tuple[str, list[Text]]]) -> None:
        table = self.query_one(f"#{_TABLES[tab][0]}", DataTable)
        keep = self._selected_key(tab)
        scrolled = table.scroll_y  # the view stays where it was (this runs every minute too)
        table.clear()
        for key, cells in items:
            table.add_row(*cells, key=key)
        hint = self.query_one(f"#{tab}-hint", PlainText)
        hint.show("" if items else _EMPTY[tab])
        hint.display = not items
        table.scroll_to(y=scrolled, animate=False)  # after the next refresh
        if keep is not None:
            self._move_to(tab, keep)

    def _move_to(self, tab: str, key: str) -> None:
        table = self.query_one(f"#{_TABLES[tab][0]}", DataTable)
        if key in table.rows:
            table.move_cursor(row=table.get_row_index(key), animate=False)

    def _selected_key(self, tab: str) -> str | None:
        table = self.query_one(f"#{_TABLES[tab][0]}", DataTable)
        if table.row_count == 0:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    def selected_person(self) -> PersonView | None:
        key = self._selected_key("people")
        return self.detail.person(key) if self.detail and key else None

    def _person_in_view(self) -> PersonView | None:
        """The person under the cursor, when the People tab is showing; otherwise show the
        tab first, so nobody is edited or removed unseen."""
        tabs = self.query_one("#case-tabs", TabbedContent)
        person = self.selected_person() if tabs.active == "tab-people" else None
        if person is None:
            self.action_show_tab("people")
            self.notify(
                "Choose the person in the People tab, then press the key again.", markup=False
            )
        return person

    # --- tabs and opening ------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        if tab in TABS:
            self.query_one("#case-tabs", TabbedContent).active = f"tab-{tab}"
            self.query_one(f"#{_TABLES[tab][0]}", DataTable).focus()

    def _push_optional(self, module: str, name: str, *args: Any) -> None:
        """Open a screen another part of the app provides, if this build has it."""
        if importlib.util.find_spec(module) is None:
            self.notify("That screen is not available in this version.", markup=False)
            return
        screen_class = getattr(importlib.import_module(module), name)
        self.app.push_screen(screen_class(*args))  # read again on return: on_screen_resume

    def open_assessment(self, assessment_id: str) -> None:
        self._push_optional("sofs_tui.screens.mapping", "MappingScreen", assessment_id)

    def open_conference(self, conference_id: str) -> None:
        self._push_optional("sofs_tui.screens.conference", "ConferenceScreen", conference_id)

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None:
            return
        table_id = event.data_table.id
        if table_id == "people-table":
            self.action_edit_person()
        elif table_id == "assessment-table":
            self.open_assessment(str(key))
        elif table_id == "conference-table":
            self.open_conference(str(key))
        elif table_id == "timeline-table" and self.detail is not None:
            self._open_event(int(str(key).removeprefix("event-")))

    def _open_event(self, index: int) -> None:
        from sofs_tui.store.case_views import TimelineKind

        assert self.detail is not None
        event = self.detail.timeline[index]
        if event.kind is TimelineKind.CONFERENCE:
            self.open_conference(event.record_id)
        elif event.kind in (TimelineKind.ASSESSMENT_SIGNED_OFF, TimelineKind.ASSESSMENT_REOPENED):
            self.open_assessment(event.record_id)

    # --- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load()

    def action_deadlines(self) -> None:
        from sofs_tui.screens.deadlines import DeadlinesScreen

        self.app.push_screen(DeadlinesScreen())

    def _after_save(self, tab: str, message: str, saved_id: str | None) -> None:
        if saved_id:
            self.notify(message, markup=False)
            self._select_after_load = (tab, saved_id)
            self.load()

    def action_add_person(self) -> None:
        from sofs_tui.screens.person_form import PersonFormScreen

        self.action_show_tab("people")
        self.app.push_screen(
            PersonFormScreen(self.case_id), partial(self._after_save, "people", "Person added.")
        )

    def action_edit_person(self) -> None:
        from sofs_tui.screens.person_form import PersonFormScreen

        person = self._person_in_view()
        if person is None:
            return
        self.app.push_screen(
            PersonFormScreen(self.case_id, person=person),
            partial(self._after_save, "people", "Saved."),
        )

    def action_edit_case(self) -> None:
        """The family's own details; the case is read again once they are saved."""
        from sofs_tui.screens.case_form import CaseFormScreen

        if self.detail is None:
            return
        self.app.push_screen(CaseFormScreen(self.detail), self._case_saved)

    def _case_saved(self, saved_id: str | None) -> None:
        if saved_id:
            self.notify("Case details saved.", markup=False)
            self.load()

    def action_remove_person(self) -> None:
        from sofs_tui.screens.confirm import ConfirmScreen

        person = self._person_in_view()
        if person is None:
            return
        question = (
            f"Remove {person.name} ({rows.WHO[person.kind].lower()}) from this case? "
            "The record is kept in the history and removed on every device at the next sync."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._stale = False  # read once, after the removal (not on the return too)
                self.run_store(partial(_remove, person.id), lambda _none: self._removed())

        self.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    def _removed(self) -> None:
        self.notify("Removed from the case.", markup=False)
        self.load()

    def action_new_assessment(self) -> None:
        case_id = self.case_id
        scale = self.sofs.settings.council.scale

        def create(store: Store) -> str:
            from sofs_tui.store.mapping import create_assessment

            title = f"Mapping {store.now().astimezone(COUNCIL_TZ):%d %b %Y}"
            return create_assessment(store, case_id, title=title, wording=scale).id

        def created(assessment_id: str) -> None:
            self._select_after_load = ("assessments", assessment_id)
            self.load()
            self.open_assessment(assessment_id)

        self.run_store(create, created, description="new mapping")

    def action_schedule_conference(self) -> None:
        from sofs_tui.screens.schedule_form import ScheduleConferenceScreen

        self.action_show_tab("conferences")
        self.app.push_screen(
            ScheduleConferenceScreen(self.case_id),
            partial(self._after_save, "conferences", "Conference scheduled."),
        )


def _remove(person_id: str, store: Store) -> None:
    from sofs_tui.store.cases import remove_person

    remove_person(store, person_id)
