"""What the app does while the passphrase's key is derived (Argon2, a worker thread): the
caseload screen is composed off the screen stack, empty, and is the one shown at the unlock;
the first page holds two screens' worth of rows, the rest coming as for any page; and the
background warm-up waits between its steps until the page is painted (`start_gate`).

The key's derivation is held back by hand (`HeldDerivation`) so that moment can be looked at.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

import sofs_tui.store.keys as keys_module
from sofs_tui import start_gate
from sofs_tui.app import SofsApp
from sofs_tui.screens import case_list
from sofs_tui.screens.case_list import CaseListScreen, first_page_rows
from sofs_tui.screens.unlock import UnlockScreen
from tests.ui.shell_support import PASS, SENTINEL, enrolled, settle, shell_app, visible_text
from tests.ui.test_first_page_unlock import HeldCall, until

FAMILIES = [f"{SENTINEL} family", "Second family", "Third family"]


class HeldDerivation(HeldCall):
    """`unlock_keyfile` (Argon2 and the key's unwrapping) waits until `release()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch, keys_module, "unlock_keyfile")


@pytest.fixture(autouse=True)
def _gate_released() -> Iterator[None]:
    """The gate is the process's: no test leaves it held for the next."""
    yield
    start_gate.release()


def rows_in(screen: CaseListScreen) -> int:
    return screen.query_one("#case-table", DataTable).row_count


async def submit(pilot: Pilot[None], app: SofsApp, passphrase: str) -> None:
    await until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen")
    await pilot.pause()
    await pilot.press(*passphrase, "enter")


async def test_the_caseload_screen_is_composed_while_the_key_is_derived_and_is_the_one_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    derivation = HeldDerivation(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, app, PASS)
        assert derivation.started.wait(10)
        await until(pilot, lambda: app._caseload_prepared is not None, "the prepared screen")
        prepared = app._caseload_prepared
        assert isinstance(prepared, CaseListScreen)
        await until(pilot, lambda: bool(prepared.query("#case-table")), "its table composed")
        assert prepared not in app.screen_stack  # composed off the stack, not shown
        assert rows_in(prepared) == 0  # nothing of any case before the key is right
        assert isinstance(app.screen, UnlockScreen)
        assert SENTINEL not in visible_text(app)
        assert start_gate.is_held()  # the warm-up waits for the page

        derivation.release()
        await until(pilot, lambda: app.screen is prepared, "the prepared screen shown")
        await until(pilot, lambda: rows_in(prepared) == len(FAMILIES), "the first page")
        await settle(app, pilot)
        assert SENTINEL in visible_text(app)
        assert app._caseload_prepared is None
        assert not start_gate.is_held()  # painted: the warm-up goes on


async def test_a_wrong_passphrase_keeps_the_prepared_screen_for_the_next_try(
    tmp_path: Path,
) -> None:
    enrolled(tmp_path / "data", FAMILIES)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, app, "not the passphrase")
        status = app.screen.query_one("#passphrase-status", Static)
        await until(pilot, lambda: "Unlocking" not in str(status.render()), "the refusal")
        await until(pilot, lambda: app._caseload_prepared is not None, "the prepared screen")
        prepared = app._caseload_prepared
        assert isinstance(app.screen, UnlockScreen)
        assert not start_gate.is_held()  # no page is coming: the warm-up goes on

        await pilot.press(*PASS, "enter")
        await until(pilot, lambda: isinstance(app.screen, CaseListScreen), "the caseload")
        assert app.screen is prepared  # one caseload screen made, not two
        await until(pilot, lambda: rows_in(prepared) == len(FAMILIES), "the first page")


@pytest.mark.parametrize(("height", "rows"), [(24, 50), (40, 80), (100, 200), (300, 200)])
def test_the_first_page_is_two_screens_of_rows_within_a_page(height: int, rows: int) -> None:
    assert first_page_rows(height) == rows


async def test_the_first_page_is_short_and_the_rest_comes_when_the_cursor_reaches_its_end(
    tmp_path: Path,
) -> None:
    families = [f"Family {number:03d}" for number in range(1, 121)]
    enrolled(tmp_path / "data", families)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, app, PASS)
        await until(pilot, lambda: isinstance(app.screen, CaseListScreen), "the caseload")
        screen = app.screen
        assert isinstance(screen, CaseListScreen)
        await until(pilot, lambda: rows_in(screen) == first_page_rows(24), "the first page")
        assert "50 of 120 cases" in visible_text(app)

        await settle(app, pilot)
        await pilot.press("end")
        await until(pilot, lambda: rows_in(screen) == 120, "the rest of the caseload")
        assert "120 cases" in visible_text(app)


async def test_the_first_page_is_measured_as_it_is_filled_not_when_the_table_is_next_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DataTable sizes its columns when it next goes idle: a page shown before that is painted
    with every cell cut to its header's width, then painted again. Filling the page measures
    it at once, so its first frame already has the widths."""
    families = ["A family whose name is far wider than its header", "Short"]
    enrolled(tmp_path / "data", families)
    widths_when_filled: list[int] = []
    real_show = CaseListScreen._show

    def show(screen: CaseListScreen, *args: object) -> None:
        real_show(screen, *args)  # type: ignore[arg-type]
        # Synchronously after the rows went in: the table has not been idle since.
        family = next(c for c in screen.table.columns.values() if c.key == "family")
        widths_when_filled.append(family.content_width)

    monkeypatch.setattr(CaseListScreen, "_show", show)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(120, 24)) as pilot:
        await submit(pilot, app, PASS)
        await until(pilot, lambda: bool(widths_when_filled), "the first page")
        assert widths_when_filled[0] == len(families[0])
        await settle(app, pilot)
        assert families[0] in visible_text(app)


class RecordingSteps:
    """`case_list.warm_up`'s steps, recorded instead of importing anything."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done: list[int] = []
        monkeypatch.setattr(case_list, "_warmed_up", False)
        monkeypatch.setattr(start_gate, "freeze_what_is_loaded", lambda stage: None)
        monkeypatch.setattr(start_gate, "HOLD_SECONDS", 30.0)
        steps = [lambda number=number: self.done.append(number) for number in range(3)]
        monkeypatch.setattr(case_list, "_warm_up_steps", lambda: steps)


def held_background_warm_up() -> threading.Thread:
    """A background warm-up started while a first page is on its way: held before its first
    step."""
    start_gate.hold()
    background = threading.Thread(target=case_list.warm_up, kwargs={"background": True})
    background.start()
    background.join(0.3)
    assert background.is_alive()
    return background


def test_a_background_warm_up_waits_while_a_first_page_is_on_its_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = RecordingSteps(monkeypatch)
    background = held_background_warm_up()
    assert steps.done == []
    start_gate.release()
    background.join(10)
    assert not background.is_alive() and steps.done == [0, 1, 2]


def test_what_needs_the_database_layer_now_does_not_wait_for_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = RecordingSteps(monkeypatch)
    background = held_background_warm_up()
    assert steps.done == []
    needed_now = threading.Thread(target=case_list.warm_up)  # as the store's opening calls it
    needed_now.start()
    needed_now.join(10)
    background.join(10)
    assert not needed_now.is_alive() and not background.is_alive()
    assert steps.done == [0, 1, 2]  # done once, by the background warm-up, let go on


async def test_from_the_enter_to_the_first_page_no_style_sheet_is_parsed_again_nor_footer_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the key is derived, two cores are shared with Argon2: the caseload screen's
    sheet is read with the app's (a screen's own new sheet makes Textual parse every sheet
    again), and the unlock screen's footer keeps its keys when the field is disabled."""
    enrolled(tmp_path / "data", FAMILIES)
    derivation = HeldDerivation(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen")
        await settle(app, pilot)
        keys_before = list(app.screen.query(FooterKey))
        assert keys_before  # help and the palette, at least
        reparses: list[str] = []
        real_reparse = app.stylesheet.reparse

        def reparse() -> None:
            reparses.append(type(app.screen).__name__)
            real_reparse()

        monkeypatch.setattr(app.stylesheet, "reparse", reparse)
        await pilot.press(*PASS, "enter")
        assert derivation.started.wait(10)
        await until(pilot, lambda: app._caseload_prepared is not None, "the prepared screen")
        for _ in range(5):  # the footer would be rebuilt after the refresh that follows
            await pilot.pause(0.02)
        assert app.screen.query_one("#passphrase").disabled  # focus left the field
        assert list(app.screen.query(FooterKey)) == keys_before  # the same widgets, kept

        derivation.release()
        await until(pilot, lambda: isinstance(app.screen, CaseListScreen), "the caseload")
        screen = app.screen
        await until(pilot, lambda: rows_in(screen) == len(FAMILIES), "the first page")
        await settle(app, pilot)
        assert reparses == []


async def test_the_caseload_screen_is_made_ready_while_the_worker_types_before_enter(
    tmp_path: Path,
) -> None:
    """Made after Enter, its composing took the machine from Argon2; the preparation thread
    asks for it as soon as the caseload screen's module is imported."""
    enrolled(tmp_path / "data", FAMILIES)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen")
        await until(pilot, lambda: app._caseload_prepared is not None, "the prepared screen")
        prepared = app._caseload_prepared
        assert isinstance(prepared, CaseListScreen)
        await until(pilot, lambda: bool(prepared.query("#case-table")), "its table composed")
        assert prepared not in app.screen_stack and rows_in(prepared) == 0
        assert SENTINEL not in visible_text(app)

        await pilot.press(*PASS, "enter")
        await until(pilot, lambda: app.screen is prepared, "that screen shown")
        await until(pilot, lambda: rows_in(prepared) == len(FAMILIES), "the first page")
