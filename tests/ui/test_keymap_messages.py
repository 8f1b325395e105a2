"""A keymap that cannot work is said on screen, not left to do nothing: an id sofs does not
have or a key name no terminal sends (checked in a thread a moment after the start), and a key
the keymap gives to a second action on one screen (Textual's clash, said once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

import sofs_tui.app as app_module
from sofs_tui.app import SofsApp, _demo_opener
from sofs_tui.config import Settings
from sofs_tui.screens.case_list import CaseListScreen
from tests.ui.shell_support import settle


def messages(app: SofsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def until_said(app: SofsApp, pilot: Pilot[None], words: str) -> str:
    for _ in range(500):
        found = [m for m in messages(app) if words in m]
        if found:
            return found[0]
        await pilot.pause(0.01)
    raise AssertionError(f"never said {words!r}; said {messages(app)}")


async def test_a_keymap_entry_that_cannot_work_is_said_with_what_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "KEYMAP_CHECK_AFTER", 0.01)
    keymap = {"case_list.nwe_case": "ctrl+n", "app.help": "F2", "app.lock": "f9"}
    app = SofsApp(_demo_opener(tmp_path), Settings(keymap=keymap))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        said = await until_said(app, pilot, "nwe_case")
        assert "“case_list.nwe_case” is not an action sofs has." in said
        assert "Did you mean “case_list.new_case”?" in said
        assert "app.help = “F2”: key names are in lower case: “f2”." in said
        assert "app.lock" not in said  # a good entry is not mentioned
        assert "`sofs keys` lists every action" in said


async def test_a_good_keymap_says_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "KEYMAP_CHECK_AFTER", 0.01)
    app = SofsApp(_demo_opener(tmp_path), Settings(keymap={"app.lock": "f9"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        assert [m for m in messages(app) if "keymap" in m.lower()] == []


async def test_a_key_the_keymap_gives_to_a_second_action_on_a_screen_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "s" sorts the caseload; the keymap gives it to "new case" too: one of them loses it.
    monkeypatch.setattr(app_module, "KEYMAP_CHECK_AFTER", 0.01)
    app = SofsApp(_demo_opener(tmp_path), Settings(keymap={"case_list.new_case": "s"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        said = await until_said(app, pilot, "case_list.next_sort")
        assert "“s” is given to both case_list.new_case and case_list.next_sort" in said
