"""Schedule a conference: kind, model, date and time (London), chair, location, and for an
initial conference the strategy discussion that started the enquiry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Select

from sofs_tui.domain.calendar import COUNCIL_TZ, default_calendar
from sofs_tui.domain.deadlines import icpc_due
from sofs_tui.domain.enums import ConferenceKind, ConferenceModel
from sofs_tui.screens.forms import FormScreen
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.store.store import Store


class ScheduleConferenceScreen(FormScreen[str]):
    """Schedules through `store.conferences.schedule_conference`; dismisses with its id."""

    FORM_TITLE = "Schedule a conference"
    HELP: ClassVar[str] = (
        "**Schedule a conference.** Choose the kind and model, then the date and time in "
        "London time (2026-12-01 10:00). For an initial conference give the date of the "
        "strategy discussion: the form shows the last day the conference may be held. "
        "Enter saves; Escape closes without saving."
    )

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id

    def fields(self) -> Iterable[Widget]:
        yield self.row(
            "Kind",
            Select(
                [(k.label, k) for k in ConferenceKind],
                value=ConferenceKind.INITIAL,
                allow_blank=False,
                id="conference-kind",
                compact=True,
            ),
        )
        yield self.row(
            "Model",
            Select(
                [(m.label, m) for m in ConferenceModel],
                value=ConferenceModel.STANDARD,
                allow_blank=False,
                id="conference-model",
                compact=True,
            ),
        )
        yield self.when_field(
            "Date and time", "conference-when", required="Give the date and time."
        )
        yield self.text_field("Chair", "conference-chair", max_length=120)
        yield self.text_field("Location", "conference-location")
        yield self.date_field("Strategy discussion", "conference-strategy", classes="for-initial")
        yield PlainText("", id="conference-hint", classes="for-initial")

    def on_mount(self) -> None:
        self._show_kind()
        self.query_one("#conference-when").focus()

    @property
    def kind(self) -> ConferenceKind:
        value = self.chosen("conference-kind")
        return value if isinstance(value, ConferenceKind) else ConferenceKind.INITIAL

    @on(Select.Changed, "#conference-kind")
    def _kind_changed(self) -> None:
        self._show_kind()

    def _show_kind(self) -> None:
        self.set_class(self.kind is ConferenceKind.INITIAL, "-initial")
        self._update_hint()

    @on(Input.Changed, "#conference-strategy, #conference-when")
    def _dates_changed(self) -> None:
        self._update_hint()

    def _update_hint(self) -> None:
        """The ICPC timescale, as guidance: a late conference may still be scheduled."""
        hint = ""
        if self.kind is ConferenceKind.INITIAL and not self.field_problem("conference-strategy"):
            strategy = self.date_value("conference-strategy")
            if strategy is not None:
                due = icpc_due(strategy, default_calendar())
                hint = f"Due by {due:%a %d %b %Y} (15 working days after the discussion)."
                if not self.field_problem("conference-when") and self.text("conference-when"):
                    held = self.moment("conference-when").astimezone(COUNCIL_TZ).date()
                    if held > due:
                        hint += " This date is later than that."
        self.query_one("#conference-hint", PlainText).show(hint)

    def active_fields(self) -> list[str]:
        fields = ["conference-when", "conference-chair", "conference-location"]
        if self.kind is ConferenceKind.INITIAL:
            fields.append("conference-strategy")
        return fields

    def work(self) -> Callable[[Store], str]:
        case_id = self.case_id
        kind = self.kind
        model = self.chosen("conference-model")
        starts_at = self.moment("conference-when")
        chair = self.text("conference-chair")
        location = self.text("conference-location")
        strategy = (
            self.date_value("conference-strategy") if kind is ConferenceKind.INITIAL else None
        )

        def schedule(store: Store) -> str:
            from sofs_tui.store.conferences import schedule_conference

            return schedule_conference(
                store,
                case_id,
                kind=kind,
                starts_at=starts_at,
                model=model,
                chair=chair,
                location=location,
                strategy_discussion_on=strategy,
            ).id

        return schedule
