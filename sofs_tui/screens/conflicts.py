"""The conflicts: the same record changed in two places, both versions kept until a person
chooses (SYNC.md "conflicts"; never dismissed automatically).

Each row (two lines, to fit 80 columns) says which case and record it is, what it holds, and
the two sides honestly:
"theirs" is the version the service kept (with its revision and the service's time);
"mine" is the change that met it, with its author and the time on its author's computer.
When that change came from another device the row says so (`mine_is_local` false), so a
worker never takes a colleague's words for their own. Enter opens one to resolve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.text import clean_text
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.sync.entities import ENTITIES
from sofs_tui.widgets.case_table import CaseTable
from sofs_tui.widgets.deadline import when
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import safe_text
from sofs_tui.widgets.sync_status import SyncView

if TYPE_CHECKING:
    from sofs_tui.store.store import Store
    from sofs_tui.store.sync_local import ConflictView

ENTITY_LABELS = {
    "case": "Case details",
    "person": "Person",
    "assessment": "Mapping details",
    "entry": "Mapping entry",
    "score": "Score",
    "child_voice": "Child's words",
    "conference": "Conference",
    "attendee": "Attendee",
    "family_plan_item": "Plan item",
    "child_outcome": "Child's outcome",
    "report": "Report",
    "report_share": "Report sharing",
}
COLUMNS = ("Case", "What", "Theirs / mine")
RESOLVING = "… resolving"
OPEN = "⚠ to choose"
SENT_AT_NEXT_SYNC = (
    "Your choice is sent at the next sync; until then the conflict shows as resolving."
)


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity.replace("_", " ").capitalize())


def text_fields(entity: str) -> list[str]:
    """The entity's free-text fields (multi-line first), in the protocol's order."""
    spec = ENTITIES.get(entity)
    if spec is None:
        return []
    fields = spec.fields.items()
    return [n for n, f in fields if f.kind == "text"] + [n for n, f in fields if f.kind == "line"]


def headline(conflict: ConflictView, limit: int = 60) -> str:
    """A few words to recognise the record by: its first text the two sides hold."""
    for name in text_fields(conflict.entity):
        for side in (conflict.theirs, conflict.mine):
            value = side.get(name)
            if isinstance(value, str) and value.strip():
                text = " ".join(clean_text(value).split())
                return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return "(no text)"


def theirs_label(conflict: ConflictView) -> str:
    rev = f"revision {conflict.theirs_rev}" if conflict.theirs_rev else "its latest version"
    return f"The version the service kept ({rev})"


def mine_label(conflict: ConflictView) -> str:
    """Whose change met the service's version, in words that never claim a colleague's."""
    if conflict.mine_is_local:
        who = f" ({clean_text(conflict.author, multiline=False)})" if conflict.author else ""
        return f"Your change on this computer{who}"
    author = clean_text(conflict.author, multiline=False) or "someone"
    return f"{author}'s change, from another device"


def theirs_time(conflict: ConflictView) -> str:
    return f"on the service at {when(conflict.detected_at)} (service clock)"


def mine_time(conflict: ConflictView) -> str:
    whose = "this computer's" if conflict.mine_is_local else "their computer's"
    return f"written {when(conflict.client_time)} ({whose} clock)"


def short_when(moment: datetime | None) -> str:
    """'25 Nov 09:30' in the council's time zone (the list is narrow; the detail says more)."""
    return moment.astimezone(COUNCIL_TZ).strftime("%d %b %H:%M") if moment else "-"


def conflict_row(conflict: ConflictView, reference: str) -> list[Text]:
    """Two lines per conflict, so it fits 80 columns: what it is, then whose versions."""
    if conflict.resolution_pending:
        state = Text(f"{RESOLVING} · {entity_label(conflict.entity)}")
    else:
        state = Text(f"{OPEN} · {entity_label(conflict.entity)}", style="bold")
    rev = f"rev {conflict.theirs_rev}" if conflict.theirs_rev else "latest"
    theirs = f"service, {rev}, {short_when(conflict.detected_at)}"
    if conflict.mine_is_local:
        mine = Text.assemble("you (", safe_text(conflict.author), ")")
    else:
        mine = Text.assemble(safe_text(conflict.author or "someone"), ", other device")
    return [
        safe_text(reference or "-"),
        Text.assemble(state, "\n", safe_text(headline(conflict, 30))),
        Text.assemble(theirs, "\n", mine, f", {short_when(conflict.client_time)}"),
    ]


@dataclass(frozen=True)
class ConflictList:
    conflicts: list[ConflictView]
    references: dict[str, str]
    at: datetime


class ConflictsScreen(StoreScreen):
    """Every open conflict on this computer; Enter opens one."""

    CSS_PATH = STYLES / "conflicts.tcss"
    AUTO_FOCUS = "#conflict-table"
    PALETTE_GROUP = "conflicts"
    HELP: ClassVar[str] = (
        "## Conflicts\n\nThe same record was changed in two places before either change "
        "reached the other. Both versions are kept until you choose: nothing was lost.\n\n"
        "- **Enter** open a conflict: see both versions, then keep theirs, keep mine, keep "
        "both or write a merged version\n"
        "- **F5** refresh · **Escape** back\n\n"
        f"⚠ to choose: waiting for you. … resolving: {SENT_AT_NEXT_SYNC}"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="conflicts.back"),
        Binding("f5", "refresh", "Refresh", id="conflicts.refresh"),
    ]

    def __init__(self, case_id: str | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.conflicts: list[ConflictView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Changed in two places: choose which version to keep. Nothing is lost meanwhile.",
            id="conflict-intro",
            markup=False,
        )
        yield Static("Reading conflicts…", id="conflict-status", markup=False)
        yield CaseTable(id="conflict-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#conflict-table", DataTable).add_columns(*COLUMNS)
        if hasattr(type(self.app), "sync_view"):
            self.watch(self.app, "sync_view", self._sync_changed, init=False)

    def on_screen_resume(self) -> None:
        self.reload()

    def _sync_changed(self, view: SyncView) -> None:
        # A sync brought or closed conflicts: show the list as it now is.
        if self.is_current and len(self.conflicts) != view.conflicts:
            self.reload()

    def reload(self) -> None:
        case_id = self.case_id

        def read(store: Store) -> ConflictList:
            from sofs_tui.store import sync_local

            found = sync_local.list_conflicts(store, status="open", case_id=case_id)
            refs = sync_local.case_references(store, sorted({c.case_id for c in found}))
            return ConflictList(found, refs, store.now())

        self.run_store(read, self._show, description="conflicts")

    def _show(self, loaded: ConflictList) -> None:
        self.conflicts = loaded.conflicts
        table = self.query_one("#conflict-table", DataTable)
        keep = self._selected_id()
        table.clear()
        for conflict in loaded.conflicts:
            reference = loaded.references.get(conflict.case_id, "")
            table.add_row(*conflict_row(conflict, reference), key=conflict.conflict_id, height=2)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        total = len(loaded.conflicts)
        resolving = sum(1 for c in loaded.conflicts if c.resolution_pending)
        if not total:
            status = "No conflicts: every change agrees with the service."
        else:
            status = f"{total} conflict{'s' if total != 1 else ''}"
            if resolving:
                status += f" · {resolving} resolving (sent at the next sync)"
        self.query_one("#conflict-status", Static).update(status)

    def _selected_id(self) -> str | None:
        table = self.query_one("#conflict-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    @on(DataTable.RowSelected, "#conflict-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_conflict(str(event.row_key.value))

    def open_conflict(self, conflict_id: str) -> None:
        from sofs_tui.screens.conflict_resolve import ConflictResolveScreen

        self.app.push_screen(ConflictResolveScreen(conflict_id))

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
