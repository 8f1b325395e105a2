"""The mapping editor's layout and read side: the columns, scaling and child's-voice panels,
the strip that says which is shown, loading the mapping and drawing it (actions: mapping.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import DescendantFocus, Resize
from textual.widgets import ContentSwitcher, Header, OptionList, Static
from textual.widgets.option_list import OptionDoesNotExist

from sofs_tui.domain.enums import Column, Section, sections_in
from sofs_tui.domain.scaling import side_by_side
from sofs_tui.domain.wording import entry_warnings, mapping_warnings
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.mapping_autosave import AutosaveForm
from sofs_tui.screens.mapping_editor import EntryEditor, read_only_reason, reopen_note
from sofs_tui.screens.mapping_scores import ScoreEditor
from sofs_tui.screens.mapping_voice import VoiceEditor
from sofs_tui.widgets.entry_list import EntryList, EntryRow, SectionRows, shorten
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.scaling_panel import OVERALL, ScoreGroup, ScoreList
from sofs_tui.widgets.voice_list import ChildVoices, VoiceList

if TYPE_CHECKING:
    from sofs_tui.store.mapping_views import MappingView
    from sofs_tui.store.store import Store

#: Terminal width from which the three columns sit side by side.
WIDE = 120
#: The panels keys 1–5 show, with the words on the strip at the top.
PANELS: tuple[tuple[str, str], ...] = (
    (Column.WORRIES.value, "Worries"),
    (Column.WORKING_WELL.value, "Working well"),
    (Column.NEEDS_TO_HAPPEN.value, "Needs to happen"),
    ("scaling", "Scaling"),
    ("voice", "Child's voice"),
)
EDITORS = ("entry-editor", "score-editor", "voice-editor")


class MappingLayout(StoreScreen):
    """The mapping editor without its key actions: what is on screen and how it is loaded."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__()
        self.assessment_id = assessment_id
        self.view: MappingView | None = None
        self.panel = Column.WORRIES.value
        self.notice = ""
        self._load_seq = 0
        self._shown_seq = 0
        self.highlight_after_load: tuple[str, str] | None = None

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        label = self.sofs.settings.council.label
        yield Header()
        yield PlainText("Opening the mapping…", multiline=False, id="mapping-title")
        yield Static(id="mapping-tabs")
        with ContentSwitcher(initial="columns", id="mapping-main"):
            with Horizontal(id="columns"):
                for column in Column:
                    with Vertical(classes="column", id=f"column-{column.value}"):
                        yield Static(Content(column.label), classes="column-title")
                        yield EntryList(id=f"list-{column.value}", compact=True)
            yield EntryEditor(self, label)
            with Vertical(id="scaling"):
                yield PlainText("", id="scale-wording")
                yield ScoreList(id="score-list", compact=True)
            yield ScoreEditor(self)
            with Vertical(id="voice"):
                yield PlainText("", id="voice-note")
                yield VoiceList(id="voice-list", compact=True)
            yield VoiceEditor(self)
        yield PlainText("", id="mapping-summary")
        yield KeysFooter()

    def on_mount(self) -> None:
        for form in self.query(AutosaveForm):
            form.on_saved = self.reload
        self.set_class(self.app.size.width >= WIDE, "-wide")
        self.show_panel(self.panel)
        self.reload()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    # --- loading and showing -----------------------------------------------------------------

    def reload(self) -> None:
        """Read the mapping again (after every save) and redraw the lists."""
        self._load_seq += 1
        seq, assessment_id = self._load_seq, self.assessment_id

        def load(store: Store) -> MappingView:
            from sofs_tui.store.mapping_views import mapping_view

            return mapping_view(store, assessment_id)

        self.run_store(load, lambda view: self._show_view(seq, view), description="load mapping")

    def _show_view(self, seq: int, view: MappingView) -> None:
        if seq < self._shown_seq:
            return  # an older read finished after a newer one
        self._shown_seq = seq
        self.view = view
        self.set_class(view.read_only, "-read-only")
        if view.read_only:
            status = "Signed off"
        else:
            status = "Draft (reopened)" if view.reopened_at is not None else "Draft"
        self.query_one("#mapping-title", PlainText).show(
            f"{view.case_reference} · {view.family_name} · {view.title} · {status}"
        )
        for column in Column:
            self.query_one(f"#list-{column.value}", EntryList).show(
                self._column_sections(view, column), read_only=view.read_only
            )
        self._show_scores(view)
        self._show_voices(view)
        editor = self.query_one(EntryEditor)
        if editor.view is not None:
            editor.view = view  # the pairing line follows pairs made since it opened
            editor.refresh_dependent()
        if self.highlight_after_load is not None:
            list_id, option_id = self.highlight_after_load
            self.highlight_after_load = None
            options = self.query_one(f"#{list_id}", OptionList)
            with suppress(OptionDoesNotExist):
                options.highlighted = options.get_option_index(option_id)
        self.show_summary()

    def _column_sections(self, view: MappingView, column: Column) -> list[SectionRows]:
        label = self.sofs.settings.council.label
        sections = []
        for section in sections_in(column):
            rows = []
            for number, entry in enumerate(view.in_section(section), start=1):
                goal = view.goal_of(entry.id) if section is Section.DANGER_STATEMENT else None
                danger = view.entry(entry.goal_for_id) if entry.goal_for_id else None
                rows.append(
                    EntryRow(
                        entry=entry,
                        number=number,
                        goal=goal.text if goal is not None else None,
                        answers=danger.text if danger is not None else None,
                        warnings=tuple(w.message for w in entry_warnings(section, entry.text)),
                    )
                )
            sections.append(SectionRows(section, label(section), tuple(rows)))
        return sections

    def _show_scores(self, view: MappingView) -> None:
        grouped = side_by_side(view.scores)
        groups = [ScoreGroup(OVERALL, "Overall: the whole mapping", tuple(grouped.pop(None, [])))]
        for number, danger in enumerate(view.in_section(Section.DANGER_STATEMENT), start=1):
            title = f"Danger statement {number}: {shorten(danger.text, 60)}"
            groups.append(ScoreGroup(danger.id, title, tuple(grouped.pop(danger.id, []))))
        for key, scores in grouped.items():  # scores of a danger statement since removed
            groups.append(
                ScoreGroup(str(key), "A danger statement that was removed", tuple(scores))
            )
        self.query_one("#scale-wording", PlainText).show(
            f"0 means: {view.zero_wording}\n10 means: {view.ten_wording}\n"
            "Each person's own number, side by side; scores are never averaged."
        )
        self.query_one(ScoreList).show(
            groups, zero=view.zero_wording, ten=view.ten_wording, read_only=view.read_only
        )

    def _show_voices(self, view: MappingView) -> None:
        children = [
            ChildVoices(c.id, c.name, tuple(v for v in view.voices if v.child_id == c.id))
            for c in view.children
        ]
        note = (
            "The child's own words, exactly as said. Nothing leaves the app without consent."
            if children
            else "No children on this case yet. Add them on the case screen first."
        )
        self.query_one("#voice-note", PlainText).show(note)
        self.query_one(VoiceList).show(children, read_only=view.read_only)

    def show_summary(self) -> None:
        """Completeness, read-only state and gentle mapping-wide suggestions, in sentences."""
        view = self.view
        if view is None:
            return
        lines = []
        if self.notice:
            lines.append(self.notice)
        reopened = reopen_note(view)
        if view.read_only:
            lines.append(f"🔒 Read-only: {read_only_reason(view)}")
            if reopened is not None:
                lines.append(reopened)
        else:
            if reopened is not None:
                lines.append(reopened)
            status = view.completeness()
            if status.complete:
                lines.append(
                    "✓ Complete: each danger statement has its safety goal and a score. "
                    "Sign off with f when ready."
                )
            else:
                lines.append("Not complete yet: " + " ".join(status.problems()))
            if view.open_conflicts:
                lines.append(
                    f"{view.open_conflicts} open sync conflict(s): resolve them before signing off."
                )
            dangers = len(view.in_section(Section.DANGER_STATEMENT))
            lines.extend(f"⚠ Suggestion: {w.message}" for w in mapping_warnings(dangers))
        self.query_one("#mapping-summary", PlainText).show("\n".join(lines))

    def say(self, notice: str) -> None:
        """Show the outcome of the last action (a refusal, in words) above the footer."""
        self.notice = notice
        self.show_summary()

    # --- panels ------------------------------------------------------------------------------

    @property
    def switcher(self) -> ContentSwitcher:
        return self.query_one("#mapping-main", ContentSwitcher)

    def open_form(self) -> AutosaveForm | None:
        """The editor on screen, if one is open (None too while the screen is being built)."""
        switcher = self.query_one_optional("#mapping-main", ContentSwitcher)
        current = switcher.current if switcher is not None else None
        if current in EDITORS:
            return self.query_one(f"#{current}", AutosaveForm)
        return None

    def show_panel(self, panel: str) -> None:
        """Show a column (focus its list) or the scaling or voice panel; no editor."""
        self.panel = panel
        columns = {c.value for c in Column}
        self.switcher.current = "columns" if panel in columns else panel
        for column in Column:
            self.query_one(f"#column-{column.value}").set_class(column.value == panel, "-current")
        self._draw_tabs()
        self.current_list().focus()
        self.refresh_bindings()

    def current_list(self) -> OptionList:
        if self.panel == "scaling":
            return self.query_one(ScoreList)
        if self.panel == "voice":
            return self.query_one(VoiceList)
        return self.query_one(f"#list-{self.panel}", EntryList)

    def _draw_tabs(self) -> None:
        parts: list[Content] = []
        for number, (key, words) in enumerate(PANELS, start=1):
            if key == self.panel:
                parts.append(Content.styled(f"▶{number} {words} ", "reverse bold"))
            else:
                parts.append(Content(f" {number} {words} "))
        self.query_one("#mapping-tabs", Static).update(Content("│").join(parts))

    def open_editor(self, editor_id: str) -> None:
        self.switcher.current = editor_id
        self._draw_tabs()

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, EntryList) and widget.id is not None:
            panel = widget.id.removeprefix("list-")
            if panel != self.panel:
                self.panel = panel
                for column in Column:
                    self.query_one(f"#column-{column.value}").set_class(
                        column.value == panel, "-current"
                    )
                self._draw_tabs()

    def on_screen_resume(self) -> None:
        # Back from the lock screen or a dialog: anything left unsaved is tried again.
        form = self.open_form()
        if form is not None and form.dirty:
            form.save_now()

    def run_and_reload(
        self,
        work: Callable[[Store], object],
        *,
        refused: str,
        done: Callable[[], None] | None = None,
    ) -> None:
        """Run a unit of work, then reload; a refusal is shown in words under the columns."""

        def finished(_: object) -> None:
            self.say("")
            if done is not None:
                done()
            self.reload()

        def failed(exc: Exception) -> None:
            from sofs_tui.store.errors import StoreError

            if isinstance(exc, StoreError):
                self.say(f"{refused}: {exc.user_message}")

        self.run_store(work, finished, on_error=failed)
