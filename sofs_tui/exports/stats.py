"""The team's statistics from the store: GP involvement and report-sharing timeliness for a
period, children subject to a plan on a date, and the census-shaped CSV of plans.

Conferences imported from QA Unit logs count beside the app's own. The counting rules are in
`domain.statistics`; this module fetches, applies them, and prints tables or CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sofs_tui.config import CouncilRules
from sofs_tui.domain.calendar import WorkingCalendar, default_calendar
from sofs_tui.domain.plans import PlanPeriod
from sofs_tui.domain.reports import report_timeliness
from sofs_tui.domain.statistics import (
    SharingRecord,
    StatTable,
    csv_rows,
    format_percent,
    gp_tables,
    plan_tables,
    sharing_of,
    sharing_tables,
)
from sofs_tui.exports.document import Block, Document, Heading, Paragraph, Table, spreadsheet_safe
from sofs_tui.exports.render_text import render_text
from sofs_tui.store.stats_views import conference_facts, plan_facts, report_facts
from sofs_tui.store.store import Store

CENSUS_COLUMNS = (
    "child_reference",
    "cpp_start_date",
    "cpp_end_date",
    "initial_category_of_abuse",
    "latest_category_of_abuse",
    "cpp_review_dates",
)


def _period(first: date, last: date) -> str:
    return f"{first.isoformat()} to {last.isoformat()}"


def gp_statistics(store: Store, first: date, last: date) -> tuple[tuple[StatTable, ...], str]:
    """The GP tables for conferences starting from `first` to `last`, and a line saying what
    was counted."""
    facts = conference_facts(store, first, last)
    imported = sum(1 for f in facts if f.imported)
    counted = (
        f"Conferences starting from {_period(first, last)}: {len(facts)}"
        f" ({imported} from imported QA Unit logs)."
    )
    return gp_tables(facts), counted


def sharing_statistics(
    store: Store,
    first: date,
    last: date,
    rules: CouncilRules,
    calendar: WorkingCalendar | None = None,
) -> tuple[list[StatTable], str]:
    """On time / late / missing, to parents and to the QA Unit, per agency and overall, for
    the reports of conferences starting from `first` to `last` (deadlines as the council's)."""
    working = calendar or default_calendar()
    now = store.now()
    records = []
    for fact in report_facts(store, first, last):
        timeliness = report_timeliness(
            kind=fact.kind,
            conference_start=fact.conference_start,
            rules=rules.deadlines,
            calendar=working,
            parent_ids=fact.parent_ids,
            shared_at_by_parent=fact.shared_at_by_parent,
            sent_to_qau_at=fact.sent_to_qau_at,
            qau_exempt_from_sharing=fact.qau_exempt,
            now=now,
            due_soon=timedelta(hours=rules.due_soon_hours),
        )
        records.append(
            SharingRecord(
                fact.agency,
                sharing_of(timeliness.parents_state),
                sharing_of(timeliness.qau_state),
            )
        )
    counted = (
        f"Reports for conferences starting from {_period(first, last)}: {len(records)}. "
        "Missing: not done and the deadline has passed."
    )
    return sharing_tables(records), counted


def _periods(store: Store) -> list[PlanPeriod]:
    return [
        PlanPeriod(p.child_reference, p.start, p.end, p.initial, p.latest)
        for p in plan_facts(store)
    ]


def plan_statistics(store: Store, on: date) -> tuple[tuple[StatTable, ...], str]:
    """Children subject to a plan on `on`, by initial and by latest category."""
    tables = plan_tables(_periods(store), on)
    counted = f"Children subject to a child protection plan on {on.isoformat()}."
    return tables, counted


def census_csv(store: Store, first: date | None = None, last: date | None = None) -> str:
    """One row per child's plan (plans running at any time in the period, if one is given),
    shaped like the Children in Need census: dates ISO 8601, review dates joined by ";"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CENSUS_COLUMNS)
    for plan in plan_facts(store):
        if last is not None and plan.start > last:
            continue
        if first is not None and plan.end is not None and plan.end < first:
            continue
        writer.writerow(
            (
                spreadsheet_safe(plan.child_reference),
                plan.start.isoformat(),
                plan.end.isoformat() if plan.end else "",
                plan.initial.value,
                plan.latest.value,
                ";".join(d.isoformat() for d in plan.review_dates),
            )
        )
    return buffer.getvalue()


def tables_csv(tables: Iterable[StatTable]) -> str:
    """`table,category,count,percent`, one row per line, with that header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("table", "category", "count", "percent"))
    for table, category, count, percent in csv_rows(tables):
        writer.writerow((spreadsheet_safe(table), spreadsheet_safe(category), count, percent))
    return buffer.getvalue()


def tables_document(title: str, counted: str, tables: Sequence[StatTable]) -> Document:
    """Tables as a document: each with its heading, rows, and what its percentages are of."""
    blocks: list[Block] = []
    for table in tables:
        blocks.append(Heading(table.title, 2))
        blocks.append(
            Table(
                (table.header, "Number", "%"),
                tuple((r.category, str(r.count), format_percent(r.percent)) for r in table.rows),
                numeric=frozenset({1, 2}),
            )
        )
        blocks.append(
            Paragraph(f"Percentages {table.denominator_label} ({table.denominator}).", quiet=True)
        )
    return Document(title=title, lines=(counted,), blocks=tuple(blocks))


def tables_text(title: str, counted: str, tables: Sequence[StatTable]) -> str:
    """The tables as plain text for a terminal or an email."""
    return render_text(tables_document(title, counted, tables))
