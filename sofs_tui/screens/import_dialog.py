"""Import a QA Unit conference log (CSV) from the app, as `sofs import conferences` does.

Every row is checked before anything is stored: a file with a bad row imports nothing, and
the dialog lists each problem by row and column (the file name stays in the field to try
again). On success it closes with the import's summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input
from textual.worker import get_current_worker

from sofs_tui.paths import STYLES
from sofs_tui.screens.export_dialog import typed_path
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.exports.import_conferences import ImportSummary  # noqa: F401 (the result)

MAX_PATH = 1000
INTRO = (
    "A CSV with the columns conference_id, date, kind, gp_invited, gp_outcome (and, if you "
    "have them, report_agency, report_shared_at, report_sent_to_qau_at). See the README, "
    '"Importing QA Unit logs".'
)


def rejection_text(exc: Exception) -> str:
    """Why nothing was imported, every problem on its own line with its row and column."""
    from sofs_tui.exports.import_conferences import ImportRejected

    if isinstance(exc, ImportRejected):
        lines = [f"- {problem}" for problem in exc.problems]
        return "Nothing was imported. Fix these rows, then import the whole file again:\n" + (
            "\n".join(lines)
        )
    return str(getattr(exc, "user_message", exc))


class ImportDialog(ModalScreen["ImportSummary | None"]):
    """Asks for the CSV file, imports it in a worker, and lists the problems if it is refused."""

    CSS_PATH = STYLES / "import_dialog.tcss"
    ALLOW_SELECT = False
    HELP: ClassVar[str] = (
        "**Import a QA Unit log.** Type the path of the CSV file (~ is your home folder) and "
        "press Enter or ctrl+s. If any row is wrong nothing is imported, and each problem is "
        "listed with its row and column. Escape closes without importing."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="import_dialog.cancel"),
        Binding("ctrl+s", "import_file", "Import", id="import_dialog.import_file"),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._initial = path
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="import-box"):
            yield PlainText("Import a QA Unit conference log", id="import-title", multiline=False)
            yield PlainText(INTRO, id="import-intro")
            field = GuardedInput(
                self._initial,
                placeholder="~/Documents/qau_log.csv",
                max_length=MAX_PATH,
                id="import-path",
            )
            field.compact = True
            yield field
            with VerticalScroll(id="import-problems"):
                yield PlainText("", id="import-message")
            with Horizontal(id="import-buttons"):
                yield Button("Import", id="import-go", variant="primary", compact=True)
                yield Button("Cancel", id="import-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    @property
    def message(self) -> str:
        """What the dialog says under the field (plain text)."""
        return str(self.query_one("#import-message", PlainText).render())

    def _say(self, text: str, *, problem: bool = True) -> None:
        self.query_one("#import-message", PlainText).show(text)
        self.query_one("#import-problems").set_class(problem and bool(text), "-problem")

    @on(GuardedInput.Refused)
    def _paste_refused(self, event: GuardedInput.Refused) -> None:
        event.stop()
        self._say(event.problem)

    @on(Input.Submitted, "#import-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_import_file()

    @on(Button.Pressed, "#import-go")
    def _go(self) -> None:
        self.action_import_file()

    @on(Button.Pressed, "#import-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def action_import_file(self) -> None:
        if self.busy:
            return
        field = self.query_one("#import-path", GuardedInput)
        problem = field.problem()
        if problem:
            self._say(problem)
            return
        if not field.value.strip():
            self._say("Type the path of the CSV file to import.")
            return
        path = typed_path(field.value)
        if not path.is_file():
            self._say(f"There is no file at {path}. Check the folder and the name.")
            return
        self.busy = True
        self._say(f"Checking every row of {path.name}…", problem=False)
        self._run(path)

    def _run(self, path: Path) -> None:
        from sofs_tui.app import SofsApp

        app = self.app
        assert isinstance(app, SofsApp)

        def task() -> None:
            from sofs_tui.exports.import_conferences import import_conferences

            try:
                summary = import_conferences(app.require_store(), path)
            except Exception as exc:  # shown in the dialog; the path stays in the field
                if not get_current_worker().is_cancelled:
                    app.call_from_thread(self._refused, exc)
                return
            app.call_from_thread(self.dismiss, summary)

        self.run_worker(task, thread=True, group="store", exit_on_error=False)

    def _refused(self, exc: Exception) -> None:
        from sofs_tui.app import SofsApp
        from sofs_tui.exports.document import ExportError
        from sofs_tui.store.errors import StoreError

        self.busy = False
        if isinstance(exc, ExportError | StoreError):
            self._say(rejection_text(exc))
            return
        app = self.app
        incident = app.report_incident(exc) if isinstance(app, SofsApp) else "?"
        self._say(f"Nothing was imported (incident {incident}).")
