"""The team's statistics as pure rules: GP involvement, report-sharing timeliness, plans.

Counts become tables laid out as the QA Unit's own (the seed's labels, a total, percentages to
one decimal place rounded half up), so a table made here can be pasted beside last year's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from sofs_tui.domain.deadlines import DeadlineState
from sofs_tui.domain.enums import GPInvited, GPOutcome, PlanCategory
from sofs_tui.domain.plans import PlanPeriod, count_by_category

# The QA Unit's tables print these words; imports accept them and reports reproduce them.
GP_OUTCOME_LABELS: Mapping[GPOutcome, str] = {
    GPOutcome.ABSENT: "Absent",
    GPOutcome.ATTENDED: "GP Attended (& provided report)",
    GPOutcome.PROVIDED_REPORT: "GP Provided Report",
    GPOutcome.SENT_APOLOGY: "GP Sent Apology (No Report)",
    GPOutcome.LOG_NOT_COMPLETED: "Logs not completed",
}
GP_INVITED_LABELS: Mapping[GPInvited, str] = {
    GPInvited.YES: "Yes",
    GPInvited.BY_SW: "By SW (GPs may not have been contacted)",
    GPInvited.NO: "No",
}
INVITE_NOT_RECORDED = "Not recorded"
INVOLVEMENT_LABEL = "GP attended and/or provided report, out of invites sent"
TOTAL = "Total"
ALL_AGENCIES = "All agencies"
AGENCY_NOT_RECORDED = "(agency not recorded)"

_ONE_PLACE = Decimal("0.1")


def percent(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` as a percentage to one decimal place, halves rounded up (1/8 = 12.5,
    1/6 = 16.7, 2/3 = 66.7); None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_ONE_PLACE, rounding=ROUND_HALF_UP)


def format_percent(value: Decimal | None) -> str:
    """ "12.5"; an empty string when there was nothing to divide by."""
    return "" if value is None else f"{value:.1f}"


@dataclass(frozen=True)
class StatRow:
    category: str
    count: int
    percent: Decimal | None


@dataclass(frozen=True)
class StatTable:
    """One table: `table` is its stable id (the CSV's first column), `title` its heading.

    `denominator` is what the percentages are of, and `denominator_label` says so in words.
    """

    table: str
    title: str
    header: str
    rows: tuple[StatRow, ...]
    denominator: int
    denominator_label: str


def _row(category: str, count: int, whole: int) -> StatRow:
    return StatRow(category, count, percent(count, whole))


# --- GP involvement --------------------------------------------------------------------------


class GPRecord(Protocol):
    @property
    def gp_invited(self) -> GPInvited | None: ...
    @property
    def gp_outcome(self) -> GPOutcome | None: ...


def gp_outcome_of(outcome: GPOutcome | None) -> GPOutcome:
    """A conference whose GP outcome nobody recorded counts as "Logs not completed"."""
    return GPOutcome.LOG_NOT_COMPLETED if outcome is None else outcome


def gp_tables(records: Iterable[GPRecord]) -> tuple[StatTable, StatTable, StatTable]:
    """The GP outcome table, the invitation table and the involvement line, as the seed lays
    them out: each category's count and percentage of all conferences, with the total.

    Involvement is attended + provided report (whatever the invitation) over invites "Yes".
    An invitation nobody recorded gets its own row, shown only when there is one.
    """
    listed = list(records)
    total = len(listed)
    outcomes = Counter(gp_outcome_of(r.gp_outcome) for r in listed)
    invites = Counter(r.gp_invited for r in listed)
    outcome_rows = [_row(GP_OUTCOME_LABELS[o], outcomes[o], total) for o in GPOutcome]
    invite_rows = [_row(GP_INVITED_LABELS[i], invites[i], total) for i in GPInvited]
    if invites[None]:
        invite_rows.append(_row(INVITE_NOT_RECORDED, invites[None], total))
    all_conferences = "of all conferences"
    involved = sum(n for outcome, n in outcomes.items() if outcome.involved)
    invited_yes = invites[GPInvited.YES]
    return (
        StatTable(
            "gp_outcome",
            "GP attendance at conferences",
            "GP outcome",
            (*outcome_rows, _row(TOTAL, total, total)),
            total,
            all_conferences,
        ),
        StatTable(
            "gp_invited",
            "GP invited to conferences",
            "GP invited",
            (*invite_rows, _row(TOTAL, total, total)),
            total,
            all_conferences,
        ),
        StatTable(
            "gp_involvement",
            "GP involvement",
            "Measure",
            (_row(INVOLVEMENT_LABEL, involved, invited_yes),),
            invited_yes,
            "of invites sent (GP invited: Yes)",
        ),
    )


# --- Report sharing timeliness ---------------------------------------------------------------


class Sharing(StrEnum):
    """Where a report ended up against one of its deadlines, for the statistics."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_YET_DUE = "not_yet_due"

    @property
    def label(self) -> str:
        return _SHARING_LABELS[self]


_SHARING_LABELS = {
    Sharing.ON_TIME: "On time",
    Sharing.LATE: "Late",
    Sharing.MISSING: "Missing",
    Sharing.NOT_YET_DUE: "Not yet due",
}


def sharing_of(state: DeadlineState) -> Sharing:
    """Done by the deadline: on time; done after it: late; not done once it passed: missing.
    A report whose deadline is still ahead is neither, so it is counted apart."""
    if state is DeadlineState.DONE_ON_TIME:
        return Sharing.ON_TIME
    if state is DeadlineState.DONE_LATE:
        return Sharing.LATE
    if state is DeadlineState.OVERDUE:
        return Sharing.MISSING
    return Sharing.NOT_YET_DUE


@dataclass(frozen=True)
class SharingRecord:
    """One report: its agency and where it stands with the parents and with the QA Unit."""

    agency: str
    to_parents: Sharing
    to_qau: Sharing


_TARGETS = (
    ("sharing_parents", "Reports shared with parents"),
    ("sharing_qau", "Reports sent to the QA Unit"),
)


def _sharing_table(table: str, title: str, outcomes: list[Sharing]) -> StatTable:
    counts = Counter(outcomes)
    whole = len(outcomes)
    rows = [_row(s.label, counts[s], whole) for s in Sharing if s is not Sharing.NOT_YET_DUE]
    if counts[Sharing.NOT_YET_DUE]:
        rows.append(_row(Sharing.NOT_YET_DUE.label, counts[Sharing.NOT_YET_DUE], whole))
    rows.append(_row(TOTAL, whole, whole))
    return StatTable(table, title, "Reports", tuple(rows), whole, "of the reports")


def sharing_tables(records: Iterable[SharingRecord]) -> list[StatTable]:
    """Per agency (in name order) and then all agencies: to parents first, then to the QAU."""
    listed = list(records)
    agencies = sorted({r.agency.strip() or AGENCY_NOT_RECORDED for r in listed}, key=str.casefold)
    tables: list[StatTable] = []
    for table, title in _TARGETS:
        parents = table == "sharing_parents"

        def outcome(record: SharingRecord, to_parents: bool = parents) -> Sharing:
            return record.to_parents if to_parents else record.to_qau

        for agency in agencies:
            mine = [
                outcome(r) for r in listed if (r.agency.strip() or AGENCY_NOT_RECORDED) == agency
            ]
            tables.append(_sharing_table(f"{table}:{agency}", f"{title}: {agency}", mine))
        tables.append(
            _sharing_table(
                f"{table}:{ALL_AGENCIES}", f"{title}: {ALL_AGENCIES}", [outcome(r) for r in listed]
            )
        )
    return tables


# --- Children subject to a plan --------------------------------------------------------------


def plan_tables(periods: Iterable[PlanPeriod], on: date) -> tuple[StatTable, StatTable]:
    """Children subject to a plan on `on`, by initial and by latest category, with the total;
    each category as a percentage of those children."""
    initial, latest, total = count_by_category(list(periods), on)
    tables = []
    for table, title, counts in (
        ("plans_initial", "Children subject to a plan, by initial category", initial),
        ("plans_latest", "Children subject to a plan, by latest category", latest),
    ):
        rows = [_row(c.value, counts[c], total) for c in PlanCategory]
        tables.append(
            StatTable(
                table,
                f"{title}, on {on.isoformat()}",
                "Category",
                (*rows, _row(TOTAL, total, total)),
                total,
                "of children subject to a plan",
            )
        )
    return tables[0], tables[1]


def csv_rows(tables: Iterable[StatTable]) -> list[tuple[str, str, int, str]]:
    """`table, category, count, percent` for every row of every table."""
    return [
        (t.table, row.category, row.count, format_percent(row.percent))
        for t in tables
        for row in t.rows
    ]
