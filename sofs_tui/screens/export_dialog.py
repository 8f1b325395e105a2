"""Export a document from the app into a folder, as `sofs export` does: the summary for the
family (plain text, HTML, PDF) from the mapping, the QA Unit pack (HTML, PDF, CSV) from the
conference.

The dialog asks for a format and a folder (the user's Documents folder if there is one, else
home), makes the document in a worker and writes a new file readable by its owner only (never
over an existing one). An entry whose audience nobody has decided stops the summary: the
dialog lists what to decide and writes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet
from textual.worker import get_current_worker

from sofs_tui.exports.document import ExportError
from sofs_tui.paths import STYLES
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.config import CouncilRules
    from sofs_tui.store.store import Store

FORMAT_WORDS = {
    "text": "Plain text",
    "html": "HTML (opens in a browser, prints well)",
    "pdf": "PDF",
    "csv": "CSV (one row per report and parent, for a spreadsheet)",
}
EXTENSIONS = {"text": ".txt", "html": ".html", "pdf": ".pdf", "csv": ".csv"}
MAX_PATH = 1000
_MOST_NUMBERED = 999


@dataclass(frozen=True)
class Exported:
    """A document's bytes and the name its file starts with (no extension)."""

    data: bytes
    stem: str


#: Makes the document from the store, in the chosen format (runs in a thread worker).
Maker = Callable[["Store", str], Exported]


def default_export_folder() -> Path:
    """The user's Documents folder when it exists, else the home folder."""
    from platformdirs import user_documents_dir

    documents = Path(user_documents_dir())
    return documents if documents.is_dir() else Path.home()


def typed_path(text: str) -> Path:
    """A path as typed: `~` is the home folder, and a relative path is taken from there (the
    folder sofs was started in means nothing to the person at the keyboard)."""
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else Path.home() / path


def file_safe(text: str) -> str:
    """A case reference as part of a file name: letters, digits, dot, dash, underscore."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "case"


def write_private_new(folder: Path, stem: str, extension: str, data: bytes) -> Path:
    """Write `data` to a new file in `folder` readable by its owner only (it holds case
    information, as the CLI's files do). An existing file is never replaced: the name gets
    -2, -3… instead. A failed write leaves no part-file behind."""
    for number in range(1, _MOST_NUMBERED + 1):
        path = folder / f"{stem}{'' if number == 1 else f'-{number}'}{extension}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"Could not write in {folder} ({exc.strerror}).") from None
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise ExportError(f"Could not write {path} ({exc.strerror}).") from None
        return path
    raise ExportError(f"There are already {_MOST_NUMBERED} files named {stem} in {folder}.")


class FormatButton(RadioButton):
    """A format to choose: the chosen one is marked ● and the others ○, not by colour alone."""

    def __init__(self, label: str, *, value: bool, id: str) -> None:
        super().__init__(label, value=value, id=id)
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "●" if self.value else "○"

    def watch_value(self) -> None:
        self._mark()
        super().watch_value()


class ExportDialog(ModalScreen[Path | None]):
    """Choose a format and a folder; the document is made and written in a worker, and the
    dialog closes saying where the file is. Problems are shown here and nothing is written."""

    CSS_PATH = STYLES / "export_dialog.tcss"
    ALLOW_SELECT = False
    HELP: ClassVar[str] = (
        "**Export.** Choose the format with the arrow keys and Enter, Tab to the folder "
        "(~ is your home folder), then Enter or ctrl+s writes a new file there, readable only "
        "by you. Escape closes without writing anything."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export_dialog.cancel"),
        Binding("ctrl+s", "export", "Export", id="export_dialog.export"),
    ]

    def __init__(
        self,
        title: str,
        what: str,
        formats: Sequence[str],
        make: Maker,
        *,
        note: str = "",
        folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.title_words = title
        self.what = what
        self.formats = tuple(formats)
        self.make = make
        self.note = note
        self.folder = folder
        self.busy = False

    def compose(self) -> ComposeResult:
        folder = self.folder or default_export_folder()
        with Vertical(id="export-box"):
            yield PlainText(self.title_words, id="export-title", multiline=False)
            if self.note:
                yield PlainText(self.note, id="export-note")
            yield Label("Format", classes="export-label")
            with RadioSet(id="export-format"):
                for index, fmt in enumerate(self.formats):
                    yield FormatButton(FORMAT_WORDS[fmt], value=index == 0, id=f"format-{fmt}")
            yield Label("Folder", classes="export-label")
            field = GuardedInput(str(folder), max_length=MAX_PATH, id="export-folder")
            field.compact = True
            yield field
            with VerticalScroll(id="export-problems"):
                yield PlainText("", id="export-message")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-go", variant="primary", compact=True)
                yield Button("Cancel", id="export-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()

    @property
    def message(self) -> str:
        """What the dialog says under the fields (plain text)."""
        return str(self.query_one("#export-message", PlainText).render())

    def chosen_format(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return self.formats[0]
        return pressed.id.removeprefix("format-")

    def _say(self, text: str, *, problem: bool = True) -> None:
        self.query_one("#export-message", PlainText).show(text)
        self.query_one("#export-problems").set_class(problem and bool(text), "-problem")

    @on(GuardedInput.Refused)
    def _paste_refused(self, event: GuardedInput.Refused) -> None:
        event.stop()
        self._say(event.problem)

    @on(Input.Submitted, "#export-folder")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def action_export(self) -> None:
        if self.busy:
            return
        field = self.query_one("#export-folder", GuardedInput)
        problem = field.problem()
        if problem:
            self._say(problem)
            return
        if not field.value.strip():
            self._say("Type the folder to save the file in.")
            return
        folder = typed_path(field.value)
        if not folder.is_dir():
            self._say(f"There is no folder at {folder}. Check the path, or create it first.")
            return
        self.busy = True
        self._say(f"Making the {self.what}…", problem=False)
        self._run(self.chosen_format(), folder)

    def _run(self, fmt: str, folder: Path) -> None:
        from sofs_tui.app import SofsApp

        app = self.app
        assert isinstance(app, SofsApp)
        make = self.make

        def task() -> None:
            try:
                exported = make(app.require_store(), fmt)
                path = write_private_new(folder, exported.stem, EXTENSIONS[fmt], exported.data)
            except Exception as exc:  # shown in the dialog; nothing was written
                if not get_current_worker().is_cancelled:
                    app.call_from_thread(self._refused, exc)
                return
            app.call_from_thread(self._written, path)

        self.run_worker(task, thread=True, group="store", exit_on_error=False)

    def _written(self, path: Path) -> None:
        self.app.notify(f"Saved the {self.what} to {path}", markup=False, timeout=15)
        self.dismiss(path)

    def _refused(self, exc: Exception) -> None:
        from sofs_tui.app import SofsApp
        from sofs_tui.store.errors import StoreError

        self.busy = False
        if isinstance(exc, ExportError | StoreError):
            self._say(f"Nothing was written. {exc.user_message}")
            return
        app = self.app
        incident = app.report_incident(exc) if isinstance(app, SofsApp) else "?"
        self._say(f"Nothing was written (incident {incident}).")


# --- the two documents ---------------------------------------------------------------------------


def parent_summary_dialog(
    assessment_id: str | None,
    rules: CouncilRules,
    *,
    case_reference: str | None = None,
    folder: Path | None = None,
) -> ExportDialog:
    """The summary for the family of this assessment, or of the case's current one (the latest
    signed off, else the latest draft): plain text, HTML or PDF."""

    def make(store: Store, fmt: str) -> Exported:
        from sofs_tui.exports.document import local_day
        from sofs_tui.exports.parent_summary import build_parent_summary
        from sofs_tui.exports.render import render
        from sofs_tui.store.export_views import parent_summary_source

        source = parent_summary_source(
            store, assessment_id=assessment_id, case_reference=case_reference
        )
        now = store.now()
        data = render(build_parent_summary(source, rules, now), fmt, now)
        stem = f"summary-for-family-{file_safe(source.case_reference)}-{local_day(now)}"
        return Exported(data, stem)

    return ExportDialog(
        "Export the summary for the family",
        "summary for the family",
        ("text", "html", "pdf"),
        make,
        note="Entries marked not for the family are left out; every entry must be marked "
        "one way or the other first.",
        folder=folder,
    )


def qau_pack_dialog(
    conference_id: str, rules: CouncilRules, *, folder: Path | None = None
) -> ExportDialog:
    """The QA Unit pack of this conference: HTML, PDF or CSV."""

    def make(store: Store, fmt: str) -> Exported:
        from sofs_tui.domain.calendar import default_calendar
        from sofs_tui.exports.document import local_day
        from sofs_tui.exports.qau_pack import build_qau_pack, qau_pack_csv
        from sofs_tui.exports.render import render
        from sofs_tui.store.export_views import qau_pack_source

        pack = qau_pack_source(store, conference_id)
        now = store.now()
        if fmt == "csv":
            data = qau_pack_csv(pack, rules, default_calendar(), now).encode("utf-8")
        else:
            data = render(build_qau_pack(pack, rules, default_calendar(), now), fmt, now)
        stem = f"qau-pack-{file_safe(pack.case_reference)}-{local_day(pack.starts_at)}"
        return Exported(data, stem)

    return ExportDialog(
        "Export the QA Unit pack",
        "QA Unit pack",
        ("html", "pdf", "csv"),
        make,
        note="Every report with its author, agency, sharing log and deadlines, the "
        "redactions, and the GP's invitation and outcome.",
        folder=folder,
    )
