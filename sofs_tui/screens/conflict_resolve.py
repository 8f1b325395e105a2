"""One conflict: both versions with who wrote them and when, and the four ways to settle it.

Keep theirs, Keep mine, Keep both (list items only: the other text becomes a new item) and
Edit merged (the person writes the text; a word-by-word diff is shown beside it as a
suggestion only, nothing is merged for them). Each choice is an ordinary saved change that
goes at the next sync; until the service applies it the conflict shows as resolving.
At 80×24 the versions are stacked; from 120 columns they sit side by side.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Header, Static

from sofs_tui.domain.text import clean_text, validate_free_text
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.conflicts import (
    SENT_AT_NEXT_SYNC,
    entity_label,
    headline,
    mine_label,
    mine_time,
    text_fields,
    theirs_label,
    theirs_time,
)
from sofs_tui.store.sync_conflicts import KEEP_BOTH_ENTITIES
from sofs_tui.sync.entities import ENTITIES, MAX_LINE, MAX_TEXT
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import PlainText, safe_content
from sofs_tui.widgets.text_area_field import TextAreaField

if TYPE_CHECKING:
    from sofs_tui.store.store import Store
    from sofs_tui.store.sync_local import ConflictView

WIDE = 120
_TOKENS = re.compile(r"\s+|\S+")
_CHOICE_ACTIONS = frozenset({"keep_theirs", "keep_mine", "keep_both", "edit_merged"})


def shown_value(entity: str, name: str, value: Any) -> str:
    """A field's value in words: yes/no, "-" for nothing, enum values without underscores."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if name in text_fields(entity) else text.replace("_", " ")


#: Fields that order or link records: not words a person compares.
_TECHNICAL = frozenset({"position"})


def shown_fields(entity: str, theirs: dict[str, Any], mine: dict[str, Any]) -> list[str]:
    """The fields worth showing, in the protocol's order (no ids, no ordering keys)."""
    spec = ENTITIES.get(entity)
    if spec is None:
        return sorted((set(theirs) | set(mine)) - {"deleted"})
    return [
        name
        for name, field in spec.fields.items()
        if field.kind != "id" and name not in _TECHNICAL and (name in theirs or name in mine)
    ]


def _field_line(entity: str, name: str, value: Any, *, differs: bool) -> Content:
    label = name.replace("_", " ").capitalize()
    return Content.assemble(
        ("≠ " if differs else "", "bold"),
        (f"{label}: ", "bold"),
        safe_content(shown_value(entity, name, value)),
    )


def version_content(entity: str, side: dict[str, Any], other: dict[str, Any]) -> Content:
    """What this version says where the two differ ("≠"); the rest is shown once, apart."""
    if side.get("deleted"):
        return Content("✗ This version deletes the record.")
    lines = [
        _field_line(entity, name, side.get(name), differs=True)
        for name in shown_fields(entity, side, other)
        if side.get(name) != other.get(name)
    ]
    return Content("\n").join(lines) if lines else Content("(the same as the other version)")


def same_in_both(entity: str, theirs: dict[str, Any], mine: dict[str, Any]) -> Content:
    """'Same in both: Section: danger statement · Agreement: not asked …'."""
    same = [
        f"{name.replace('_', ' ').capitalize()}: {shown_value(entity, name, theirs.get(name))}"
        for name in shown_fields(entity, theirs, mine)
        if theirs.get(name) == mine.get(name)
    ]
    return Content("Same in both: ") + safe_content(" · ".join(same) or "nothing else")


def word_diff(theirs: str, mine: str) -> Content:
    """Theirs with the other side's changes marked word by word: [−gone] [+new]. Changes
    separated only by spaces read as one ("[−he looks][+Kai is]", not word-by-word shreds)."""
    a = _TOKENS.findall(clean_text(theirs))
    b = _TOKENS.findall(clean_text(mine))
    # (same text, only theirs, only mine) runs; a space between two changes joins them.
    runs: list[list[str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        gone, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            runs.append([gone, "", ""])
        elif runs and not runs[-1][0]:
            runs[-1][1] += gone
            runs[-1][2] += new
        elif len(runs) > 1 and not runs[-1][0].strip() and not runs[-2][0]:
            space = runs.pop()[0]
            runs[-1][1] += space + gone
            runs[-1][2] += space + new
        else:
            runs.append(["", gone, new])
    parts: list[str | tuple[str, str]] = []
    for same, gone, new in runs:
        if same:
            parts.append(same)
        if gone:
            parts.append((f"[−{gone}]", "strike"))
        if new:
            parts.append((f"[+{new}]", "bold underline"))
    return Content.assemble(*parts)


def merge_fields(conflict: ConflictView) -> list[str]:
    """The free-text fields the two versions disagree on (what a person can merge)."""
    return [
        name
        for name in text_fields(conflict.entity)
        if (conflict.theirs.get(name) or "") != (conflict.mine.get(name) or "")
    ]


class ConflictResolveScreen(StoreScreen):
    """Both versions of one record; t / m / b / e settle it."""

    CSS_PATH = STYLES / "conflict_resolve.tcss"
    PALETTE_GROUP = "conflict"
    AUTO_FOCUS = "#resolve-body"
    HELP: ClassVar[str] = (
        "## Resolve a conflict\n\n**Theirs** is the version the service kept; **mine** is the "
        "change that met it (yours, or a colleague's from another device: the heading says "
        "whose).\n\n"
        "- **t** keep theirs · **m** keep mine · **b** keep both (a second item)\n"
        "- **e** edit merged: write the text yourself (the diff is only a suggestion), "
        "**ctrl+s** save it, **Escape** back to the versions\n"
        "- **Escape** back to the list\n\n" + SENT_AT_NEXT_SYNC
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "keep_theirs", "Theirs", id="conflict.keep_theirs", tooltip="Keep theirs"),
        Binding("m", "keep_mine", "Mine", id="conflict.keep_mine", tooltip="Keep mine"),
        Binding("b", "keep_both", "Both", id="conflict.keep_both", tooltip="Keep both"),
        Binding("e", "edit_merged", "Merge", id="conflict.edit_merged", tooltip="Edit merged"),
        Binding("ctrl+s", "save_merged", "Save", id="conflict.save_merged", tooltip="Save merged"),
        Binding("escape", "back", "Back", id="conflict.back"),
    ]

    def __init__(self, conflict_id: str) -> None:
        super().__init__()
        self.conflict_id = conflict_id
        self.conflict: ConflictView | None = None
        self.merging = False
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainText("Reading the conflict…", id="resolve-title")
        yield Static(SENT_AT_NEXT_SYNC, id="resolve-note", markup=False)
        with VerticalScroll(id="resolve-body"):
            with Container(id="resolve-versions"):
                with Vertical(id="version-theirs", classes="version"):
                    yield PlainText("", classes="version-title")
                    yield PlainText("", classes="version-meta")
                    yield Static("", classes="version-fields", markup=False)
                with Vertical(id="version-mine", classes="version"):
                    yield PlainText("", classes="version-title")
                    yield PlainText("", classes="version-meta")
                    yield Static("", classes="version-fields", markup=False)
            yield Static("", id="version-same", markup=False)
            yield Vertical(id="resolve-merge")
        with Horizontal(id="resolve-buttons"):
            yield Button("Keep theirs (t)", id="keep-theirs", compact=True)
            yield Button("Keep mine (m)", id="keep-mine", compact=True)
            yield Button("Keep both (b)", id="keep-both", compact=True)
            yield Button("Edit merged (e)", id="edit-merged", compact=True)
        with Horizontal(id="merge-buttons"):
            yield Button("Save merged (ctrl+s)", id="save-merged", variant="primary", compact=True)
            yield Button("Back to the versions (Esc)", id="cancel-merge", compact=True)
        yield PlainText("", id="resolve-message", classes="-empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")
        self.run_store(
            lambda store: _read(store, self.conflict_id), self._show, description="conflict"
        )

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _CHOICE_ACTIONS:
            return self.conflict is not None and not self.merging and not self.busy
        if action == "save_merged":
            return self.merging and not self.busy
        return True

    # --- showing ------------------------------------------------------------------------------

    def _show(self, loaded: tuple[ConflictView, str]) -> None:
        conflict, reference = loaded
        self.conflict = conflict
        title = Content.assemble(
            f"{entity_label(conflict.entity)} in case ",
            safe_content(reference or "-", multiline=False),
            ": “",
            safe_content(headline(conflict), multiline=False),
            "”",
        )
        self.query_one("#resolve-title", PlainText).update(title)
        if conflict.status != "open":
            self.say("This conflict is resolved already. Nothing to choose.")
        elif conflict.resolution_pending:
            self.say("You chose already: it is sent at the next sync. Choosing again replaces it.")
        for side, label, when, version, other in (
            (
                "theirs",
                theirs_label(conflict),
                theirs_time(conflict),
                conflict.theirs,
                conflict.mine,
            ),
            ("mine", mine_label(conflict), mine_time(conflict), conflict.mine, conflict.theirs),
        ):
            box = self.query_one(f"#version-{side}", Vertical)
            key = "t" if side == "theirs" else "m"
            box.query_one(".version-title", PlainText).show(f"{side.capitalize()} ({key}): {label}")
            box.query_one(".version-meta", PlainText).show(when)
            box.query_one(".version-fields", Static).update(
                version_content(conflict.entity, version, other)
            )
        self.query_one("#version-same", Static).update(
            same_in_both(conflict.entity, conflict.theirs, conflict.mine)
        )
        both = self.query_one("#keep-both", Button)
        both.disabled = conflict.entity not in KEEP_BOTH_ENTITIES or bool(
            conflict.mine.get("deleted") or conflict.theirs.get("deleted")
        )
        self.query_one("#edit-merged", Button).disabled = not merge_fields(conflict)
        self.refresh_bindings()

    def say(self, message: str) -> None:
        line = self.query_one("#resolve-message", PlainText)
        line.show(message)
        line.display = bool(message)

    # --- choosing -----------------------------------------------------------------------------

    def action_keep_theirs(self) -> None:
        from sofs_tui.store import sync_local

        self._resolve(sync_local.keep_theirs, "Kept theirs.")

    def action_keep_mine(self) -> None:
        from sofs_tui.store import sync_local

        self._resolve(sync_local.keep_mine, "Kept mine.")

    def action_keep_both(self) -> None:
        from sofs_tui.store import sync_local

        conflict = self.conflict
        if conflict is not None and self.query_one("#keep-both", Button).disabled:
            self.say(
                "Keep both works for entries, the child's words and plan items, when neither "
                "side deletes it. Choose Keep theirs, Keep mine or Edit merged."
            )
            return
        self._resolve(sync_local.keep_both, "Kept both: the other text is now a second item.")

    def _resolve(self, choose: Any, done: str) -> None:
        conflict_id = self.conflict_id
        self.busy = True
        self.refresh_bindings()

        def finished(_: object) -> None:
            self.busy = False
            self.notify(f"{done} {SENT_AT_NEXT_SYNC}", markup=False, timeout=8)
            self.app.pop_screen()

        def failed(_: Exception) -> None:
            self.busy = False
            self.refresh_bindings()

        self.run_store(lambda store: choose(store, conflict_id), finished, on_error=failed)

    @on(Button.Pressed, "#keep-theirs")
    def _theirs_pressed(self) -> None:
        self.run_action_if("keep_theirs")

    @on(Button.Pressed, "#keep-mine")
    def _mine_pressed(self) -> None:
        self.run_action_if("keep_mine")

    @on(Button.Pressed, "#keep-both")
    def _both_pressed(self) -> None:
        self.run_action_if("keep_both")

    @on(Button.Pressed, "#edit-merged")
    def _merge_pressed(self) -> None:
        self.run_action_if("edit_merged")

    @on(Button.Pressed, "#save-merged")
    def _save_pressed(self) -> None:
        self.run_action_if("save_merged")

    @on(Button.Pressed, "#cancel-merge")
    def _cancel_pressed(self) -> None:
        self.action_back()

    def run_action_if(self, action: str) -> None:
        if self.check_action(action, ()):
            getattr(self, f"action_{action}")()

    # --- edit merged --------------------------------------------------------------------------

    def action_edit_merged(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        names = merge_fields(conflict)
        if not names:
            self.say("The two versions have the same text: choose Keep theirs or Keep mine.")
            return
        panel = self.query_one("#resolve-merge", Vertical)
        if not panel.children:  # built once: Escape and e again keep what was typed
            self._build_merge(panel, conflict, names)
        self.merging = True
        self.add_class("-merging")
        self.say("")
        self.refresh_bindings()
        self.call_after_refresh(self._focus_merge, names[0])

    def _build_merge(self, panel: Vertical, conflict: ConflictView, names: list[str]) -> None:
        widgets: list[Any] = [
            Static(
                "Write the version to keep. The diff marks [−words only theirs has] and "
                "[+words only mine has]; it is a suggestion only.",
                classes="merge-help",
                markup=False,
            )
        ]
        spec = ENTITIES[conflict.entity]
        for name in names:
            theirs = str(conflict.theirs.get(name) or "")
            mine = str(conflict.mine.get(name) or "")
            label = name.replace("_", " ").capitalize()
            limit = MAX_TEXT if spec.fields[name].kind == "text" else MAX_LINE
            widgets += [
                Static(f"{label}: the difference", classes="merge-label", markup=False),
                Static(word_diff(theirs, mine), classes="merge-diff"),
                Static(f"{label}: the merged version", classes="merge-label", markup=False),
                TextAreaField(clean_text(theirs), max_length=limit, id=f"merge-{name}"),
            ]
        panel.mount_all(widgets)

    def _focus_merge(self, name: str) -> None:
        field = self.query_one(f"#merge-{name}", TextAreaField)
        field.focus()
        if field.area.cursor_location == (0, 0):  # first opened: carry on from its end
            field.area.move_cursor(field.area.document.end)

    def action_save_merged(self) -> None:
        conflict = self.conflict
        if conflict is None or not self.merging:
            return
        spec = ENTITIES[conflict.entity]
        fields: dict[str, str] = {}
        for name in merge_fields(conflict):
            text = self.query_one(f"#merge-{name}", TextAreaField).text
            multiline = spec.fields[name].kind == "text"
            problem = validate_free_text(
                text, max_length=MAX_TEXT if multiline else MAX_LINE, multiline=multiline
            )
            if problem:
                self.say(f"{name.replace('_', ' ').capitalize()}: {problem}")
                return
            fields[name] = text
        from sofs_tui.store import sync_local

        self._resolve(
            lambda store, conflict_id: sync_local.edit_merged(store, conflict_id, fields),
            "Saved your merged version.",
        )

    def action_back(self) -> None:
        if self.merging:  # back to the versions; the merged text stays for e
            self.merging = False
            self.remove_class("-merging")
            self.query_one("#resolve-body", VerticalScroll).focus()
            self.refresh_bindings()
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()


def _read(store: Store, conflict_id: str) -> tuple[ConflictView, str]:
    from sofs_tui.store import sync_local

    conflict = sync_local.get_conflict(store, conflict_id)
    references = sync_local.case_references(store, [conflict.case_id])
    return conflict, references.get(conflict.case_id, "")
