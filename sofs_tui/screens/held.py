"""For managers: the changes the service stored but did not apply in their teams' cases.

A worker's change to a case that was moved to someone else while they were offline is kept by
the service, not applied (SYNC.md, scope), and so is a change waiting for an earlier one. Only
a manager can see and settle them, so this screen asks the service for its list when opened
(GET /sync/v1/held): nothing of it is kept on this computer. Each row says when the change
arrived, who wrote it, which case, what it is and why it waits; the highlighted change's words
are shown below as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from sofs_tui.domain.text import clean_text
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.conflicts import entity_label, short_when, text_fields
from sofs_tui.widgets.case_table import CaseTable
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.sync.protocol import HeldChange

COLUMNS = ("Arrived", "From", "Case", "What", "Why it waits")
OPERATIONS = {"create": "new", "update": "change", "delete": "removal"}
#: The service's reasons (server/decide.py, apply.py), in a manager's words.
REASONS = {
    "out_of_scope": "the case had moved to someone else",
    "dependency": "waits for an earlier change",
    "gap": "waits for earlier changes from that computer",
    "schema": "sent by an older version of sofs",
    "processing": "the service could not process it (IT has been told)",
}
ONLY_MANAGERS = "Only managers see the changes waiting in their teams' cases."


def reason_words(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " ") or "waiting")


def what_words(change: HeldChange) -> str:
    return f"{entity_label(change.entity)}, {OPERATIONS.get(change.op, change.op)}"


def change_text(change: HeldChange) -> str:
    """The change's words, field by field, cleaned (they are a colleague's free text)."""
    lines = []
    for name in text_fields(change.entity):
        value = change.fields.get(name)
        if isinstance(value, str) and value.strip():
            label = name.replace("_", " ").capitalize()
            lines.append(f"{label}: {clean_text(value)}")
    return "\n".join(lines) or "(no text in this change)"


@dataclass(frozen=True)
class HeldList:
    changes: list[HeldChange]
    references: dict[str, str]


class HeldScreen(StoreScreen):
    """The service's queue of stored, unapplied changes in the manager's teams."""

    CSS_PATH = STYLES / "held.tcss"
    AUTO_FOCUS = "#held-table"
    PALETTE_GROUP = "held"
    HELP: ClassVar[str] = (
        "## Changes waiting for a manager\n\n"
        "Changes the service kept but did not apply: most often a worker's change to a case "
        "that was moved to someone else while they were offline. Nothing was lost: the "
        "service keeps every one. The list is read from the service when you open it.\n\n"
        "- **↑ ↓** choose a change: its words are shown below the list\n"
        "- **F5** read the list again · **Escape** back"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="held.back"),
        Binding("f5", "refresh", "Refresh", id="held.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[HeldChange] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Asking the service…", id="held-status", markup=False)
        yield CaseTable(id="held-table")
        yield Static("", id="held-text", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#held-table", DataTable).add_columns(*COLUMNS)
        self.reload()

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @work(group="held", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        import asyncio

        from sofs_tui.store import sync_local
        from sofs_tui.store.errors import StoreError
        from sofs_tui.sync.client import Forbidden, SyncError

        self._say("Asking the service…")
        try:
            answer = await self.sofs.background_sync.held_changes()
            ids = sorted({c.case_id for c in answer.items if c.case_id})
            references = await asyncio.to_thread(sync_local.case_references, self.store, ids)
        except Forbidden:
            self._say(ONLY_MANAGERS)
            return
        except (SyncError, StoreError) as exc:
            self._say(f"The list could not be read. {exc.user_message}")
            return
        self._show(HeldList(answer.items, references))

    def _say(self, words: str) -> None:
        self.query_one("#held-status", Static).update(words)

    def _show(self, loaded: HeldList) -> None:
        self.changes = loaded.changes
        table = self.query_one("#held-table", DataTable)
        table.clear()
        for change in loaded.changes:
            reference = loaded.references.get(change.case_id or "", "")
            table.add_row(
                Text(short_when(change.received_at)),
                safe_text(change.author),
                safe_text(reference or "not on this computer"),
                Text(what_words(change)),
                Text(reason_words(change.reason)),
                key=str(change.change_id),
            )
        total = len(loaded.changes)
        if total:
            self._say(f"{total} change{'s' if total != 1 else ''} waiting. Nothing was lost.")
        else:
            self._say("No changes are waiting in your teams' cases.")
        self._describe(0 if total else None)

    def _describe(self, row: int | None) -> None:
        words = change_text(self.changes[row]) if row is not None else ""
        self.query_one("#held-text", Static).update(Text(words))

    @on(DataTable.RowHighlighted, "#held-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.changes):
            self._describe(event.cursor_row)
