"""Scaling questions: 0–10 judgements, one per person, never averaged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

SCALE_MIN = 0
SCALE_MAX = 10


@dataclass(frozen=True)
class ScaleWording:
    """What 0 and 10 mean, as the council words them (stored with every score)."""

    zero: str
    ten: str


DEFAULT_SCALE_WORDING = ScaleWording(
    zero="Things are so bad for the child that they cannot stay where they are.",
    ten="Everyone knows the child is safe enough for the case to be closed.",
)


class ScoreError(ValueError):
    """A score outside the scale or without what it needs."""


def check_score(value: int, rationale: str, scorer_name: str) -> None:
    """Raise `ScoreError` unless the score can be recorded."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScoreError("A score is a whole number from 0 to 10.")
    if not SCALE_MIN <= value <= SCALE_MAX:
        raise ScoreError(f"A score is from 0 to 10; {value} is outside the scale.")
    if not scorer_name.strip():
        raise ScoreError("Say who gave this score.")
    if not rationale.strip():
        raise ScoreError("Write why this person chose this number.")


class ScoreRow(Protocol):
    @property
    def danger_statement_id(self) -> str | None: ...
    @property
    def scorer_name(self) -> str: ...
    @property
    def deleted(self) -> bool: ...


S = TypeVar("S", bound=ScoreRow)


def side_by_side(scores: Iterable[S]) -> dict[str | None, list[S]]:
    """Scores grouped by what they judge (None = the whole mapping), each group by scorer.

    Deliberately no mean or median: every person's number is shown as theirs.
    """
    groups: dict[str | None, list[S]] = {}
    for score in scores:
        if not score.deleted:
            groups.setdefault(score.danger_statement_id, []).append(score)
    for group in groups.values():
        group.sort(key=lambda s: s.scorer_name.casefold())
    return groups
