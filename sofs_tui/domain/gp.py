"""The GP on a conference's invitee list and the QA Unit's GP categories: how the invitee row's
attendance and the conference's "GP invited" / "GP outcome" follow each other."""

from __future__ import annotations

from sofs_tui.domain.enums import Attendance, GPInvited, GPOutcome

_ATTENDANCE_OF = {
    GPOutcome.ATTENDED: Attendance.ATTENDED,
    GPOutcome.PROVIDED_REPORT: Attendance.ABSENT,  # a report, but not there in person
    GPOutcome.SENT_APOLOGY: Attendance.APOLOGIES,
    GPOutcome.ABSENT: Attendance.ABSENT,
    GPOutcome.LOG_NOT_COMPLETED: Attendance.NOT_RECORDED,
}

#: Only the attendance that says what the GP did in the QA Unit's words. "Sent apologies" does
#: not: with or without a report are two categories, so that one is left to the worker.
_OUTCOME_OF = {
    Attendance.ATTENDED: GPOutcome.ATTENDED,
    Attendance.ABSENT: GPOutcome.ABSENT,
}


def attendance_of_gp(outcome: GPOutcome | None) -> Attendance:
    """The GP's invitee row, in the attendance words every invitee has."""
    return Attendance.NOT_RECORDED if outcome is None else _ATTENDANCE_OF[outcome]


def gp_outcome_of_attendance(attendance: Attendance) -> GPOutcome | None:
    """The QA Unit's category for the GP's attendance, when the attendance alone says it."""
    return _OUTCOME_OF.get(attendance)


def invited_when_on_the_list(recorded: GPInvited | None) -> GPInvited:
    """The "GP invited" category once the case's GP is on the invitee list: what was recorded
    stands (the worker may know it was "By SW"), otherwise Yes."""
    return recorded if recorded is not None else GPInvited.YES


def gp_outcome_missing(
    invited: GPInvited | None, on_the_list: bool, outcome: GPOutcome | None
) -> bool:
    """True when the GP was invited but what the GP did is not recorded: the QA Unit's GP
    statistics then count the conference as "not recorded"."""
    was_invited = on_the_list or invited in (GPInvited.YES, GPInvited.BY_SW)
    return was_invited and outcome is None
