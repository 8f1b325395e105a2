"""Conferences: Families First checks and the dates that follow a conference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import first_core_group_due, first_review_due, next_review_due
from sofs_tui.domain.enums import ConferenceKind, ConferenceModel


@dataclass(frozen=True)
class FollowUpDates:
    """Dates a conference sets in motion for a child on a plan."""

    core_group_by: date | None
    next_review_by: date


def follow_up_dates(
    kind: ConferenceKind, held_on: date, calendar: WorkingCalendar
) -> FollowUpDates:
    """After an initial (or pre-birth, transfer-in) conference: first core group within 10
    working days and first review within 3 months; after a review, the next within 6 months.
    """
    if kind is ConferenceKind.REVIEW:
        return FollowUpDates(core_group_by=None, next_review_by=next_review_due(held_on))
    return FollowUpDates(
        core_group_by=first_core_group_due(held_on, calendar),
        next_review_by=first_review_due(held_on),
    )


def families_first_gaps(
    model: ConferenceModel,
    *,
    preparation_done: bool,
    private_family_time: bool,
    family_plan_items: int,
) -> list[str]:
    """What a Families First conference still lacks, in plain words (empty when ready)."""
    if model is not ConferenceModel.FAMILIES_FIRST:
        return []
    gaps: list[str] = []
    if not preparation_done:
        gaps.append("Record the family preparation meeting.")
    if not private_family_time:
        gaps.append("Record whether the family had private family time.")
    if family_plan_items == 0:
        gaps.append("The family plan has no tasks yet (task, who, by when, who checks).")
    return gaps


@dataclass(frozen=True)
class FamilyPlanTask:
    """One line of a Families First family plan."""

    task: str
    who: str
    by_when: date | None
    who_checks: str

    def problems(self) -> list[str]:
        found = []
        if not self.task.strip():
            found.append("Say what the task is.")
        if not self.who.strip():
            found.append("Say who will do it.")
        if self.by_when is None:
            found.append("Say by when.")
        if not self.who_checks.strip():
            found.append("Say who checks it is done.")
        return found
