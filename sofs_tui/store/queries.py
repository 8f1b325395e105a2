"""Read models for the screens and commands: the caseload, its sync state, counts.

Lists are paged in SQL with Core selects of just the columns they show (no ORM objects);
deadline states are computed in Python (pure domain rules) only for the rows asked for, so a
10,000-case caseload never builds 10,000 summaries at once. Deadlines across cases (each
report's deadlines, `deadlines_due`, the deadline order) are in `store/deadline_views.py` and
re-exported here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select, union_all
from sqlmodel import Session, col

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import ReportDeadlineRules
from sofs_tui.domain.enums import ConferenceStatus, PersonKind, PlanCategory, SyncState
from sofs_tui.store.case_page import (
    ALL_CLEAN,
    OPEN_STATES,
    CasePage,
    CaseSort,
    CaseSummary,
    CaseSync,
    ConferenceLike,
    ReportDeadline,
    categories_by_case,
    like_pattern,
    summaries_of,
)
from sofs_tui.store.deadline_views import (
    DueItem,
    DueKind,
    cases_by_nearest_deadline,
    deadlines_due,
    report_deadline_queries,
    report_deadlines,
)
from sofs_tui.store.deadline_views import live as _live
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Attendee,
    Case,
    ChildOutcome,
    ChildVoice,
    Conference,
    Entry,
    FamilyPlanItem,
    Outbox,
    Person,
    Report,
    ReportShare,
    Score,
)

__all__ = [
    "OPEN_STATES",
    "CasePage",
    "CaseSort",
    "CaseSummary",
    "CaseSync",
    "ConferenceLike",
    "DueItem",
    "DueKind",
    "ReportDeadline",
    "case_filter",
    "case_summaries",
    "case_sync_states",
    "cases_by_nearest_deadline",
    "cases_by_next_conference",
    "compile_caseload_queries",
    "deadlines_due",
    "pending_changes",
    "report_deadlines",
]


_SYNC_RANK = {SyncState.CLEAN: 0, SyncState.DIRTY: 1, SyncState.HELD: 2, SyncState.CONFLICT: 3}


def case_filter(text: str) -> list[ColumnElement[bool]]:
    """Live cases whose reference or family name contains `text` (SQLite's LIKE ignores the
    case of ASCII letters)."""
    where: list[ColumnElement[bool]] = [col(Case.deleted).is_(False)]
    if text.strip():
        pattern = like_pattern(text)
        where.append(
            or_(
                col(Case.reference).like(pattern, escape="\\"),
                col(Case.family_name).like(pattern, escape="\\"),
            )
        )
    return where


def _planned_conferences_query(case_ids: Sequence[str]) -> Any:
    return select(
        col(Conference.id),
        col(Conference.case_id),
        col(Conference.kind),
        col(Conference.starts_at),
    ).where(
        col(Conference.case_id).in_(case_ids),
        col(Conference.status) == ConferenceStatus.PLANNED,
        _live(Conference),
    )


def _planned_conferences(session: Session, case_ids: Sequence[str]) -> list[Any]:
    if not case_ids:
        return []
    return list(session.connection().execute(_planned_conferences_query(case_ids)).all())


def case_summaries(
    store: Store,
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    text: str = "",
    offset: int = 0,
    limit: int = 200,
    due_soon: timedelta = timedelta(hours=24),
    sort: CaseSort = CaseSort.REFERENCE,
    with_sync: bool = True,
) -> CasePage:
    """One page of the caseload, filtered by reference or family name, in `sort` order.

    The sync state reads every record under each case (the slowest part on a big store), so
    a screen may ask for the page `with_sync=False` (then `sync_state` is None) and fill it in
    afterwards with `case_sync_states`.
    """
    now = store.now()
    with store.read() as session:
        # Core selects of the shown columns on the session's connection: no ORM row handling.
        connection = session.connection()
        where = case_filter(text)
        total = connection.execute(
            select(func.count()).select_from(Case).where(*where)
        ).scalar_one()
        columns = (col(Case.id), col(Case.reference), col(Case.family_name), col(Case.lead_worker))
        if sort in (CaseSort.NEAREST_DEADLINE, CaseSort.NEXT_CONFERENCE):
            ordered = (
                cases_by_nearest_deadline(session, where, rules, calendar, wanted=offset + limit)
                if sort is CaseSort.NEAREST_DEADLINE
                else cases_by_next_conference(session, where, wanted=offset + limit)
            )
            ids = ordered[offset : offset + limit]
            found = {
                r.id: r for r in connection.execute(select(*columns).where(col(Case.id).in_(ids)))
            }
            cases = [found[i] for i in ids if i in found]
        else:
            query = _ordered(select(*columns).where(*where), sort)
            cases = list(connection.execute(query.offset(offset).limit(limit)).all())
        ids = [c.id for c in cases]
        categories = _plan_categories(session, ids)
        conferences = _planned_conferences(session, ids)
        deadlines = report_deadlines(
            session, conferences, rules=rules, calendar=calendar, now=now, due_soon=due_soon
        )
        sync = _sync_by_case(session, ids) if with_sync else None
    return CasePage(total, summaries_of(cases, categories, conferences, deadlines, sync))


def _ordered(query: Any, sort: CaseSort) -> Any:
    if sort is CaseSort.FAMILY:
        return query.order_by(col(Case.family_name).collate("NOCASE"), col(Case.reference))
    return query.order_by(col(Case.reference))


def cases_by_next_conference(
    session: Session, where: Sequence[ColumnElement[bool]], *, wanted: int | None = None
) -> list[str]:
    """Ids of the matching cases, soonest planned conference first (ties by reference), then
    the cases with nothing planned, by reference; with `wanted`, stops once it has that many.

    One pass over the planned conferences in start order: a lookup per case would read the
    conference table in random order, which is several times slower on an encrypted store.
    """
    first_seen: dict[str, None] = {}
    for (case_id,) in session.execute(
        select(col(Conference.case_id))
        .join(Case, col(Case.id) == col(Conference.case_id))
        .where(*where, col(Conference.status) == ConferenceStatus.PLANNED, _live(Conference))
        .order_by(col(Conference.starts_at), col(Case.reference))
    ):
        first_seen.setdefault(case_id)
        if wanted is not None and len(first_seen) >= wanted:
            return list(first_seen)
    rest = session.execute(
        select(col(Case.id)).where(*where).order_by(col(Case.reference))
    ).scalars()
    return [*first_seen, *(case_id for case_id in rest if case_id not in first_seen)]


def _plan_categories_query(ids: Sequence[str]) -> Any:
    return (
        select(col(Person.case_id), col(Person.plan_category_latest))
        .where(
            col(Person.case_id).in_(ids),
            col(Person.kind) == PersonKind.CHILD,
            _live(Person),
            col(Person.plan_category_latest).is_not(None),
            col(Person.plan_end).is_(None),
        )
        .order_by(col(Person.name))
    )


def _plan_categories(session: Session, ids: Sequence[str]) -> dict[str, list[PlanCategory]]:
    if not ids:
        return {}
    return categories_by_case(session.connection().execute(_plan_categories_query(ids)))


def case_sync_states(store: Store, case_ids: Sequence[str]) -> dict[str, CaseSync]:
    """How each case's records stand against the service (every id gets an answer)."""
    with store.read() as session:
        found = _sync_by_case(session, case_ids)
    return {case_id: found.get(case_id, ALL_CLEAN) for case_id in case_ids}


def _sync_query(case_ids: Sequence[str]) -> Any:
    """(case id, state, count) of the records not in step with the service, over each case
    and everything under it (people, mappings and their entries, conferences and their
    reports…), in one query."""
    ids = list(case_ids)
    not_clean = SyncState.CLEAN.value

    def direct(table: Any, key: Any) -> Any:
        return select(key.label("case_id"), table.sync_state.label("state")).where(
            key.in_(ids), table.sync_state != not_clean
        )

    def via(table: Any, parent: Any, link: Any) -> Any:
        return (
            select(parent.case_id.label("case_id"), table.sync_state.label("state"))
            .join(parent, parent.id == link)
            .where(parent.case_id.in_(ids), table.sync_state != not_clean)
        )

    parts = [
        direct(Case, col(Case.id)),
        *(direct(t, t.case_id) for t in (Person, Assessment, ChildVoice, Conference)),
        via(Entry, Assessment, col(Entry.assessment_id)),
        via(Score, Assessment, col(Score.assessment_id)),
        via(Attendee, Conference, col(Attendee.conference_id)),
        via(FamilyPlanItem, Conference, col(FamilyPlanItem.conference_id)),
        via(ChildOutcome, Conference, col(ChildOutcome.conference_id)),
        via(Report, Conference, col(Report.conference_id)),
        select(col(Conference.case_id).label("case_id"), col(ReportShare.sync_state).label("state"))
        .join(Report, col(Report.id) == col(ReportShare.report_id))
        .join(Conference, col(Conference.id) == col(Report.conference_id))
        .where(col(Conference.case_id).in_(ids), col(ReportShare.sync_state) != not_clean),
    ]
    every = union_all(*parts).subquery()
    return select(every.c.case_id, every.c.state, func.count(literal(1))).group_by(
        every.c.case_id, every.c.state
    )


def _sync_by_case(session: Session, case_ids: Sequence[str]) -> dict[str, CaseSync]:
    if not case_ids:
        return {}
    counts: dict[str, dict[SyncState, int]] = defaultdict(dict)
    for case_id, state, n in session.connection().execute(_sync_query(case_ids)):
        counts[case_id][SyncState(state)] = n
    return {
        case_id: CaseSync(
            state=max(states, key=_SYNC_RANK.__getitem__),
            conflicts=states.get(SyncState.CONFLICT, 0),
            unsynced=states.get(SyncState.DIRTY, 0) + states.get(SyncState.HELD, 0),
        )
        for case_id, states in counts.items()
    }


def compile_caseload_queries() -> None:
    """Compile the caseload's statements once, without a store (call it from a background
    thread before the store opens). SQLAlchemy writes and compiles Python code the first time
    it meets each kind of statement: about 0.2 s that the first page would otherwise wait for.
    """
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    ids = ["-"]
    where = case_filter("-")
    columns = (col(Case.id), col(Case.reference), col(Case.family_name), col(Case.lead_worker))
    statements = [
        select(func.count()).select_from(Case).where(*where),
        _ordered(select(*columns).where(*where), CaseSort.FAMILY).offset(1).limit(1),
        _plan_categories_query(ids),
        _planned_conferences_query(ids),
        *report_deadline_queries(ids, ids),
        _sync_query(ids),
    ]
    for statement in statements:
        statement.compile(dialect=dialect)


def pending_changes(store: Store) -> int:
    """Saved changes not yet accepted by the service."""
    with store.read() as session:
        pending: int = session.execute(
            select(func.count()).select_from(Outbox).where(col(Outbox.state) != "done")
        ).scalar_one()
        return pending
