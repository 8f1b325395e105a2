"""Read models for the mapping editor: one assessment with its entries, scores, the case's
children and their words, loaded in one read and handed to the screen as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from sofs_tui.domain.child_voice import recorded_by_sign_off
from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Audience,
    ChildVoiceTool,
    PersonKind,
    Section,
    SyncState,
)
from sofs_tui.domain.mapping import Completeness, completeness
from sofs_tui.domain.positions import sort_key
from sofs_tui.store import changes
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Case,
    ChildVoice,
    Entry,
    LocalConflict,
    Outbox,
    Person,
    Score,
)


@dataclass(frozen=True)
class EntryView:
    """One entry as the editor shows it (also an `EntryLike` for the domain rules)."""

    id: str
    section: Section
    text: str
    source: str
    agreement: Agreement
    disputed_by: str
    audience: Audience
    position: str
    goal_for_id: str | None
    updated_at: datetime | None
    author: str
    deleted: bool = False
    #: "" in step with the service; "open": two versions wait for a person to choose;
    #: "resolving": chosen here, sent at the next sync.
    conflict: str = ""


@dataclass(frozen=True)
class ScoreView:
    """One person's score (also a `ScoreRow` for `side_by_side`)."""

    id: str
    danger_statement_id: str | None
    scorer_name: str
    scorer_role: str
    value: int
    rationale: str
    zero_wording: str
    ten_wording: str
    scored_on: date | None
    deleted: bool = False


@dataclass(frozen=True)
class ChildView:
    id: str
    name: str


@dataclass(frozen=True)
class VoiceView:
    """The child's own words for one part of a tool."""

    id: str
    child_id: str
    tool: ChildVoiceTool
    part: str
    text: str
    written_by: str
    recorded_on: date | None
    consent_to_share: bool
    consent_note: str
    #: When these words are part of a signed-off mapping of the case: that sign-off (the
    #: words, who wrote them and when can then no longer change; consent still can).
    signed_off_in: datetime | None = None


@dataclass(frozen=True)
class MappingView:
    """Everything the mapping editor shows for one assessment."""

    assessment_id: str
    case_id: str
    case_reference: str
    family_name: str
    title: str
    status: AssessmentStatus
    zero_wording: str
    ten_wording: str
    signed_off_by: str
    signed_off_at: datetime | None
    reopened_by: str
    reopened_at: datetime | None
    reopen_reason: str
    open_conflicts: int
    entries: tuple[EntryView, ...]  # live entries, in display order
    scores: tuple[ScoreView, ...]  # live scores
    children: tuple[ChildView, ...]
    voices: tuple[VoiceView, ...]
    people: tuple[str, ...]  # names and roles on the case, to suggest "who says it"
    can_reopen: bool

    @property
    def read_only(self) -> bool:
        return self.status is AssessmentStatus.FINAL

    def in_section(self, section: Section) -> list[EntryView]:
        return [e for e in self.entries if e.section is section]

    def entry(self, entry_id: str) -> EntryView | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def goal_of(self, danger_id: str) -> EntryView | None:
        """The safety goal paired with a danger statement, if any."""
        return next(
            (
                e
                for e in self.entries
                if e.section is Section.SAFETY_GOAL and e.goal_for_id == danger_id
            ),
            None,
        )

    def unpaired_goals(self) -> list[EntryView]:
        return [e for e in self.in_section(Section.SAFETY_GOAL) if e.goal_for_id is None]

    def unpaired_dangers(self) -> list[EntryView]:
        paired = {e.goal_for_id for e in self.in_section(Section.SAFETY_GOAL)}
        return [e for e in self.in_section(Section.DANGER_STATEMENT) if e.id not in paired]

    def completeness(self) -> Completeness:
        return completeness(self.entries, self.scores)

    def child_name(self, child_id: str) -> str:
        return next((c.name for c in self.children if c.id == child_id), "a child")


def _entry_view(row: Entry, conflict: str = "") -> EntryView:
    return EntryView(
        id=row.id,
        section=row.section,
        text=row.text,
        source=row.source,
        agreement=row.agreement,
        disputed_by=row.disputed_by,
        audience=row.audience,
        position=row.position,
        goal_for_id=row.goal_for_id,
        updated_at=row.updated_at,
        author=row.author,
        conflict=conflict,
    )


def _score_view(row: Score) -> ScoreView:
    return ScoreView(
        id=row.id,
        danger_statement_id=row.danger_statement_id,
        scorer_name=row.scorer_name,
        scorer_role=row.scorer_role,
        value=row.value,
        rationale=row.rationale,
        zero_wording=row.zero_wording,
        ten_wording=row.ten_wording,
        scored_on=row.scored_on,
    )


def signed_off_mappings(session: Session, case_id: str) -> list[Assessment]:
    """The case's mappings that are signed off now (a reopened one is a draft again)."""
    rows = session.exec(
        select(Assessment).where(
            Assessment.case_id == case_id,
            Assessment.status == AssessmentStatus.FINAL,
            col(Assessment.deleted).is_(False),
        )
    ).all()
    return [a for a in rows if a.signed_off_at is not None]


def created_here(session: Session, voice_ids: list[str]) -> set[str]:
    """Which of these records were created in this store (their 'create' is in its outbox),
    not pulled from the service."""
    if not voice_ids:
        return set()
    return set(
        session.exec(
            select(Outbox.record_id).where(
                col(Outbox.record_id).in_(voice_ids), Outbox.op == "create"
            )
        ).all()
    )


def in_sign_off(voice: ChildVoice, signed_off_at: datetime, *, here: bool) -> bool:
    """Whether these words were recorded at or before a sign-off, so are part of it.

    Words created in this store are dated by when they were stored. A pulled record's
    `created_at` is when it arrived here (sync does not carry it), so for words from another
    device the day they were recorded on (which sync carries) stands in.
    """
    if here:
        return voice.created_at <= signed_off_at
    return recorded_by_sign_off(voice.recorded_on, signed_off_at)


def part_of_sign_off(
    voice: ChildVoice, signed_off: list[Assessment], *, here: bool
) -> datetime | None:
    """The latest sign-off, among `signed_off`, that these words are part of, or None when no
    signed-off mapping holds them (`here`: the words were created in this store)."""
    moments = [
        a.signed_off_at
        for a in signed_off
        if a.signed_off_at is not None and in_sign_off(voice, a.signed_off_at, here=here)
    ]
    return max(moments, default=None)


def voices_of(session: Session, assessment: Assessment) -> list[ChildVoice]:
    """The child's words a mapping shows and exports: the case's live words for a draft; for
    a signed-off mapping only those recorded at or before its sign-off, so words added on the
    case later (from a new draft) do not change what was signed off."""
    rows = session.exec(
        select(ChildVoice).where(
            ChildVoice.case_id == assessment.case_id, col(ChildVoice.deleted).is_(False)
        )
    ).all()
    signed = assessment.signed_off_at
    if assessment.status is not AssessmentStatus.FINAL or signed is None:
        return list(rows)
    here = created_here(session, [r.id for r in rows])
    return [r for r in rows if in_sign_off(r, signed, here=r.id in here)]


def _voice_view(row: ChildVoice, signed_off: list[Assessment], here: set[str]) -> VoiceView:
    return VoiceView(
        id=row.id,
        child_id=row.child_id,
        tool=row.tool,
        part=row.part,
        text=row.text,
        written_by=row.written_by,
        recorded_on=row.recorded_on,
        consent_to_share=row.consent_to_share,
        consent_note=row.consent_note,
        signed_off_in=part_of_sign_off(row, signed_off, here=row.id in here),
    )


def _part_order(voice: VoiceView) -> tuple[int, int, str]:
    tools = list(ChildVoiceTool)
    parts = voice.tool.parts
    part_index = parts.index(voice.part) if voice.part in parts else len(parts)
    return (tools.index(voice.tool), part_index, voice.id)


def _conflict_state(record_id: str, in_conflict: set[str], mirrored: dict[str, str | None]) -> str:
    if record_id not in in_conflict:
        return ""
    return "resolving" if mirrored.get(record_id) else "open"


def mapping_view(store: Store, assessment_id: str) -> MappingView:
    """The assessment and everything the editor shows with it, in one read.

    Raises `RecordNotFound` when the assessment (or its case) is gone.
    """
    with store.read() as session:
        assessment = changes.get(session, Assessment, assessment_id, "assessment")
        case = changes.get(session, Case, assessment.case_id, "case")
        entry_rows = session.exec(
            select(Entry).where(Entry.assessment_id == assessment_id, col(Entry.deleted).is_(False))
        ).all()
        score_rows = session.exec(
            select(Score).where(Score.assessment_id == assessment_id, col(Score.deleted).is_(False))
        ).all()
        people = session.exec(
            select(Person)
            .where(Person.case_id == case.id, col(Person.deleted).is_(False))
            .order_by(Person.name)
        ).all()
        voice_rows = voices_of(session, assessment)
        signed_off = signed_off_mappings(session, case.id)
        voices_here = created_here(session, [r.id for r in voice_rows])
        record_ids = [assessment.id, *(r.id for r in entry_rows), *(r.id for r in score_rows)]
        mirrored = dict(
            session.exec(
                select(LocalConflict.record_id, LocalConflict.resolution_change_id).where(
                    col(LocalConflict.record_id).in_(record_ids), LocalConflict.status == "open"
                )
            ).all()
        )
    in_conflict = {
        row.id
        for row in [assessment, *entry_rows, *score_rows]
        if row.sync_state is SyncState.CONFLICT
    } | set(mirrored)
    entries = sorted(
        (_entry_view(r, _conflict_state(r.id, in_conflict, mirrored)) for r in entry_rows),
        key=lambda e: sort_key(e.position, e.id),
    )
    scores = sorted(
        (_score_view(r) for r in score_rows),
        key=lambda s: (s.danger_statement_id or "", s.scorer_name.casefold(), s.id),
    )
    children = tuple(ChildView(p.id, p.name) for p in people if p.kind is PersonKind.CHILD)
    names: list[str] = []
    for person in people:
        for name in (person.name, person.role):
            if name and name not in names:
                names.append(name)
    return MappingView(
        assessment_id=assessment.id,
        case_id=case.id,
        case_reference=case.reference,
        family_name=case.family_name,
        title=assessment.title,
        status=assessment.status,
        zero_wording=assessment.zero_wording,
        ten_wording=assessment.ten_wording,
        signed_off_by=assessment.signed_off_by,
        signed_off_at=assessment.signed_off_at,
        reopened_by=assessment.reopened_by,
        reopened_at=assessment.reopened_at,
        reopen_reason=assessment.reopen_reason,
        open_conflicts=len(in_conflict),
        entries=tuple(entries),
        scores=tuple(scores),
        children=children,
        voices=tuple(
            sorted((_voice_view(r, signed_off, voices_here) for r in voice_rows), key=_part_order)
        ),
        people=tuple(names),
        can_reopen=store.actor.is_manager,
    )
