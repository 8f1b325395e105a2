"""The child's-voice editor: a child's own words for one part of Three Houses, Safety House or
Words and Pictures, who wrote them, when, and whether consent to share is recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Label, Select

from sofs_tui.domain.enums import ChildVoiceTool
from sofs_tui.screens.mapping_autosave import AutosaveForm, Saved, Snapshot
from sofs_tui.screens.mapping_editor import read_only_reason
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.plain import PlainText, safe_text
from sofs_tui.widgets.text_area_field import TextAreaField
from sofs_tui.widgets.voice_list import TOOL_LABELS, part_label

if TYPE_CHECKING:
    from sofs_tui.screens.base import StoreScreen
    from sofs_tui.store.mapping_views import MappingView, VoiceView
    from sofs_tui.store.store import Store

WRITTEN_BY_MAX = 200


def consent_label(consent: bool) -> str:
    """The checkbox says its state in words; its mark alone shows it only by colour."""
    return "Yes: consent to share is recorded" if consent else "No consent recorded yet"


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def signed_off_words(voice: VoiceView) -> str | None:
    """Why these words cannot be changed or deleted (a signed-off mapping holds them)."""
    if voice.signed_off_in is None:
        return None
    from sofs_tui.store.mapping import VoiceSignedOff

    return VoiceSignedOff(voice.signed_off_in).user_message


class VoiceEditor(AutosaveForm):
    """Adds or edits one part of a child's words; saved once it has words and who wrote them."""

    def __init__(self, host: StoreScreen) -> None:
        super().__init__(host, id="voice-editor")
        self.case_id = ""

    def compose(self) -> ComposeResult:
        yield PlainText("", id="voice-heading", classes="form-heading")
        yield PlainText("", classes="save-status")
        with Horizontal(classes="form-row"):
            yield Label("Child", classes="form-label")
            yield Select[str]([], allow_blank=True, compact=True, id="voice-child")
        with Horizontal(classes="form-row"):
            yield Label("Tool", classes="form-label")
            yield Select(
                [(Text(label), tool) for tool, label in TOOL_LABELS.items()],
                allow_blank=False,
                compact=True,
                id="voice-tool",
            )
        with Horizontal(classes="form-row"):
            yield Label("Part", classes="form-label")
            yield Select(
                [(Text(part_label(p)), p) for p in ChildVoiceTool.THREE_HOUSES.parts],
                allow_blank=False,
                compact=True,
                id="voice-part",
            )
        with Horizontal(classes="form-row"):
            yield Label("Written by", classes="form-label")
            yield LineField(
                placeholder="the child, or who wrote it down with them",
                max_length=WRITTEN_BY_MAX,
                id="voice-written-by",
            )
        with Horizontal(classes="form-row"):
            yield Label("Date", classes="form-label")
            yield LineField(placeholder="YYYY-MM-DD", max_length=10, id="voice-date")
        with Horizontal(classes="form-row"):
            yield Label("Consent", classes="form-label")
            yield Checkbox(consent_label(False), compact=True, id="voice-consent")
        with Horizontal(classes="form-row"):
            yield Label("Consent note", classes="form-label")
            yield LineField(
                placeholder="who agreed, and with whom it may be shared",
                max_length=2000,
                id="voice-consent-note",
            )
        yield Label("The child's own words, exactly as said", classes="field-label")
        yield TextAreaField(placeholder="Verbatim, in any language", id="voice-text")

    def _field(self, name: str) -> LineField:
        return self.query_one(f"#voice-{name}", LineField)

    def _select(self, name: str) -> Select[object]:
        return self.query_one(f"#voice-{name}", Select)

    @property
    def text_field(self) -> TextAreaField:
        return self.query_one("#voice-text", TextAreaField)

    @property
    def tool(self) -> ChildVoiceTool:
        value = self._select("tool").value
        return value if isinstance(value, ChildVoiceTool) else ChildVoiceTool.THREE_HOUSES

    def _value(self, name: str) -> str:
        value = self._select(name).value
        return value if isinstance(value, str) else ""

    def _set_parts(self, tool: ChildVoiceTool, part: str | None) -> None:
        select = self._select("part")
        select.set_options([(Text(part_label(p)), p) for p in tool.parts])
        select.value = part if part in tool.parts else tool.parts[0]

    def load(
        self,
        view: MappingView,
        voice: VoiceView | None,
        child_id: str | None,
        today: date,
    ) -> None:
        self.case_id = view.case_id
        self.record_id = voice.id if voice is not None else None
        self.read_only = view.read_only
        self.read_only_reason = read_only_reason(view)
        children = self._select("child")
        children.set_options([(safe_text(c.name), c.id) for c in view.children])
        wanted = voice.child_id if voice else child_id
        if wanted in {c.id for c in view.children}:
            children.value = wanted
        tool = voice.tool if voice else ChildVoiceTool.THREE_HOUSES
        self._select("tool").value = tool
        self._set_parts(tool, voice.part if voice else None)
        self._field("written-by").load(voice.written_by if voice else "")
        self._field("written-by").suggest(list(view.people))
        recorded = voice.recorded_on if voice and voice.recorded_on else today
        self._field("date").load(recorded.isoformat())
        consent = self.query_one("#voice-consent", Checkbox)
        consent.value = bool(voice and voice.consent_to_share)
        consent.label = consent_label(consent.value)
        self._field("consent-note").load(voice.consent_note if voice else "")
        self.text_field.load(voice.text if voice else "")
        # Words a signed-off mapping holds stay as signed off; only the consent may change.
        kept = signed_off_words(voice) if voice is not None and not self.read_only else None
        self.text_field.set_read_only(self.read_only or kept is not None)
        for widget in (
            *self.query(Select),
            *(self._field(name).input for name in ("written-by", "date")),
        ):
            widget.disabled = self.read_only or kept is not None
        for widget in (self.query_one(Checkbox), self._field("consent-note").input):
            widget.disabled = self.read_only
        heading = "Editing the child's words" if voice else "New: the child's words"
        self.query_one("#voice-heading", PlainText).show(heading + " · Esc to go back")
        if kept is not None:
            hint = f"🔒 {kept} Only the consent can still change."
        else:
            hint = "" if voice else "Saved once it has the words and who wrote them."
        self.loaded(hint=hint)

    def snapshot(self) -> Snapshot:
        return (
            self._value("child"),
            self.tool,
            self._value("part"),
            self.text_field.text,
            self._field("written-by").value,
            self._field("date").value,
            self.query_one("#voice-consent", Checkbox).value,
            self._field("consent-note").value,
        )

    def problem(self) -> str | None:
        fields: list[LineField | TextAreaField] = [*self.query(LineField), self.text_field]
        for field in fields:
            found = field.problem()
            if found is not None:
                return found
        if not self._value("child"):
            return "Choose the child (add children on the case screen)."
        if not self.text_field.text.strip():
            return "Write the child's words first."
        if not self._field("written-by").value.strip():
            return "Say who wrote it: the child, or who wrote it down with them."
        if parse_day(self._field("date").value) is None:
            return "Write the date as year-month-day, for example 2026-11-25."
        return None

    def unit_of_work(self) -> Callable[[Store], Saved]:
        child, tool, part, text, written_by, day, consent, note = self.snapshot()
        case_id, voice_id = self.case_id, self.record_id
        recorded_on = parse_day(str(day))

        def save(store: Store) -> Saved:
            from sofs_tui.store import mapping

            voice = mapping.record_child_voice(
                store,
                case_id,
                child_id=str(child),
                tool=ChildVoiceTool(str(tool)),
                part=str(part),
                text=str(text),
                written_by=str(written_by),
                recorded_on=recorded_on,
                consent_to_share=bool(consent),
                consent_note=str(note),
                voice_id=voice_id,
            )
            return voice.id, voice.updated_at

        return save

    @on(Select.Changed, "#voice-tool")
    def _tool_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._value("part") not in self.tool.parts:
            self._set_parts(self.tool, None)
        self.note_change()

    @on(Checkbox.Changed)
    def _consent_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        event.checkbox.label = consent_label(event.value)
        self.note_change()

    @on(Select.Changed)
    @on(LineField.Changed)
    @on(TextAreaField.Changed)
    def _changed(self, event: Select.Changed | LineField.Changed | TextAreaField.Changed) -> None:
        event.stop()
        self.note_change()
