"""ctrl+q over a form holding changes not yet saved asks first: the forms (people, conferences,
reports) save only when the worker saves them, so quitting would lose what was typed. "Back to
the form" keeps every character; yes, or ctrl+q again, quits; a form opened and left as it
was, or one whose save is running, does not ask."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, TextArea

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.screens.conference_edit import ConferenceEditScreen, FlagField, FormSpec, TextField
from sofs_tui.screens.confirm import ConfirmScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.screens.person_form import PersonFormScreen
from sofs_tui.screens.too_small import TooSmallScreen
from sofs_tui.store.store import Store
from tests.ui.shell_support import enrolled, shell_app, unlock_with, visible_text
from tests.ui.test_case import family, opened, people, settle
from tests.ui.test_worker_flow import type_text


async def open_person_form(app: SofsApp, pilot: Pilot[None]) -> PersonFormScreen:
    await pilot.press("a")
    await settle(app, pilot)
    form = app.screen
    assert isinstance(form, PersonFormScreen)
    return form


class Quits:
    """Counts the app's quits (`_quit_now`) and the questions asked before them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.quits = 0
        self.questions = 0
        real_quit, real_ask = SofsApp._quit_now, SofsApp._ask_before_quitting

        def quit_now(app: SofsApp) -> None:
            self.quits += 1
            real_quit(app)

        def ask(app: SofsApp, form: str) -> None:
            self.questions += 1
            real_ask(app, form)

        monkeypatch.setattr(SofsApp, "_quit_now", quit_now)
        monkeypatch.setattr(SofsApp, "_ask_before_quitting", ask)


def confirm_text(app: SofsApp) -> str:
    assert isinstance(app.screen, ConfirmScreen)
    return str(app.screen.query_one("#confirm-question").render())


async def test_ctrl_q_asks_before_losing_a_half_filled_form_and_going_back_keeps_it(
    store: Store,
) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, _case):
        form = await open_person_form(app, pilot)
        await type_text(pilot, "Ava Marchbank")
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert app.is_running
        assert "is not saved" in confirm_text(app)
        assert "Quit and lose it?" in confirm_text(app)

        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is form
        assert form.query_one("#person-name", Input).value == "Ava Marchbank"

        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # the safe answer, as n
        await settle(app, pilot)
        assert app.screen is form and app.is_running


@pytest.mark.parametrize("answer", ["y", "ctrl+q"])
async def test_yes_or_ctrl_q_again_quits_without_saving_the_form(
    store: Store, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    ids = family(store)
    quits = Quits(monkeypatch)
    async with opened(store, ids["case"]) as (app, pilot, _case):
        await open_person_form(app, pilot)
        await type_text(pilot, "Not kept")
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert quits.quits == 0
        assert "Not kept" not in [person.name for person in people(store, ids["case"])]
        await pilot.press(answer)
    assert (quits.questions, quits.quits) == (1, 1)
    assert app.return_code == 0 and app.crash_incident is None
    assert store.is_locked  # closed as any quit closes it


async def test_a_form_left_as_it_opened_does_not_ask(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = family(store)
    quits = Quits(monkeypatch)
    async with opened(store, ids["case"]) as (app, pilot, _case):
        await open_person_form(app, pilot)
        await type_text(pilot, "x")
        await pilot.press("backspace")  # typed and taken back: nothing changed
        await pilot.press("ctrl+q")
    assert (quits.questions, quits.quits) == (0, 1)
    assert app.return_code == 0


async def test_a_conference_form_asks_for_its_text_and_its_ticks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    quits = Quits(monkeypatch)
    spec = FormSpec(
        title="Record the chair's summary",
        fields=[
            TextField("summary", "Summary", multiline=True),
            FlagField("agreed", "Agreed by the family", False),
        ],
        save=lambda _store, _values: None,
    )
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for change in ("text", "tick"):
            form = ConferenceEditScreen(spec, clock=store.now)
            await app.push_screen(form)
            await settle(app, pilot)
            if change == "text":
                form.query_one(TextArea).focus()
                await type_text(pilot, "Mum and Dad agreed the plan.")
            else:
                form.query_one(Checkbox).focus()
                await pilot.press("space")
            await pilot.press("ctrl+q")
            await settle(app, pilot)
            assert "Record the chair's summary" in confirm_text(app), change
            await pilot.press("n")
            await settle(app, pilot)
            assert app.screen is form
            await app.pop_screen()
            await settle(app, pilot)
        await pilot.press("ctrl+q")  # no form open: quits at once
    assert (quits.questions, quits.quits) == (2, 1)


async def test_a_form_whose_save_is_running_does_not_ask(store: Store) -> None:
    ids = family(store)
    async with opened(store, ids["case"]) as (app, pilot, _case):
        form = await open_person_form(app, pilot)
        await type_text(pilot, "Saving now")
        form.saving = True  # as between ctrl+s and the save's commit
        assert form.unsaved_form() is None
        form.saving = False
        assert form.unsaved_form() == form.title_text()


async def test_the_statistics_period_holds_nothing_to_lose(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sofs_tui.domain.calendar import COUNCIL_TZ
    from sofs_tui.screens.team_period import PeriodForm, default_period

    quits = Quits(monkeypatch)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(PeriodForm(default_period(store.now().astimezone(COUNCIL_TZ).date())))
        await settle(app, pilot)
        await type_text(pilot, "2026")
        await pilot.press("ctrl+q")
    assert (quits.questions, quits.quits) == (0, 1)


def summary_form(app: SofsApp) -> ConferenceEditScreen:
    assert app.store is not None
    spec = FormSpec(
        title="Record the chair's summary",
        fields=[TextField("summary", "Summary", multiline=True)],
        save=lambda _store, _values: None,
    )
    return ConferenceEditScreen(spec, clock=app.store.now)


async def summary_typed_in(app: SofsApp, pilot: Pilot[None], text: str) -> ConferenceEditScreen:
    """Unlocked, a summary form open with `text` typed in it and not saved."""
    await unlock_with(app, pilot)
    form = summary_form(app)
    await app.push_screen(form)
    await settle(app, pilot)
    form.query_one(TextArea).focus()
    await type_text(pilot, text)
    return form


@pytest.mark.parametrize("hidden_by", ["lock", "too small"])
async def test_under_the_lock_or_too_small_screen_ctrl_q_warns_without_naming_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hidden_by: str
) -> None:
    """Those screens hide the form and every case detail: the warning names neither, and
    ctrl+q again quits. Back at the form (unlocked, or the window made bigger), every
    character is there and ctrl+q asks as before."""
    enrolled(tmp_path / "data")
    quits = Quits(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        form = await summary_typed_in(app, pilot, "Ava and Dad agreed")

        async def hide_the_form() -> None:
            if hidden_by == "lock":
                await pilot.press("ctrl+l")
            else:
                await pilot.resize_terminal(60, 20)
            await settle(app, pilot)

        await hide_the_form()
        blocking = app.screen
        assert isinstance(blocking, LockScreen if hidden_by == "lock" else TooSmallScreen)
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert app.is_running and app.screen is blocking
        shown = visible_text(app)
        assert "A form holds changes not yet saved" in shown
        assert "ctrl+q again quits" in shown
        assert "Ava" not in shown and "chair" not in shown

        if hidden_by == "lock":
            await unlock_with(app, pilot)
        else:
            await pilot.resize_terminal(80, 24)
            await settle(app, pilot)
        assert app.screen is form
        assert form.query_one(TextArea).text == "Ava and Dad agreed"
        await pilot.press("ctrl+q")  # the form is in view again: the usual question
        await settle(app, pilot)
        assert "Record the chair's summary" in confirm_text(app)
        await pilot.press("n")
        await settle(app, pilot)

        await hide_the_form()
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert app.is_running  # warned again on this new lock screen or message
        await pilot.press("ctrl+q")
    assert (quits.questions, quits.quits) == (1, 1)
    assert app.return_code == 0


async def test_under_the_lock_screen_with_no_form_changed_ctrl_q_quits_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(tmp_path / "data")
    quits = Quits(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock_with(app, pilot)
        await app.push_screen(summary_form(app))  # opened, nothing typed
        await settle(app, pilot)
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press("ctrl+q")
    assert (quits.questions, quits.quits) == (0, 1)


async def test_a_lock_screen_message_that_replaced_the_warning_lets_ctrl_q_warn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock screen's one status line also says "Unlocking…" and a wrong passphrase: once
    the warning is no longer there, ctrl+q warns again instead of quitting unseen."""
    enrolled(tmp_path / "data")
    quits = Quits(monkeypatch)
    app, _ = shell_app(tmp_path / "data")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await summary_typed_in(app, pilot, "Half a summary")
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert "ctrl+q again quits" in visible_text(app)

        await pilot.press(*"not the passphrase", "enter")
        await settle(app, pilot)
        assert "ctrl+q again quits" not in visible_text(app)  # the refusal replaced it
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert app.is_running and "ctrl+q again quits" in visible_text(app)
        await pilot.press("ctrl+q")
    assert (quits.questions, quits.quits) == (0, 1)
