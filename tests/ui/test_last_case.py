"""The case open when sofs stopped is reopened at the next start; a case the worker left for
the caseload is not. State writes land in the order they were asked for."""

from __future__ import annotations

from pathlib import Path

from sofs_tui.config import load_state
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_list import CaseListScreen
from tests.ui.shell_support import enrolled, settle, shell_app, unlock_with


async def test_a_case_left_for_the_caseload_is_not_reopened(tmp_path: Path) -> None:
    enrolled(tmp_path / "data", ["One family", "Two family"])
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("down", "enter")  # the second case
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        opened = app.screen.case_id
        assert load_state(paths.state_file)["last_case_id"] == opened
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
    assert load_state(paths.state_file)["last_case_id"] == ""

    again, _ = shell_app(tmp_path / "data")
    async with again.run_test(size=(80, 24)) as pilot:
        await unlock_with(again, pilot)
        assert isinstance(again.screen, CaseListScreen)


async def test_the_case_open_at_quit_is_reopened(tmp_path: Path) -> None:
    enrolled(tmp_path / "data", ["One family", "Two family"])
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        opened = app.screen.case_id  # type: ignore[attr-defined]

    again, _ = shell_app(tmp_path / "data")
    async with again.run_test(size=(80, 24)) as pilot:
        await unlock_with(again, pilot)
        assert isinstance(again.screen, CaseScreen) and again.screen.case_id == opened
        assert isinstance(again.screen_stack[-2], CaseListScreen)


async def test_state_writes_land_in_the_order_asked(tmp_path: Path) -> None:
    enrolled(tmp_path / "data", ["One family"])
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        for number in range(40):
            app.remember_case(f"case-{number}")
            if number % 3 == 0:
                app.forget_case()
        app.remember_case("the last one")
        await settle(app, pilot)
    assert load_state(paths.state_file)["last_case_id"] == "the last one"
