"""Importing QA Unit logs: every bad row is named with its column and nothing is imported;
a good file's conferences count in the GP and sharing statistics."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sofs_tui.config import CouncilRules
from sofs_tui.domain.enums import ConferenceKind, GPInvited, GPOutcome
from sofs_tui.domain.statistics import format_percent
from sofs_tui.exports import stats
from sofs_tui.exports.document import ExportError
from sofs_tui.exports.import_conferences import ImportRejected, import_conferences, parse_qau_log
from sofs_tui.store.stats_views import conference_facts
from sofs_tui.store.store import Store
from tests.exports.builders import enrolled_store, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qau_log_example.csv"
HEADER = "conference_id,date,kind,gp_invited,gp_outcome"
GOOD_ROWS = [
    "Q-1,2025-01-06,initial,Yes,GP Attended (& provided report)",
    "Q-2,2025-01-07,review,yes,gp provided report",
    "Q-3,2025-01-08,REVIEW,By SW (GPs may not have been contacted),Absent",
    "Q-4,2025-01-09,pre_birth,no,GP Sent Apology (No Report)",
    "Q-5,2025-01-10T14:30,transfer_in,by_sw,log_not_completed",
    "Q-6,2025-01-13,initial,YES,attended",
]


def _file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _imported(store: Store) -> int:
    return sum(1 for f in conference_facts(store, date(1980, 1, 1), date(2100, 1, 1)) if f.imported)


def test_labels_and_short_codes_are_read_case_insensitively() -> None:
    parsed = parse_qau_log("\n".join([HEADER, *GOOD_ROWS]))
    assert [(r.kind, r.gp_invited, r.gp_outcome) for r in parsed.rows] == [
        (ConferenceKind.INITIAL, GPInvited.YES, GPOutcome.ATTENDED),
        (ConferenceKind.REVIEW, GPInvited.YES, GPOutcome.PROVIDED_REPORT),
        (ConferenceKind.REVIEW, GPInvited.BY_SW, GPOutcome.ABSENT),
        (ConferenceKind.PRE_BIRTH, GPInvited.NO, GPOutcome.SENT_APOLOGY),
        (ConferenceKind.TRANSFER_IN, GPInvited.BY_SW, GPOutcome.LOG_NOT_COMPLETED),
        (ConferenceKind.INITIAL, GPInvited.YES, GPOutcome.ATTENDED),
    ]
    assert parsed.rows[4].start_time_known and not parsed.rows[0].start_time_known
    assert parsed.row_numbers["Q-3"] == 4  # the header is row 1, as in a spreadsheet


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (
            "Q-9,2025-01-14,review,Yes,Came for tea",
            "row 8, column gp_outcome: 'Came for tea' is not a known category",
        ),
        (
            "Q-9,2025-01-14,review,Maybe,Absent",
            "row 8, column gp_invited: 'Maybe' is not a known category",
        ),
        ("Q-9,14/01/2025,review,Yes,Absent", "row 8, column date: '14/01/2025' is not a date"),
        ("Q-9,2025-02-30,review,Yes,Absent", "row 8, column date: '2025-02-30' is not a date"),
        ("Q-3,2025-01-14,review,Yes,Absent", "row 8, column conference_id: 'Q-3' is also on row 4"),
        ("Q-9,2025-01-14,core group,Yes,Absent", "row 8, column kind: 'core group' is not a known"),
        ("Q-9,2025-01-14,review,Yes,", "row 8, column gp_outcome: is empty"),
        (",2025-01-14,review,Yes,Absent", "row 8, column conference_id: is empty"),
        ("Q-9,2025-01-14,review,Yes,Absent,extra", "row 8, column (all): has 6 cells"),
    ],
)
def test_each_kind_of_bad_row_is_named_and_nothing_is_imported(
    store: Store, tmp_path: Path, bad_row: str, expected: str
) -> None:
    path = _file(tmp_path, *GOOD_ROWS, bad_row)
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, path)
    assert expected in raised.value.user_message
    assert "Nothing was imported" in raised.value.user_message
    assert _imported(store) == 0


def test_a_missing_column_is_named_in_the_header(store: Store, tmp_path: Path) -> None:
    path = _file(
        tmp_path, "Q-1,2025-01-06,initial,Yes", header="conference_id,date,kind,gp_invited"
    )
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, path)
    assert "the header, column gp_outcome: is missing from the header" in str(
        raised.value.user_message
    )
    assert _imported(store) == 0


def test_every_bad_row_is_listed_not_just_the_first(tmp_path: Path, store: Store) -> None:
    path = _file(tmp_path, "Q-1,yesterday,initial,Yes,Absent", "Q-2,2025-01-07,annual,Yes,Absent")
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, path)
    assert [(p.row, p.column) for p in raised.value.problems] == [(2, "date"), (3, "kind")]


def test_report_times_need_the_conference_start_time(store: Store, tmp_path: Path) -> None:
    header = HEADER + ",report_agency,report_shared_at,report_sent_to_qau_at"
    path = _file(
        tmp_path, "Q-1,2025-01-06,initial,Yes,Absent,Police,2025-01-03T10:00,", header=header
    )
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, path)
    assert "row 2, column date: needs the conference's start time" in raised.value.user_message
    path = _file(
        tmp_path, "Q-1,2025-01-06T10:00,initial,Yes,Absent,Police,2025-01-03,", header=header
    )
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, path)
    assert "row 2, column report_shared_at: '2025-01-03' needs a time of day" in str(
        raised.value.user_message
    )


def test_good_file_counts_in_the_gp_statistics_beside_the_apps_own(
    store: Store, tmp_path: Path
) -> None:
    summary = import_conferences(store, _file(tmp_path, *GOOD_ROWS))
    assert (summary.conferences, summary.reports) == (6, 0)
    assert (summary.first, summary.last) == (date(2025, 1, 6), date(2025, 1, 13))
    tables, counted = stats.gp_statistics(store, date(2025, 1, 1), date(2025, 1, 31))
    assert "6 (6 from imported QA Unit logs)" in counted
    outcome = {r.category: (r.count, format_percent(r.percent)) for r in tables[0].rows}
    assert outcome["GP Attended (& provided report)"] == (2, "33.3")
    assert outcome["Total"] == (6, "100.0")
    involvement = tables[2].rows[0]
    assert (involvement.count, format_percent(involvement.percent)) == (3, "100.0")  # 3 of 3 Yes


def test_importing_the_same_conferences_again_is_refused(store: Store, tmp_path: Path) -> None:
    import_conferences(store, _file(tmp_path, *GOOD_ROWS))
    with pytest.raises(ImportRejected) as raised:
        import_conferences(store, _file(tmp_path, "Q-7,2025-01-20,review,No,Absent", GOOD_ROWS[1]))
    assert "row 3, column conference_id: 'Q-2' was already imported on" in str(
        raised.value.user_message
    )
    assert _imported(store) == 6


def test_the_shipped_example_imports_and_counts_in_sharing_statistics(store: Store) -> None:
    summary = import_conferences(store, EXAMPLE)
    assert (summary.conferences, summary.reports) == (8, 4)
    tables, _ = stats.sharing_statistics(store, date(2024, 4, 1), date(2024, 4, 30), CouncilRules())
    by_name = {t.table: {r.category: r.count for r in t.rows} for t in tables}
    # GP on time both ways; Police late both ways (Good Friday and Easter Monday are not
    # working days); Health visiting never shared and sent late; School on time both ways.
    assert by_name["sharing_parents:All agencies"] == {
        "On time": 2,
        "Late": 1,
        "Missing": 1,
        "Total": 4,
    }
    assert by_name["sharing_parents:Police"]["Late"] == 1
    assert by_name["sharing_qau:Health visiting"]["Late"] == 1
    assert by_name["sharing_qau:All agencies"]["On time"] == 2


def test_a_file_that_is_not_utf8_is_refused_plainly(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes((HEADER + "\nQ-1,2025-01-06,initial,Yes,Absent café\n").encode("cp1252"))
    with pytest.raises(ExportError, match="not UTF-8"):
        import_conferences(store, path)
    assert _imported(store) == 0


def test_import_command_reports_what_it_imported(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    enrolled_store(data_dir).lock()
    code, said = run(data_dir, "import", "conferences", str(EXAMPLE))
    assert code == 0
    assert "Imported 8 conferences (4 with a report) from qau_log_example.csv" in said
    code, said = run(data_dir, "stats", "gp", "--from", "2024-04-01", "--to", "2024-04-30", "--csv")
    assert "gp_outcome,Total,8,100.0" in said.splitlines()


def test_import_command_with_a_bad_file_exits_1_and_names_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    enrolled_store(data_dir).lock()
    path = _file(tmp_path, GOOD_ROWS[0], "Q-2,2025-13-01,review,Yes,Absent")
    code, said = run(data_dir, "import", "conferences", str(path))
    assert code == 1 and said == ""
    assert "row 3, column date: '2025-13-01' is not a date" in capsys.readouterr().err
