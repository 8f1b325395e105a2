"""The parent-friendly summary of an assessment and its plan, in plain words.

Built from an allow-list: the family's name and case reference, the assessment's title and
status, entries marked for the family, scores (numbers, who gave them and the words for 0 and
10; not their free-text reasons, which carry no audience), the child's words where consent to
share is recorded, and the family plan and next conference date. Entries marked not for the
family never appear; one whose audience is undecided stops the export until a person decides
(SECURITY.md R20, reference/security.md §1.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sofs_tui.config import CouncilRules
from sofs_tui.domain.child_voice import PART_LABELS
from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Audience,
    Column,
    ConferenceKind,
    Section,
    sections_in,
)
from sofs_tui.exports.document import (
    Block,
    Document,
    ExportError,
    Heading,
    Item,
    Items,
    Paragraph,
    Table,
    day_text,
    first_words,
    local_day,
    when_text,
)
from sofs_tui.store.export_views import (
    ParentSummarySource,
    SummaryEntry,
    SummaryScore,
)

_CONFERENCE_WORDS = {
    ConferenceKind.INITIAL: "first child protection conference",
    ConferenceKind.REVIEW: "review child protection conference",
    ConferenceKind.TRANSFER_IN: "child protection conference (after moving from another area)",
    ConferenceKind.PRE_BIRTH: "child protection conference before the baby is born",
}

_INTRO = (
    "This summary sets out what everyone is worried about, what is working well, and what "
    "needs to happen next. If anything in it is wrong or hard to understand, please tell "
    "your social worker."
)


@dataclass(frozen=True)
class Undecided:
    """An entry nobody has yet marked as for the family or not."""

    section: str
    start: str  # the first words of the entry


class AudienceUndecided(ExportError):
    """Some entries have no audience yet; the summary cannot be made until they do."""

    def __init__(self, undecided: Sequence[Undecided]) -> None:
        self.undecided = tuple(undecided)
        listed = "\n".join(f"- {u.section}: \u201c{u.start}\u201d" for u in self.undecided)
        count = len(self.undecided)
        entries = "entry has" if count == 1 else "entries have"
        super().__init__(
            f"The summary for the family cannot be made yet: {count} {entries} not been "
            "marked as for the family or not for the family. Decide each one in the mapping, "
            f"then export again.\n{listed}"
        )


def undecided_entries(source: ParentSummarySource, rules: CouncilRules) -> list[Undecided]:
    """Every entry whose audience is still undecided, in the mapping's order."""
    return [
        Undecided(rules.label(e.section), first_words(e.text))
        for e in source.entries
        if e.audience is Audience.UNDECIDED
    ]


def _agreement_note(entry: SummaryEntry) -> str | None:
    if entry.agreement is Agreement.AGREED:
        return "Everyone agrees with this."
    if entry.agreement is Agreement.DISPUTED:
        who = entry.disputed_by.strip()
        return f"{who} does not agree with this." if who else "Not everyone agrees with this."
    return None


def _item(entry: SummaryEntry, extra: Sequence[str] = ()) -> Item:
    notes = [f"Who said this: {entry.source}"] if entry.source.strip() else []
    agreement = _agreement_note(entry)
    if agreement:
        notes.append(agreement)
    return Item(entry.text, (*notes, *extra))


def _column(
    column: Column, shown: list[SummaryEntry], rules: CouncilRules, goal_of: dict[str, SummaryEntry]
) -> list[Block]:
    blocks: list[Block] = [Heading(column.label, 1)]
    written = False
    paired_goals = {g.id for g in goal_of.values()}
    for section in sections_in(column):
        mine = [e for e in shown if e.section is section]
        if section is Section.SAFETY_GOAL:
            mine = [e for e in mine if e.id not in paired_goals]  # shown with their worry
        if not mine:
            continue
        written = True
        blocks.append(Heading(rules.label(section), 2))
        if section is Section.NEXT_STEPS:
            blocks.append(
                Table(
                    ("What will happen", "Who"),
                    tuple((e.text, e.source.strip() or "-") for e in mine),
                )
            )
            continue
        items = []
        for entry in mine:
            goal = goal_of.get(entry.id)
            extra = [f"{rules.label(Section.SAFETY_GOAL)}: {goal.text}"] if goal else []
            items.append(_item(entry, extra))
        blocks.append(Items(tuple(items)))
    if not written:
        blocks.append(Paragraph("Nothing has been written here for you yet.", quiet=True))
    return blocks


def _scorer(score: SummaryScore) -> str:
    role = score.scorer_role.strip()
    return f"{score.scorer_name} ({role})" if role else score.scorer_name


def _scores(source: ParentSummarySource, shown_dangers: dict[str, SummaryEntry]) -> list[Block]:
    groups: dict[str | None, list[SummaryScore]] = {}
    for score in source.scores:
        about = score.danger_statement_id
        if about is None or about in shown_dangers:  # a hidden worry's scores stay hidden too
            groups.setdefault(about, []).append(score)
    if not groups:
        return []
    blocks: list[Block] = [
        Heading("Scores from 0 to 10", 1),
        Paragraph(
            "People were asked where they would put things on a scale from 0 to 10. Each "
            "person's number is shown as their own: the numbers are never added up or averaged."
        ),
        Paragraph(f"0 means: {source.zero_wording}"),
        Paragraph(f"10 means: {source.ten_wording}"),
    ]
    order = [None, *(d for d in shown_dangers if d in groups)]
    for about in order:
        if about not in groups:
            continue
        title = (
            "About everything together"
            if about is None
            else f"About this worry: {first_words(shown_dangers[about].text, 12)}"
        )
        blocks.append(Heading(title, 2))
        scores = groups[about]
        for score in scores:
            if (score.zero_wording, score.ten_wording) != (source.zero_wording, source.ten_wording):
                blocks.append(
                    Paragraph(
                        f"{_scorer(score)} was asked with different words. 0 meant: "
                        f"{score.zero_wording} 10 meant: {score.ten_wording}",
                        quiet=True,
                    )
                )
        blocks.append(
            Table(
                ("Who", "Score (0 to 10)", "When"),
                tuple((_scorer(s), str(s.value), day_text(s.scored_on)) for s in scores),
                numeric=frozenset({1}),
            )
        )
    return blocks


def _children_words(source: ParentSummarySource) -> list[Block]:
    shared = [v for v in source.voices if v.consent_to_share]
    if not shared:
        return []
    items = []
    for voice in shared:
        notes = [f"{voice.child_name}: {PART_LABELS.get(voice.part, voice.part)}"]
        if voice.written_by.strip():
            notes.append(f"Written by: {voice.written_by}")
        if voice.recorded_on is not None:
            notes.append(f"When: {day_text(voice.recorded_on)}")
        items.append(Item(voice.text, tuple(notes)))
    return [Heading("In the children's own words", 1), Items(tuple(items))]


def _plan(source: ParentSummarySource) -> list[Block]:
    blocks: list[Block] = []
    if source.family_plan:
        blocks += [
            Heading("The family plan", 1),
            Table(
                ("What", "Who", "By when", "Who checks"),
                tuple(
                    (t.task, t.who or "-", day_text(t.by_when), t.who_checks or "-")
                    for t in source.family_plan
                ),
            ),
        ]
    if source.next_conference_at is not None and source.next_conference_kind is not None:
        words = _CONFERENCE_WORDS[source.next_conference_kind]
        blocks.append(Paragraph(f"The next {words} is on {when_text(source.next_conference_at)}."))
    elif source.next_review_by is not None:
        blocks.append(
            Paragraph(
                "The next review child protection conference should be held by "
                f"{day_text(source.next_review_by)}."
            )
        )
    return blocks


def build_parent_summary(
    source: ParentSummarySource, rules: CouncilRules, made_at: datetime
) -> Document:
    """The summary as a document; raises `AudienceUndecided` listing what to decide first."""
    undecided = undecided_entries(source, rules)
    if undecided:
        raise AudienceUndecided(undecided)
    shown = [e for e in source.entries if e.audience is Audience.FAMILY]
    shown_ids = {e.id for e in shown}
    goal_map = {
        e.goal_for_id: e
        for e in shown
        if e.section is Section.SAFETY_GOAL
        and e.goal_for_id is not None
        and e.goal_for_id in shown_ids
    }
    dangers = {e.id: e for e in shown if e.section is Section.DANGER_STATEMENT}
    if source.status is AssessmentStatus.DRAFT:
        status = "a draft, which may still change"
    elif source.signed_off_at is None:
        status = "agreed and signed off"
    else:
        status = f"agreed and signed off on {day_text(local_day(source.signed_off_at))}"
    council = [] if rules.name == CouncilRules.name else [rules.name]
    blocks: list[Block] = [Paragraph(_INTRO)]
    for column in Column:
        blocks += _column(column, shown, rules, goal_map)
    blocks += _scores(source, dangers)
    blocks += _children_words(source)
    blocks += _plan(source)
    return Document(
        title=f"Summary for the {source.family_name} family",
        lines=(
            *council,
            f"Case reference: {source.case_reference}",
            f"Based on: {source.title} ({status})",
            f"Made on: {when_text(made_at)}",
        ),
        blocks=tuple(blocks),
    )
