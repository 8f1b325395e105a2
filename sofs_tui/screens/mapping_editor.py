"""The entry editor: one mapping entry's words (multi-line, any language), its section, who says
it, agreed or disputed (and by whom) and who may read it, saved as the worker types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Select

from sofs_tui.domain.enums import Agreement, Audience, Section
from sofs_tui.domain.wording import entry_warnings
from sofs_tui.screens.mapping_autosave import AutosaveForm, Saved, Snapshot
from sofs_tui.widgets.entry_list import AUDIENCE_WORDS, PAIR_TEXT_LIMIT, shorten
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.text_area_field import TextAreaField

if TYPE_CHECKING:
    from sofs_tui.screens.base import StoreScreen
    from sofs_tui.store.mapping_views import EntryView, MappingView
    from sofs_tui.store.store import Store

AGREEMENT_WORDS = {
    Agreement.NOT_ASKED: "Not asked yet",
    Agreement.AGREED: "Agreed",
    Agreement.DISPUTED: "Disputed",
}
SOURCE_MAX = 200  # the column's size


def warning_lines(section: Section, text: str) -> str:
    """The gentle wording suggestions for this text, one per line (never blocking)."""
    return "\n".join(f"⚠ Suggestion: {w.message}" for w in entry_warnings(section, text))


class EntryEditor(AutosaveForm):
    """Edits one entry; a new entry is created by its first save."""

    def __init__(self, host: StoreScreen, label: Callable[[Section], str]) -> None:
        super().__init__(host, id="entry-editor")
        self.label = label
        self.assessment_id = ""
        self.view: MappingView | None = None

    def compose(self) -> ComposeResult:
        yield PlainText("", id="entry-heading", classes="form-heading")
        yield PlainText("", classes="save-status")
        with Horizontal(classes="form-row"):
            yield Label("Section", classes="form-label")
            yield Select(
                [(Text(self.label(s)), s) for s in Section],
                allow_blank=False,
                compact=True,
                id="entry-section",
            )
        with Horizontal(classes="form-row"):
            yield Label("Who says it", classes="form-label")
            yield LineField(
                placeholder="a person on the case, or a professional role",
                max_length=SOURCE_MAX,
                id="entry-source",
            )
        with Horizontal(classes="form-row"):
            yield Label("Agreed?", classes="form-label")
            yield Select(
                [(Text(words), value) for value, words in AGREEMENT_WORDS.items()],
                allow_blank=False,
                compact=True,
                id="entry-agreement",
            )
        with Horizontal(classes="form-row"):
            yield Label("Disputed by", classes="form-label")
            yield LineField(
                placeholder="who disagrees (when disputed)",
                max_length=SOURCE_MAX,
                id="entry-disputed-by",
            )
        with Horizontal(classes="form-row"):
            yield Label("Family may read", classes="form-label")
            yield Select(
                [(Text(words), value) for value, words in AUDIENCE_WORDS.items()],
                allow_blank=False,
                compact=True,
                id="entry-audience",
            )
        yield TextAreaField(placeholder="The words, as people said them", id="entry-text")
        yield PlainText("", id="entry-pairing")
        yield PlainText("", id="entry-warnings", classes="warnings")

    # --- fields ------------------------------------------------------------------------------

    def _select(self, name: str) -> Select[object]:
        return self.query_one(f"#entry-{name}", Select)

    @property
    def section(self) -> Section:
        value = self._select("section").value
        return value if isinstance(value, Section) else Section.HARM

    @property
    def agreement(self) -> Agreement:
        value = self._select("agreement").value
        return value if isinstance(value, Agreement) else Agreement.NOT_ASKED

    @property
    def audience(self) -> Audience:
        value = self._select("audience").value
        return value if isinstance(value, Audience) else Audience.UNDECIDED

    @property
    def text_field(self) -> TextAreaField:
        return self.query_one("#entry-text", TextAreaField)

    @property
    def source_field(self) -> LineField:
        return self.query_one("#entry-source", LineField)

    @property
    def disputed_field(self) -> LineField:
        return self.query_one("#entry-disputed-by", LineField)

    # --- loading -----------------------------------------------------------------------------

    def load(self, view: MappingView, entry: EntryView | None, section: Section) -> None:
        """Show `entry` (or a new, empty entry in `section`) from the store's view."""
        self.view = view
        self.assessment_id = view.assessment_id
        self.record_id = entry.id if entry is not None else None
        self.read_only = view.read_only
        self.read_only_reason = read_only_reason(view)
        self._select("section").value = entry.section if entry else section
        self._select("agreement").value = entry.agreement if entry else Agreement.NOT_ASKED
        self._select("audience").value = entry.audience if entry else Audience.UNDECIDED
        self.source_field.load(entry.source if entry else "")
        self.source_field.suggest(list(view.people))
        self.disputed_field.load(entry.disputed_by if entry else "")
        self.disputed_field.suggest(list(view.people))
        self.text_field.load(entry.text if entry else "")
        self.text_field.set_read_only(self.read_only)
        for widget in (*self.query(Select), self.source_field.input, self.disputed_field.input):
            widget.disabled = self.read_only
        self.refresh_dependent()
        heading = (
            f"Editing: {self.label(entry.section)}"
            if entry is not None
            else f"New entry in {self.label(section)}"
        )
        self.query_one("#entry-heading", PlainText).show(heading + " · Esc to go back")
        self.loaded(hint="" if entry else "New entry: start typing; it is saved as you go.")

    def refresh_dependent(self) -> None:
        """What follows from the other fields: the disputed-by field, pairing and warnings."""
        if not self.read_only:
            self.disputed_field.input.disabled = self.agreement is not Agreement.DISPUTED
        self.query_one("#entry-warnings", PlainText).show(
            warning_lines(self.section, self.text_field.text)
        )
        self.query_one("#entry-pairing", PlainText).show(self._pairing_words())

    def _pairing_words(self) -> str:
        view, section = self.view, self.section
        if view is None or section not in (Section.DANGER_STATEMENT, Section.SAFETY_GOAL):
            return ""
        entry = view.entry(self.record_id) if self.record_id else None
        if section is Section.DANGER_STATEMENT:
            goal = view.goal_of(self.record_id) if self.record_id else None
            if goal is None:
                return "✗ No safety goal yet: press Esc, then p on this statement to pair one."
            return f"✓ Safety goal: {shorten(goal.text, PAIR_TEXT_LIMIT)}"
        danger = view.entry(entry.goal_for_id) if entry and entry.goal_for_id else None
        if danger is None:
            return "✗ Not paired with a danger statement yet (Esc, then p to pair)."
        return f"✓ Answers: {shorten(danger.text, PAIR_TEXT_LIMIT)}"

    # --- autosave hooks ----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        disputed = self.disputed_field.value if self.agreement is Agreement.DISPUTED else ""
        return (
            self.section,
            self.text_field.text,
            self.source_field.value,
            self.agreement,
            disputed,
            self.audience,
        )

    def problem(self) -> str | None:
        for field in (self.text_field, self.source_field, self.disputed_field):
            found = field.problem()
            if found is not None:
                return found
        if self.record_id is None and not self.text_field.text.strip():
            return "Write the entry first; it is saved as you type."
        return None

    def unit_of_work(self) -> Callable[[Store], Saved]:
        section, text, source, agreement, disputed_by, audience = self.snapshot()
        assessment_id, entry_id = self.assessment_id, self.record_id
        # The text last known to be stored: if a sync changed it meanwhile, the store keeps
        # both versions instead of writing over the other worker's words.
        expected = str(self._saved[1]) if entry_id is not None and self._saved else None

        def save(store: Store) -> Saved:
            from sofs_tui.store import mapping

            entry = mapping.save_entry(
                store,
                assessment_id,
                text=str(text),
                section=Section(str(section)),
                entry_id=entry_id,
                source=str(source),
                agreement=Agreement(str(agreement)),
                disputed_by=str(disputed_by),
                audience=Audience(str(audience)),
                expected_text=expected,
            )
            if entry_id is not None and entry.id != entry_id:
                # notify is thread-safe: this save runs in a worker's thread, or on the event
                # loop when the app is closing (`save_pending_now`).
                self.notify(
                    "This entry was changed on another device while you were writing. Your "
                    "words were saved as a new entry just below it, so nothing was written "
                    "over. Compare the two and remove one.",
                    severity="warning",
                    markup=False,
                    timeout=20,
                )
            return entry.id, entry.updated_at

        return save

    # --- events ------------------------------------------------------------------------------

    @on(Select.Changed)
    def _choice_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.refresh_dependent()
        self.note_change()

    @on(LineField.Changed)
    @on(TextAreaField.Changed)
    def _text_changed(self, event: LineField.Changed | TextAreaField.Changed) -> None:
        event.stop()
        self.refresh_dependent()
        self.note_change()


def reopen_note(view: MappingView) -> str | None:
    """The latest reopening, who, when and why (None if the mapping was never reopened)."""
    from sofs_tui.widgets.deadline import when

    if view.reopened_at is None:
        return None
    who = view.reopened_by or "someone"
    reason = " ".join(view.reopen_reason.split()) or "no reason recorded"
    earlier = "Earlier reopened" if view.read_only else "Reopened"
    return f"↺ {earlier} by {who} on {when(view.reopened_at)}. Reason: {reason}"


def read_only_reason(view: MappingView) -> str:
    """Why a signed-off mapping cannot be edited, and what to do, in words."""
    from sofs_tui.widgets.deadline import when

    who = view.signed_off_by or "someone"
    return (
        f"this mapping was signed off by {who} on {when(view.signed_off_at)}. "
        "A manager can reopen it (r), and the reopening is recorded."
    )
