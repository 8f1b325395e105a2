"""Children subject to a child protection plan, for the team's statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sofs_tui.domain.enums import PlanCategory


@dataclass(frozen=True)
class PlanPeriod:
    """One child's plan: from the conference that started it to the one that ended it."""

    child_id: str
    start: date
    end: date | None
    initial: PlanCategory
    latest: PlanCategory


def on_plan(period: PlanPeriod, on: date) -> bool:
    """A child is subject to a plan from its start date until the day before it ends."""
    return period.start <= on and (period.end is None or on < period.end)


def count_by_category(
    periods: list[PlanPeriod], on: date
) -> tuple[dict[PlanCategory, int], dict[PlanCategory, int], int]:
    """Counts by initial and by latest category of children on a plan on `on`, and the total."""
    initial = dict.fromkeys(PlanCategory, 0)
    latest = dict.fromkeys(PlanCategory, 0)
    total = 0
    for p in periods:
        if on_plan(p, on):
            initial[p.initial] += 1
            latest[p.latest] += 1
            total += 1
    return initial, latest, total
