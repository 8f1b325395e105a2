"""Read models for the team's statistics, and the store side of importing QA Unit logs.

Conferences and reports are read as plain facts (the app's own and the imported ones side by
side); the counting rules live in `domain.statistics`. An import is one transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
)
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Case,
    Conference,
    Person,
    QauLogConference,
    QauLogImport,
    QauLogReport,
    Report,
    ReportShare,
)

# --- Statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConferenceFacts:
    """A conference as the statistics count it (from a case, or from an imported log)."""

    starts_at: datetime
    kind: ConferenceKind
    gp_invited: GPInvited | None
    gp_outcome: GPOutcome | None
    imported: bool


@dataclass(frozen=True)
class ReportFacts:
    """What a report's sharing deadlines are computed from."""

    agency: str
    kind: ConferenceKind
    conference_start: datetime
    parent_ids: tuple[str, ...]
    shared_at_by_parent: dict[str, datetime] = field(default_factory=dict)
    sent_to_qau_at: datetime | None = None
    qau_exempt: bool = False


def _utc_window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _app_conferences(session: Session, start: datetime, end: datetime) -> Sequence[Conference]:
    return session.exec(
        select(Conference).where(
            col(Conference.deleted).is_(False),
            Conference.status != ConferenceStatus.CANCELLED,
            col(Conference.starts_at) >= start,
            col(Conference.starts_at) < end,
        )
    ).all()


def _log_conferences(
    session: Session, start: datetime, end: datetime
) -> Sequence[QauLogConference]:
    return session.exec(
        select(QauLogConference).where(
            col(QauLogConference.starts_at) >= start, col(QauLogConference.starts_at) < end
        )
    ).all()


def conference_facts(
    store: Store, first: date, last: date, tz: ZoneInfo = COUNCIL_TZ
) -> list[ConferenceFacts]:
    """Every conference (not cancelled) starting on a day from `first` to `last` inclusive,
    in the council's time zone: the app's own and those imported from QA Unit logs."""
    start, end = _utc_window(first, last, tz)
    with store.read() as session:
        own = _app_conferences(session, start, end)
        logged = _log_conferences(session, start, end)
    return [
        ConferenceFacts(c.starts_at, c.kind, c.gp_invited, c.gp_outcome, False) for c in own
    ] + [ConferenceFacts(c.starts_at, c.kind, c.gp_invited, c.gp_outcome, True) for c in logged]


def report_facts(
    store: Store, first: date, last: date, tz: ZoneInfo = COUNCIL_TZ
) -> list[ReportFacts]:
    """Every live report of the conferences `conference_facts` counts, with its sharing."""
    start, end = _utc_window(first, last, tz)
    with store.read() as session:
        own = {c.id: c for c in _app_conferences(session, start, end)}
        reports = session.exec(
            select(Report).where(col(Report.conference_id).in_(own), col(Report.deleted).is_(False))
        ).all()
        parents: dict[str, list[str]] = defaultdict(list)
        for person_id, case_id in session.exec(
            select(Person.id, Person.case_id).where(
                col(Person.case_id).in_({c.case_id for c in own.values()}),
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
        logged = {c.id: c for c in _log_conferences(session, start, end)}
        log_reports = session.exec(
            select(QauLogReport).where(col(QauLogReport.conference_id).in_(logged))
        ).all()
    found = [
        ReportFacts(
            agency=r.agency,
            kind=own[r.conference_id].kind,
            conference_start=own[r.conference_id].starts_at,
            parent_ids=tuple(sorted(parents[own[r.conference_id].case_id])),
            shared_at_by_parent=shares[r.id],
            sent_to_qau_at=r.sent_to_qau_at,
            qau_exempt=r.qau_reason is not None,
        )
        for r in reports
    ]
    # A log records one sharing time per report: it stands for the parents as one.
    found += [
        ReportFacts(
            agency=r.agency,
            kind=logged[r.conference_id].kind,
            conference_start=logged[r.conference_id].starts_at,
            parent_ids=("parents",),
            shared_at_by_parent={} if r.shared_at is None else {"parents": r.shared_at},
            sent_to_qau_at=r.sent_to_qau_at,
        )
        for r in log_reports
    ]
    return found


@dataclass(frozen=True)
class PlanFacts:
    """One child's plan, named by a reference that does not identify the child."""

    child_reference: str  # case reference and the child's number on the case, e.g. C-104/2
    start: date
    end: date | None
    initial: PlanCategory
    latest: PlanCategory
    review_dates: tuple[date, ...]


def plan_facts(store: Store, tz: ZoneInfo = COUNCIL_TZ) -> list[PlanFacts]:
    """Every child with a plan recorded (current or ended), with the dates of the review
    conferences held on their case while the plan ran."""
    with store.read() as session:
        children = session.exec(
            select(Person)
            .where(Person.kind == PersonKind.CHILD)
            .order_by(col(Person.case_id), col(Person.created_at), col(Person.id))
        ).all()
        references = dict(session.exec(select(Case.id, Case.reference)).all())
        reviews: dict[str, list[date]] = defaultdict(list)
        for case_id, starts_at in session.exec(
            select(Conference.case_id, Conference.starts_at).where(
                Conference.kind == ConferenceKind.REVIEW,
                Conference.status == ConferenceStatus.HELD,
                col(Conference.deleted).is_(False),
            )
        ).all():
            reviews[case_id].append(starts_at.astimezone(tz).date())
    found: list[PlanFacts] = []
    number: dict[str, int] = defaultdict(int)
    for child in children:
        # Numbered in the order the children were added, tombstones included, so a child's
        # reference never changes when a sibling is removed.
        number[child.case_id] += 1
        initial = child.plan_category_initial or child.plan_category_latest
        if child.deleted or child.plan_start is None or initial is None:
            continue
        start, end = child.plan_start, child.plan_end
        found.append(
            PlanFacts(
                child_reference=f"{references.get(child.case_id, '?')}/{number[child.case_id]}",
                start=start,
                end=end,
                initial=initial,
                latest=child.plan_category_latest or initial,
                review_dates=tuple(
                    sorted(
                        d
                        for d in reviews[child.case_id]
                        if start <= d and (end is None or d <= end)
                    )
                ),
            )
        )
    found.sort(
        key=lambda p: (
            p.child_reference.rpartition("/")[0],
            int(p.child_reference.rpartition("/")[2]),
        )
    )
    return found


# --- Imported QA Unit logs -------------------------------------------------------------------


@dataclass(frozen=True)
class LogReportRow:
    agency: str
    shared_at: datetime | None
    sent_to_qau_at: datetime | None


@dataclass(frozen=True)
class LogConferenceRow:
    """One validated row of a QA Unit log, ready to store."""

    source_id: str
    starts_at: datetime
    start_time_known: bool
    kind: ConferenceKind
    gp_invited: GPInvited
    gp_outcome: GPOutcome
    report: LogReportRow | None = None


def imported_source_ids(store: Store, source_ids: Iterable[str]) -> dict[str, datetime]:
    """Which of these log ids an earlier import already brought in, and when."""
    wanted = list(dict.fromkeys(source_ids))
    found: dict[str, datetime] = {}
    with store.read() as session:
        for chunk in range(0, len(wanted), 500):
            for source_id, imported_at in session.exec(
                select(QauLogConference.source_id, QauLogImport.imported_at)
                .join(QauLogImport, col(QauLogImport.id) == col(QauLogConference.import_id))
                .where(col(QauLogConference.source_id).in_(wanted[chunk : chunk + 500]))
            ).all():
                found[source_id] = imported_at
    return found


class LogAlreadyImported(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "Some of these conferences were imported meanwhile. Nothing was imported; "
            "run the import again to see which."
        )


def save_qau_log(store: Store, rows: Sequence[LogConferenceRow], *, source_name: str) -> str:
    """Store a validated log in one transaction (all of it or nothing); returns the import id."""
    import_id = str(uuid.uuid4())
    with store.write() as session:
        clash = session.exec(
            select(QauLogConference.id).where(
                col(QauLogConference.source_id).in_([r.source_id for r in rows])
            )
        ).first()
        if clash is not None:
            raise LogAlreadyImported()
        session.add(
            QauLogImport(
                id=import_id,
                imported_at=store.now(),
                imported_by=store.actor.username,
                source_name=source_name[:200],
                conferences=len(rows),
            )
        )
        for row in rows:
            conference_id = str(uuid.uuid4())
            session.add(
                QauLogConference(
                    id=conference_id,
                    import_id=import_id,
                    source_id=row.source_id,
                    starts_at=row.starts_at,
                    start_time_known=row.start_time_known,
                    kind=row.kind,
                    gp_invited=row.gp_invited,
                    gp_outcome=row.gp_outcome,
                )
            )
            if row.report is not None:
                session.add(
                    QauLogReport(
                        id=str(uuid.uuid4()),
                        conference_id=conference_id,
                        agency=row.report.agency,
                        shared_at=row.report.shared_at,
                        sent_to_qau_at=row.report.sent_to_qau_at,
                    )
                )
    return import_id
