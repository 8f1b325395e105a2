"""The case screen's read model: one family, its people, mappings, conferences and timeline.

Loaded in one read unit of work and returned as frozen values, so the screen never holds a
session or an ORM object across threads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from sofs_tui.domain.calendar import COUNCIL_TZ, WorkingCalendar
from sofs_tui.domain.deadlines import ReportDeadlineRules
from sofs_tui.domain.enums import (
    AssessmentStatus,
    CaseStatus,
    ConferenceKind,
    ConferenceModel,
    ConferenceStatus,
    PersonKind,
    PlanCategory,
    ShareMethod,
    SyncState,
)
from sofs_tui.store import changes
from sofs_tui.store.case_page import OPEN_STATES, ReportDeadline
from sofs_tui.store.deadline_views import report_deadlines
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Case, Conference, Entry, Person, Report, ReportShare

_KIND_ORDER = {
    PersonKind.CHILD: 0,
    PersonKind.ADULT: 1,
    PersonKind.NETWORK: 2,
    PersonKind.PROFESSIONAL: 3,
}


@dataclass(frozen=True)
class PersonView:
    id: str
    kind: PersonKind
    name: str
    relationship: str = ""
    date_of_birth: date | None = None
    expected_on: date | None = None
    parental_responsibility: bool = False
    plan_category_initial: PlanCategory | None = None
    plan_category_latest: PlanCategory | None = None
    plan_start: date | None = None
    plan_end: date | None = None
    role: str = ""
    agency: str = ""
    is_gp: bool = False
    gp_practice: str = ""
    sync_state: SyncState = SyncState.CLEAN

    @property
    def on_plan(self) -> bool:
        return self.plan_start is not None and self.plan_end is None


@dataclass(frozen=True)
class AssessmentView:
    id: str
    title: str
    status: AssessmentStatus
    created_at: datetime
    updated_at: datetime
    signed_off_at: datetime | None
    signed_off_by: str
    reopened_at: datetime | None
    reopened_by: str
    entries: int
    sync_state: SyncState
    reopen_reason: str = ""


@dataclass(frozen=True)
class ConferenceView:
    id: str
    kind: ConferenceKind
    model: ConferenceModel
    starts_at: datetime
    status: ConferenceStatus
    chair: str
    location: str
    strategy_discussion_on: date | None
    reports: int
    nearest: ReportDeadline | None  # the earliest report deadline still open


class TimelineKind(StrEnum):
    CASE_OPENED = "case_opened"
    CASE_CLOSED = "case_closed"
    CONFERENCE = "conference"
    ASSESSMENT_SIGNED_OFF = "assessment_signed_off"
    ASSESSMENT_REOPENED = "assessment_reopened"
    REPORT_SHARED = "report_shared"
    REPORT_SENT_TO_QAU = "report_sent_to_qau"
    PLAN_STARTED = "plan_started"
    PLAN_ENDED = "plan_ended"


@dataclass(frozen=True)
class TimelineEvent:
    """One dated line of the case's history. `at` is set when the time of day is known."""

    on: date
    at: datetime | None
    kind: TimelineKind
    text: str
    record_id: str = ""

    @property
    def sort_key(self) -> tuple[date, datetime, str]:
        moment = self.at or datetime.combine(self.on, time(0), tzinfo=COUNCIL_TZ)
        return (self.on, moment, self.kind.value)


@dataclass(frozen=True)
class CaseDetail:
    case_id: str
    reference: str
    family_name: str
    lead_worker: str
    team: str
    status: CaseStatus
    opened_on: date | None
    people: tuple[PersonView, ...]
    assessments: tuple[AssessmentView, ...]
    conferences: tuple[ConferenceView, ...]
    timeline: tuple[TimelineEvent, ...]

    def of_kind(self, kind: PersonKind) -> tuple[PersonView, ...]:
        return tuple(p for p in self.people if p.kind is kind)

    def person(self, person_id: str) -> PersonView | None:
        return next((p for p in self.people if p.id == person_id), None)


def _person_view(person: Person) -> PersonView:
    return PersonView(
        id=person.id,
        kind=person.kind,
        name=person.name,
        relationship=person.relationship,
        date_of_birth=person.date_of_birth,
        expected_on=person.expected_on,
        parental_responsibility=person.parental_responsibility,
        plan_category_initial=person.plan_category_initial,
        plan_category_latest=person.plan_category_latest,
        plan_start=person.plan_start,
        plan_end=person.plan_end,
        role=person.role,
        agency=person.agency,
        is_gp=person.is_gp,
        gp_practice=person.gp_practice,
        sync_state=person.sync_state,
    )


def case_detail(
    store: Store,
    case_id: str,
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    due_soon: timedelta = timedelta(hours=24),
) -> CaseDetail:
    """Everything the case screen shows; `RecordNotFound` when the case is gone."""
    now = store.now()
    with store.read() as session:
        case = changes.get(session, Case, case_id, "case")
        people = session.exec(
            select(Person).where(Person.case_id == case_id, col(Person.deleted).is_(False))
        ).all()
        people_views = sorted(
            (_person_view(p) for p in people),
            key=lambda p: (_KIND_ORDER[p.kind], p.name.casefold(), p.id),
        )
        assessments = _assessments(session, case_id)
        conferences = session.exec(
            select(Conference).where(
                Conference.case_id == case_id, col(Conference.deleted).is_(False)
            )
        ).all()
        deadlines = report_deadlines(
            session, conferences, rules=rules, calendar=calendar, now=now, due_soon=due_soon
        )
        shares = _shares(session, [c.id for c in conferences])
    names = {p.id: p.name for p in people}
    conference_views = _conference_views(conferences, deadlines)
    return CaseDetail(
        case_id=case.id,
        reference=case.reference,
        family_name=case.family_name,
        lead_worker=case.lead_worker,
        team=case.team,
        status=case.status,
        opened_on=case.opened_on,
        people=tuple(people_views),
        assessments=assessments,
        conferences=conference_views,
        timeline=tuple(
            build_timeline(case, people_views, assessments, conference_views, shares, names)
        ),
    )


def _assessments(session: Session, case_id: str) -> tuple[AssessmentView, ...]:
    rows = session.exec(
        select(Assessment).where(Assessment.case_id == case_id, col(Assessment.deleted).is_(False))
    ).all()
    counts: dict[str, int] = defaultdict(int)
    if rows:
        for assessment_id in session.exec(
            select(Entry.assessment_id).where(
                col(Entry.assessment_id).in_([a.id for a in rows]), col(Entry.deleted).is_(False)
            )
        ).all():
            counts[assessment_id] += 1
    views = [
        AssessmentView(
            id=a.id,
            title=a.title,
            status=a.status,
            created_at=a.created_at,
            updated_at=a.updated_at,
            signed_off_at=a.signed_off_at,
            signed_off_by=a.signed_off_by,
            reopened_at=a.reopened_at,
            reopened_by=a.reopened_by,
            reopen_reason=a.reopen_reason,
            entries=counts[a.id],
            sync_state=a.sync_state,
        )
        for a in rows
    ]
    # Newest first: the mapping being worked on is usually the latest.
    return tuple(sorted(views, key=lambda a: (a.created_at, a.id), reverse=True))


@dataclass(frozen=True)
class _Share:
    report_title: str
    agency: str
    conference_id: str
    report_id: str
    parent_id: str
    shared_at: datetime
    method: ShareMethod
    together: bool


@dataclass(frozen=True)
class _Sent:
    report_title: str
    report_id: str
    sent_at: datetime


def _shares(session: Session, conference_ids: Sequence[str]) -> tuple[list[_Share], list[_Sent]]:
    if not conference_ids:
        return [], []
    reports = session.exec(
        select(Report).where(
            col(Report.conference_id).in_(conference_ids), col(Report.deleted).is_(False)
        )
    ).all()
    by_id = {r.id: r for r in reports}
    shared = []
    if by_id:
        for share in session.exec(
            select(ReportShare).where(
                col(ReportShare.report_id).in_(by_id), col(ReportShare.deleted).is_(False)
            )
        ).all():
            report = by_id[share.report_id]
            shared.append(
                _Share(
                    report.title,
                    report.agency,
                    report.conference_id,
                    report.id,
                    share.parent_id,
                    share.shared_at,
                    share.method,
                    share.gone_through_together,
                )
            )
    sent = [_Sent(r.title, r.id, r.sent_to_qau_at) for r in reports if r.sent_to_qau_at]
    return shared, sent


def _conference_views(
    conferences: Iterable[Conference], deadlines: Sequence[ReportDeadline]
) -> tuple[ConferenceView, ...]:
    per_conference: dict[str, list[ReportDeadline]] = defaultdict(list)
    for deadline in deadlines:
        per_conference[deadline.conference_id].append(deadline)
    views = []
    for c in conferences:
        mine = per_conference[c.id]
        open_ones = sorted((d for d in mine if d.state in OPEN_STATES), key=lambda d: d.due)
        views.append(
            ConferenceView(
                id=c.id,
                kind=c.kind,
                model=c.model,
                starts_at=c.starts_at,
                status=c.status,
                chair=c.chair,
                location=c.location,
                strategy_discussion_on=c.strategy_discussion_on,
                reports=len({d.report_id for d in mine}),
                nearest=open_ones[0]
                if open_ones and c.status is ConferenceStatus.PLANNED
                else None,
            )
        )
    # Newest first, so the next conference is at the top.
    return tuple(sorted(views, key=lambda v: (v.starts_at, v.id), reverse=True))


_STATUS_WORDS = {
    ConferenceStatus.PLANNED: "planned",
    ConferenceStatus.HELD: "held",
    ConferenceStatus.CANCELLED: "cancelled",
}
_METHOD_WORDS = {
    ShareMethod.IN_PERSON: "in person",
    ShareMethod.VIDEO: "by video",
    ShareMethod.PHONE: "by phone",
    ShareMethod.EMAIL: "by email",
    ShareMethod.POST: "by post",
}


def _local_day(moment: datetime) -> date:
    return moment.astimezone(COUNCIL_TZ).date()


def build_timeline(
    case: Case,
    people: Sequence[PersonView],
    assessments: Sequence[AssessmentView],
    conferences: Sequence[ConferenceView],
    shares: tuple[Sequence[_Share], Sequence[_Sent]],
    names: dict[str, str],
) -> list[TimelineEvent]:
    """The case's history in date order (oldest first), as a chronology reads."""
    events: list[TimelineEvent] = []
    if case.opened_on is not None:
        events.append(TimelineEvent(case.opened_on, None, TimelineKind.CASE_OPENED, "Case opened"))
    if case.closed_on is not None:
        events.append(TimelineEvent(case.closed_on, None, TimelineKind.CASE_CLOSED, "Case closed"))
    for c in conferences:
        chair = f", chair {c.chair}" if c.chair else ""
        events.append(
            TimelineEvent(
                _local_day(c.starts_at),
                c.starts_at,
                TimelineKind.CONFERENCE,
                f"{c.kind.label} conference {_STATUS_WORDS[c.status]}{chair}",
                c.id,
            )
        )
    for a in assessments:
        # The latest sign-off and the latest reopening are both kept on the assessment (a
        # reopening does not undo the sign-off that went before it), so both are shown.
        if a.signed_off_at is not None:
            by = f" by {a.signed_off_by}" if a.signed_off_by else ""
            events.append(
                TimelineEvent(
                    _local_day(a.signed_off_at),
                    a.signed_off_at,
                    TimelineKind.ASSESSMENT_SIGNED_OFF,
                    f"Mapping signed off{by}: {a.title}",
                    a.id,
                )
            )
        if a.reopened_at is not None:
            by = f" by {a.reopened_by}" if a.reopened_by else ""
            reason = " ".join(a.reopen_reason.split())
            why = f". Reason: {reason}" if reason else ""
            events.append(
                TimelineEvent(
                    _local_day(a.reopened_at),
                    a.reopened_at,
                    TimelineKind.ASSESSMENT_REOPENED,
                    f"Mapping reopened{by}: {a.title}{why}",
                    a.id,
                )
            )
    shared, sent = shares
    for s in shared:
        together = ", gone through together" if s.together else ""
        parent = names.get(s.parent_id, "a parent no longer on the case")
        events.append(
            TimelineEvent(
                _local_day(s.shared_at),
                s.shared_at,
                TimelineKind.REPORT_SHARED,
                f"{s.report_title} shared with {parent} {_METHOD_WORDS[s.method]}{together}",
                s.report_id,
            )
        )
    for r in sent:
        events.append(
            TimelineEvent(
                _local_day(r.sent_at),
                r.sent_at,
                TimelineKind.REPORT_SENT_TO_QAU,
                f"{r.report_title} sent to the QA Unit",
                r.report_id,
            )
        )
    for p in people:
        if p.kind is not PersonKind.CHILD:
            continue
        if p.plan_start is not None:
            category = p.plan_category_initial.value if p.plan_category_initial else "?"
            events.append(
                TimelineEvent(
                    p.plan_start,
                    None,
                    TimelineKind.PLAN_STARTED,
                    f"{p.name}: child protection plan started ({category})",
                    p.id,
                )
            )
        if p.plan_end is not None:
            events.append(
                TimelineEvent(
                    p.plan_end,
                    None,
                    TimelineKind.PLAN_ENDED,
                    f"{p.name}: child protection plan ended",
                    p.id,
                )
            )
    return sorted(events, key=lambda e: e.sort_key)
