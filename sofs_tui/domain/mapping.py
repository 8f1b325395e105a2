"""Rules of one mapping: pairing danger statements with safety goals, and completeness.

The rules take any objects with the right attributes (the store's rows, test doubles), so
they stay pure and need no conversion layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sofs_tui.domain.enums import Section
from sofs_tui.domain.positions import sort_key


class EntryLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def section(self) -> Section: ...
    @property
    def position(self) -> str: ...
    @property
    def goal_for_id(self) -> str | None: ...
    @property
    def deleted(self) -> bool: ...


class ScoreLike(Protocol):
    @property
    def danger_statement_id(self) -> str | None: ...
    @property
    def deleted(self) -> bool: ...


class PairingError(ValueError):
    """A danger statement and safety goal cannot be paired as asked."""


def check_pairing(danger: EntryLike, goal: EntryLike, existing_goals: Iterable[EntryLike]) -> None:
    """Raise `PairingError` unless `goal` may become the one safety goal for `danger`.

    Pairing is one to one: a danger statement has at most one goal and a goal answers
    at most one danger statement.
    """
    if danger.section is not Section.DANGER_STATEMENT:
        raise PairingError("Only a danger statement can be paired with a safety goal.")
    if goal.section is not Section.SAFETY_GOAL:
        raise PairingError("A danger statement can only be paired with a safety goal.")
    if danger.deleted or goal.deleted:
        raise PairingError("A deleted entry cannot be paired.")
    if goal.goal_for_id is not None and goal.goal_for_id != danger.id:
        raise PairingError(
            "This safety goal already answers another danger statement. Unpair it first."
        )
    for other in existing_goals:
        if other.id != goal.id and not other.deleted and other.goal_for_id == danger.id:
            raise PairingError(
                "This danger statement already has a safety goal. Unpair that goal first."
            )


def ordered(entries: Iterable[EntryLike]) -> list[EntryLike]:
    """Live entries in the order they are shown."""
    return sorted((e for e in entries if not e.deleted), key=lambda e: sort_key(e.position, e.id))


def by_section(entries: Iterable[EntryLike]) -> dict[Section, list[EntryLike]]:
    """Live entries grouped by section (every section present), each in display order."""
    grouped: dict[Section, list[EntryLike]] = {s: [] for s in Section}
    for entry in ordered(entries):
        grouped[entry.section].append(entry)
    return grouped


@dataclass(frozen=True)
class Completeness:
    """Whether a mapping is ready: each danger statement has its goal and a score."""

    danger_statements: int
    without_goal: tuple[str, ...] = field(default=())
    without_score: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return self.danger_statements > 0 and not self.without_goal and not self.without_score

    def problems(self) -> list[str]:
        """Plain sentences saying what is missing, for the screen and the sign-off check."""
        found: list[str] = []
        if self.danger_statements == 0:
            found.append("There are no danger statements yet.")
        if self.without_goal:
            n = len(self.without_goal)
            found.append(f"{n} danger statement{'s' if n > 1 else ''} without a safety goal.")
        if self.without_score:
            n = len(self.without_score)
            found.append(f"{n} danger statement{'s' if n > 1 else ''} without a score.")
        return found


def completeness(entries: Sequence[EntryLike], scores: Sequence[ScoreLike]) -> Completeness:
    """Check the mapping's completeness.

    A danger statement counts as scored when someone scored it directly or gave an overall
    score for the whole mapping (an overall judgement covers every statement).
    """
    live = ordered(entries)
    dangers = [e for e in live if e.section is Section.DANGER_STATEMENT]
    paired = {e.goal_for_id for e in live if e.section is Section.SAFETY_GOAL and e.goal_for_id}
    live_scores = [s for s in scores if not s.deleted]
    has_overall = any(s.danger_statement_id is None for s in live_scores)
    scored = {s.danger_statement_id for s in live_scores if s.danger_statement_id}
    return Completeness(
        danger_statements=len(dangers),
        without_goal=tuple(d.id for d in dangers if d.id not in paired),
        without_score=tuple(d.id for d in dangers if not has_overall and d.id not in scored),
    )
