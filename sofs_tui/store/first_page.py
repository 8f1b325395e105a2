"""The caseload's first page, read the moment the passphrase is right, before the database
layer (SQLAlchemy, SQLModel and the tables: about 0.4 s of imports) has been loaded.

One connection opened, keyed, configured and checked like every pooled one
(`connection.open_connection`), one read transaction, plain SQL over the columns the caseload
shows; the page is built by `case_page`, as `queries.case_summaries` builds it (a test holds
the two equal, row by row). The app shows this page, then opens the store behind it.

It declines (returns None) whenever the full open must decide: a schema that needs upgrading
(or is newer than this sofs), a store whose device record is missing, any error. The full open
then upgrades, sets up, or says in words what is wrong.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.deadlines import ReportDeadlineRules
from sofs_tui.domain.enums import ConferenceKind, ConferenceStatus, PersonKind
from sofs_tui.store.case_page import (
    CasePage,
    categories_by_case,
    deadlines_of_reports,
    earliest_shares,
    summaries_of,
)
from sofs_tui.store.connection import open_connection
from sofs_tui.store.migrations import HEAD

if TYPE_CHECKING:
    from sofs_tui.store.keys import DataKey


@dataclass
class FirstLook:
    """A store just unlocked: where it is, its data key, and the caseload's first page read
    at `now` (None: the full open decides; see the module's docstring)."""

    db_path: Path
    key: DataKey
    page: CasePage | None
    now: datetime


class _Case(NamedTuple):
    id: str
    reference: str
    family_name: str
    lead_worker: str


class _Conference(NamedTuple):
    id: str
    case_id: str
    kind: ConferenceKind
    starts_at: datetime


class _Report(NamedTuple):
    id: str
    conference_id: str
    title: str
    agency: str
    sent_to_qau_at: datetime | None
    qau_reason: str | None


def _when(value: str) -> datetime:
    """A stored time (ISO 8601 UTC text, `types.UTCDateTime`) as an aware datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _select(connection: Any, sql: str, ids: Sequence[str], *more: object) -> Any:
    """Run `sql`, its `{ids}` made a list of placeholders, one per id; ids first, then `more`."""
    # Only "?" placeholders are put into the statement's text; every value is bound.
    statement = sql.format(ids=",".join("?" * len(ids)))
    return connection.execute(statement, (*ids, *more))


def read_first_page(
    db_path: Path,
    key: DataKey,
    *,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime,
    due_soon: timedelta,
    limit: int,
) -> CasePage | None:
    """The caseload's first `limit` cases in reference order, no filter, without the sync
    state (as `case_summaries(..., with_sync=False)`); None when the full open must decide."""
    try:
        connection = open_connection(db_path, key, create=False)
    except Exception:
        return None
    try:
        connection.execute("BEGIN")
        try:
            return _read(connection, rules, calendar, now, due_soon, limit)
        finally:
            connection.execute("ROLLBACK")
    except Exception:
        return None  # whatever it is, the full open meets it again and says what it is
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def _read(
    connection: Any,
    rules: ReportDeadlineRules,
    calendar: WorkingCalendar,
    now: datetime,
    due_soon: timedelta,
    limit: int,
) -> CasePage | None:
    if connection.execute("PRAGMA user_version").fetchone()[0] != HEAD:
        return None
    if connection.execute("SELECT count(*) FROM sync_meta WHERE id = 1").fetchone()[0] != 1:
        return None
    total = connection.execute("SELECT count(*) FROM family_case WHERE deleted = 0").fetchone()[0]
    cases = [
        _Case(*row)
        for row in connection.execute(
            "SELECT id, reference, family_name, lead_worker FROM family_case "
            "WHERE deleted = 0 ORDER BY reference LIMIT ?",
            (limit,),
        )
    ]
    ids = [case.id for case in cases]
    if not ids:
        return CasePage(total, ())
    categories = categories_by_case(
        _select(
            connection,
            "SELECT case_id, plan_category_latest FROM person "
            "WHERE case_id IN ({ids}) AND kind = ? AND deleted = 0 "
            "AND plan_category_latest IS NOT NULL AND plan_end IS NULL ORDER BY name",
            ids,
            PersonKind.CHILD.value,
        )
    )
    conferences = [
        _Conference(conference_id, case_id, ConferenceKind(kind), _when(starts_at))
        for conference_id, case_id, kind, starts_at in _select(
            connection,
            "SELECT id, case_id, kind, starts_at FROM conference "
            "WHERE case_id IN ({ids}) AND status = ? AND deleted = 0",
            ids,
            ConferenceStatus.PLANNED.value,
        )
    ]
    deadlines = []
    if conferences:
        conference_ids = [c.id for c in conferences]
        reports = [
            _Report(report_id, conference_id, title, agency, _when(sent) if sent else None, reason)
            for report_id, conference_id, title, agency, sent, reason in _select(
                connection,
                "SELECT id, conference_id, title, agency, sent_to_qau_at, qau_reason FROM report "
                "WHERE conference_id IN ({ids}) AND deleted = 0",
                conference_ids,
            )
        ]
        case_ids = list({c.case_id for c in conferences})
        parents: dict[str, list[str]] = defaultdict(list)
        for person_id, case_id in _select(
            connection,
            "SELECT id, case_id FROM person WHERE case_id IN ({ids}) AND kind = ? "
            "AND parental_responsibility = 1 AND deleted = 0",
            case_ids,
            PersonKind.ADULT.value,
        ):
            parents[case_id].append(person_id)
        shares = (
            earliest_shares(
                (report_id, parent_id, _when(shared_at))
                for report_id, parent_id, shared_at in _select(
                    connection,
                    "SELECT report_share.report_id, report_share.parent_id, "
                    "report_share.shared_at FROM report_share "
                    "JOIN report ON report.id = report_share.report_id "
                    "WHERE report.conference_id IN ({ids}) AND report_share.deleted = 0",
                    conference_ids,
                )
            )
            if reports
            else {}
        )
        deadlines = deadlines_of_reports(
            conferences,
            reports,
            parents,
            shares,
            rules=rules,
            calendar=calendar,
            now=now,
            due_soon=due_soon,
        )
    return CasePage(total, summaries_of(cases, categories, conferences, deadlines, None))
