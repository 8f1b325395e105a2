"""Read models for the screens and commands: case summaries, report deadlines, counts.

Lists are paged in SQL; deadline states are computed in Python (pure domain rules) only
for the rows asked for, so a 10,000-case caseload never builds 10,000 summaries at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import DeadlineState, ReportDeadlineRules
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceStatus,
    PersonKind,
    PlanCategory,
    SyncState,
)
from sofs_tui.domain.reports import report_timeliness
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    SYNCED_TABLES,
    Case,
    Conference,
    Outbox,
    Person,
    Report,
    ReportShare,
)


@dataclass(frozen=True)
class ReportDeadline:
    report_id: str
    conference_id: str
    title: str
    agency: str
    target: str  # "parents" | "qau"
    due: datetime
    state: DeadlineState


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    reference: str
    family_name: str
    lead_worker: str
    categories: tuple[PlanCategory, ...]
    next_conference_at: datetime | None
    next_conference_kind: ConferenceKind | None
    nearest: ReportDeadline | None  # the earliest deadline still open, or the worst miss
    reports_unshared: int
    reports_overdue: int
    sync_state: SyncState
    conflicts: int


@dataclass(frozen=True)
class CasePage:
    total: int
    rows: tuple[CaseSummary, ...]


def _case_filter(text: str) -> object:
    pattern = f"%{text.strip()}%"
    return or_(col(Case.reference).ilike(pattern), col(Case.family_name).ilike(pattern))


def report_deadlines(
    session: Session,
    conferences: Sequence[Conference],
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime,
    due_soon: timedelta,
) -> list[ReportDeadline]:
    """Both deadlines of every live report of these conferences."""
    by_id = {c.id: c for c in conferences}
    if not by_id:
        return []
    reports = session.exec(
        select(Report).where(col(Report.conference_id).in_(by_id), col(Report.deleted).is_(False))
    ).all()
    parents: dict[str, list[str]] = defaultdict(list)
    case_ids = {c.case_id for c in conferences}
    for person_id, case_id in session.exec(
        select(Person.id, Person.case_id).where(
            col(Person.case_id).in_(case_ids),
            Person.kind == PersonKind.ADULT,
            col(Person.parental_responsibility).is_(True),
            col(Person.deleted).is_(False),
        )
    ).all():
        parents[case_id].append(person_id)
    shares: dict[str, dict[str, datetime]] = defaultdict(dict)
    for report_id, parent_id, shared_at in session.exec(
        select(ReportShare.report_id, ReportShare.parent_id, ReportShare.shared_at).where(
            col(ReportShare.report_id).in_([r.id for r in reports]),
            col(ReportShare.deleted).is_(False),
        )
    ).all():
        earlier = shares[report_id].get(parent_id)
        shares[report_id][parent_id] = shared_at if earlier is None else min(earlier, shared_at)
    found: list[ReportDeadline] = []
    for report in reports:
        conference = by_id[report.conference_id]
        timeliness = report_timeliness(
            kind=conference.kind,
            conference_start=conference.starts_at,
            rules=rules,
            calendar=calendar,
            parent_ids=parents[conference.case_id],
            shared_at_by_parent=shares[report.id],
            sent_to_qau_at=report.sent_to_qau_at,
            qau_exempt_from_sharing=report.qau_reason is not None,
            now=now,
            due_soon=due_soon,
        )
        for target, due, state in (
            ("parents", timeliness.parents_due, timeliness.parents_state),
            ("qau", timeliness.qau_due, timeliness.qau_state),
        ):
            found.append(
                ReportDeadline(
                    report.id, conference.id, report.title, report.agency, target, due, state
                )
            )
    return found


_OPEN = (DeadlineState.DUE, DeadlineState.DUE_SOON, DeadlineState.OVERDUE)


def case_summaries(
    store: Store,
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    text: str = "",
    offset: int = 0,
    limit: int = 200,
    due_soon: timedelta = timedelta(hours=24),
) -> CasePage:
    """One page of the caseload, in reference order, filtered by reference or family name."""
    now = store.now()
    with store.read() as session:
        where = [col(Case.deleted).is_(False)]
        if text.strip():
            where.append(_case_filter(text))  # type: ignore[arg-type]
        total = session.exec(select(func.count()).select_from(Case).where(*where)).one()
        cases = session.exec(
            select(Case).where(*where).order_by(Case.reference).offset(offset).limit(limit)
        ).all()
        ids = [c.id for c in cases]
        categories: dict[str, list[PlanCategory]] = defaultdict(list)
        for case_id, category in session.exec(
            select(Person.case_id, Person.plan_category_latest)
            .where(
                col(Person.case_id).in_(ids),
                Person.kind == PersonKind.CHILD,
                col(Person.deleted).is_(False),
                col(Person.plan_category_latest).is_not(None),
                col(Person.plan_end).is_(None),
            )
            .order_by(Person.name)
        ).all():
            if category is not None:
                categories[case_id].append(PlanCategory(category))
        conferences = session.exec(
            select(Conference).where(
                col(Conference.case_id).in_(ids),
                Conference.status == ConferenceStatus.PLANNED,
                col(Conference.deleted).is_(False),
            )
        ).all()
        deadlines = report_deadlines(
            session, conferences, rules=rules, calendar=calendar, now=now, due_soon=due_soon
        )
        conflicts = _conflicts_by_case(session, ids)
    next_conf: dict[str, Conference] = {}
    for conference in sorted(conferences, key=lambda c: c.starts_at):
        next_conf.setdefault(conference.case_id, conference)
    case_of = {c.id: c.case_id for c in conferences}
    per_case: dict[str, list[ReportDeadline]] = defaultdict(list)
    for deadline in deadlines:
        per_case[case_of[deadline.conference_id]].append(deadline)
    rows = []
    for case in cases:
        mine = per_case[case.id]
        open_ones = sorted((d for d in mine if d.state in _OPEN), key=lambda d: d.due)
        upcoming = next_conf.get(case.id)
        rows.append(
            CaseSummary(
                case_id=case.id,
                reference=case.reference,
                family_name=case.family_name,
                lead_worker=case.lead_worker,
                categories=tuple(categories[case.id]),
                next_conference_at=upcoming.starts_at if upcoming else None,
                next_conference_kind=upcoming.kind if upcoming else None,
                nearest=open_ones[0] if open_ones else None,
                reports_unshared=len(
                    {d.report_id for d in mine if d.target == "parents" and d.state in _OPEN}
                ),
                reports_overdue=len(
                    {d.report_id for d in mine if d.state is DeadlineState.OVERDUE}
                ),
                sync_state=case.sync_state,
                conflicts=conflicts.get(case.id, 0),
            )
        )
    return CasePage(total=total, rows=tuple(rows))


def _conflicts_by_case(session: Session, case_ids: list[str]) -> dict[str, int]:
    """Records in conflict per case (cases and their direct children; enough for the list)."""
    counts: dict[str, int] = defaultdict(int)
    for table in SYNCED_TABLES:
        if table is Case:
            column = Case.id
        elif "case_id" in table.model_fields:
            column = table.case_id  # type: ignore[attr-defined]
        else:
            continue
        for case_id, n in session.exec(
            select(column, func.count())
            .where(col(column).in_(case_ids), table.sync_state == SyncState.CONFLICT)
            .group_by(column)
        ).all():
            counts[case_id] += n
    return dict(counts)


def pending_changes(store: Store) -> int:
    """Saved changes not yet accepted by the service."""
    with store.read() as session:
        return session.exec(
            select(func.count()).select_from(Outbox).where(col(Outbox.state) != "done")
        ).one()
