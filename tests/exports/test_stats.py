"""Statistics computed from records match tables counted by hand: GP involvement, sharing
timeliness per agency, children on a plan on a date, the census CSV, and the `stats` command."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sofs_tui.config import CouncilRules
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    ShareMethod,
)
from sofs_tui.domain.statistics import StatTable, format_percent
from sofs_tui.exports import stats
from sofs_tui.store import cases, conferences
from sofs_tui.store.store import Store
from tests.exports.builders import at, enrolled_store, family, held_conference, parse, run

Y, BY_SW, NO = GPInvited.YES, GPInvited.BY_SW, GPInvited.NO
GP_LOG = [  # one conference a day from 1 January 2025
    (Y, GPOutcome.ATTENDED),
    (Y, GPOutcome.PROVIDED_REPORT),
    (Y, GPOutcome.ABSENT),
    (Y, GPOutcome.SENT_APOLOGY),
    (Y, None),  # nobody recorded the outcome: "Logs not completed"
    (BY_SW, GPOutcome.PROVIDED_REPORT),
    (NO, GPOutcome.ABSENT),
    (NO, GPOutcome.LOG_NOT_COMPLETED),
]


def _table(tables: tuple[StatTable, ...] | list[StatTable], name: str) -> dict[str, object]:
    table = next(t for t in tables if t.table == name)
    return {r.category: (r.count, format_percent(r.percent)) for r in table.rows}


def _gp_store(store: Store) -> None:
    case_id = family(store)["case"]
    for day, (invited, outcome) in enumerate(GP_LOG, start=1):
        held_conference(store, case_id, at(date(2025, 1, day)), invited=invited, outcome=outcome)
    # Not counted: cancelled, and outside the period.
    held_conference(
        store, case_id, at(date(2025, 1, 9)), invited=Y, outcome=GPOutcome.ATTENDED,
        status=ConferenceStatus.CANCELLED,
    )  # fmt: skip
    held_conference(store, case_id, at(date(2025, 2, 1)), invited=Y, outcome=GPOutcome.ATTENDED)


def test_gp_statistics_match_the_hand_counted_table(store: Store) -> None:
    _gp_store(store)
    tables, counted = stats.gp_statistics(store, date(2025, 1, 1), date(2025, 1, 31))
    assert "Conferences starting from 2025-01-01 to 2025-01-31: 8 (0 from imported" in counted
    assert _table(tables, "gp_outcome") == {
        "Absent": (2, "25.0"),
        "GP Attended (& provided report)": (1, "12.5"),
        "GP Provided Report": (2, "25.0"),
        "GP Sent Apology (No Report)": (1, "12.5"),
        "Logs not completed": (2, "25.0"),
        "Total": (8, "100.0"),
    }
    assert _table(tables, "gp_invited") == {
        "Yes": (5, "62.5"),
        "By SW (GPs may not have been contacted)": (1, "12.5"),
        "No": (2, "25.0"),
        "Total": (8, "100.0"),
    }
    # Attended 1 + provided report 2, out of 5 invites "Yes".
    assert _table(tables, "gp_involvement") == {
        "GP attended and/or provided report, out of invites sent": (3, "60.0")
    }


def test_gp_statistics_for_a_shorter_period_round_thirds_half_up(store: Store) -> None:
    _gp_store(store)
    tables, _ = stats.gp_statistics(store, date(2025, 1, 1), date(2025, 1, 3))
    assert _table(tables, "gp_outcome")["Absent"] == (1, "33.3")
    assert _table(tables, "gp_involvement") == {
        "GP attended and/or provided report, out of invites sent": (2, "66.7")
    }


def test_period_is_in_london_time(store: Store) -> None:
    case_id = family(store)["case"]
    # 23:30 UTC on 31 March 2025 is 00:30 on 1 April in London (summer time).
    held_conference(store, case_id, datetime(2025, 3, 31, 23, 30, tzinfo=UTC), invited=Y)
    march, _ = stats.gp_statistics(store, date(2025, 3, 1), date(2025, 3, 31))
    april, _ = stats.gp_statistics(store, date(2025, 4, 1), date(2025, 4, 30))
    assert _table(march, "gp_invited")["Total"] == (0, "")
    assert _table(april, "gp_invited")["Total"] == (1, "100.0")


def test_sharing_timeliness_per_agency_and_overall(store: Store) -> None:
    ids = family(store)
    # Review on Monday 13 January 2025, 10:00: both deadlines Monday 6 January, 10:00.
    conference_id = held_conference(store, ids["case"], at(date(2025, 1, 13)))

    def report(agency: str, shared: dict[str, date], qau: datetime | None) -> None:
        report_id = conferences.add_report(
            store, conference_id, title=f"{agency} report", author_name="A", agency=agency
        ).id
        for parent, day in shared.items():
            conferences.record_report_shared_with_parent(
                store, report_id, parent_id=ids[parent], shared_at=at(day),
                method=ShareMethod.EMAIL, gone_through_together=False,
            )  # fmt: skip
        if qau is not None:
            conferences.mark_report_sent_to_qau(store, report_id, sent_at=qau)

    report("Police", {"mum": date(2025, 1, 5), "dad": date(2025, 1, 5)}, at(date(2025, 1, 7)))
    report("Police", {"mum": date(2025, 1, 5)}, None)  # Dad never saw it; never sent
    report("School", {"mum": date(2025, 1, 8), "dad": date(2025, 1, 3)}, at(date(2025, 1, 6), 9))
    tables, _ = stats.sharing_statistics(store, date(2025, 1, 1), date(2025, 1, 31), CouncilRules())
    assert _table(tables, "sharing_parents:Police") == {
        "On time": (1, "50.0"),
        "Late": (0, "0.0"),
        "Missing": (1, "50.0"),
        "Total": (2, "100.0"),
    }
    assert _table(tables, "sharing_parents:School")["Late"] == (1, "100.0")
    assert _table(tables, "sharing_parents:All agencies") == {
        "On time": (1, "33.3"),
        "Late": (1, "33.3"),
        "Missing": (1, "33.3"),
        "Total": (3, "100.0"),
    }
    assert _table(tables, "sharing_qau:Police") == {
        "On time": (0, "0.0"),
        "Late": (1, "50.0"),
        "Missing": (1, "50.0"),
        "Total": (2, "100.0"),
    }
    assert _table(tables, "sharing_qau:School")["On time"] == (1, "100.0")


def _plans_store(store: Store) -> None:
    first = family(store)
    second_case = cases.create_case(store, reference="C-200", family_name="Otherfamily").id
    second_child = cases.add_person(store, second_case, kind=PersonKind.CHILD, name="Wren").id
    icpc = held_conference(store, first["case"], at(date(2025, 1, 13)), kind=ConferenceKind.INITIAL)
    conferences.record_child_outcome(
        store, icpc, child_id=first["child"], plan=True, category=PlanCategory.NEG
    )
    review = held_conference(store, first["case"], at(date(2025, 4, 14)))
    conferences.record_child_outcome(
        store, review, child_id=first["child"], plan=True, category=PlanCategory.EMO
    )
    other = held_conference(store, second_case, at(date(2025, 2, 3)), kind=ConferenceKind.INITIAL)
    conferences.record_child_outcome(
        store, other, child_id=second_child, plan=True, category=PlanCategory.PHY
    )
    ended = held_conference(store, second_case, at(date(2025, 5, 5)))
    conferences.record_child_outcome(store, ended, child_id=second_child, plan=False)


def test_children_on_a_plan_on_a_date_by_initial_and_latest_category(store: Store) -> None:
    _plans_store(store)
    tables, _ = stats.plan_statistics(store, date(2025, 4, 30))
    assert _table(tables, "plans_initial") == {
        "NEG": (1, "50.0"),
        "PHY": (1, "50.0"),
        "EMO": (0, "0.0"),
        "SAB": (0, "0.0"),
        "MUL": (0, "0.0"),
        "Total": (2, "100.0"),
    }
    assert _table(tables, "plans_latest")["EMO"] == (1, "50.0")
    assert _table(tables, "plans_latest")["NEG"] == (0, "0.0")
    later, _ = stats.plan_statistics(store, date(2025, 5, 5))  # the second plan ended that day
    assert _table(later, "plans_initial")["Total"] == (1, "100.0")
    before, _ = stats.plan_statistics(store, date(2025, 1, 12))
    assert _table(before, "plans_initial")["Total"] == (0, "")


def test_census_csv_names_children_by_reference_never_by_name(store: Store) -> None:
    _plans_store(store)
    text = stats.census_csv(store)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "child_reference": "C-100/1",
            "cpp_start_date": "2025-01-13",
            "cpp_end_date": "",
            "initial_category_of_abuse": "NEG",
            "latest_category_of_abuse": "EMO",
            "cpp_review_dates": "2025-04-14",
        },
        {
            "child_reference": "C-200/1",
            "cpp_start_date": "2025-02-03",
            "cpp_end_date": "2025-05-05",
            "initial_category_of_abuse": "PHY",
            "latest_category_of_abuse": "PHY",
            "cpp_review_dates": "2025-05-05",
        },
    ]
    assert "Kai" not in text and "Wren" not in text
    # A period keeps the plans that ran at any time in it.
    assert len(list(csv.DictReader(io.StringIO(stats.census_csv(store, date(2025, 6, 1)))))) == 1


def test_stats_command_prints_csv_rows_and_tables(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        _gp_store(store)
    finally:
        store.lock()
    code, said = run(data_dir, "stats", "gp", "--from", "2025-01-01", "--to", "2025-01-31", "--csv")
    assert code == 0
    lines = said.splitlines()
    assert lines[0] == "table,category,count,percent"
    assert "gp_outcome,GP Attended (& provided report),1,12.5" in lines
    assert "gp_invited,By SW (GPs may not have been contacted),1,12.5" in lines
    assert lines[-1] == (
        'gp_involvement,"GP attended and/or provided report, out of invites sent",3,60.0'
    )
    code, said = run(data_dir, "stats", "gp", "--from", "2025-01-01", "--to", "2025-01-31")
    assert code == 0 and "GP Sent Apology (No Report)" in said and "Percentages" in said
    code, said = run(data_dir, "stats", "plans", "--on", "2025-01-31", "--csv")
    assert code == 0 and "plans_initial,Total,0," in said


def test_stats_command_refuses_a_period_that_ends_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enrolled_store(tmp_path / "data").lock()
    code, _ = run(tmp_path / "data", "stats", "gp", "--from", "2025-02-01", "--to", "2025-01-01")
    assert code == 1 and "--from must be on or before --to" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(tmp_path / "data", "stats", "gp", "--from", "31/01/2025", "--to", "2025-02-01")
    assert "is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err
