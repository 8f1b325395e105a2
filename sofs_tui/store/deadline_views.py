"""Deadlines across cases: each report's two deadlines, what falls due in the next days, and
the caseload in order of its nearest open deadline.

Which reports are still open is decided in SQL; due moments need the working calendar, so they
are computed in Python by the pure domain rules, once per conference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlmodel import Session, col

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import (
    DeadlineRule,
    DeadlineState,
    ReportDeadlineRules,
    deadline_state,
    report_deadline,
)
from sofs_tui.domain.enums import ConferenceKind, ConferenceStatus, PersonKind
from sofs_tui.store.case_page import (
    OPEN_STATES,
    ConferenceLike,
    ReportDeadline,
    deadlines_of_reports,
    earliest_shares,
)
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case, ChildOutcome, Conference, Person, Report, ReportShare

_CHUNK = 500  # conferences per round when ordering the caseload by deadline


def live(table: Any) -> ColumnElement[bool]:
    """Not tombstoned."""
    return col(table.deleted).is_(False)


def report_deadline_queries(
    conference_ids: Sequence[str], case_ids: Sequence[str]
) -> tuple[Any, Any, Any]:
    """What report deadlines are computed from: the live reports of these conferences, the
    parents (with parental responsibility) in these cases, and the reports' sharing log (found
    through the conferences: listing every report id again would double the bound values)."""
    reports = select(
        col(Report.id),
        col(Report.conference_id),
        col(Report.title),
        col(Report.agency),
        col(Report.sent_to_qau_at),
        col(Report.qau_reason),
    ).where(col(Report.conference_id).in_(conference_ids), live(Report))
    parents = select(col(Person.id), col(Person.case_id)).where(
        col(Person.case_id).in_(case_ids),
        col(Person.kind) == PersonKind.ADULT,
        col(Person.parental_responsibility).is_(True),
        live(Person),
    )
    shares = (
        select(col(ReportShare.report_id), col(ReportShare.parent_id), col(ReportShare.shared_at))
        .join(Report, col(Report.id) == col(ReportShare.report_id))
        .where(col(Report.conference_id).in_(conference_ids), live(ReportShare))
    )
    return reports, parents, shares


def report_deadlines(
    session: Session,
    conferences: Sequence[ConferenceLike],
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime,
    due_soon: timedelta,
) -> list[ReportDeadline]:
    """Both deadlines of every live report of these conferences (Core selects on the
    session's connection: no ORM row handling)."""
    by_id = {c.id: c for c in conferences}
    if not by_id:
        return []
    connection = session.connection()
    of_reports, of_parents, of_shares = report_deadline_queries(
        list(by_id), list({c.case_id for c in conferences})
    )
    reports = connection.execute(of_reports).all()
    parents: dict[str, list[str]] = defaultdict(list)
    for person_id, case_id in connection.execute(of_parents):
        parents[case_id].append(person_id)
    shares = earliest_shares(connection.execute(of_shares)) if reports else {}
    return deadlines_of_reports(
        conferences,
        reports,
        parents,
        shares,
        rules=rules,
        calendar=calendar,
        now=now,
        due_soon=due_soon,
    )


# --- The caseload in order of its nearest open deadline ------------------------------------


def _open_targets(conference_ids: Sequence[str]) -> Any:
    """Per conference: is a report still to go to the QA Unit, is one still to be shared with
    a parent (the rules of `domain.reports.report_timeliness`, in SQL)."""
    # Each EXISTS names the one table it ranges over; the rest come from the enclosing rows.
    report_live = and_(col(Report.conference_id) == col(Conference.id), live(Report))
    qau_open = (
        select(col(Report.id))
        .where(report_live, col(Report.sent_to_qau_at).is_(None))
        .correlate_except(Report)
        .exists()
    )
    parent = and_(
        col(Person.case_id) == col(Conference.case_id),
        col(Person.kind) == PersonKind.ADULT,
        col(Person.parental_responsibility).is_(True),
        live(Person),
    )
    shared = (
        select(col(ReportShare.id))
        .where(
            col(ReportShare.report_id) == col(Report.id),
            col(ReportShare.parent_id) == col(Person.id),
            live(ReportShare),
        )
        .correlate_except(ReportShare)
        .exists()
    )
    any_parent = select(col(Person.id)).where(parent).correlate_except(Person).exists()
    unshared_parent = (
        select(col(Person.id)).where(parent, not_(shared)).correlate_except(Person).exists()
    )
    exempt = and_(col(Report.qau_reason).is_not(None), col(Report.sent_to_qau_at).is_not(None))
    parents_open = (
        select(col(Report.id))
        .where(report_live, not_(exempt), or_(not_(any_parent), unshared_parent))
        .correlate_except(Report)
        .exists()
    )
    return select(col(Conference.id), qau_open, parents_open).where(
        col(Conference.id).in_(conference_ids)
    )


def _rules_of(rules: ReportDeadlineRules) -> set[DeadlineRule]:
    return {*rules.to_parents.values(), *rules.to_qau.values()}


def earliest_due_on_or_after(
    day: date, rules: ReportDeadlineRules, calendar: WorkingCalendar
) -> datetime:
    """No report of a conference starting on `day` or later is due before this moment.

    Every rule moves the due moment forward (or not at all) as the start moves forward, and a
    day rule keeps the time of day, so the rules applied to midnight of `day` give the bound.
    """
    midnight = datetime.combine(day, time(0), tzinfo=calendar.tz)
    return min(report_deadline(midnight, rule, calendar) for rule in _rules_of(rules))


def cases_by_nearest_deadline(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    *,
    wanted: int | None = None,
) -> list[str]:
    """Ids of the matching cases, earliest open report deadline first (overdue ones lead,
    ties by reference), then the cases with nothing open, by reference.

    Exact, and cheap for the first pages: planned conferences are read in start order, a
    chunk at a time; a case's nearest deadline is settled once it falls before the earliest
    moment any unread conference could be due. With `wanted`, it stops when that many cases
    are settled and returns just the settled ones (at least `wanted`, when there are).
    """
    conferences = session.execute(
        select(
            col(Conference.id),
            col(Conference.case_id),
            col(Conference.kind),
            col(Conference.starts_at),
        )
        .join(Case, col(Case.id) == col(Conference.case_id))
        .where(*where, col(Conference.status) == ConferenceStatus.PLANNED, live(Conference))
        .order_by(col(Conference.starts_at))
    ).all()
    due_of: dict[tuple[ConferenceKind, datetime, str], datetime] = {}

    def due(kind: ConferenceKind, starts_at: datetime, target: str) -> datetime:
        key = (kind, starts_at, target)
        if key not in due_of:
            rule = rules.for_parents(kind) if target == "parents" else rules.for_qau(kind)
            due_of[key] = report_deadline(starts_at, rule, calendar)
        return due_of[key]

    nearest: dict[str, datetime] = {}
    settled_before: datetime | None = None  # None: everything read
    for start in range(0, len(conferences), _CHUNK):
        chunk = conferences[start : start + _CHUNK]
        meta = {c.id: c for c in chunk}
        for conference_id, qau_open, parents_open in session.execute(_open_targets(list(meta))):
            conference = meta[conference_id]
            for target, is_open in (("parents", parents_open), ("qau", qau_open)):
                if is_open:
                    moment = due(conference.kind, conference.starts_at, target)
                    if conference.case_id not in nearest or moment < nearest[conference.case_id]:
                        nearest[conference.case_id] = moment
        unread = start + _CHUNK
        if wanted is not None and unread < len(conferences):
            next_day = conferences[unread].starts_at.astimezone(calendar.tz).date()
            bound = earliest_due_on_or_after(next_day, rules, calendar)
            if sum(1 for moment in nearest.values() if moment < bound) >= wanted:
                settled_before = bound
                break
    if settled_before is not None:
        settled = [case_id for case_id, moment in nearest.items() if moment < settled_before]
        references: dict[str, str] = {
            case_id: reference
            for case_id, reference in session.execute(
                select(col(Case.id), col(Case.reference)).where(col(Case.id).in_(settled))
            )
        }
        return sorted(settled, key=lambda c: (nearest[c], references[c]))
    everyone = session.execute(
        select(col(Case.id), col(Case.reference)).where(*where).order_by(col(Case.reference))
    ).all()
    with_deadline = sorted(
        (r for r in everyone if r.id in nearest), key=lambda r: (nearest[r.id], r.reference)
    )
    return [r.id for r in with_deadline] + [r.id for r in everyone if r.id not in nearest]


# --- What falls due across the caseload ------------------------------------------------------


class DueKind(StrEnum):
    """What is due: a report to the parents or the QA Unit, or a meeting after a conference."""

    REPORT_TO_PARENTS = "report_to_parents"
    REPORT_TO_QAU = "report_to_qau"
    CORE_GROUP = "core_group"
    REVIEW = "review"

    @property
    def label(self) -> str:
        return _DUE_LABELS[self]


_DUE_LABELS = {
    DueKind.REPORT_TO_PARENTS: "parents",
    DueKind.REPORT_TO_QAU: "QAU",
    DueKind.CORE_GROUP: "core group",
    DueKind.REVIEW: "review",
}


@dataclass(frozen=True)
class DueItem:
    """One line of the deadlines view."""

    kind: DueKind
    due: datetime
    state: DeadlineState
    case_id: str
    reference: str
    family_name: str
    conference_id: str
    conference_kind: ConferenceKind
    conference_at: datetime
    title: str  # the report's title, or the children a meeting is for
    agency: str = ""
    report_id: str | None = None


def _first_start_beyond(
    horizon: datetime, rules: ReportDeadlineRules, calendar: WorkingCalendar
) -> datetime:
    """Midnight of the first day whose conferences cannot have a report due by `horizon`."""
    day = horizon.astimezone(calendar.tz).date()
    while earliest_due_on_or_after(day, rules, calendar) <= horizon:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=calendar.tz)


def _end_of_working_day(day: date, calendar: WorkingCalendar) -> datetime:
    return datetime.combine(day, calendar.day_end, tzinfo=calendar.tz)


def deadlines_due(
    store: Store,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime | None = None,
    days: int = 14,
    *,
    due_soon: timedelta = timedelta(hours=24),
) -> list[DueItem]:
    """Everything still open that is due by `now + days`, overdue first, then by due time.

    Reports of planned conferences: to the parents and to the QA Unit, until done. After a
    conference with a plan: the first core group until its day ends (the app does not record
    core groups yet, so it cannot say one was missed), and the next review until a later
    conference is booked (booking it is what the worker can do; a review held late counts
    in the timeliness statistics, not here). A date is due at the end of the working day.
    """
    now = now or store.now()
    horizon = now + timedelta(days=days)
    items: list[DueItem] = []
    with store.read() as session:
        rows = session.execute(
            select(
                col(Conference.id),
                col(Conference.case_id),
                col(Conference.kind),
                col(Conference.starts_at),
                col(Case.reference),
                col(Case.family_name),
            )
            .join(Case, col(Case.id) == col(Conference.case_id))
            .where(
                live(Case),
                live(Conference),
                col(Conference.status) == ConferenceStatus.PLANNED,
                col(Conference.starts_at) < _first_start_beyond(horizon, rules, calendar),
            )
        ).all()
        by_id = {r.id: r for r in rows}
        for deadline in report_deadlines(
            session, rows, rules=rules, calendar=calendar, now=now, due_soon=due_soon
        ):
            if deadline.state in OPEN_STATES and deadline.due <= horizon:
                conference = by_id[deadline.conference_id]
                items.append(
                    DueItem(
                        kind=DueKind.REPORT_TO_PARENTS
                        if deadline.target == "parents"
                        else DueKind.REPORT_TO_QAU,
                        due=deadline.due,
                        state=deadline.state,
                        case_id=conference.case_id,
                        reference=conference.reference,
                        family_name=conference.family_name,
                        conference_id=conference.id,
                        conference_kind=conference.kind,
                        conference_at=conference.starts_at,
                        title=deadline.title,
                        agency=deadline.agency,
                        report_id=deadline.report_id,
                    )
                )
        items.extend(_follow_ups(session, calendar, now, horizon, due_soon))
    order = list(DueKind)
    items.sort(
        key=lambda i: (
            i.state is not DeadlineState.OVERDUE,
            i.due,
            i.reference,
            order.index(i.kind),
        )
    )
    return items


def _follow_ups(
    session: Session,
    calendar: WorkingCalendar,
    now: datetime,
    horizon: datetime,
    due_soon: timedelta,
) -> Iterable[DueItem]:
    """Core groups and reviews set by conference outcomes, one line per conference and kind."""
    today = now.astimezone(calendar.tz).date()
    last_day = horizon.astimezone(calendar.tz).date()
    outcomes = session.execute(
        select(
            col(ChildOutcome.core_group_on),
            col(ChildOutcome.next_review_on),
            col(Person.name),
            col(Conference.id),
            col(Conference.case_id),
            col(Conference.kind),
            col(Conference.starts_at),
            col(Case.reference),
            col(Case.family_name),
        )
        .join(Conference, col(Conference.id) == col(ChildOutcome.conference_id))
        .join(Person, col(Person.id) == col(ChildOutcome.child_id))
        .join(Case, col(Case.id) == col(Conference.case_id))
        .where(
            live(ChildOutcome),
            col(ChildOutcome.plan).is_(True),
            live(Conference),
            col(Conference.status) != ConferenceStatus.CANCELLED,
            live(Person),
            col(Person.plan_end).is_(None),
            live(Case),
            or_(
                col(ChildOutcome.next_review_on) <= last_day,
                and_(
                    col(ChildOutcome.core_group_on) >= today,
                    col(ChildOutcome.core_group_on) <= last_day,
                ),
            ),
        )
    ).all()
    later: dict[str, list[datetime]] = defaultdict(list)
    if outcomes:
        for case_id, starts_at in session.execute(
            select(col(Conference.case_id), col(Conference.starts_at)).where(
                col(Conference.case_id).in_({o.case_id for o in outcomes}),
                col(Conference.status) != ConferenceStatus.CANCELLED,
                live(Conference),
            )
        ):
            later[case_id].append(starts_at)
    lines: dict[tuple[str, DueKind, date], tuple[Any, list[str]]] = {}
    for o in outcomes:
        if o.core_group_on is not None and today <= o.core_group_on <= last_day:
            lines.setdefault((o.id, DueKind.CORE_GROUP, o.core_group_on), (o, []))[1].append(o.name)
        review_on = o.next_review_on
        if (
            review_on is not None
            and review_on <= last_day
            and not any(o.starts_at < s for s in later[o.case_id])
        ):
            lines.setdefault((o.id, DueKind.REVIEW, review_on), (o, []))[1].append(o.name)
    for (_conference_id, kind, day), (o, children) in lines.items():
        due = _end_of_working_day(day, calendar)
        yield DueItem(
            kind=kind,
            due=due,
            state=deadline_state(due, None, now, due_soon),
            case_id=o.case_id,
            reference=o.reference,
            family_name=o.family_name,
            conference_id=o.id,
            conference_kind=o.kind,
            conference_at=o.starts_at,
            title=", ".join(sorted(children)),
        )
