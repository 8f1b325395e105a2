"""The period the team view counts: conferences from one day to another, and the day plans are
counted on. By default the last three whole calendar months, with plans counted today."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from textual.widget import Widget
from textual.widgets import Button

from sofs_tui.screens.forms import FormScreen
from sofs_tui.widgets.plain import PlainText

MONTHS_BY_DEFAULT = 3


def day_words(day: date) -> str:
    """ "Sat 1 Aug 2026" """
    return f"{day:%a} {day.day} {day:%b %Y}"


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _month_start(day, -1) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Conferences starting from `first` to `last` (inclusive); plans counted on `on`."""

    first: date
    last: date
    on: date

    def covering(self, first: date, last: date) -> Period:
        """The whole calendar months from `first` to `last` (plans still counted on `on`)."""
        return replace(self, first=_month_start(first), last=_month_end(last))


def default_period(today: date) -> Period:
    """The last three whole calendar months before this one; plans counted today.

    On 25 November 2026 that is 1 August to 31 October 2026."""
    this_month = _month_start(today)
    return Period(
        first=_month_start(today, MONTHS_BY_DEFAULT),
        last=this_month - timedelta(days=1),
        on=today,
    )


class PeriodForm(FormScreen[Period]):
    """From, to and "plans on": three dates, checked as they are typed."""

    FORM_TITLE = "Period for the team's statistics"
    HELP = (
        "**Period.** Conferences starting from the first date to the second (both included), "
        "and the day children on a plan are counted. Type 2026-08-01, 1/8/2026 or today. "
        "Enter or ctrl+s shows them; Escape keeps the period as it was."
    )

    def __init__(self, period: Period) -> None:
        super().__init__()
        self.period = period

    def fields(self) -> Iterable[Widget]:
        yield self.date_field("Conferences from", "period-first", self.period.first)
        yield self.date_field("to (inclusive)", "period-last", self.period.last)
        yield self.date_field("Children on a plan on", "period-on", self.period.on)

    def unsaved_form(self) -> str | None:
        return None  # a period to look at, nothing to save: quitting loses nothing

    def on_mount(self) -> None:
        self.query_one("#form-save", Button).label = "Show"
        self.query_one("#period-first").focus()

    def problems(self) -> dict[str, str]:
        found = super().problems()
        for field_id in ("period-first", "period-last", "period-on"):
            if field_id not in found and not self.text(field_id):
                found[field_id] = "Give a date, like 2026-08-01."
        if not found:
            first, last = self.date_value("period-first"), self.date_value("period-last")
            if first is not None and last is not None and first > last:
                found["period-last"] = "This is before the first day: give a later date."
        return found

    def action_save(self) -> None:
        """Nothing to store: a period that checks out closes the form at once."""
        problems = self.problems()
        for field_id in self.active_fields():
            self.show_problem(field_id, problems.get(field_id))
        if problems:
            self.query_one("#form-error", PlainText).show("See the messages above.")
            self.query_one(f"#{next(iter(problems))}").focus()
            return
        first = self.date_value("period-first")
        last = self.date_value("period-last")
        on = self.date_value("period-on")
        assert first is not None and last is not None and on is not None
        self.dismiss(Period(first, last, on))
