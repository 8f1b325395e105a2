"""The app shell: enrol and unlock inside the app, help, the palette, themes, NO_COLOR, the
keymap, small terminals, the last case, screenshots, crashes and the log."""

from __future__ import annotations

import importlib.machinery
import io
import logging
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Markdown, Static

from sofs_tui.app import SofsApp, _demo_opener
from sofs_tui.config import Settings, load_settings, load_state, save_state
from sofs_tui.logging_setup import LOG_FILE_NAME, close_logging, configure_logging, log_event
from sofs_tui.paths import AppPaths
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.enrol import EnrolScreen, strength_hint
from sofs_tui.screens.help import HelpScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.screens.too_small import TooSmallScreen
from sofs_tui.screens.unlock import UnlockScreen
from sofs_tui.store.errors import KeyFileCorrupt, WrongPassphrase
from sofs_tui.store.store import DB_NAME, KEYFILE_NAME, unlock
from sofs_tui.themes import HIGH_CONTRAST
from tests.ui.shell_support import (
    PASS,
    SENTINEL,
    enrolled,
    fast_kdf,
    focused,
    settle,
    shell_app,
    unlock_with,
    visible_text,
)


@pytest.fixture
def log_dir(tmp_path: Path) -> Any:
    configure_logging(tmp_path / "logs")
    yield tmp_path / "logs"
    close_logging()


def log_text(log_dir: Path) -> str:
    return "".join(p.read_text() for p in log_dir.iterdir())


# --- enrol and unlock ----------------------------------------------------------------------------


async def test_first_run_enrols_in_the_app_then_shows_the_empty_caseload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_kdf(monkeypatch)
    monkeypatch.setattr("getpass.getuser", lambda: "a.worker")
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EnrolScreen)
        assert screen.query_one("#username", Input).value == "a.worker"
        await pilot.press(*"short")
        assert "Too short: 5 of at least 8" in visible_text(app)
        await pilot.press("enter", *"shirt", "enter", "enter")  # too short: refused
        assert "Too short" in str(screen.query_one("#enrol-status", Static).render())
        screen.query_one("#new-passphrase", Input).value = PASS
        screen.query_one("#again", Input).value = PASS + "x"
        screen.query_one("#username", Input).focus()
        await pilot.press("enter")
        assert "differ" in str(screen.query_one("#enrol-status", Static).render())
        assert not (paths.data_dir / KEYFILE_NAME).exists()
        await pilot.press(*PASS, "enter", "enter")  # the second field was emptied and focused
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert [type(s) for s in app.screen_stack].count(EnrolScreen) == 0
    assert (paths.data_dir / KEYFILE_NAME).is_file() and (paths.data_dir / DB_NAME).is_file()
    store = unlock(paths.data_dir, PASS)
    try:
        assert store.actor.username == "a.worker"
    finally:
        store.lock()


async def test_a_pasted_username_loses_its_control_characters_with_a_message_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.events import Paste

    monkeypatch.setattr("getpass.getuser", lambda: "")
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EnrolScreen)
        field = screen.query_one("#username", Input)
        field.focus()
        await pilot.pause()
        app.post_message(Paste("bob\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202e"))
        await pilot.pause()
        assert "\x1b" not in field.value and "\u202e" not in field.value
        assert field.value.startswith("bob")
        message = str(screen.query_one("#username-msg", Static).render())
        assert message.startswith("Left out 4 hidden control characters")
        assert "escape (ESC)" in message and "right-to-left override" in message
        assert screen.query_one("#username-msg").display
        assert "\x1b" not in visible_text(app)
        # Nothing is set up on the way: the store is made only on Enter with a passphrase.
        assert not (paths.data_dir / KEYFILE_NAME).exists()


def test_strength_hint_is_about_length_in_plain_words() -> None:
    assert "at least 8" in strength_hint("")
    assert strength_hint("abc") == "Too short: 3 of at least 8 characters."
    assert "add another word" in strength_hint("eightchr")
    assert strength_hint("a much longer one") == "Good: a strong passphrase."
    assert strength_hint("four unrelated words here") == "Very strong."


async def test_later_runs_unlock_and_a_wrong_passphrase_says_so_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    enrolled(tmp_path / "data")
    before = {p.name: p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file()}
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, UnlockScreen)
        field = app.screen.query_one("#passphrase", Input)
        assert field.password
        await unlock_with(app, pilot, "not the passphrase")
        assert isinstance(app.screen, UnlockScreen)
        assert WrongPassphrase.default_message in visible_text(app)
        assert field.value == "" and "not the passphrase" not in visible_text(app)
        assert app.focused is field
        keyfile = tmp_path / "data" / KEYFILE_NAME
        assert keyfile.read_bytes() == before[KEYFILE_NAME]
        await unlock_with(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert SENTINEL in visible_text(app)


async def test_a_damaged_key_file_is_explained_in_words(tmp_path: Path) -> None:
    enrolled(tmp_path / "data")
    (tmp_path / "data" / KEYFILE_NAME).write_text("{not json")
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert KeyFileCorrupt.default_message in visible_text(app)


async def test_sofs_without_demo_opens_the_app_without_prompting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sofs_tui.cli import main

    calls: list[tuple[Path, bool]] = []

    def run_app(paths: AppPaths, *, demo: bool) -> int:
        calls.append((paths.data_dir, demo))
        return 0

    monkeypatch.setattr("sofs_tui.app.run_app", run_app)
    stdin = io.StringIO("should not be read\n")
    assert main(["--data-dir", str(tmp_path)], stdin=stdin) == 0
    assert main(["--data-dir", str(tmp_path), "--demo"], stdin=stdin) == 0
    assert calls == [(tmp_path.resolve(), False), (tmp_path.resolve(), True)]
    assert stdin.tell() == 0


def test_a_broken_settings_file_stops_with_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sofs_tui.cli import main

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text("[council]\nidle_lock_minutes = 99\n")
    assert main(["--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "idle_lock_minutes" in err and "Traceback" not in err
    close_logging()


# --- help, palette, keymap -----------------------------------------------------------------------


class NotesScreen(StoreScreen):
    PALETTE_GROUP = "notes"
    HELP: ClassVar[str] = "## Notes\n\nWrite what the family said."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save notes", id="notes.save"),
    ]

    def compose(self) -> ComposeResult:
        yield Input(id="notes")
        yield Footer()

    def action_save(self) -> None:
        self.saved = True


async def test_f1_shows_the_screen_help_and_its_keys_as_remapped(tmp_path: Path) -> None:
    settings = Settings(keymap={"notes.save": "f5"})
    app = SofsApp(_demo_opener(tmp_path), settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(NotesScreen())
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Write what the family said." in app.screen.query_one(Markdown).source
        keys = app.screen.query_one(DataTable)
        rows = [[str(c) for c in keys.get_row_at(r)] for r in range(keys.row_count)]
        assert ["f5", "Save notes"] in rows and ["^l", "Lock"] in rows
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, NotesScreen)


async def test_a_remapped_binding_id_from_the_settings_works(tmp_path: Path) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings(keymap={"case_list.focus_filter": "f6"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.focused, DataTable)
        await pilot.press("f6")
        assert focused(app) is app.screen.query_one("#case-filter", Input)


async def test_the_palette_lists_app_actions_and_screen_actions_but_no_screenshot(
    tmp_path: Path,
) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(NotesScreen())
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("app: lock now", "app: help", "view: high contrast", "notes: save notes"):
            assert title in titles
        assert "Screenshot" not in titles
        await pilot.press("ctrl+p", *"lock now")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)


# --- themes and colour ---------------------------------------------------------------------------


async def test_high_contrast_from_the_palette_is_saved_and_used_next_time(tmp_path: Path) -> None:
    enrolled(tmp_path / "data")
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        await pilot.press("ctrl+p", *"high contrast")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.theme == HIGH_CONTRAST
    assert load_settings(paths.settings_file).theme == HIGH_CONTRAST
    again, _ = shell_app(tmp_path / "data", settings=load_settings(paths.settings_file))
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.theme == HIGH_CONTRAST
        again.action_toggle_high_contrast()
        assert again.theme == "textual-dark"


async def test_an_unknown_theme_in_the_settings_falls_back_with_a_warning(tmp_path: Path) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings(theme="no-such-theme"))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        assert app.theme == "textual-dark"
        assert "no-such-theme" in visible_text(app)


def _colours(app: SofsApp) -> set[tuple[int, int, int]]:
    found = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            for colour in (segment.style.color, segment.style.bgcolor) if segment.style else ():
                if colour is not None:
                    red, green, blue = colour.get_truecolor()
                    found.add((red, green, blue))
    return found


@pytest.mark.parametrize("no_color", [False, True])
async def test_no_color_makes_every_colour_grey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        colours = _colours(app)
        greys = {c for c in colours if c[0] == c[1] == c[2]}
        assert app.no_color is no_color
        assert (greys == colours) is no_color  # without NO_COLOR the theme has colours


# --- small terminals -----------------------------------------------------------------------------


async def test_a_small_terminal_gets_a_clear_message_and_the_screen_comes_back(
    tmp_path: Path,
) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=(70, 20)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "Make the window at least 80×24 (it is 70×20)." in visible_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert isinstance(app.screen, CaseListScreen)
        caseload = app.screen
        await pilot.press("/", *"DEMO")
        await pilot.resize_terminal(100, 23)
        await settle(app, pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "(it is 100×23)" in visible_text(app)
        await pilot.resize_terminal(120, 40)
        await settle(app, pilot)
        assert app.screen is caseload
        assert caseload.query_one("#case-filter", Input).value == "DEMO"
        assert not [s for s in app.screen_stack if isinstance(s, TooSmallScreen)]


# --- the last case -------------------------------------------------------------------------------


class FakeCaseScreen(StoreScreen):
    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id


@pytest.fixture
def case_screen_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for screens/case.py (another helper is writing it)."""
    module = types.ModuleType("sofs_tui.screens.case")
    module.__spec__ = importlib.machinery.ModuleSpec("sofs_tui.screens.case", None)
    module.CaseScreen = FakeCaseScreen  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sofs_tui.screens.case", module)


async def test_the_last_case_opened_is_reopened_on_restart(
    tmp_path: Path, case_screen_module: None
) -> None:
    first, second = enrolled(tmp_path / "data", ["One family", "Two family"])
    app, paths = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        assert isinstance(app.screen, CaseListScreen)  # nothing remembered yet
        app.remember_case(second)
        await settle(app, pilot)
    assert load_state(paths.state_file)["last_case_id"] == second
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        assert isinstance(app.screen, FakeCaseScreen) and app.screen.case_id == second
        assert isinstance(app.screen_stack[-2], CaseListScreen)  # escape goes to the caseload
        app.forget_case()
        await settle(app, pilot)
    assert load_state(paths.state_file)["last_case_id"] == ""
    assert first != second


async def test_a_remembered_case_that_no_longer_exists_is_not_reopened(
    tmp_path: Path, case_screen_module: None
) -> None:
    enrolled(tmp_path / "data")
    app, paths = shell_app(tmp_path / "data")
    save_state(paths.state_file, last_case_id="00000000-0000-0000-0000-000000000000")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_with(app, pilot)
        assert isinstance(app.screen, CaseListScreen)


# --- screenshots, crashes and the log ------------------------------------------------------------


async def test_the_screenshot_action_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    home = Path.home()
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(home / "Downloads"))
    monkeypatch.chdir(tmp_path)
    app = SofsApp(_demo_opener(tmp_path / "demo"), Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.run_action("screenshot")
        await app.run_action("app.screenshot")
        await settle(app, pilot)
    assert not list(home.rglob("*.svg")) and not list(tmp_path.rglob("*.svg"))
    assert "event=screenshot_refused" in log_text(log_dir)


async def test_copy_and_paste_stay_inside_the_app(
    tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        written: list[str] = []
        monkeypatch.setattr(app._driver, "write", written.append)
        await app.push_screen(NotesScreen())
        await pilot.press(*SENTINEL, "shift+home", "ctrl+c", "end", "ctrl+v")
        await pilot.pause()
        assert app.screen.query_one("#notes", Input).value == SENTINEL * 2
        assert not [w for w in written if "\x1b]52" in w]
    assert "event=copy_kept_in_app" in log_text(log_dir)


class CrashingApp(SofsApp):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f12", "crash", "Crash")]

    def action_crash(self) -> None:
        family = f"{SENTINEL} family"  # a local holding case data when the bug strikes
        raise RuntimeError(f"could not draw the {family}")


async def test_a_crash_shows_an_incident_id_and_logs_only_its_type(
    tmp_path: Path, log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = CrashingApp(_demo_opener(tmp_path), Settings())
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("f12")
            await pilot.pause()
    err = capsys.readouterr().err
    assert app.crash_incident is not None
    assert f"sofs stopped unexpectedly (incident {app.crash_incident})" in err
    assert SENTINEL not in err and "Traceback" not in err and "family" not in err
    logged = log_text(log_dir)
    assert f"incident={app.crash_incident}" in logged and "type=builtins.RuntimeError" in logged
    assert SENTINEL not in logged and "could not draw" not in logged
    assert app.store is not None and app.store.is_locked
    assert app.return_code == 1


def test_the_log_holds_references_only_and_never_a_traceback(log_dir: Path) -> None:
    log_event("saved", case="3f2a-11", count=2)
    log_event("saved", note=f"{SENTINEL} said hello")
    try:
        raise ValueError(SENTINEL)
    except ValueError:
        logging.getLogger("sofs").exception("event=failure")
        logging.getLogger("sofs").debug("event=debug detail=%s", SENTINEL)
    logging.getLogger("sqlalchemy.engine").warning("SELECT %s", SENTINEL)
    logged = log_text(log_dir)
    assert "event=saved case=3f2a-11 count=2" in logged
    assert "note=<redacted>" in logged and "event=failure" in logged
    assert SENTINEL not in logged and "Traceback" not in logged
    assert (log_dir / LOG_FILE_NAME).stat().st_mode & 0o077 == 0


def test_a_real_session_turns_off_textuals_devtools_log_screenshots_and_scripted_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual import constants

    from sofs_tui.app import _production_textual

    environ = {"TEXTUAL": "devtools,debug", "HOME": "/home/x"}
    monkeypatch.setattr(constants, "LOG_FILE", "/tmp/textual.log")
    monkeypatch.setattr(constants, "SCREENSHOT_DELAY", 1)
    monkeypatch.setattr(constants, "PRESS", "f12,enter")
    _production_textual(environ)
    assert environ == {"HOME": "/home/x"}
    assert constants.LOG_FILE is None and constants.SCREENSHOT_DELAY == -1
    assert constants.PRESS == ""
