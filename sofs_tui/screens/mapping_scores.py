"""The score editor: one person's 0–10 judgement (overall or for one danger statement), why they
chose it, and the wording of 0 and 10 they were given; saved as the worker types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from sofs_tui.domain.enums import Section
from sofs_tui.domain.scaling import SCALE_MAX, SCALE_MIN
from sofs_tui.screens.mapping_autosave import AutosaveForm, Saved, Snapshot
from sofs_tui.screens.mapping_editor import read_only_reason
from sofs_tui.widgets.entry_list import shorten
from sofs_tui.widgets.line_field import LineField
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.scaling_panel import OVERALL
from sofs_tui.widgets.text_area_field import TextAreaField

if TYPE_CHECKING:
    from sofs_tui.screens.base import StoreScreen
    from sofs_tui.store.mapping_views import MappingView, ScoreView
    from sofs_tui.store.store import Store

NAME_MAX = 200
ROLE_MAX = 120


def score_value(text: str) -> int | None:
    """The number typed, if it is a whole number on the scale."""
    text = text.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if SCALE_MIN <= value <= SCALE_MAX else None


def target_choices(view: MappingView) -> list[tuple[Text, str]]:
    """What a score can judge: the whole mapping, or one danger statement."""
    choices = [(Text("The whole mapping (overall)"), OVERALL)]
    for number, danger in enumerate(view.in_section(Section.DANGER_STATEMENT), start=1):
        words = shorten(danger.text, 50).replace("\n", " ")
        choices.append((Text(f"Danger statement {number}: {words}"), danger.id))
    return choices


class ScoreEditor(AutosaveForm):
    """Adds or edits one score. It is saved once it has a scorer, a number and a reason."""

    def __init__(self, host: StoreScreen) -> None:
        super().__init__(host, id="score-editor")
        self.assessment_id = ""
        self.scored_on: date | None = None

    def compose(self) -> ComposeResult:
        yield PlainText("", id="score-heading", classes="form-heading")
        yield PlainText("", classes="save-status")
        with Horizontal(classes="form-row"):
            yield Label("Who scored", classes="form-label")
            yield LineField(placeholder="their name", max_length=NAME_MAX, id="score-scorer")
        with Horizontal(classes="form-row"):
            yield Label("Their role", classes="form-label")
            yield LineField(
                placeholder="e.g. mother, school, social worker",
                max_length=ROLE_MAX,
                id="score-role",
            )
        with Horizontal(classes="form-row"):
            yield Label("Judging", classes="form-label")
            yield Select(
                [(Text("The whole mapping (overall)"), OVERALL)],
                allow_blank=False,
                compact=True,
                id="score-target",
            )
        with Horizontal(classes="form-row"):
            yield Label("Score (0–10)", classes="form-label")
            score = Input(
                placeholder="0 to 10", restrict=r"\d{0,2}", max_length=2, id="score-value"
            )
            score.compact = True
            yield score
        yield PlainText("", id="score-wording", classes="scale-wording")
        yield Label("Why they chose this number", classes="field-label")
        yield TextAreaField(placeholder="In their words", id="score-rationale")

    @property
    def scorer_field(self) -> LineField:
        return self.query_one("#score-scorer", LineField)

    @property
    def role_field(self) -> LineField:
        return self.query_one("#score-role", LineField)

    @property
    def value_input(self) -> Input:
        return self.query_one("#score-value", Input)

    @property
    def rationale_field(self) -> TextAreaField:
        return self.query_one("#score-rationale", TextAreaField)

    @property
    def target(self) -> str:
        value = self.query_one("#score-target", Select).value
        return value if isinstance(value, str) else OVERALL

    def load(self, view: MappingView, score: ScoreView | None, target: str) -> None:
        self.assessment_id = view.assessment_id
        self.record_id = score.id if score is not None else None
        self.scored_on = score.scored_on if score is not None else None
        self.read_only = view.read_only
        self.read_only_reason = read_only_reason(view)
        select = self.query_one("#score-target", Select)
        choices = target_choices(view)
        select.set_options(choices)
        wanted = (score.danger_statement_id or OVERALL) if score is not None else target
        select.value = wanted if wanted in {key for _, key in choices} else OVERALL
        self.scorer_field.load(score.scorer_name if score else "")
        self.scorer_field.suggest(list(view.people))
        self.role_field.load(score.scorer_role if score else "")
        self.value_input.value = str(score.value) if score else ""
        self.rationale_field.load(score.rationale if score else "")
        self.rationale_field.set_read_only(self.read_only)
        zero = score.zero_wording if score else view.zero_wording
        ten = score.ten_wording if score else view.ten_wording
        self.query_one("#score-wording", PlainText).show(f"0 means: {zero}\n10 means: {ten}")
        for widget in (select, self.scorer_field.input, self.role_field.input, self.value_input):
            widget.disabled = self.read_only
        heading = "Editing a score" if score is not None else "New score"
        self.query_one("#score-heading", PlainText).show(heading + " · Esc to go back")
        self.loaded(hint="" if score else "Saved once it has who, a number and why.")

    def snapshot(self) -> Snapshot:
        return (
            self.scorer_field.value,
            self.role_field.value,
            self.target,
            self.value_input.value,
            self.rationale_field.text,
        )

    def problem(self) -> str | None:
        for field in (self.scorer_field, self.role_field, self.rationale_field):
            found = field.problem()
            if found is not None:
                return found
        if not self.scorer_field.value.strip():
            return "Say who gave this score."
        if score_value(self.value_input.value) is None:
            return f"A score is a whole number from {SCALE_MIN} to {SCALE_MAX}."
        if not self.rationale_field.text.strip():
            return "Write why this person chose this number."
        return None

    def unit_of_work(self) -> Callable[[Store], Saved]:
        name, role, target, value, rationale = self.snapshot()
        number = score_value(str(value))
        assert number is not None  # problem() said it may be saved
        assessment_id, score_id, scored_on = self.assessment_id, self.record_id, self.scored_on

        def save(store: Store) -> Saved:
            from sofs_tui.store import mapping

            score = mapping.record_score(
                store,
                assessment_id,
                scorer_name=str(name),
                scorer_role=str(role),
                value=number,
                rationale=str(rationale),
                danger_statement_id=None if target == OVERALL else str(target),
                scored_on=scored_on,
                score_id=score_id,
            )
            return score.id, score.updated_at

        return save

    @on(Select.Changed)
    @on(Input.Changed, "#score-value")
    @on(LineField.Changed)
    @on(TextAreaField.Changed)
    def _changed(self, event: Select.Changed | Input.Changed | LineField.Changed) -> None:
        event.stop()
        self.note_change()
