"""Modal forms: labelled fields with inline messages, saved in a worker, text kept on failure.

A form checks its fields as the worker types (hidden control characters, dates it cannot
read) and says what is wrong under the field. Saving runs the store's unit of work off the
event loop; the form closes with the result only after the commit, and a refused save keeps
everything typed on screen with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select
from textual.worker import get_current_worker

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.text import validate_free_text
from sofs_tui.domain.when import parse_day, parse_when
from sofs_tui.paths import STYLES
from sofs_tui.screens.unsaved import RemembersOpenedValues
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.store.store import Store

R = TypeVar("R")


def parse_date(text: str, today: date) -> date | None:
    """A date as people type it (2026-12-01, 01/12/2026, today…); blank is None.

    Raises ValueError with the message to show under the field.
    """
    return parse_day(text, today) if text.strip() else None


class FormScreen(RemembersOpenedValues, ModalScreen[R | None], Generic[R]):
    """A modal form. Subclasses yield their fields from `fields()` (with the helpers below),
    check them in `problems()`, and return the unit of work to run from `work()`."""

    CSS_PATH = STYLES / "forms.tcss"
    ALLOW_SELECT = False  # case data: no selection to the clipboard (SECURITY R15)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
    ]
    HELP: ClassVar[str] = (
        "**Form.** Tab moves between fields; Enter or ctrl+s saves; Escape closes without "
        "saving. A message under a field says what to change. ctrl+q asks before quitting "
        "while the form holds changes not saved."
    )
    FORM_TITLE: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._limits: dict[str, int] = {}
        self._dates: set[str] = set()
        self._moments: set[str] = set()
        self._required: dict[str, str] = {}
        self.saving = False

    # --- building ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield PlainText(self.title_text(), id="form-title", multiline=False)
            with VerticalScroll(id="form-fields"):
                yield from self.fields()
            yield PlainText("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="form-save", variant="primary", compact=True)
                yield Button("Cancel", id="form-cancel", compact=True)

    def on_mount(self) -> None:
        # Textual runs every class's on_mount along the MRO, a subclass's first (and each
        # field's own before the screen's): the fields hold what the form opened with.
        self.remember_opened_values()

    def title_text(self) -> str:
        return self.FORM_TITLE

    def form_title(self) -> str:
        return self.title_text()

    def form_saving(self) -> bool:
        return self.saving

    def fields(self) -> Iterable[Widget]:
        raise NotImplementedError

    def row(self, label: str, widget: Widget, *, classes: str = "") -> Vertical:
        """A labelled field with the line for its message under it."""
        message = PlainText("", id=f"{widget.id}-msg", classes="field-msg", multiline=False)
        return Vertical(
            Horizontal(Label(label, classes="field-label", markup=False), widget, classes="line"),
            message,
            classes=f"field {classes}".strip(),
        )

    def text_field(
        self,
        label: str,
        field_id: str,
        value: str = "",
        *,
        max_length: int = 200,
        placeholder: str = "",
        required: str = "",
        classes: str = "",
    ) -> Vertical:
        """A one-line free-text field; `required` is the message when it is left blank."""
        # A paste has its control characters left out before it reaches the field (and the
        # terminal); the validator still flags any that get in another way.
        field = GuardedInput(value, placeholder=placeholder, max_length=max_length, id=field_id)
        field.compact = True
        self._limits[field_id] = max_length
        if required:
            self._required[field_id] = required
        return self.row(label, field, classes=classes)

    def date_field(
        self, label: str, field_id: str, value: date | None = None, *, classes: str = ""
    ) -> Vertical:
        field = GuardedInput(
            value.isoformat() if value else "", placeholder="2026-12-01", max_length=40, id=field_id
        )
        field.compact = True
        self._dates.add(field_id)
        return self.row(label, field, classes=classes)

    def when_field(
        self, label: str, field_id: str, value: str = "", *, required: str = ""
    ) -> Vertical:
        field = GuardedInput(
            value, placeholder="2026-12-01 10:00 or tomorrow 10:00", max_length=40, id=field_id
        )
        field.compact = True
        self._moments.add(field_id)
        if required:
            self._required[field_id] = required
        return self.row(label, field)

    # --- reading -------------------------------------------------------------------------

    def text(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def now(self) -> datetime:
        """The store's clock (tests move it), or the real one before the store is open."""
        store = getattr(self.app, "store", None)
        return store.now() if store is not None else datetime.now(UTC)

    def date_value(self, field_id: str) -> date | None:
        today = self.now().astimezone(COUNCIL_TZ).date()
        return parse_date(self.query_one(f"#{field_id}", Input).value, today)

    def moment(self, field_id: str) -> datetime:
        """The moment typed in council local time, aware."""
        return parse_when(self.query_one(f"#{field_id}", Input).value, self.now())

    def checked(self, field_id: str) -> bool:
        return self.query_one(f"#{field_id}", Checkbox).value

    def chosen(self, field_id: str) -> Any:
        return self.query_one(f"#{field_id}", Select).value

    def field_problem(self, field_id: str) -> str | None:
        """What is wrong with one field as typed, or None."""
        raw = self.query_one(f"#{field_id}", Input).value
        if field_id in self._required and not raw.strip():
            return self._required[field_id]
        if field_id in self._limits:
            return validate_free_text(raw, max_length=self._limits[field_id], multiline=False)
        try:
            if field_id in self._dates:
                self.date_value(field_id)
            elif field_id in self._moments and raw.strip():
                self.moment(field_id)
        except ValueError as exc:
            return str(exc)
        return None

    def active_fields(self) -> list[str]:
        """The fields that count for the current choices (hidden ones are not checked)."""
        return [*self._limits, *self._dates, *self._moments]

    def problems(self) -> dict[str, str]:
        """Field id → message, for every active field that cannot be saved as it is."""
        found = {}
        for field_id in self.active_fields():
            problem = self.field_problem(field_id)
            if problem:
                found[field_id] = problem
        return found

    def work(self) -> Callable[[Store], R]:
        raise NotImplementedError

    # --- reacting ------------------------------------------------------------------------

    def show_problem(self, field_id: str, problem: str | None) -> None:
        message = self.query_one(f"#{field_id}-msg", PlainText)
        message.show(problem or "")
        message.set_class(bool(problem), "-shown")

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id
        if field_id and (field_id in self._limits or field_id in self._dates | self._moments):
            problem = self.field_problem(field_id)
            # A blank required field is only pointed out on saving, not while typing.
            if problem and field_id in self._required and not event.value.strip():
                problem = None
            self.show_problem(field_id, problem)

    @on(GuardedInput.Refused)
    def _paste_refused(self, event: GuardedInput.Refused) -> None:
        """What a paste left out, said under the field (the rest of the paste was kept)."""
        event.stop()
        if event.field.id:
            self.show_problem(event.field.id, event.problem)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)

    def action_save(self) -> None:
        if self.saving:
            return
        problems = self.problems()
        for field_id in self.active_fields():
            self.show_problem(field_id, problems.get(field_id))
        if problems:
            self.query_one("#form-error", PlainText).show("Not saved: see the messages above.")
            self.query_one(f"#{next(iter(problems))}").focus()
            return
        self.saving = True
        self.query_one("#form-error", PlainText).show("Saving…")
        self._run(self.work())

    def _run(self, work: Callable[[Store], R]) -> None:
        from sofs_tui.app import SofsApp

        app = self.app
        assert isinstance(app, SofsApp)

        def task() -> None:
            try:
                result = work(app.require_store())
            except Exception as exc:  # shown in the form; the typed text stays
                if not get_current_worker().is_cancelled:
                    app.call_from_thread(self._failed, exc)
                return
            app.call_from_thread(self.dismiss, result)

        self.run_worker(task, thread=True, group="store", exit_on_error=False)

    def _failed(self, exc: Exception) -> None:
        from sofs_tui.app import SofsApp
        from sofs_tui.store.errors import StoreError

        self.saving = False
        error = self.query_one("#form-error", PlainText)
        if isinstance(exc, StoreError):
            error.show(f"Not saved. {exc.user_message}")
        else:
            app = self.app
            incident = app.report_incident(exc) if isinstance(app, SofsApp) else "?"
            error.show(f"Not saved (incident {incident}). What you typed is still here.")
