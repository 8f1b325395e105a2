"""The caseload's read model (a page of case summaries) and how a page is put together from
plain rows.

No SQLAlchemy here: `queries.case_summaries` (every page the app asks for) and
`first_page.read_first_page` (the caseload's first page, read before the database layer has
been imported) fetch their rows each in their own way and build the page with the same
functions, so the two cannot disagree about what a row shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import DeadlineState, ReportDeadlineRules
from sofs_tui.domain.enums import ConferenceKind, PlanCategory, SyncState
from sofs_tui.domain.reports import report_timeliness

OPEN_STATES = (DeadlineState.DUE, DeadlineState.DUE_SOON, DeadlineState.OVERDUE)


@dataclass(frozen=True)
class ReportDeadline:
    report_id: str
    conference_id: str
    title: str
    agency: str
    target: str  # "parents" | "qau"
    due: datetime
    state: DeadlineState


class ConferenceLike(Protocol):
    """What deadline computation needs of a conference (an ORM row, a Core row or a tuple
    class with these fields)."""

    @property
    def id(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def kind(self) -> ConferenceKind: ...
    @property
    def starts_at(self) -> datetime: ...


class ReportLike(Protocol):
    """The columns of a report that its deadlines depend on."""

    @property
    def id(self) -> str: ...
    @property
    def conference_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def sent_to_qau_at(self) -> datetime | None: ...
    @property
    def qau_reason(self) -> Any: ...


class CaseLike(Protocol):
    """The columns of a case that a caseload row shows."""

    @property
    def id(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def lead_worker(self) -> str: ...


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    reference: str
    family_name: str
    lead_worker: str
    categories: tuple[PlanCategory, ...]
    next_conference_at: datetime | None
    next_conference_kind: ConferenceKind | None
    nearest: ReportDeadline | None  # the earliest deadline still open (overdue ones first)
    reports_unshared: int
    reports_overdue: int
    sync_state: SyncState | None  # the worst state of any record on the case; None: not read
    conflicts: int
    unsynced: int = 0  # records saved here and not yet accepted by the service


@dataclass(frozen=True)
class CaseSync:
    """How a case's records stand against the service."""

    state: SyncState  # the worst of them: conflict, held, dirty, clean
    conflicts: int
    unsynced: int  # saved here, not yet accepted by the service (dirty or held)


@dataclass(frozen=True)
class CasePage:
    total: int
    rows: tuple[CaseSummary, ...]


class CaseSort(StrEnum):
    """The orders the caseload can be listed in."""

    REFERENCE = "reference"
    FAMILY = "family"
    NEXT_CONFERENCE = "next_conference"
    NEAREST_DEADLINE = "nearest_deadline"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


ALL_CLEAN = CaseSync(SyncState.CLEAN, 0, 0)


def like_pattern(text: str) -> str:
    """`%text%` with the worker's own % and _ taken literally (escape character: backslash)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def categories_by_case(rows: Iterable[tuple[str, str]]) -> dict[str, list[PlanCategory]]:
    """(case id, plan category) rows, children in name order: each category once per case,
    in the order first met."""
    categories: dict[str, list[PlanCategory]] = defaultdict(list)
    for case_id, value in rows:
        category = PlanCategory(value)
        if category not in categories[case_id]:
            categories[case_id].append(category)
    return categories


def earliest_shares(
    rows: Iterable[tuple[str, str, datetime]],
) -> dict[str, dict[str, datetime]]:
    """(report id, parent id, shared at) rows: when each report was first shared with each
    parent."""
    shares: dict[str, dict[str, datetime]] = defaultdict(dict)
    for report_id, parent_id, shared_at in rows:
        earlier = shares[report_id].get(parent_id)
        shares[report_id][parent_id] = shared_at if earlier is None else min(earlier, shared_at)
    return shares


def deadlines_of_reports(
    conferences: Sequence[ConferenceLike],
    reports: Iterable[ReportLike],
    parents: Mapping[str, list[str]],
    shares: Mapping[str, Mapping[str, datetime]],
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime,
    due_soon: timedelta,
) -> list[ReportDeadline]:
    """Both deadlines of each report (to the parents, to the QA Unit), by the domain rules.

    `parents`: the ids of the parents with parental responsibility, per case; `shares`: when
    each report was first shared with each parent (`earliest_shares`).
    """
    by_id = {c.id: c for c in conferences}
    found: list[ReportDeadline] = []
    for report in reports:
        conference = by_id[report.conference_id]
        timeliness = report_timeliness(
            kind=conference.kind,
            conference_start=conference.starts_at,
            rules=rules,
            calendar=calendar,
            parent_ids=parents.get(conference.case_id, []),
            shared_at_by_parent=shares.get(report.id, {}),
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


def summaries_of(
    cases: Sequence[CaseLike],
    categories: Mapping[str, list[PlanCategory]],
    conferences: Sequence[ConferenceLike],
    deadlines: Sequence[ReportDeadline],
    sync: Mapping[str, CaseSync] | None,
) -> tuple[CaseSummary, ...]:
    """One summary per case, in the order given. `conferences`: the cases' planned ones;
    `sync` None: the sync state was not read (the screen fills it in afterwards)."""
    next_conference: dict[str, ConferenceLike] = {}
    for conference in sorted(conferences, key=lambda c: c.starts_at):
        next_conference.setdefault(conference.case_id, conference)
    case_of = {c.id: c.case_id for c in conferences}
    per_case: dict[str, list[ReportDeadline]] = defaultdict(list)
    for deadline in deadlines:
        per_case[case_of[deadline.conference_id]].append(deadline)
    rows = []
    for case in cases:
        mine = per_case[case.id]
        open_ones = sorted((d for d in mine if d.state in OPEN_STATES), key=lambda d: d.due)
        upcoming = next_conference.get(case.id)
        state = sync.get(case.id, ALL_CLEAN) if sync is not None else None
        rows.append(
            CaseSummary(
                case_id=case.id,
                reference=case.reference,
                family_name=case.family_name,
                lead_worker=case.lead_worker,
                categories=tuple(categories.get(case.id, ())),
                next_conference_at=upcoming.starts_at if upcoming else None,
                next_conference_kind=upcoming.kind if upcoming else None,
                nearest=open_ones[0] if open_ones else None,
                reports_unshared=len(
                    {d.report_id for d in mine if d.target == "parents" and d.state in OPEN_STATES}
                ),
                reports_overdue=len(
                    {d.report_id for d in mine if d.state is DeadlineState.OVERDUE}
                ),
                sync_state=state.state if state else None,
                conflicts=state.conflicts if state else 0,
                unsynced=state.unsynced if state else 0,
            )
        )
    return tuple(rows)
