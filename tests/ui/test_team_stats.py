"""The team view: the three statistics for the last three months, the same numbers as
`sofs stats`, each table with its bar chart (below at 80×24, beside when wide), a new period,
importing a QA Unit log from the app, and a snapshot at 80×24."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from sofs_tui.app import SofsApp
from sofs_tui.config import CouncilRules, Settings
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    ShareMethod,
)
from sofs_tui.exports import stats
from sofs_tui.screens.import_dialog import ImportDialog
from sofs_tui.screens.team_period import Period, PeriodForm, default_period
from sofs_tui.screens.team_stats import TeamStatsScreen
from sofs_tui.store import cases, conferences
from sofs_tui.store.store import Store
from sofs_tui.store.tables import QauLogConference
from sofs_tui.widgets.bar_chart import BarChart, single_bar, stacked_cells
from tests.exports.builders import family, held_conference

SIZES = [(80, 24), (160, 48)]
EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "qau_log_example.csv"
# The store's clock says Wednesday 25 November 2026: the default period is August to October.
PERIOD = Period(date(2026, 8, 1), date(2026, 10, 31), date(2026, 11, 25))

Y, BY_SW, NO = GPInvited.YES, GPInvited.BY_SW, GPInvited.NO
# Eight conferences in the period: 2 attended, 2 provided a report, 1 absent, 2 sent an
# apology, 1 log not completed; invited 5 yes, 2 by SW, 1 no.
GP_LOG = [
    (date(2026, 8, 3), Y, GPOutcome.ATTENDED),
    (date(2026, 8, 17), Y, GPOutcome.ATTENDED),
    (date(2026, 9, 7), Y, GPOutcome.PROVIDED_REPORT),
    (date(2026, 9, 14), BY_SW, GPOutcome.PROVIDED_REPORT),
    (date(2026, 9, 21), Y, GPOutcome.ABSENT),
    (date(2026, 10, 5), Y, GPOutcome.SENT_APOLOGY),
    (date(2026, 10, 12), BY_SW, GPOutcome.SENT_APOLOGY),
    (date(2026, 10, 19), NO, None),  # nobody recorded the outcome
]


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def seed(store: Store) -> None:
    """The eight conferences (and two that do not count), three reports, two plans."""
    first = family(store)
    ids = []
    for day, invited, outcome in GP_LOG:
        ids.append(held_conference(store, first["case"], at(day), invited=invited, outcome=outcome))
    held_conference(store, first["case"], at(date(2026, 11, 2)), invited=Y)  # after the period
    held_conference(
        store, first["case"], at(date(2026, 9, 1)), invited=NO, status=ConferenceStatus.CANCELLED
    )
    review = ids[6]  # Monday 12 October
    police = conferences.add_report(
        store, review, title="Police", author_name="PC", agency="Police"
    )
    for parent in ("mum", "dad"):
        conferences.record_report_shared_with_parent(
            store, police.id, parent_id=first[parent], shared_at=at(date(2026, 10, 1)),
            method=ShareMethod.EMAIL, gone_through_together=False,
        )  # fmt: skip
    conferences.mark_report_sent_to_qau(store, police.id, sent_at=at(date(2026, 10, 1)))
    school = conferences.add_report(store, review, title="School", author_name="T", agency="School")
    for parent in ("mum", "dad"):  # the day before the conference: late
        conferences.record_report_shared_with_parent(
            store, school.id, parent_id=first[parent], shared_at=at(date(2026, 10, 11)),
            method=ShareMethod.IN_PERSON, gone_through_together=True,
        )  # fmt: skip
    conferences.add_report(store, ids[5], title="Health", author_name="HV", agency="Health")
    conferences.record_child_outcome(
        store, ids[0], child_id=first["child"], plan=True, category=PlanCategory.NEG
    )
    second = cases.create_case(store, reference="C-200", family_name="Otherfamily").id
    wren = cases.add_person(store, second, kind=PersonKind.CHILD, name="Wren").id
    other = held_conference(store, second, at(date(2026, 7, 6)), kind=ConferenceKind.INITIAL)
    conferences.record_child_outcome(
        store, other, child_id=wren, plan=True, category=PlanCategory.EMO
    )


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


@asynccontextmanager
async def team_view(
    store: Store, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[SofsApp, Pilot[None], TeamStatsScreen]]:
    """The app on the caseload, then `t` for the team view."""
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TeamStatsScreen)
        yield app, pilot, app.screen


def grid(screen: TeamStatsScreen, block: str) -> list[list[str]]:
    table = screen.query_one(f"#table-{block}", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


def chart(screen: TeamStatsScreen, block: str) -> list[str]:
    return screen.query_one(f"#chart-{block}", BarChart).text_lines()


def on_screen(app: SofsApp) -> str:
    """Every character the terminal shows now (the compositor's lines)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def csv_rows(text: str) -> list[tuple[str, str, str, str]]:
    return [
        (r["table"], r["category"], r["count"], r["percent"])
        for r in csv.DictReader(io.StringIO(text))
    ]


async def type_over(pilot: Pilot[None], text: str) -> None:
    """Replace what the focused field holds, from the keyboard."""
    await pilot.press("home", "ctrl+k", *text)


def notices(app: SofsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- the period and the charts, without a screen ---------------------------------------------


def test_default_period_is_the_last_three_whole_calendar_months() -> None:
    assert default_period(date(2026, 11, 25)) == PERIOD
    assert default_period(date(2026, 1, 31)) == Period(
        date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 31)
    )
    assert default_period(date(2024, 3, 1)).last == date(2024, 2, 29)


def test_a_bar_is_drawn_to_an_eighth_of_a_cell_and_never_vanishes() -> None:
    assert single_bar(1, 8, 40) == ("█████", 5)
    assert single_bar(1, 3, 10) == ("███▍", 4)  # 3.33 cells: 27 eighths
    assert single_bar(8, 8, 12) == ("█" * 12, 12)
    assert single_bar(1, 1000, 10) == ("▏", 1)  # tiny, but there
    assert single_bar(0, 8, 40) == ("", 0)
    assert single_bar(3, 0, 40) == ("", 0)


def test_stacked_parts_fill_the_bar_and_each_non_zero_part_shows() -> None:
    assert stacked_cells([1, 1, 1], 3, 30) == [10, 10, 10]
    assert stacked_cells([1, 1, 1, 0], 3, 10) == [3, 4, 3, 0]
    cells = stacked_cells([1, 99, 0], 100, 10)
    assert cells == [1, 9, 0] and sum(cells) == 10
    assert stacked_cells([2, 0], 0, 10) == [0, 0]


# --- the team view -----------------------------------------------------------------------------

GP_OUTCOME = [
    ["Absent", "1", "12.5"],
    ["GP Attended (& provided report)", "2", "25.0"],
    ["GP Provided Report", "2", "25.0"],
    ["GP Sent Apology (No Report)", "2", "25.0"],
    ["Logs not completed", "1", "12.5"],
    ["Total", "8", "100.0"],
]
GP_INVITED = [
    ["Yes", "5", "62.5"],
    ["By SW (GPs may not have been contacted)", "2", "25.0"],
    ["No", "1", "12.5"],
    ["Total", "8", "100.0"],
]


@pytest.mark.parametrize("size", SIZES)
async def test_team_view_shows_the_hand_counted_gp_tables_with_their_charts(
    store: Store, size: tuple[int, int]
) -> None:
    seed(store)
    async with team_view(store, size) as (app, _pilot, screen):
        assert screen.period == PERIOD
        assert "Conferences from Sat 1 Aug 2026 to Sat 31 Oct 2026" in on_screen(app)
        assert "2026-08-01 to 2026-10-31: 8 (0 from imported" in on_screen(app)
        assert grid(screen, "gp_outcome") == GP_OUTCOME
        assert grid(screen, "gp_invited") == GP_INVITED
        assert grid(screen, "gp_involvement") == [
            ["GP attended and/or provided report, out of invites sent", "4", "80.0"]
        ]
        involvement = chart(screen, "gp_involvement")
        assert involvement[0].endswith("4 of 5 = 80.0%")
        outcome = chart(screen, "gp_outcome")
        assert outcome[0].startswith("Absent") and outcome[0].endswith("1 · 12.5%")
        assert outcome[-1] == "Bar length: share of all conferences (8).".ljust(len(outcome[0]))
        # Twice as many conferences, twice the blocks: 2 of 8 against 1 of 8.
        assert outcome[1].count("█") == 2 * outcome[0].count("█")
        table = screen.query_one("#table-gp_outcome", DataTable).region
        drawn = screen.query_one("#chart-gp_outcome", BarChart).region
        if size[0] < 120:  # below the table
            assert drawn.y >= table.bottom and drawn.x == table.x
        else:  # beside it
            assert drawn.x >= table.right and drawn.y == table.y
        assert "GP attendance at conferences" in on_screen(app)


async def test_team_view_shows_exactly_the_numbers_of_sofs_stats_csv(store: Store) -> None:
    seed(store)
    async with team_view(store) as (_app, pilot, screen):
        gp, _ = stats.gp_statistics(store, PERIOD.first, PERIOD.last)
        plans, _ = stats.plan_statistics(store, PERIOD.on)
        sharing, _ = stats.sharing_statistics(store, PERIOD.first, PERIOD.last, CouncilRules())
        expected = csv_rows(stats.tables_csv([*gp, *plans]))
        shown = [
            (block, *row)
            for block in (t.table for t in (*gp, *plans))
            for row in grid(screen, block)
        ]
        assert shown == expected
        # Sharing: one row per agency, a column per outcome: "count (percent%)".
        cells: list[tuple[str, str, str, str]] = []
        for target in ("sharing_parents", "sharing_qau"):
            table = screen.query_one(f"#table-{target}", DataTable)
            header = [str(c.label) for c in table.columns.values()]
            for row in grid(screen, target):
                for label, cell in zip(header[1:], row[1:], strict=True):
                    count, _, percent = cell.partition(" (")
                    cells.append((f"{target}:{row[0]}", label, count, percent.rstrip("%)")))
        by_row = {(t, c): (n, p) for t, c, n, p in csv_rows(stats.tables_csv(sharing))}
        assert len(by_row) == len(cells)
        for table_id, label, count, percent in cells:
            wanted_count, wanted_percent = by_row[(table_id, label)]
            assert count == wanted_count
            assert percent == ("" if label == "Total" else wanted_percent)
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one("#team-tabs").active == "tab-sharing"  # type: ignore[attr-defined]
        parents = grid(screen, "sharing_parents")
        assert parents[0] == ["All agencies", "1 (33.3%)", "1 (33.3%)", "1 (33.3%)", "3"]
        bars = chart(screen, "sharing_parents")
        assert bars[0].startswith("All agencies") and bars[0].endswith("33.3% on time")
        assert {"█", "▓", "░"} <= set(bars[0])  # on time, late, missing: each its own block
        assert bars[-2].startswith("█ on time  ▓ late  ░ missing")


async def test_a_new_period_counts_again(store: Store) -> None:
    seed(store)
    async with team_view(store) as (app, pilot, screen):
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PeriodForm)
        await type_over(pilot, "2026-10-01")
        await pilot.press("tab")
        await type_over(pilot, "1/9/2026")  # ends before it starts
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PeriodForm)
        assert "before the first day" in str(app.screen.query_one("#period-last-msg").render())
        await type_over(pilot, "31/10/2026")  # the form put the cursor back there
        await pilot.press("tab")
        await type_over(pilot, "2026-08-01")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.period == Period(date(2026, 10, 1), date(2026, 10, 31), date(2026, 8, 1))
        assert grid(screen, "gp_outcome")[3:] == [
            ["GP Sent Apology (No Report)", "2", "66.7"],
            ["Logs not completed", "1", "33.3"],
            ["Total", "3", "100.0"],
        ]
        assert chart(screen, "gp_involvement")[0].endswith("0 of 1 = 0.0%")
        # On 1 August only the child whose plan began in July is on one.
        assert grid(screen, "plans_initial")[2] == ["EMO", "1", "100.0"]
        assert grid(screen, "plans_initial")[-1] == ["Total", "1", "100.0"]


async def test_importing_the_example_log_from_the_team_view_counts_it(store: Store) -> None:
    seed(store)
    async with team_view(store) as (app, pilot, screen):
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)
        await pilot.press(*str(EXAMPLE_LOG), "enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert any("Imported 8 conferences (4 with a report)" in n for n in notices(app))
        # The log is from April 2024: the period moves to cover it, and says so.
        assert screen.period == Period(date(2024, 4, 1), date(2024, 4, 30), PERIOD.on)
        assert "so the period now covers them" in notices(app)[-1]
        assert grid(screen, "gp_outcome") == [
            ["Absent", "2", "25.0"],
            ["GP Attended (& provided report)", "1", "12.5"],
            ["GP Provided Report", "2", "25.0"],
            ["GP Sent Apology (No Report)", "2", "25.0"],
            ["Logs not completed", "1", "12.5"],
            ["Total", "8", "100.0"],
        ]
        assert chart(screen, "gp_involvement")[0].endswith("3 of 4 = 75.0%")
        counted = str(screen.query_one("#counted-gp").render())
        assert counted.endswith(": 8 (8 from imported QA Unit logs).")


async def test_a_bad_log_lists_each_problem_by_row_and_column_and_imports_nothing(
    store: Store, tmp_path: Path
) -> None:
    seed(store)
    bad = tmp_path / "log.csv"
    bad.write_text(
        "conference_id,date,kind,gp_invited,gp_outcome\n"
        "A-1,2026-09-01,review,Yes,Attended maybe\n"
        "A-2,31/09/2026,review,Yes,Absent\n"
        "A-1,2026-09-03,initial,Perhaps,Absent\n",
        encoding="utf-8",
    )
    async with team_view(store) as (app, pilot, screen):
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*str(tmp_path / "missing.csv"), "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        assert f"There is no file at {tmp_path / 'missing.csv'}" in dialog.message
        await type_over(pilot, str(bad))
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is dialog  # still open, the path kept to try again
        said = dialog.message
        assert said.startswith("Nothing was imported.")
        for where in (
            "row 2, column gp_outcome",
            "row 3, column date",
            "row 4, column conference_id",
            "row 4, column gp_invited",
        ):
            assert where in said
        assert dialog.query_one("#import-path", Input).value == str(bad)
        with store.read() as session:
            assert session.exec(select(func.count()).select_from(QauLogConference)).one() == 0
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen
        assert grid(screen, "gp_outcome")[-1] == ["Total", "8", "100.0"]


async def test_palette_lists_the_team_view_and_its_actions(store: Store) -> None:
    async with team_view(store) as (app, pilot, screen):
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "team: change period" in titles and "team: import qau log" in titles
        # An empty store: nothing to count, and the charts say so in words.
        assert chart(screen, "gp_outcome")[-1].startswith("Nothing to count in this period.")
        assert grid(screen, "gp_outcome")[-1] == ["Total", "0", ""]
        await pilot.press("escape")
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "case: team statistics" in titles


def test_team_view_snapshot_at_80x24(store: Store, snap_compare: Any) -> None:
    seed(store)

    async def open_team_view(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, SofsApp)
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)

    app = SofsApp(lambda: store, Settings())
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_team_view)
