"""One child protection conference: its details, the reports with their deadlines and sharing
log, the people invited and the GP, the outcome for each child and the Families First plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from sofs_tui.domain.enums import ConferenceModel
from sofs_tui.paths import STYLES
from sofs_tui.screens import conference_actions as forms
from sofs_tui.screens import conference_panels as panels
from sofs_tui.screens import conference_report_forms as report_forms
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.conference_edit import ConferenceEditScreen, ConferencePick, FormSpec
from sofs_tui.screens.confirm import ConfirmScreen
from sofs_tui.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from sofs_tui.store.conference_views import (
        ConferenceView,
        PlanTaskView,
        ReportView,
        ShareLine,
    )
    from sofs_tui.store.store import Store

WIDE = 120
TABS = ("overview", "reports", "people", "outcome", "plan")
_COLUMNS: dict[str, tuple[str, ...]] = {
    "report-table": ("Report", "Agency", "To parents", "To QAU"),
    "invitee-table": ("Name", "Role", "Agency", "Attendance"),
    "outcome-table": ("Child", "Decision", "Category", "Core group by", "Next review by"),
    "plan-table": ("Task", "Who", "By when", "Who checks", "Done"),
}


def _key(key: str, action: str, words: str, *, footer: str = "") -> Binding:
    """A screen key with its keymap id ("conference.<action>"). The footer shows the few with
    `footer` words (short, for 80 columns); help and the palette use the full `words`."""
    if footer:
        return Binding(key, action, footer, id=f"conference.{action}", tooltip=words)
    return Binding(key, action, words, id=f"conference.{action}", show=False)


def _tab_binding(key: str, tab: str, words: str) -> Binding:
    return Binding(key, f"show_tab('{tab}')", words, id=f"conference.tab_{tab}", show=False)


class ConferenceScreen(StoreScreen):
    """A conference, read from the store in one unit of work and refreshed after each save
    (and every minute, so the time left stays true)."""

    CSS_PATH = STYLES / "conference.tcss"
    PALETTE_GROUP = "conference"
    HELP: ClassVar[str] = """\
# Conference

One child protection conference. Tabs: **1** Overview, **2** Reports, **3** People,
**4** Outcome, **5** Family plan (Families First). Deadlines show a symbol, words, the
date and the time left: ○ due, ◔ due soon, ✗ overdue, ✓ done on time, ! done late.

- **e** edit the details (kind, model, date and time, chair, location, status)
- **n** add a report, **c** edit it, **s** mark it shared with a parent,
  **q** mark it sent to the QA Unit, **r** record redactions and their reason
- **u** remove a sharing record made by mistake, **v** clear a mistaken sent-to-QAU time
  (both ask first; the report is due, or overdue, again)
- **i** invite someone, **a** record attendance (for the case's GP: the QA Unit's GP
  categories), **g** GP involvement
- **o** record the outcome for the highlighted child
- **p** family preparation and private family time, **t** add a family plan task,
  **k** edit the highlighted task, **d** mark it done or open again
- **x** export the QA Unit pack (HTML, PDF or CSV); **f** export the summary for the family
  of the case's current mapping (plain text, HTML or PDF)
- **enter** on a row edits it; **f5** refresh; **escape** back

Dates and times are London time: type `2026-12-01 10:00`, `today 15:30` or `now`.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        _key("e", "edit_details", "Edit details", footer="Edit"),
        _key("n", "add_report", "Add report", footer="Add report"),
        _key("s", "mark_shared", "Mark report shared", footer="Shared"),
        _key("q", "mark_sent_to_qau", "Mark sent to QAU", footer="Sent to QAU"),
        _key("r", "record_redaction", "Record redactions"),
        _key("c", "edit_report", "Edit report"),
        _key("u", "remove_share", "Remove a sharing record"),
        _key("v", "clear_sent_to_qau", "Clear sent to QAU"),
        _key("i", "invite", "Invite someone"),
        _key("a", "record_attendance", "Record attendance"),
        _key("g", "record_gp", "GP involvement"),
        _key("o", "record_outcome", "Record child outcome"),
        _key("p", "edit_preparation", "Family preparation"),
        _key("t", "add_plan_task", "Add family plan task"),
        _key("k", "edit_plan_task", "Edit family plan task"),
        _key("d", "toggle_task_done", "Mark task done or open"),
        _key("x", "export_qau_pack", "Export QAU pack"),
        _key("f", "export_parent_summary", "Export summary for the family"),
        _tab_binding("1", "overview", "Overview tab"),
        _tab_binding("2", "reports", "Reports tab"),
        _tab_binding("3", "people", "People tab"),
        _tab_binding("4", "outcome", "Outcome tab"),
        _tab_binding("5", "plan", "Family plan tab"),
        _key("f5", "refresh", "Refresh"),
        _key("escape", "back", "Back"),
    ]

    def __init__(self, conference_id: str) -> None:
        super().__init__()
        self.conference_id = conference_id
        self.view: ConferenceView | None = None
        self._wide = False
        # Only the newest load is shown (a minute's refresh may overtake a save's reload).
        self._loads = 0

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opening the conference…", id="conf-title", markup=False)
        with TabbedContent(id="conf-tabs", initial="tab-overview"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                yield Static("", id="overview-text", markup=False)
            with TabPane("Reports", id="tab-reports"), Vertical(classes="pane"):
                yield self._table("report-table")
                with VerticalScroll(id="report-detail", classes="detail"):
                    yield Static("", id="report-text", markup=False)
            with TabPane("People", id="tab-people"), Vertical(classes="pane"):
                yield self._table("invitee-table")
                with VerticalScroll(classes="detail"):
                    yield Static("", id="gp-text", markup=False)
            with TabPane("Outcome", id="tab-outcome"), Vertical(classes="pane"):
                yield self._table("outcome-table")
                with VerticalScroll(classes="detail"):
                    yield Static("", id="outcome-text", markup=False)
            with TabPane("Family plan", id="tab-plan"), Vertical(classes="pane"):
                with VerticalScroll(classes="detail"):
                    yield Static("", id="plan-text", markup=False)
                yield self._table("plan-table")
        yield KeysFooter(compact=True)

    @staticmethod
    def _table(table_id: str) -> DataTable[Text]:
        table: DataTable[Text] = DataTable(id=table_id, cursor_type="row", zebra_stripes=True)
        table.add_columns(*_COLUMNS[table_id])
        return table

    def on_mount(self) -> None:
        self._wide = self.size.width >= WIDE
        self.set_class(self._wide, "-wide")
        self.load()

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= WIDE
        if wide != self._wide:
            self._wide = wide
            self.set_class(wide, "-wide")
            if self.view is not None:
                self._show(self.view)

    # --- loading and showing -------------------------------------------------------------

    def refresh_time_left(self) -> None:
        self.load()

    def load(self) -> None:
        council = self.sofs.settings.council
        conference_id = self.conference_id

        def work(store: Store) -> ConferenceView:
            from sofs_tui.domain.calendar import default_calendar
            from sofs_tui.store.conference_views import conference_view

            return conference_view(
                store,
                conference_id,
                rules=council.deadlines,
                calendar=default_calendar(),
                due_soon=timedelta(hours=council.due_soon_hours),
            )

        self._loads += 1
        this_load = self._loads

        def show(view: ConferenceView) -> None:
            if this_load == self._loads:
                self._show(view)

        def failed(_exc: Exception) -> None:
            if self.view is None:
                self.query_one("#conf-title", Static).update(
                    "This conference could not be opened. Press escape to go back."
                )

        self.run_store(work, show, on_error=failed, description="load conference")

    def _show(self, view: ConferenceView) -> None:
        self.view = view
        self.query_one("#conf-title", Static).update(panels.title_line(view))
        self.query_one("#overview-text", Static).update(panels.overview_text(view))
        short = not self._wide
        self._fill(
            "report-table",
            [(r.id, panels.report_row(r, view.now, short=short)) for r in view.reports],
        )
        self._fill(
            "invitee-table",
            [(i.id, panels.invitee_row(i, view.gp_outcome)) for i in view.invitees],
        )
        self._fill("outcome-table", [(o.child.id, panels.outcome_row(o)) for o in view.outcomes])
        self._fill("plan-table", [(t.id, panels.task_row(t)) for t in view.plan_tasks])
        self.query_one("#gp-text", Static).update(panels.gp_text(view))
        self.query_one("#plan-text", Static).update(panels.plan_text(view))
        self._show_report()
        self._show_outcome()
        # The title says how many deadlines are overdue in words; the class only adds colour.
        self.set_class(panels.overdue_count(view) > 0, "-overdue")

    def _fill(self, table_id: str, rows: list[tuple[str, list[Text]]]) -> None:
        """Replace a table's rows, keeping the cursor on the same record when it is still
        there."""
        table = self.query_one(f"#{table_id}", DataTable)
        keep = self._key_at_cursor(table_id)
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if keep in keys:
            table.move_cursor(row=keys.index(keep))

    def _key_at_cursor(self, table_id: str) -> str | None:
        table = self.query_one(f"#{table_id}", DataTable)
        if table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        value = table.coordinate_to_cell_key((row, 0)).row_key.value  # type: ignore[arg-type]
        return str(value) if value is not None else None

    def _show_report(self) -> None:
        report = self._report()
        text = (
            panels.report_text(report, self.view.now)
            if report is not None and self.view is not None
            else Text("No reports yet. Press n to add the first one.")
        )
        self.query_one("#report-text", Static).update(text)

    def _show_outcome(self) -> None:
        if self.view is None:
            return
        child_id = self._key_at_cursor("outcome-table")
        outcome = next((o for o in self.view.outcomes if o.child.id == child_id), None)
        text = (
            panels.outcome_text(outcome)
            if outcome is not None
            else Text("No children on this case yet: add them on the case screen.")
        )
        self.query_one("#outcome-text", Static).update(text)

    @on(DataTable.RowHighlighted, "#report-table")
    def _report_highlighted(self) -> None:
        self._show_report()

    @on(DataTable.RowHighlighted, "#outcome-table")
    def _outcome_highlighted(self) -> None:
        self._show_outcome()

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        chosen: dict[str | None, Callable[[], None]] = {
            "report-table": self.action_edit_report,
            "invitee-table": self.action_record_attendance,
            "outcome-table": self.action_record_outcome,
            "plan-table": self.action_edit_plan_task,
        }
        action = chosen.get(event.data_table.id)
        if action is not None:
            action()

    # --- what is selected ----------------------------------------------------------------

    def _report(self) -> ReportView | None:
        if self.view is None:
            return None
        report_id = self._key_at_cursor("report-table")
        return self.view.report(report_id) if report_id else None

    def _need_report(self) -> ReportView | None:
        self.action_show_tab("reports")
        report = self._report()
        if report is None:
            self._say("Add a report first (n).")
        return report

    def _say(self, message: str) -> None:
        self.notify(message, markup=False)

    # --- actions -------------------------------------------------------------------------

    def _open(self, spec: FormSpec, saved: str = "Saved.") -> None:
        """Show a form; reload after it saves (the form shows refusals itself)."""
        store = self.store

        def done(result: object) -> None:
            if result is not None:
                self._say(saved)
                self.load()

        self.app.push_screen(ConferenceEditScreen(spec, clock=store.now), done)

    def action_edit_details(self) -> None:
        if self.view is not None:
            self._open(forms.details_form(self.view))

    def action_add_report(self) -> None:
        if self.view is not None:
            self.action_show_tab("reports")
            author = self.store.actor.username
            self._open(report_forms.add_report_form(self.view.id, author), "Report added.")

    def action_edit_report(self) -> None:
        report = self._need_report()
        if report is not None:
            self._open(report_forms.edit_report_form(report))

    def action_mark_shared(self) -> None:
        report = self._need_report()
        if report is None or self.view is None:
            return
        if not self.view.parents:
            self._say(
                "No adult on this case has parental responsibility. Record the parents on "
                "the case screen first."
            )
            return
        self._open(report_forms.share_form(self.view, report), "Sharing recorded.")

    def action_mark_sent_to_qau(self) -> None:
        report = self._need_report()
        if report is not None:
            self._open(report_forms.qau_form(report), "Recorded as sent to the QA Unit.")

    def action_remove_share(self) -> None:
        """Take back a sharing log line recorded by mistake: choose it (when there are
        several), confirm, remove."""
        report = self._need_report()
        if report is None:
            return
        if not report.shares:
            self._say("This report has no sharing record to remove.")
            return
        if len(report.shares) == 1:
            self._confirm_remove_share(report, report.shares[0])
            return

        def chosen(share_id: str | None) -> None:
            share = next((s for s in report.shares if s.id == share_id), None)
            if share is not None:
                self._confirm_remove_share(report, share)

        question = f"Which sharing record of '{report.title}' was recorded by mistake?"
        self.app.push_screen(ConferencePick(question, report_forms.share_choices(report)), chosen)

    def _confirm_remove_share(self, report: ReportView, share: ShareLine) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                work = report_forms.remove_share_work(share)
                self.run_store(work, self._changed("Sharing record removed."))

        question = report_forms.remove_share_question(report, share)
        self.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    def action_clear_sent_to_qau(self) -> None:
        report = self._need_report()
        if report is None:
            return
        if report.sent_to_qau_at is None:
            self._say("This report is not marked sent to the QA Unit.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                work = report_forms.clear_sent_to_qau_work(report)
                self.run_store(work, self._changed("Sent-to-QAU time cleared."))

        question = report_forms.clear_sent_to_qau_question(report)
        self.app.push_screen(ConfirmScreen(question, yes="Clear"), answered)

    def _changed(self, words: str) -> Callable[[object], None]:
        """What a unit of work run from a key does when it is done: say so, read again."""

        def done(_result: object) -> None:
            self._say(words)
            self.load()

        return done

    def action_record_redaction(self) -> None:
        report = self._need_report()
        if report is not None:
            self._open(report_forms.redaction_form(report))

    def action_invite(self) -> None:
        if self.view is not None:
            self.action_show_tab("people")
            self._open(forms.invite_form(self.view), "Invited.")

    def action_record_attendance(self) -> None:
        if self.view is None:
            return
        self.action_show_tab("people")
        invitee_id = self._key_at_cursor("invitee-table")
        invitee = next((i for i in self.view.invitees if i.id == invitee_id), None)
        if invitee is None:
            self._say("Invite someone first (i).")
            return
        if invitee.is_gp:  # the QA Unit counts the GP in its own categories
            self._open(forms.gp_form(self.view, invitee))
            return
        self._open(forms.attendance_form(invitee))

    def action_record_gp(self) -> None:
        if self.view is not None:
            self.action_show_tab("people")
            self._open(forms.gp_form(self.view))

    def action_record_outcome(self) -> None:
        if self.view is None:
            return
        self.action_show_tab("outcome")
        child_id = self._key_at_cursor("outcome-table")
        outcome = next((o for o in self.view.outcomes if o.child.id == child_id), None)
        if outcome is None:
            self._say("There are no children on this case to record an outcome for.")
            return
        self._open(forms.outcome_form(self.view, outcome, self.store.actor.username))

    def _need_families_first(self) -> bool:
        self.action_show_tab("plan")
        if self.view is None or self.view.model is not ConferenceModel.FAMILIES_FIRST:
            self._say("This is a standard conference: press e and choose Families First.")
            return False
        return True

    def action_edit_preparation(self) -> None:
        if self._need_families_first() and self.view is not None:
            self._open(forms.preparation_form(self.view))

    def action_add_plan_task(self) -> None:
        if self._need_families_first() and self.view is not None:
            self._open(forms.plan_task_form(self.view.id, None), "Task added.")

    def _selected_task(self) -> PlanTaskView | None:
        if self.view is None:
            return None
        task_id = self._key_at_cursor("plan-table")
        task = next((t for t in self.view.plan_tasks if t.id == task_id), None)
        if task is None:
            self._say("Add a family plan task first (t).")
        return task

    def action_edit_plan_task(self) -> None:
        if self._need_families_first():
            task = self._selected_task()
            if task is not None:
                self._open(forms.plan_task_form(self.conference_id, task))

    def action_toggle_task_done(self) -> None:
        if not self._need_families_first():
            return
        task = self._selected_task()
        if task is not None:
            words = "Marked open again." if task.done else "Marked done."
            self.run_store(forms.toggle_done(task), self._changed(words))

    def action_export_qau_pack(self) -> None:
        from sofs_tui.screens.export_dialog import qau_pack_dialog

        self.app.push_screen(qau_pack_dialog(self.conference_id, self.sofs.settings.council))

    def action_export_parent_summary(self) -> None:
        from sofs_tui.screens.export_dialog import parent_summary_dialog

        if self.view is not None:
            rules = self.sofs.settings.council
            dialog = parent_summary_dialog(None, rules, case_reference=self.view.case_reference)
            self.app.push_screen(dialog)

    def action_show_tab(self, tab: str) -> None:
        if tab not in TABS:
            return
        self.query_one(TabbedContent).active = f"tab-{tab}"
        tables = self.query_one(f"#tab-{tab}", TabPane).query(DataTable)
        if tables:
            tables.first().focus()

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
