"""A small keyboard form in a modal, used by every edit on the conference screen: each field
says inline what is wrong with it, and the save runs in a thread worker; a refused save keeps
everything typed and shows the store's message in the form (nothing lost, nothing half-saved)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from sofs_tui.domain.text import validate_free_text
from sofs_tui.domain.when import (
    DAY_EXAMPLE,
    WHEN_EXAMPLE,
    WhenError,
    format_day,
    format_when,
    parse_day,
    parse_when,
)
from sofs_tui.paths import STYLES
from sofs_tui.screens.unsaved import RemembersOpenedValues
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText, safe_text
from sofs_tui.widgets.text_area_field import FreeTextArea

if TYPE_CHECKING:
    from sofs_tui.store.store import Store

Values = dict[str, Any]


@dataclass(frozen=True)
class TextField:
    """Free text; one line in an Input, several in a TextArea (`multiline`)."""

    name: str
    label: str
    value: str = ""
    max_length: int = 200
    required: bool = False
    multiline: bool = False
    placeholder: str = ""


@dataclass(frozen=True)
class WhenField:
    """A date and time typed as London local time ("2026-12-01 10:00", "today 15:30", "now").
    `check(moment, now)` says what is wrong with a moment that reads well (None: nothing)."""

    name: str
    label: str
    value: datetime | str | None = None
    required: bool = True
    check: Callable[[datetime, datetime], str | None] | None = None


@dataclass(frozen=True)
class DayField:
    name: str
    label: str
    value: date | None = None
    required: bool = False


@dataclass(frozen=True)
class ChoiceField:
    """One of a closed set; `blank` (when given) is the words for choosing none of them."""

    name: str
    label: str
    options: Sequence[tuple[str | Text, Hashable]]
    value: Hashable | None = None
    blank: str | None = None


@dataclass(frozen=True)
class FlagField:
    name: str
    label: str
    value: bool = False


FormField = TextField | WhenField | DayField | ChoiceField | FlagField


@dataclass(frozen=True)
class FormSpec:
    """A form: its title, fields, the unit of work that saves it, and optional cross-field
    checks (`check` returns {field name: message}); `extra` values are passed to `save`."""

    title: str
    fields: Sequence[FormField]
    save: Callable[[Store, Values], object]
    intro: str = ""
    check: Callable[[Values], Mapping[str, str]] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _say(where: PlainText, message: str) -> None:
    """Show `message` under a field (or the form); an empty message takes no room."""
    where.show(message)
    where.set_class(not message, "-empty")


def _line(value: str, placeholder: str, max_length: int, wid: str) -> GuardedInput:
    line = GuardedInput(value, placeholder=placeholder, max_length=max_length, id=wid)
    line.compact = True
    return line


def _widget_id(name: str) -> str:
    return f"f-{name}"


class ConferenceEditScreen(RemembersOpenedValues, ModalScreen[object]):
    """Fill in, ctrl+s (or enter in a one-line field) to save, escape to cancel. Dismisses
    with whatever the save returned; None when cancelled."""

    CSS_PATH = STYLES / "conference_edit.tcss"
    ALLOW_SELECT = False  # case data: no selection to the clipboard (SECURITY R15)
    HELP: ClassVar[str] = (
        "**Conference form.** Tab moves between fields; space ticks a box; enter opens a "
        "list. Dates and times are London time: `2026-12-01 10:00`, `today 15:30`, `now`. "
        "**ctrl+s** (or enter in a one-line field) saves; **escape** closes without saving; "
        "**ctrl+q** asks before quitting while the form holds changes not saved."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="conference_edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="conference_edit.cancel"),
    ]

    def __init__(self, spec: FormSpec, *, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.spec = spec
        self._clock = clock
        self._saving = False
        # A save that finished while another screen (the lock screen) was over this form: the
        # form closes with it when it is on top again, never closing whatever is on top.
        self._saved: tuple[object] | None = None
        # What a paste left out, per field, until the field is edited again.
        self._left_out: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(safe_text(self.spec.title, style="bold"), id="form-title")
            if self.spec.intro:
                yield PlainText(self.spec.intro, id="form-intro")
            with VerticalScroll(id="form-fields"):
                for spec in self.spec.fields:
                    if not isinstance(spec, FlagField):
                        yield Label(safe_text(spec.label), classes="field-label")
                    yield self._make(spec)
                    yield PlainText("", classes="field-problem -empty", id=f"p-{spec.name}")
            yield PlainText("", id="form-error", classes="-empty")
        yield KeysFooter()

    def _make(self, spec: FormField) -> Widget:
        # Compact widgets (no borders) so a whole form fits in 80x24. Typed keys cannot
        # insert control characters; a paste is cleaned and the field says what was left out.
        wid = _widget_id(spec.name)
        if isinstance(spec, TextField):
            if spec.multiline:
                return FreeTextArea(
                    spec.value, soft_wrap=True, tab_behavior="focus", compact=True, id=wid
                )
            return _line(spec.value, spec.placeholder, spec.max_length, wid)
        if isinstance(spec, WhenField):
            value = spec.value if isinstance(spec.value, str) else format_when(spec.value)
            return _line(value, WHEN_EXAMPLE, 40, wid)
        if isinstance(spec, DayField):
            return _line(format_day(spec.value), DAY_EXAMPLE, 40, wid)
        if isinstance(spec, ChoiceField):
            options = [(safe_text(p) if isinstance(p, str) else p, v) for p, v in spec.options]
            return Select(
                options,
                prompt=spec.blank or "Choose…",
                allow_blank=spec.blank is not None,
                value=spec.value if spec.value is not None else Select.NULL,
                id=wid,
                compact=True,
            )
        return Checkbox(safe_text(spec.label), spec.value, id=wid, compact=True)

    def on_mount(self) -> None:
        if self.spec.fields:
            self.query_one(f"#{_widget_id(self.spec.fields[0].name)}").focus()
        self.remember_opened_values()  # each field's own on_mount has run: the values are in

    def form_title(self) -> str:
        return self.spec.title

    def form_saving(self) -> bool:
        return self._saving

    # --- reading and checking ----------------------------------------------------------

    def _read(self, spec: FormField) -> tuple[Any, str | None]:
        """The field's value and what is wrong with it (None when it may be saved)."""
        widget = self.query_one(f"#{_widget_id(spec.name)}")
        if isinstance(spec, TextField):
            text = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
            problem = validate_free_text(text, max_length=spec.max_length, multiline=spec.multiline)
            if problem is None and spec.required and not text.strip():
                problem = f"Fill in {spec.label.lower()}."
            return text.strip(), problem
        if isinstance(spec, WhenField | DayField):
            typed = widget.value.strip()  # type: ignore[attr-defined]
            if not typed:
                return None, (f"Fill in {spec.label.lower()}." if spec.required else None)
            try:
                if isinstance(spec, WhenField):
                    now = self._clock()
                    moment = parse_when(typed, now)
                    return moment, spec.check(moment, now) if spec.check else None
                return parse_day(typed, self._clock().date()), None
            except WhenError as exc:
                return None, str(exc)
        if isinstance(spec, ChoiceField):
            assert isinstance(widget, Select)
            chosen = widget.value
            if chosen is Select.NULL:
                return None, (f"Choose {spec.label.lower()}." if spec.blank is None else None)
            return chosen, None
        assert isinstance(widget, Checkbox)
        return widget.value, None

    def _show_problem(self, name: str, problem: str | None) -> None:
        _say(self.query_one(f"#p-{name}", PlainText), problem or "")
        self.query_one(f"#{_widget_id(name)}").set_class(problem is not None, "-problem")

    def _field_of(self, widget: Widget | None) -> FormField | None:
        if widget is None or widget.id is None or not widget.id.startswith("f-"):
            return None
        name = widget.id.removeprefix("f-")
        return next((s for s in self.spec.fields if s.name == name), None)

    def _check_one(self, widget: Widget | None, *, edited: bool = True) -> None:
        spec = self._field_of(widget)
        if spec is None or isinstance(spec, FlagField | ChoiceField):
            return
        if edited:
            self._left_out.pop(spec.name, None)
        _value, problem = self._read(spec)
        # A required field left empty is only flagged on save, not while typing.
        if problem is not None and problem.startswith("Fill in"):
            problem = None
        self._show_problem(spec.name, problem or self._left_out.get(spec.name))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._check_one(event.input)

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        self._check_one(event.text_area)

    @on(GuardedInput.Refused)
    def _line_refused(self, event: GuardedInput.Refused) -> None:
        self._paste_refused(event.field, event.problem)

    @on(FreeTextArea.Refused)
    def _area_refused(self, event: FreeTextArea.Refused) -> None:
        self._paste_refused(event.area, event.problem)

    def _paste_refused(self, widget: Widget, problem: str) -> None:
        spec = self._field_of(widget)
        if spec is not None:
            self._left_out[spec.name] = problem
            self._check_one(widget, edited=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def values(self) -> tuple[Values, dict[str, str]]:
        """Every field's value, and the problems found (field name → message)."""
        values: Values = dict(self.spec.extra)
        problems: dict[str, str] = {}
        for spec in self.spec.fields:
            value, problem = self._read(spec)
            values[spec.name] = value
            if problem is not None:
                problems[spec.name] = problem
        if not problems and self.spec.check is not None:
            problems.update(self.spec.check(values))
        return values, problems

    # --- saving ------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        _say(self.query_one("#form-error", PlainText), message)

    def action_save(self) -> None:
        if self._saving:
            return
        values, problems = self.values()
        for spec in self.spec.fields:
            self._show_problem(spec.name, problems.get(spec.name))
        if problems:
            first = next(s.name for s in self.spec.fields if s.name in problems)
            self._say("Not saved: fix the field marked above.")
            self.query_one(f"#{_widget_id(first)}").focus()
            return
        self._say("Saving…")
        self._saving = True
        self.run_worker(lambda: self._save(values), thread=True, group="store", exit_on_error=False)

    def _save(self, values: Values) -> None:
        from sofs_tui.app import SofsApp

        app = self.app
        try:
            assert isinstance(app, SofsApp)
            result = self.spec.save(app.require_store(), values)
        except Exception as exc:  # shown in the form; the typed values stay
            if not get_current_worker().is_cancelled:
                app.call_from_thread(self._save_refused, exc)
            return
        app.call_from_thread(self._close, True if result is None else result)

    def _close(self, result: object) -> None:
        """Dismiss with the saved result, only while this form is the screen on top."""
        if self.app.screen is self:
            self.dismiss(result)
        elif self in self.app.screen_stack:
            self._saved = (result,)

    def on_screen_resume(self) -> None:
        if self._saved is not None:
            (result,) = self._saved
            self._saved = None
            self.dismiss(result)

    def _save_refused(self, exc: Exception) -> None:
        from sofs_tui.app import SofsApp
        from sofs_tui.store.errors import StoreError

        self._saving = False
        if isinstance(exc, StoreError):
            self._say(f"Not saved: {exc.user_message}")
            self.notify(exc.user_message, severity="error", markup=False, timeout=10)
        else:
            self._say("Not saved. Something went wrong; your text is still here.")
            if isinstance(self.app, SofsApp):
                self.app.report_incident(exc)

    def action_cancel(self) -> None:
        # While saving, the save decides: it closes the form, or keeps it with its message.
        if not self._saving and self.app.screen is self:
            self.dismiss(None)


class ConferencePick(ModalScreen[str | None]):
    """Choose one of a short list (a line of a sharing log…): Enter chooses, Escape closes
    without choosing. Dismisses with the chosen option's id."""

    CSS_PATH = STYLES / "conference_edit.tcss"
    ALLOW_SELECT = False
    HELP: ClassVar[str] = (
        "**Choose one.** The arrows move, **enter** chooses, **escape** closes without choosing."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="conference_pick.cancel"),
    ]

    def __init__(self, question: str, choices: Sequence[tuple[str, Text | Content]]) -> None:
        super().__init__()
        self._question = question
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield PlainText(self._question, id="pick-question")
            yield OptionList(*(Option(prompt, id=key) for key, prompt in self._choices))
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
