"""The scaling panel: every person's 0–10 score side by side, per danger statement and overall.

Deliberately no mean, median or any other single number: each score is shown as that person's,
with their reasons and the wording of 0 and 10 they were given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from textual.content import Content
from textual.widgets.option_list import Option

from sofs_tui.domain.scaling import SCALE_MAX, SCALE_MIN
from sofs_tui.domain.text import clean_text
from sofs_tui.widgets.entry_list import shorten
from sofs_tui.widgets.keyed_options import KeyedOptionList

GROUP_PREFIX = "group:"
SCORE_PREFIX = "score:"
#: The group id of scores for the whole mapping.
OVERALL = "overall"


class ShownScore(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def scorer_name(self) -> str: ...
    @property
    def scorer_role(self) -> str: ...
    @property
    def value(self) -> int: ...
    @property
    def rationale(self) -> str: ...
    @property
    def zero_wording(self) -> str: ...
    @property
    def ten_wording(self) -> str: ...
    @property
    def scored_on(self) -> date | None: ...


@dataclass(frozen=True)
class ScoreGroup:
    """The scores for one thing judged: a danger statement (its id) or the whole mapping."""

    key: str  # OVERALL or a danger statement's id
    title: str
    scores: tuple[ShownScore, ...]


def scale_line(value: int) -> str:
    """Where the number sits on the scale, drawn with characters: '0 ····●····· 10'."""
    marks = ["·"] * (SCALE_MAX - SCALE_MIN + 1)
    marks[value - SCALE_MIN] = "●"
    return f"{SCALE_MIN} {''.join(marks)} {SCALE_MAX}"


def scorer(score: ShownScore) -> str:
    name = clean_text(score.scorer_name, multiline=False).strip()
    role = clean_text(score.scorer_role, multiline=False).strip()
    return f"{name} ({role})" if role else name


def side_by_side_line(scores: Sequence[ShownScore]) -> str:
    """'Mum 4 · Dad 6 · School 3': each person's own number, never combined."""
    if not scores:
        return "No scores yet."
    return " · ".join(f"{clean_text(s.scorer_name, multiline=False)} {s.value}" for s in scores)


def score_prompt(score: ShownScore, zero: str, ten: str) -> Content:
    when = score.scored_on.strftime("%d %b %Y") if score.scored_on else "date not recorded"
    lines = [
        Content.from_markup(
            "[b]$who: $value out of 10[/b]  $scale  [dim]$when[/dim]",
            who=scorer(score),
            value=score.value,
            scale=scale_line(score.value),
            when=when,
        ),
        Content.from_markup("   Why: $why", why=shorten(score.rationale, 600)),
    ]
    if (score.zero_wording, score.ten_wording) != (zero, ten):
        lines.append(
            Content.from_markup(
                "   [i]Scored with other wording: 0 = $zero; 10 = $ten[/i]",
                zero=shorten(score.zero_wording, 120),
                ten=shorten(score.ten_wording, 120),
            )
        )
    return Content("\n").join(lines)


def group_prompt(group: ScoreGroup, *, read_only: bool) -> Content:
    hint = "" if read_only else "  (a: add a score here)"
    return Content.from_markup(
        "[b reverse] $title [/b reverse]$hint\n   Side by side: $line",
        title=clean_text(group.title, multiline=False),
        hint=hint,
        line=side_by_side_line(group.scores),
    )


class ScoreList(KeyedOptionList):
    """Groups of scores; a group's header adds a score to it, a score opens it."""

    def show(self, groups: Sequence[ScoreGroup], *, zero: str, ten: str, read_only: bool) -> None:
        options: list[Option] = []
        for group in groups:
            options.append(
                Option(group_prompt(group, read_only=read_only), id=GROUP_PREFIX + group.key)
            )
            options.extend(
                Option(score_prompt(score, zero, ten), id=SCORE_PREFIX + score.id)
                for score in group.scores
            )
        self.replace_options(options)

    @property
    def highlighted_score_id(self) -> str | None:
        return self.highlighted_key(SCORE_PREFIX)

    @property
    def highlighted_group(self) -> str | None:
        """The group (OVERALL or a danger statement id) of the highlighted row."""
        return self.nearest_key_above(GROUP_PREFIX)
