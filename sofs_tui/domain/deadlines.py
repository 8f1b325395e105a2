"""Report-sharing deadlines and conference timescales, as pure rules.

A council says "48 hours" or "5 days" before a conference; these rules turn that into the exact
moment a report must reach the parents or the QA Unit, and say whether it did.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from sofs_tui.domain.calendar import WorkingCalendar, require_aware
from sofs_tui.domain.enums import ConferenceKind


class DeadlineUnit(StrEnum):
    """How a council counts the time before a conference."""

    CLOCK_HOURS = "clock_hours"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"

    @property
    def words(self) -> str:
        """The unit in words, plural: "clock hours"."""
        return self.value.replace("_", " ")


_RULE_TEXT = re.compile(r"^\s*(?P<amount>\d+)\s+(?P<unit>[a-z][a-z_\- ]*?)(?:\s+before)?\s*$")


@dataclass(frozen=True)
class DeadlineRule:
    """How long before a conference starts a report is due, e.g. 5 working days."""

    amount: int
    unit: DeadlineUnit

    def __post_init__(self) -> None:
        # Settings files are untyped: refuse 1.5 or True rather than guess.
        if type(self.amount) is not int:
            raise ValueError(f"a deadline amount must be a whole number, got {self.amount!r}")
        if self.amount < 0:
            raise ValueError(f"a deadline amount must not be negative, got {self.amount}")
        # Accepts the unit's stored value too; an unknown one raises ValueError.
        object.__setattr__(self, "unit", DeadlineUnit(self.unit))

    def describe(self) -> str:
        """Words for people: "48 clock hours before", "1 working day before"."""
        words = self.unit.words if self.amount != 1 else self.unit.words.removesuffix("s")
        return f"{self.amount} {words} before"

    def to_text(self) -> str:
        """The settings-file form, read back by `parse`: "5 working_days"."""
        return f"{self.amount} {self.unit.value}"

    @classmethod
    def parse(cls, text: str) -> DeadlineRule:
        """Read "48 clock_hours", "5 working days", "1 working_day" or "2 calendar-days before"."""
        match = _RULE_TEXT.match(text.lower())
        if match is None:
            raise ValueError(
                f"cannot read deadline rule {text!r}: expected a whole number and a unit, "
                f"e.g. '48 clock_hours' or '5 working_days'"
            )
        unit_text = re.sub(r"[\s\-_]+", "_", match["unit"])
        if not unit_text.endswith("s"):
            unit_text += "s"
        try:
            unit = DeadlineUnit(unit_text)
        except ValueError:
            known = ", ".join(u.value for u in DeadlineUnit)
            raise ValueError(
                f"unknown unit {match['unit']!r} in deadline rule {text!r}; use one of {known}"
            ) from None
        return cls(int(match["amount"]), unit)


def report_deadline(
    conference_start: datetime, rule: DeadlineRule, calendar: WorkingCalendar
) -> datetime:
    """The latest moment a report may be shared or sent for a conference, in UTC.

    Clock hours are real elapsed time (so a clock change moves the wall-clock answer);
    day rules keep the conference's wall-clock time in the council's zone.
    """
    require_aware(conference_start, "conference_start")
    if rule.unit is DeadlineUnit.CLOCK_HOURS:
        return conference_start.astimezone(UTC) - timedelta(hours=rule.amount)
    if rule.unit is DeadlineUnit.WORKING_HOURS:
        return calendar.subtract_working_hours(conference_start, rule.amount)
    local = conference_start.astimezone(calendar.tz)
    if rule.unit is DeadlineUnit.CALENDAR_DAYS:
        day = local.date() - timedelta(days=rule.amount)
    else:
        day = calendar.add_working_days(local.date(), -rule.amount)
    wall_clock = datetime.combine(day, local.time(), tzinfo=calendar.tz)
    return wall_clock.astimezone(UTC)


_INITIAL_RULE = DeadlineRule(48, DeadlineUnit.CLOCK_HOURS)
_REVIEW_RULE = DeadlineRule(5, DeadlineUnit.WORKING_DAYS)
_LONDON_BOROUGH_RULES: Mapping[ConferenceKind, DeadlineRule] = MappingProxyType(
    {
        ConferenceKind.INITIAL: _INITIAL_RULE,
        ConferenceKind.REVIEW: _REVIEW_RULE,
        ConferenceKind.TRANSFER_IN: _INITIAL_RULE,
        ConferenceKind.PRE_BIRTH: _INITIAL_RULE,
    }
)


def _london_borough_rules() -> Mapping[ConferenceKind, DeadlineRule]:
    return _LONDON_BOROUGH_RULES


def _frozen_rules(
    rules: Mapping[ConferenceKind, DeadlineRule], target: str
) -> Mapping[ConferenceKind, DeadlineRule]:
    frozen = {ConferenceKind(kind): rule for kind, rule in rules.items()}
    missing = [kind.value for kind in ConferenceKind if kind not in frozen]
    if missing:
        raise ValueError(f"no {target} deadline rule for: {', '.join(missing)}")
    return MappingProxyType(frozen)


@dataclass(frozen=True)
class ReportDeadlineRules:
    """A council's report deadlines per conference kind, to parents and to the QA Unit.

    Every conference kind must have a rule for both, so a lookup never fails.
    """

    to_parents: Mapping[ConferenceKind, DeadlineRule] = field(default_factory=_london_borough_rules)
    to_qau: Mapping[ConferenceKind, DeadlineRule] = field(default_factory=_london_borough_rules)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to_parents", _frozen_rules(self.to_parents, "to-parents"))
        object.__setattr__(self, "to_qau", _frozen_rules(self.to_qau, "to-QAU"))

    def __hash__(self) -> int:
        return hash((frozenset(self.to_parents.items()), frozenset(self.to_qau.items())))

    def for_parents(self, kind: ConferenceKind) -> DeadlineRule:
        return self.to_parents[kind]

    def for_qau(self, kind: ConferenceKind) -> DeadlineRule:
        return self.to_qau[kind]

    def updated(
        self,
        *,
        to_parents: Mapping[ConferenceKind, DeadlineRule] | None = None,
        to_qau: Mapping[ConferenceKind, DeadlineRule] | None = None,
    ) -> ReportDeadlineRules:
        """These rules with some kinds overridden (e.g. from a council's settings file)."""
        return ReportDeadlineRules(
            to_parents={**self.to_parents, **(to_parents or {})},
            to_qau={**self.to_qau, **(to_qau or {})},
        )


LONDON_BOROUGH_DEFAULTS = ReportDeadlineRules()
"""The seed's borough: Initial 48 clock hours, Review 5 working days; others as Initial."""


class DeadlineState(StrEnum):
    """Where a report stands against its deadline."""

    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def symbol(self) -> str:
        """One character per state, so a state is never shown by colour alone."""
        return _STATE_SYMBOLS[self]

    @property
    def is_problem(self) -> bool:
        return self in (DeadlineState.OVERDUE, DeadlineState.DONE_LATE)


_STATE_LABELS = {
    DeadlineState.DUE: "Due",
    DeadlineState.DUE_SOON: "Due soon",
    DeadlineState.OVERDUE: "Overdue",
    DeadlineState.DONE_ON_TIME: "Done on time",
    DeadlineState.DONE_LATE: "Done late",
}

# Open circle: waiting; quarter-filled: time running out; ballot X: missed;
# tick: done; "!": done, but late. Single-cell characters found in common terminal fonts
# (checked in DejaVu Sans Mono); the label always goes with them.
_STATE_SYMBOLS = {
    DeadlineState.DUE: "○",
    DeadlineState.DUE_SOON: "◔",
    DeadlineState.OVERDUE: "✗",
    DeadlineState.DONE_ON_TIME: "✓",
    DeadlineState.DONE_LATE: "!",
}


def deadline_state(
    deadline: datetime,
    done_at: datetime | None,
    now: datetime,
    due_soon: timedelta = timedelta(hours=24),
) -> DeadlineState:
    """Where a report stands. Done exactly at the deadline is on time; so is "now" not overdue."""
    require_aware(deadline, "deadline")
    require_aware(now, "now")
    if due_soon < timedelta(0):
        raise ValueError(f"due_soon must not be negative, got {due_soon}")
    if done_at is not None:
        require_aware(done_at, "done_at")
        return DeadlineState.DONE_ON_TIME if done_at <= deadline else DeadlineState.DONE_LATE
    if now > deadline:
        return DeadlineState.OVERDUE
    if deadline - now <= due_soon:
        return DeadlineState.DUE_SOON
    return DeadlineState.DUE


def time_left(deadline: datetime, now: datetime) -> timedelta:
    """Time until the deadline; negative once it has passed."""
    require_aware(deadline, "deadline")
    require_aware(now, "now")
    return deadline - now


def describe_time_left(deadline: datetime, now: datetime) -> str:
    """Short words for a list: "3d 4h left", "5h 10m left", "overdue by 2d 1h", "due now".

    Parts are truncated, never rounded up, so "left" never promises more time than there is.
    """
    left = time_left(deadline, now)
    span = abs(left)
    if span < timedelta(minutes=1):
        return "due now"
    text = _short_span(span)
    return f"{text} left" if left > timedelta(0) else f"overdue by {text}"


def _short_span(span: timedelta) -> str:
    """The two largest units of a positive span: "2d 1h", "5h 10m", "3m"; zero parts dropped."""
    minutes_total = int(span.total_seconds()) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


# --- Conference timescales (dates) -------------------------------------------------------


def _require_count(value: int, what: str) -> None:
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")


def add_months(d: date, months: int) -> date:
    """The same day `months` later (earlier if negative), clamped to the end of a short month."""
    month_index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def icpc_due(
    strategy_discussion_on: date, calendar: WorkingCalendar, working_days: int = 15
) -> date:
    """Last day for the initial conference: `working_days` after the strategy discussion."""
    _require_count(working_days, "working_days")
    return calendar.add_working_days(strategy_discussion_on, working_days)


def first_core_group_due(icpc_on: date, calendar: WorkingCalendar, working_days: int = 10) -> date:
    """Last day for the first core group: `working_days` after the initial conference."""
    _require_count(working_days, "working_days")
    return calendar.add_working_days(icpc_on, working_days)


def first_review_due(icpc_on: date, months: int = 3, days: int = 90) -> date:
    """Last day for the first review: the earlier of `months` and `days` after the ICPC.

    Councils say "3 months" or "90 days"; the earlier keeps both satisfied.
    """
    _require_count(months, "months")
    _require_count(days, "days")
    return min(add_months(icpc_on, months), icpc_on + timedelta(days=days))


def next_review_due(previous_review_on: date, months: int = 6) -> date:
    """Last day for the next review: at most `months` after the previous one."""
    _require_count(months, "months")
    return add_months(previous_review_on, months)
