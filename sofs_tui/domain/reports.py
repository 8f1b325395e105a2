"""Conference reports: the rule for sending to the QA Unit and each report's deadline state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import (
    DeadlineState,
    ReportDeadlineRules,
    deadline_state,
    report_deadline,
)
from sofs_tui.domain.enums import ConferenceKind, QauReason
from sofs_tui.domain.when import describe_when


class SharingRuleError(ValueError):
    """The report cannot be marked as sent to the QA Unit yet."""


#: How far past the clock a recorded sharing or sending time may be. A few minutes, not zero:
#: a laptop clock a little behind a colleague's, or "now" typed as the minute turns, must not
#: be refused; anything later has simply not happened yet, and would count as done on time.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)

SHARED_IN_FUTURE = (
    "Record the sharing once the parent has had the report, with the date and time they had it."
)
SENT_IN_FUTURE = (
    "Mark the report sent once it has gone to the QA Unit, with the date and time it was sent."
)


def future_time_problem(when: datetime, now: datetime, what_to_do: str) -> str | None:
    """Why `when` cannot be recorded as a moment that has happened (None when it can):
    it is later than `now`, beyond `CLOCK_SKEW_TOLERANCE`. `what_to_do` ends the message."""
    if when <= now + CLOCK_SKEW_TOLERANCE:
        return None
    return f"That time is in the future (it is now {describe_when(now)}). {what_to_do}"


def check_can_send_to_qau(
    parent_shares: int, reason: QauReason | None, reason_note: str = ""
) -> None:
    """A report goes to the QA Unit only with a parent-sharing record or a recorded reason.

    The reason needs a note: "agreed with the chair" means nothing without who and when.
    """
    if parent_shares > 0:
        return
    if reason is None:
        raise SharingRuleError(
            "This report has not been shared with a parent. Record when it was shared, "
            "or choose the reason it was not (redaction agreed with the chair, parent not "
            "contactable, parent excluded) before marking it sent to the QA Unit."
        )
    if not reason_note.strip():
        raise SharingRuleError(
            f"Add a short note to the reason '{reason.label}' (who agreed it and when)."
        )


@dataclass(frozen=True)
class ReportTimeliness:
    """A report's two deadlines and where each stands."""

    parents_due: datetime
    qau_due: datetime
    parents_state: DeadlineState
    qau_state: DeadlineState


def report_timeliness(
    *,
    kind: ConferenceKind,
    conference_start: datetime,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    parent_ids: Sequence[str],
    shared_at_by_parent: Mapping[str, datetime],
    sent_to_qau_at: datetime | None,
    qau_exempt_from_sharing: bool,
    now: datetime,
    due_soon: timedelta = timedelta(hours=24),
) -> ReportTimeliness:
    """Where a report stands against both deadlines.

    Sharing counts as done when every parent has a sharing record (the last of them is the
    moment it was done), or when a recorded reason exempts it. A case with no parents
    recorded is not done: somebody has to record who the report was shared with.
    """
    parents_due = report_deadline(conference_start, rules.for_parents(kind), calendar)
    qau_due = report_deadline(conference_start, rules.for_qau(kind), calendar)
    shared_done: datetime | None = None
    if parent_ids and all(p in shared_at_by_parent for p in parent_ids):
        shared_done = max(shared_at_by_parent[p] for p in parent_ids)
    elif qau_exempt_from_sharing and sent_to_qau_at is not None:
        shared_done = sent_to_qau_at
    return ReportTimeliness(
        parents_due=parents_due,
        qau_due=qau_due,
        parents_state=deadline_state(parents_due, shared_done, now, due_soon),
        qau_state=deadline_state(qau_due, sent_to_qau_at, now, due_soon),
    )
