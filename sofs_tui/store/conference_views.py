"""Read model for the conference screen: one conference with its people, reports (deadlines
computed with the same rules as the caseload), sharing log, family plan and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.conference import families_first_gaps
from sofs_tui.domain.deadlines import DeadlineState, ReportDeadlineRules
from sofs_tui.domain.enums import (
    Attendance,
    ConferenceKind,
    ConferenceModel,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    QauReason,
    ShareMethod,
)
from sofs_tui.domain.gp import gp_outcome_missing
from sofs_tui.store import changes
from sofs_tui.store.queries import report_deadlines
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Attendee,
    Case,
    ChildOutcome,
    Conference,
    FamilyPlanItem,
    Person,
    Report,
    ReportShare,
)


@dataclass(frozen=True)
class PersonRef:
    """Someone on the case, as the conference screen names them."""

    id: str
    name: str
    kind: PersonKind
    role: str = ""
    agency: str = ""


@dataclass(frozen=True)
class ShareLine:
    """One line of a report's sharing log."""

    id: str
    parent_id: str
    parent_name: str
    shared_at: datetime
    method: ShareMethod
    gone_through_together: bool
    translated: bool
    language: str


@dataclass(frozen=True)
class ReportView:
    id: str
    title: str
    author_name: str
    agency: str
    completed_at: datetime | None
    sent_to_qau_at: datetime | None
    qau_reason: QauReason | None
    qau_reason_note: str
    redactions: str
    redaction_reason: str
    shares: tuple[ShareLine, ...]
    not_yet_shared_with: tuple[PersonRef, ...]
    parents_due: datetime
    parents_state: DeadlineState
    qau_due: datetime
    qau_state: DeadlineState


@dataclass(frozen=True)
class InviteeView:
    id: str
    person_id: str | None
    name: str
    role: str
    agency: str
    attendance: Attendance
    #: The case's GP: the row's attendance is the QA Unit's GP outcome.
    is_gp: bool = False


@dataclass(frozen=True)
class PlanTaskView:
    id: str
    task: str
    who: str
    by_when: date | None
    who_checks: str
    done: bool


@dataclass(frozen=True)
class ChildOutcomeView:
    """A child of the case and the conference's decision for them (None: not recorded)."""

    child: PersonRef
    recorded: bool
    plan: bool
    category: PlanCategory | None
    lead_worker: str
    core_group_on: date | None
    next_review_on: date | None
    contingency: str
    dissent: str


@dataclass(frozen=True)
class ConferenceView:
    id: str
    case_id: str
    case_reference: str
    family_name: str
    kind: ConferenceKind
    model: ConferenceModel
    starts_at: datetime
    chair: str
    location: str
    status: ConferenceStatus
    strategy_discussion_on: date | None
    gp_invited: GPInvited | None
    gp_outcome: GPOutcome | None
    gp: PersonRef | None
    gp_practice: str
    family_preparation_on: date | None
    family_preparation_note: str
    private_family_time: bool | None
    families_first_gaps: tuple[str, ...]
    parents: tuple[PersonRef, ...]
    children: tuple[PersonRef, ...]
    invitees: tuple[InviteeView, ...]
    not_invited: tuple[PersonRef, ...]
    reports: tuple[ReportView, ...]
    plan_tasks: tuple[PlanTaskView, ...]
    outcomes: tuple[ChildOutcomeView, ...]
    now: datetime

    def report(self, report_id: str) -> ReportView | None:
        return next((r for r in self.reports if r.id == report_id), None)

    @property
    def gp_outcome_missing(self) -> bool:
        """The GP was invited (recorded, or on the invitee list) and what the GP did is not
        recorded yet."""
        on_the_list = any(i.is_gp for i in self.invitees)
        return gp_outcome_missing(self.gp_invited, on_the_list, self.gp_outcome)


def _ref(person: Person) -> PersonRef:
    return PersonRef(person.id, person.name, person.kind, person.role, person.agency)


def conference_view(
    store: Store,
    conference_id: str,
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    due_soon: timedelta = timedelta(hours=24),
) -> ConferenceView:
    """Everything the conference screen shows, read in one unit of work. Report deadlines use
    `queries.report_deadlines`, so a state here is the state the caseload shows."""
    now = store.now()
    with store.read() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        case = changes.get(session, Case, conference.case_id, "case")
        people = session.exec(
            select(Person)
            .where(Person.case_id == case.id, col(Person.deleted).is_(False))
            .order_by(col(Person.name))
        ).all()
        invitees = session.exec(
            select(Attendee)
            .where(Attendee.conference_id == conference_id, col(Attendee.deleted).is_(False))
            .order_by(col(Attendee.created_at), col(Attendee.name))
        ).all()
        reports = session.exec(
            select(Report)
            .where(Report.conference_id == conference_id, col(Report.deleted).is_(False))
            .order_by(col(Report.created_at), col(Report.title))
        ).all()
        shares = session.exec(
            select(ReportShare)
            .where(
                col(ReportShare.report_id).in_([r.id for r in reports]),
                col(ReportShare.deleted).is_(False),
            )
            .order_by(col(ReportShare.shared_at))
        ).all()
        tasks = session.exec(
            select(FamilyPlanItem)
            .where(
                FamilyPlanItem.conference_id == conference_id,
                col(FamilyPlanItem.deleted).is_(False),
            )
            .order_by(col(FamilyPlanItem.position))
        ).all()
        outcomes = session.exec(
            select(ChildOutcome).where(
                ChildOutcome.conference_id == conference_id,
                col(ChildOutcome.deleted).is_(False),
            )
        ).all()
        deadlines = report_deadlines(
            session, [conference], rules=rules, calendar=calendar, now=now, due_soon=due_soon
        )
    by_id = {p.id: p for p in people}
    parents = tuple(
        _ref(p) for p in people if p.kind is PersonKind.ADULT and p.parental_responsibility
    )
    children = tuple(_ref(p) for p in people if p.kind is PersonKind.CHILD)
    gp = next((p for p in people if p.kind is PersonKind.PROFESSIONAL and p.is_gp), None)
    gp_ids = {p.id for p in people if p.is_gp}
    invited_people = {a.person_id for a in invitees if a.person_id}
    due = {(d.report_id, d.target): d for d in deadlines}
    report_views = []
    for report in reports:
        lines = tuple(
            ShareLine(
                s.id,
                s.parent_id,
                by_id[s.parent_id].name if s.parent_id in by_id else "(removed from the case)",
                s.shared_at,
                s.method,
                s.gone_through_together,
                s.translated,
                s.language,
            )
            for s in shares
            if s.report_id == report.id
        )
        shared_ids = {line.parent_id for line in lines}
        to_parents, to_qau = due[(report.id, "parents")], due[(report.id, "qau")]
        report_views.append(
            ReportView(
                id=report.id,
                title=report.title,
                author_name=report.author_name,
                agency=report.agency,
                completed_at=report.completed_at,
                sent_to_qau_at=report.sent_to_qau_at,
                qau_reason=report.qau_reason,
                qau_reason_note=report.qau_reason_note,
                redactions=report.redactions,
                redaction_reason=report.redaction_reason,
                shares=lines,
                not_yet_shared_with=tuple(p for p in parents if p.id not in shared_ids),
                parents_due=to_parents.due,
                parents_state=to_parents.state,
                qau_due=to_qau.due,
                qau_state=to_qau.state,
            )
        )
    decided = {o.child_id: o for o in outcomes}
    outcome_views = []
    for child in children:
        outcome = decided.get(child.id)
        outcome_views.append(
            ChildOutcomeView(
                child=child,
                recorded=outcome is not None,
                plan=outcome.plan if outcome else False,
                category=outcome.category if outcome else None,
                lead_worker=outcome.lead_worker if outcome else "",
                core_group_on=outcome.core_group_on if outcome else None,
                next_review_on=outcome.next_review_on if outcome else None,
                contingency=outcome.contingency if outcome else "",
                dissent=outcome.dissent if outcome else "",
            )
        )
    return ConferenceView(
        id=conference.id,
        case_id=case.id,
        case_reference=case.reference,
        family_name=case.family_name,
        kind=conference.kind,
        model=conference.model,
        starts_at=conference.starts_at,
        chair=conference.chair,
        location=conference.location,
        status=conference.status,
        strategy_discussion_on=conference.strategy_discussion_on,
        gp_invited=conference.gp_invited,
        gp_outcome=conference.gp_outcome,
        gp=_ref(gp) if gp else None,
        gp_practice=gp.gp_practice if gp else "",
        family_preparation_on=conference.family_preparation_on,
        family_preparation_note=conference.family_preparation_note,
        private_family_time=conference.private_family_time,
        families_first_gaps=tuple(
            families_first_gaps(
                conference.model,
                preparation_done=conference.family_preparation_on is not None,
                private_family_time=conference.private_family_time is not None,
                family_plan_items=len(tasks),
            )
        ),
        parents=parents,
        children=children,
        invitees=tuple(
            InviteeView(
                a.id, a.person_id, a.name, a.role, a.agency, a.attendance, a.person_id in gp_ids
            )
            for a in invitees
        ),
        not_invited=tuple(
            _ref(p) for p in people if p.kind is not PersonKind.CHILD and p.id not in invited_people
        ),
        reports=tuple(report_views),
        plan_tasks=tuple(
            PlanTaskView(t.id, t.task, t.who, t.by_when, t.who_checks, t.done) for t in tasks
        ),
        outcomes=tuple(outcome_views),
        now=now,
    )
