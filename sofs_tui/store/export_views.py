"""Read models for documents: what a parent summary and a QA Unit pack are made from, read
in one unit of work each and handed over as plain dataclasses.

The documents apply the rules (who may read what, deadlines); these functions only fetch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Audience,
    ChildVoiceTool,
    ConferenceKind,
    ConferenceModel,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    QauReason,
    Section,
    ShareMethod,
)
from sofs_tui.domain.positions import sort_key
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.mapping_views import voices_of
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Case,
    ChildOutcome,
    Conference,
    Entry,
    FamilyPlanItem,
    Person,
    Report,
    ReportShare,
    Score,
)

# --- Parent summary --------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryEntry:
    id: str
    section: Section
    text: str
    source: str
    agreement: Agreement
    disputed_by: str
    audience: Audience
    goal_for_id: str | None


@dataclass(frozen=True)
class SummaryScore:
    danger_statement_id: str | None
    scorer_name: str
    scorer_role: str
    value: int
    zero_wording: str
    ten_wording: str
    scored_on: date | None


@dataclass(frozen=True)
class SummaryVoice:
    child_name: str
    tool: ChildVoiceTool
    part: str
    text: str
    written_by: str
    recorded_on: date | None
    consent_to_share: bool


@dataclass(frozen=True)
class SummaryTask:
    task: str
    who: str
    by_when: date | None
    who_checks: str


@dataclass(frozen=True)
class ParentSummarySource:
    """One assessment and what the family's plan says, unfiltered: the export decides."""

    assessment_id: str
    case_reference: str
    family_name: str
    title: str
    status: AssessmentStatus
    signed_off_at: datetime | None
    zero_wording: str
    ten_wording: str
    entries: tuple[SummaryEntry, ...]  # live entries, section by section in display order
    scores: tuple[SummaryScore, ...]
    voices: tuple[SummaryVoice, ...]
    family_plan: tuple[SummaryTask, ...]  # from the latest Families First conference
    next_conference_at: datetime | None
    next_conference_kind: ConferenceKind | None
    next_review_by: date | None


class AssessmentNotFound(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"No assessment found for {what}. Check the id or case reference, or start a "
            "mapping on the case first."
        )


def _choose_assessment(session: Session, case_reference: str) -> Assessment:
    """A case's current assessment: the latest signed off, else the latest draft."""
    case = session.exec(
        select(Case).where(Case.reference == case_reference.strip(), col(Case.deleted).is_(False))
    ).first()
    if case is None:
        raise AssessmentNotFound(f"case {case_reference.strip()}")
    rows = session.exec(
        select(Assessment).where(Assessment.case_id == case.id, col(Assessment.deleted).is_(False))
    ).all()
    if not rows:
        raise AssessmentNotFound(f"case {case.reference}")
    final = [a for a in rows if a.status is AssessmentStatus.FINAL]
    if final:
        return max(final, key=lambda a: (a.signed_off_at or a.updated_at, a.id))
    return max(rows, key=lambda a: (a.created_at, a.id))


def parent_summary_source(
    store: Store, *, assessment_id: str | None = None, case_reference: str | None = None
) -> ParentSummarySource:
    """Everything a parent summary may draw on, for an assessment id or a case's current one."""
    with store.read() as session:
        if assessment_id is not None:
            assessment = changes.get(session, Assessment, assessment_id, "assessment")
        elif case_reference is not None:
            assessment = _choose_assessment(session, case_reference)
        else:
            raise AssessmentNotFound("no id or case reference")
        case = changes.get(session, Case, assessment.case_id, "case")
        entries = session.exec(
            select(Entry).where(Entry.assessment_id == assessment.id, col(Entry.deleted).is_(False))
        ).all()
        scores = session.exec(
            select(Score).where(Score.assessment_id == assessment.id, col(Score.deleted).is_(False))
        ).all()
        children = {
            p.id: p.name
            for p in session.exec(
                select(Person).where(Person.case_id == case.id, Person.kind == PersonKind.CHILD)
            ).all()
        }
        # A signed-off mapping exports the words it was signed off with (mapping_views).
        voices = voices_of(session, assessment)
        conferences = session.exec(
            select(Conference).where(
                Conference.case_id == case.id,
                col(Conference.deleted).is_(False),
                Conference.status != ConferenceStatus.CANCELLED,
            )
        ).all()
        now = store.now()
        upcoming = sorted((c for c in conferences if c.starts_at >= now), key=lambda c: c.starts_at)
        past = sorted((c for c in conferences if c.starts_at < now), key=lambda c: c.starts_at)
        plan_from = next(
            (c for c in reversed(past + upcoming) if c.model is ConferenceModel.FAMILIES_FIRST),
            None,
        )
        tasks = (
            session.exec(
                select(FamilyPlanItem).where(
                    FamilyPlanItem.conference_id == plan_from.id,
                    col(FamilyPlanItem.deleted).is_(False),
                )
            ).all()
            if plan_from is not None
            else []
        )
        reviews = (
            session.exec(
                select(col(ChildOutcome.next_review_on)).where(
                    ChildOutcome.conference_id == past[-1].id,
                    col(ChildOutcome.deleted).is_(False),
                    col(ChildOutcome.plan).is_(True),
                )
            ).all()
            if past
            else []
        )
    section_order = list(Section)
    ordered = sorted(
        entries, key=lambda e: (section_order.index(e.section), sort_key(e.position, e.id))
    )
    review_dates = [d for d in reviews if d is not None]
    return ParentSummarySource(
        assessment_id=assessment.id,
        case_reference=case.reference,
        family_name=case.family_name,
        title=assessment.title,
        status=assessment.status,
        signed_off_at=assessment.signed_off_at,
        zero_wording=assessment.zero_wording,
        ten_wording=assessment.ten_wording,
        entries=tuple(
            SummaryEntry(
                e.id,
                e.section,
                e.text,
                e.source,
                e.agreement,
                e.disputed_by,
                e.audience,
                e.goal_for_id,
            )
            for e in ordered
        ),
        scores=tuple(
            SummaryScore(
                s.danger_statement_id,
                s.scorer_name,
                s.scorer_role,
                s.value,
                s.zero_wording,
                s.ten_wording,
                s.scored_on,
            )
            for s in sorted(scores, key=lambda s: (s.scorer_name.casefold(), s.id))
        ),
        voices=tuple(
            SummaryVoice(
                children.get(v.child_id, "A child"),
                v.tool,
                v.part,
                v.text,
                v.written_by,
                v.recorded_on,
                v.consent_to_share,
            )
            for v in sorted(voices, key=lambda v: (v.child_id, v.tool.value, v.part, v.id))
        ),
        family_plan=tuple(
            SummaryTask(t.task, t.who, t.by_when, t.who_checks)
            for t in sorted(tasks, key=lambda t: sort_key(t.position, t.id))
            if not t.done
        ),
        next_conference_at=upcoming[0].starts_at if upcoming else None,
        next_conference_kind=upcoming[0].kind if upcoming else None,
        next_review_by=min(review_dates) if review_dates else None,
    )


# --- QA Unit pack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PackShare:
    parent_id: str
    parent_name: str
    shared_at: datetime
    method: ShareMethod
    gone_through_together: bool
    translated: bool
    language: str


@dataclass(frozen=True)
class PackReport:
    title: str
    author_name: str
    agency: str
    completed_at: datetime | None
    sent_to_qau_at: datetime | None
    qau_reason: QauReason | None
    qau_reason_note: str
    redactions: str
    redaction_reason: str
    shares: tuple[PackShare, ...]


@dataclass(frozen=True)
class QauPackSource:
    conference_id: str
    case_reference: str
    family_name: str
    kind: ConferenceKind
    model: ConferenceModel
    status: ConferenceStatus
    starts_at: datetime
    chair: str
    gp_invited: GPInvited | None
    gp_outcome: GPOutcome | None
    parents: tuple[tuple[str, str], ...]  # (id, name) of the adults with parental responsibility
    reports: tuple[PackReport, ...]


def qau_pack_source(store: Store, conference_id: str) -> QauPackSource:
    """A conference, its reports and their sharing log, for the QA Unit."""
    with store.read() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        case = changes.get(session, Case, conference.case_id, "case")
        adults = session.exec(
            select(Person).where(Person.case_id == case.id, Person.kind == PersonKind.ADULT)
        ).all()
        reports = session.exec(
            select(Report).where(
                Report.conference_id == conference.id, col(Report.deleted).is_(False)
            )
        ).all()
        shares = session.exec(
            select(ReportShare).where(
                col(ReportShare.report_id).in_([r.id for r in reports]),
                col(ReportShare.deleted).is_(False),
            )
        ).all()
    names = {a.id: a.name for a in adults}
    by_report: dict[str, list[PackShare]] = defaultdict(list)
    for s in sorted(shares, key=lambda s: (s.shared_at, s.id)):
        by_report[s.report_id].append(
            PackShare(
                s.parent_id,
                names.get(s.parent_id, "A parent no longer on the case"),
                s.shared_at,
                s.method,
                s.gone_through_together,
                s.translated,
                s.language,
            )
        )
    return QauPackSource(
        conference_id=conference.id,
        case_reference=case.reference,
        family_name=case.family_name,
        kind=conference.kind,
        model=conference.model,
        status=conference.status,
        starts_at=conference.starts_at,
        chair=conference.chair,
        gp_invited=conference.gp_invited,
        gp_outcome=conference.gp_outcome,
        parents=tuple(
            (a.id, a.name)
            for a in sorted(adults, key=lambda a: (a.name.casefold(), a.id))
            if a.parental_responsibility and not a.deleted
        ),
        reports=tuple(
            PackReport(
                r.title,
                r.author_name,
                r.agency,
                r.completed_at,
                r.sent_to_qau_at,
                r.qau_reason,
                r.qau_reason_note,
                r.redactions,
                r.redaction_reason,
                tuple(by_report[r.id]),
            )
            for r in sorted(reports, key=lambda r: (r.agency.casefold(), r.title, r.id))
        ),
    )
