"""The statistics' pure rules: half-up percentages, the seed's GP tables, sharing and plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from sofs_tui.domain.deadlines import DeadlineState
from sofs_tui.domain.enums import GPInvited, GPOutcome, PlanCategory
from sofs_tui.domain.plans import PlanPeriod
from sofs_tui.domain.statistics import (
    INVOLVEMENT_LABEL,
    Sharing,
    SharingRecord,
    StatTable,
    csv_rows,
    format_percent,
    gp_tables,
    percent,
    plan_tables,
    sharing_of,
    sharing_tables,
)


@dataclass(frozen=True)
class GP:
    gp_invited: GPInvited | None
    gp_outcome: GPOutcome | None


def _counts(table: StatTable) -> dict[str, tuple[int, str]]:
    return {r.category: (r.count, format_percent(r.percent)) for r in table.rows}


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (1, 8, "12.5"),
        (1, 6, "16.7"),
        (2, 3, "66.7"),
        (1, 3, "33.3"),
        (1, 16, "6.3"),  # 6.25 rounds half up, not to even
        (3, 16, "18.8"),  # 18.75
        (1, 2000, "0.1"),  # 0.05
        (0, 7, "0.0"),
        (7, 7, "100.0"),
    ],
)
def test_percent_is_one_decimal_place_rounded_half_up(part: int, whole: int, expected: str) -> None:
    assert format_percent(percent(part, whole)) == expected


def test_percent_of_nothing_is_blank_not_zero() -> None:
    assert percent(0, 0) is None
    assert format_percent(None) == ""


def test_gp_tables_count_every_outcome_and_invitation_against_all_conferences() -> None:
    records = [
        GP(GPInvited.YES, GPOutcome.ATTENDED),
        GP(GPInvited.YES, GPOutcome.PROVIDED_REPORT),
        GP(GPInvited.YES, GPOutcome.ABSENT),
        GP(GPInvited.BY_SW, GPOutcome.SENT_APOLOGY),
        GP(GPInvited.BY_SW, GPOutcome.PROVIDED_REPORT),
        GP(GPInvited.NO, GPOutcome.LOG_NOT_COMPLETED),
        GP(GPInvited.NO, None),  # nobody recorded it: counts as "Logs not completed"
        GP(GPInvited.YES, GPOutcome.SENT_APOLOGY),
    ]
    outcome, invited, involvement = gp_tables(records)
    assert _counts(outcome) == {
        "Absent": (1, "12.5"),
        "GP Attended (& provided report)": (1, "12.5"),
        "GP Provided Report": (2, "25.0"),
        "GP Sent Apology (No Report)": (2, "25.0"),
        "Logs not completed": (2, "25.0"),
        "Total": (8, "100.0"),
    }
    assert [r.category for r in invited.rows] == [
        "Yes",
        "By SW (GPs may not have been contacted)",
        "No",
        "Total",
    ]
    assert _counts(invited)["Yes"] == (4, "50.0")
    assert _counts(invited)["By SW (GPs may not have been contacted)"] == (2, "25.0")
    # Attended + provided report (3, whatever the invitation) out of 4 invites "Yes".
    assert _counts(involvement) == {INVOLVEMENT_LABEL: (3, "75.0")}
    assert involvement.denominator == 4


def test_gp_involvement_rounds_half_up_out_of_invites_sent() -> None:
    records = [GP(GPInvited.YES, GPOutcome.ATTENDED)] + [GP(GPInvited.YES, GPOutcome.ABSENT)] * 5
    *_, involvement = gp_tables(records)
    assert _counts(involvement)[INVOLVEMENT_LABEL] == (1, "16.7")


def test_unrecorded_invitation_gets_its_own_row_only_when_there_is_one() -> None:
    _, invited, _ = gp_tables([GP(GPInvited.NO, GPOutcome.ABSENT)])
    assert "Not recorded" not in _counts(invited)
    _, invited, _ = gp_tables([GP(None, GPOutcome.ABSENT), GP(GPInvited.NO, None)])
    assert _counts(invited)["Not recorded"] == (1, "50.0")


def test_no_conferences_gives_zero_counts_and_blank_percentages() -> None:
    outcome, _, involvement = gp_tables([])
    assert _counts(outcome)["Total"] == (0, "")
    assert _counts(involvement)[INVOLVEMENT_LABEL] == (0, "")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (DeadlineState.DONE_ON_TIME, Sharing.ON_TIME),
        (DeadlineState.DONE_LATE, Sharing.LATE),
        (DeadlineState.OVERDUE, Sharing.MISSING),
        (DeadlineState.DUE, Sharing.NOT_YET_DUE),
        (DeadlineState.DUE_SOON, Sharing.NOT_YET_DUE),
    ],
)
def test_deadline_state_maps_to_on_time_late_missing(
    state: DeadlineState, expected: Sharing
) -> None:
    assert sharing_of(state) is expected


def test_sharing_tables_per_agency_then_all_agencies_for_parents_and_qau() -> None:
    records = [
        SharingRecord("Police", Sharing.ON_TIME, Sharing.LATE),
        SharingRecord("Police", Sharing.MISSING, Sharing.ON_TIME),
        SharingRecord("health visiting", Sharing.LATE, Sharing.LATE),
        SharingRecord("", Sharing.ON_TIME, Sharing.MISSING),
    ]
    tables = {t.table: t for t in sharing_tables(records)}
    assert list(tables) == [
        "sharing_parents:(agency not recorded)",
        "sharing_parents:health visiting",
        "sharing_parents:Police",
        "sharing_parents:All agencies",
        "sharing_qau:(agency not recorded)",
        "sharing_qau:health visiting",
        "sharing_qau:Police",
        "sharing_qau:All agencies",
    ]
    assert _counts(tables["sharing_parents:Police"]) == {
        "On time": (1, "50.0"),
        "Late": (0, "0.0"),
        "Missing": (1, "50.0"),
        "Total": (2, "100.0"),
    }
    assert _counts(tables["sharing_qau:All agencies"]) == {
        "On time": (1, "25.0"),
        "Late": (2, "50.0"),
        "Missing": (1, "25.0"),
        "Total": (4, "100.0"),
    }


def test_reports_not_yet_due_are_counted_apart() -> None:
    records = [
        SharingRecord("GP", Sharing.NOT_YET_DUE, Sharing.NOT_YET_DUE),
        SharingRecord("GP", Sharing.ON_TIME, Sharing.ON_TIME),
    ]
    parents = sharing_tables(records)[0]
    assert _counts(parents)["Not yet due"] == (1, "50.0")
    assert _counts(parents)["On time"] == (1, "50.0")


def test_plan_tables_count_children_on_a_plan_on_the_day_by_category() -> None:
    periods = [
        PlanPeriod("A/1", date(2025, 1, 1), None, PlanCategory.NEG, PlanCategory.EMO),
        PlanPeriod("A/2", date(2025, 1, 1), None, PlanCategory.NEG, PlanCategory.NEG),
        PlanPeriod("B/1", date(2025, 3, 1), date(2025, 6, 1), PlanCategory.SAB, PlanCategory.MUL),
        PlanPeriod("C/1", date(2025, 6, 2), None, PlanCategory.PHY, PlanCategory.PHY),  # later
        PlanPeriod("D/1", date(2024, 1, 1), date(2025, 6, 1), PlanCategory.EMO, PlanCategory.EMO),
    ]
    initial, latest = plan_tables(periods, date(2025, 6, 1))  # B and D ended that day
    assert _counts(initial) == {
        "NEG": (2, "100.0"),
        "PHY": (0, "0.0"),
        "EMO": (0, "0.0"),
        "SAB": (0, "0.0"),
        "MUL": (0, "0.0"),
        "Total": (2, "100.0"),
    }
    assert _counts(latest)["EMO"] == (1, "50.0")
    assert _counts(latest)["NEG"] == (1, "50.0")
    initial, latest = plan_tables(periods, date(2025, 5, 31))
    assert _counts(initial)["Total"] == (4, "100.0")
    assert _counts(latest)["MUL"] == (1, "25.0")


def test_csv_rows_carry_table_category_count_and_percent() -> None:
    outcome, *_ = gp_tables([GP(GPInvited.YES, GPOutcome.ABSENT)] * 2 + [GP(GPInvited.NO, None)])
    rows = csv_rows([outcome])
    assert rows[0] == ("gp_outcome", "Absent", 2, "66.7")
    assert rows[-1] == ("gp_outcome", "Total", 3, "100.0")
    assert percent(2, 3) == Decimal("66.7")
