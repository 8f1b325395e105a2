"""The mapping editor (the heart of the app): the three columns of one assessment, the scaling
panel and the child's voice, saved as the worker types, then signed off and read-only.

At 80×24 one column is shown at a time (keys 1/2/3; the strip at the top says which); from 120
columns the three sit side by side. Keys 4 and 5 show the scores and the child's words. Layout
and loading are in `mapping_layout.py`; this module holds the keys and what they do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import OptionList

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import Column, Section, sections_in
from sofs_tui.paths import STYLES
from sofs_tui.screens.mapping_autosave import AutosaveForm
from sofs_tui.screens.mapping_dialogs import MappingConfirm, MappingPick, MappingReason
from sofs_tui.screens.mapping_editor import EntryEditor, read_only_reason
from sofs_tui.screens.mapping_layout import MappingLayout
from sofs_tui.screens.mapping_scores import ScoreEditor
from sofs_tui.screens.mapping_voice import VoiceEditor, signed_off_words
from sofs_tui.widgets.entry_list import ENTRY_PREFIX, EntryList, shorten
from sofs_tui.widgets.scaling_panel import OVERALL, SCORE_PREFIX, ScoreList
from sofs_tui.widgets.voice_list import VOICE_PREFIX, VoiceList

if TYPE_CHECKING:
    from sofs_tui.store.store import Store

#: Actions that act on the lists; while an editor is open its fields take the keys instead.
LIST_ACTIONS = frozenset({"show", "add", "edit", "delete", "pair", "move", "sign_off", "reopen"})
UNPAIR = "unpair"
COLUMN_PANELS = frozenset(c.value for c in Column)
OPEN_CONFLICTS = (
    "This assessment has open sync conflicts (2 versions of an entry). Resolve them in "
    "Conflicts (f7), sync, then sign off."
)


class MappingScreen(MappingLayout):
    """One assessment's mapping. Every change is saved as the worker goes."""

    CSS_PATH = STYLES / "mapping.tcss"
    PALETTE_GROUP = "mapping"
    HELP: ClassVar[str] = """\
## The mapping

The three columns of the assessment: **what are we worried about**, **what's working well**
and **what needs to happen**; then the **scaling** scores and the **child's voice**.
Everything is saved as you type: "Saved" shows once it is safely stored.

- **1 2 3** show a column (side by side on a wide terminal), **4** scaling, **5** child's voice
- **a** add · **e** or **Enter** open · **Del** delete · **shift+↑ / shift+↓** move
- **p** pair a danger statement with its safety goal
- **ctrl+s** save now · **Esc** back (saves first)
- **f** sign off (read-only afterwards) · **r** reopen (managers only; recorded)
- **x** export the summary for the family (plain text, HTML or PDF)
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('worries')", "Show worries", show=False, id="mapping.show_worries"),
        Binding(
            "2",
            "show('working_well')",
            "Show what's working well",
            show=False,
            id="mapping.show_working_well",
        ),
        Binding(
            "3",
            "show('needs_to_happen')",
            "Show what needs to happen",
            show=False,
            id="mapping.show_needs_to_happen",
        ),
        Binding("4", "show('scaling')", "Show scaling", show=False, id="mapping.show_scaling"),
        Binding(
            "5", "show('voice')", "Show the child's voice", show=False, id="mapping.show_voice"
        ),
        Binding("a", "add", "Add", id="mapping.add"),
        Binding("e", "edit", "Open", show=False, id="mapping.edit"),
        Binding("delete", "delete", "Delete", id="mapping.delete", show=False),
        Binding("p", "pair", "Pair goal", id="mapping.pair"),
        Binding("shift+up", "move(-1)", "Move up", show=False, id="mapping.move_up"),
        Binding("shift+down", "move(1)", "Move down", show=False, id="mapping.move_down"),
        Binding("ctrl+s", "save", "Save", id="mapping.save", tooltip="Save now"),
        Binding("f", "sign_off", "Sign off", id="mapping.sign_off"),
        Binding("r", "reopen", "Reopen", show=False, id="mapping.reopen"),
        Binding(
            "x", "export_summary", "Export for family", show=False, id="mapping.export_summary"
        ),
        Binding("escape", "back", "Back", id="mapping.back"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        editing = self.open_form() is not None
        if action == "save":
            return editing
        if action in LIST_ACTIONS and editing:
            return False
        if action in ("pair", "move"):
            return self.panel in COLUMN_PANELS
        return True

    # --- opening and leaving editors -----------------------------------------------------------

    async def leave_editor(self, then: Callable[[], None]) -> None:
        """Save the open editor and go back to its list, then `then()`. If the save fails the
        worker is asked before anything typed is dropped (the safe answer is to stay)."""
        form = self.open_form()
        if form is None:
            then()
            return
        if await form.flush():
            self._close(form)
            then()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                form.discard()
                self._close(form)
                then()

        self.app.push_screen(
            MappingConfirm(
                "Leave without saving your last change?",
                f"{form.status_text()}\nPress n to stay: your text stays here and ctrl+s "
                "tries again.",
                yes="Leave without saving",
            ),
            answered,
        )

    def _close(self, form: AutosaveForm) -> None:
        if isinstance(form, EntryEditor):
            panel, prefix = form.section.column.value, ENTRY_PREFIX
            list_id = f"list-{panel}"
        elif isinstance(form, ScoreEditor):
            panel, prefix, list_id = "scaling", SCORE_PREFIX, "score-list"
        else:
            panel, prefix, list_id = "voice", VOICE_PREFIX, "voice-list"
        self.show_panel(panel)
        if form.record_id is not None:
            self.highlight_after_load = (list_id, prefix + form.record_id)
        self.reload()
        self.refresh_bindings()

    def _open(self, editor_id: str) -> None:
        self.open_editor(editor_id)
        self.refresh_bindings()

    def _open_entry(self, entry_id: str | None, section: Section) -> None:
        if self.view is None:
            return
        editor = self.query_one(EntryEditor)
        self._open("entry-editor")
        editor.load(self.view, self.view.entry(entry_id) if entry_id else None, section)
        editor.text_field.focus()

    def _open_score(self, score_id: str | None, target: str) -> None:
        if self.view is None:
            return
        score = next((s for s in self.view.scores if s.id == score_id), None)
        editor = self.query_one(ScoreEditor)
        self._open("score-editor")
        editor.load(self.view, score, target)
        editor.scorer_field.focus()

    def _open_voice(self, voice_id: str | None, child_id: str | None) -> None:
        if self.view is None:
            return
        voice = next((v for v in self.view.voices if v.id == voice_id), None)
        editor = self.query_one(VoiceEditor)
        self._open("voice-editor")
        today = self.store.now().astimezone(COUNCIL_TZ).date()
        editor.load(self.view, voice, child_id, today)
        editor.text_field.focus()

    # --- actions -----------------------------------------------------------------------------

    async def action_show(self, panel: str) -> None:
        await self.leave_editor(lambda: self.show_panel(panel))

    async def action_back(self) -> None:
        if self.open_form() is not None:
            await self.leave_editor(lambda: None)
        else:
            self.app.pop_screen()

    def action_save(self) -> None:
        form = self.open_form()
        if form is not None:
            form.save_now()

    def _refuse_if_read_only(self) -> bool:
        if self.view is not None and self.view.read_only:
            self.say(f"🔒 Not changed. Read-only: {read_only_reason(self.view)}")
            return True
        return False

    def action_add(self) -> None:
        view = self.view
        if view is None or self._refuse_if_read_only():
            return
        if self.panel == "scaling":
            self._open_score(None, self.query_one(ScoreList).highlighted_group or OVERALL)
        elif self.panel == "voice":
            child = self.query_one(VoiceList).highlighted_child_id
            if child is None and view.children:
                child = view.children[0].id
            if child is None:
                self.say("No children on this case yet. Add them on the case screen first.")
                return
            self._open_voice(None, child)
        else:
            self._open_entry(None, self._current_section())

    def _current_section(self) -> Section:
        entries = self.query_one(f"#list-{self.panel}", EntryList)
        section = entries.highlighted_section
        entry_id = entries.highlighted_entry_id
        if section is None and entry_id is not None and self.view is not None:
            entry = self.view.entry(entry_id)
            section = entry.section if entry is not None else None
        return section or sections_in(Column(self.panel))[0]

    def action_edit(self) -> None:
        """Open the highlighted record; on a heading, add a new one there."""
        if self.panel == "scaling":
            score_id = self.query_one(ScoreList).highlighted_score_id
            if score_id is None:
                self.action_add()
            else:
                self._open_score(score_id, OVERALL)
        elif self.panel == "voice":
            voice_id = self.query_one(VoiceList).highlighted_voice_id
            if voice_id is None:
                self.action_add()
            else:
                self._open_voice(voice_id, None)
        else:
            entry_id = self.query_one(f"#list-{self.panel}", EntryList).highlighted_entry_id
            if entry_id is None:
                self.action_add()
            else:
                self._open_entry(entry_id, self._current_section())

    @on(OptionList.OptionSelected)
    def _option_chosen(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, EntryList | ScoreList | VoiceList):
            event.stop()
            self.action_edit()

    def action_delete(self) -> None:
        view = self.view
        if view is None or self._refuse_if_read_only():
            return
        from sofs_tui.store import mapping

        if self.panel == "scaling":
            score_id = self.query_one(ScoreList).highlighted_score_id
            score = next((s for s in view.scores if s.id == score_id), None)
            if score is None:
                self.say("Highlight a score to delete it.")
                return
            question = f"Delete {score.scorer_name}'s score of {score.value}?"
            detail = shorten(score.rationale, 200)

            def work(store: Store) -> object:
                mapping.delete_score(store, score.id)
                return None

        elif self.panel == "voice":
            voice_id = self.query_one(VoiceList).highlighted_voice_id
            voice = next((v for v in view.voices if v.id == voice_id), None)
            if voice is None:
                self.say("Highlight the child's words to delete them.")
                return
            kept = signed_off_words(voice)
            if kept is not None:
                self.say(f"🔒 Not deleted. {kept}")
                return
            question, detail = "Delete these words of the child?", shorten(voice.text, 200)

            def work(store: Store) -> object:
                mapping.delete_child_voice(store, voice.id)
                return None

        else:
            entry_id = self.query_one(f"#list-{self.panel}", EntryList).highlighted_entry_id
            entry = view.entry(entry_id) if entry_id else None
            if entry is None:
                self.say("Highlight an entry to delete it.")
                return
            question, detail = "Delete this entry?", shorten(entry.text, 200)

            def work(store: Store) -> object:
                mapping.delete_entry(store, entry.id)
                return None

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_and_reload(work, refused="Not deleted")

        self.app.push_screen(MappingConfirm(question, detail, yes="Delete"), answered)

    def action_move(self, offset: int) -> None:
        if self.view is None or self._refuse_if_read_only():
            return
        if self.panel not in COLUMN_PANELS:
            return
        entry_id = self.query_one(f"#list-{self.panel}", EntryList).highlighted_entry_id
        if entry_id is None:
            self.say("Highlight an entry to move it.")
            return
        from sofs_tui.store import mapping

        self.highlight_after_load = (f"list-{self.panel}", ENTRY_PREFIX + entry_id)
        self.run_and_reload(
            lambda store: mapping.move_entry(store, entry_id, offset=offset), refused="Not moved"
        )

    def action_pair(self) -> None:
        view = self.view
        if view is None or self._refuse_if_read_only():
            return
        entry_id = (
            self.query_one(f"#list-{self.panel}", EntryList).highlighted_entry_id
            if self.panel in COLUMN_PANELS
            else None
        )
        entry = view.entry(entry_id) if entry_id else None
        if entry is None or entry.section not in (Section.DANGER_STATEMENT, Section.SAFETY_GOAL):
            self.say("Highlight a danger statement (or a safety goal) to pair it.")
            return
        if entry.section is Section.DANGER_STATEMENT:
            paired = view.goal_of(entry.id) is not None
            candidates = view.unpaired_goals()
            question = "Which safety goal answers this danger statement?"
            missing = "No unpaired safety goals yet: add one under What needs to happen (3, a)."
        else:
            paired = entry.goal_for_id is not None
            candidates = view.unpaired_dangers()
            question = "Which danger statement does this safety goal answer?"
            missing = "Every danger statement already has a goal, or there are none yet."
        choices = [(c.id, Content(shorten(c.text, 200))) for c in candidates]
        if paired:
            choices.append((UNPAIR, Content("Unpair (remove the current pairing)")))
        if not choices:
            self.say(missing)
            return
        self.app.push_screen(
            MappingPick(question, choices), lambda chosen: self._paired(entry.id, chosen)
        )

    def _paired(self, entry_id: str, chosen: str | None) -> None:
        view = self.view
        entry = view.entry(entry_id) if view is not None else None
        if chosen is None or view is None or entry is None:
            return
        from sofs_tui.store import mapping

        if entry.section is Section.DANGER_STATEMENT:
            danger_id, goal_id = entry_id, (None if chosen == UNPAIR else chosen)
        elif chosen == UNPAIR:
            danger_id, goal_id = entry.goal_for_id or "", None
        else:
            danger_id, goal_id = chosen, entry_id
        self.highlight_after_load = (f"list-{self.panel}", ENTRY_PREFIX + entry_id)
        self.run_and_reload(
            lambda store: mapping.pair_safety_goal(store, danger_id, goal_id),
            refused="Not paired",
        )

    async def action_export_summary(self) -> None:
        """Save any open editor, then ask for a format and a folder for the family's summary."""
        from sofs_tui.screens.export_dialog import parent_summary_dialog

        dialog = parent_summary_dialog(self.assessment_id, self.sofs.settings.council)

        def ask() -> None:
            self.app.push_screen(dialog)

        await self.leave_editor(ask)

    def action_sign_off(self) -> None:
        view = self.view
        if view is None:
            return
        if view.read_only:
            self.say("This mapping is already signed off.")
            return
        if not view.completeness().complete or view.open_conflicts:
            self._sign_off()  # the store refuses and says what is missing
            return
        self.app.push_screen(
            MappingConfirm(
                "Sign off this mapping?",
                "It becomes read-only. Only a manager can reopen it, and that is recorded.",
                yes="Sign off",
            ),
            lambda yes: self._sign_off() if yes else None,
        )

    def _sign_off(self) -> None:
        from sofs_tui.store import mapping

        assessment_id = self.assessment_id

        def sign_off(store: Store) -> object:
            from sofs_tui.store import sync_local

            # The store checks the records' sync state; this also counts conflicts whose
            # resolution has not reached the service yet (SYNC.md "conflicts").
            if sync_local.assessment_has_open_conflicts(store, assessment_id):
                raise mapping.MappingRuleError(OPEN_CONFLICTS)
            return mapping.sign_off_assessment(store, assessment_id)

        self.run_and_reload(
            sign_off,
            refused="Not signed off",
            done=lambda: self.notify(
                "Signed off: the mapping is now read-only.", markup=False, timeout=5
            ),
        )

    def action_reopen(self) -> None:
        view = self.view
        if view is None:
            return
        if not view.read_only:
            self.say("This mapping is not signed off, so there is nothing to reopen.")
            return
        if not view.can_reopen:
            self.say(
                "Only a manager can reopen a signed-off assessment. Ask your team manager; "
                "the reopening is recorded with their reason."
            )
            return
        self.app.push_screen(
            MappingReason(
                "Why is this mapping being reopened? The reason is recorded.",
                placeholder="the reason",
            ),
            self._reopen,
        )

    def _reopen(self, reason: str | None) -> None:
        if not reason:
            return
        from sofs_tui.store import mapping

        assessment_id = self.assessment_id
        self.run_and_reload(
            lambda store: mapping.reopen_assessment(store, assessment_id, reason=reason),
            refused="Not reopened",
        )
