"""Putting a report's sharing log right on the conference screen, at 80×24: a time that has not
happened yet is refused under its field; a mistaken sharing record (u) or sent-to-QAU time (v)
is taken back after a yes/no question, and the deadline shows as due or overdue again. Also the
conference forms while they save: escape waits for the save, and a save never closes a screen
that is not the form."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from textual.screen import ModalScreen
from textual.widgets import Static

from sofs_tui.domain.enums import ShareMethod
from sofs_tui.screens.conference_edit import ConferenceEditScreen, ConferencePick
from sofs_tui.screens.confirm import ConfirmScreen
from sofs_tui.store import conferences
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Report, ReportShare
from tests.conftest import FakeClock
from tests.ui.test_conference import (
    family,
    keys,
    opened,
    row_texts,
    save,
    schedule,
    settle,
    shown,
    type_into,
)

# The review is on Tue 8 Dec 2026, 10:00: its reports are due Tue 1 Dec, 10:00. The clock
# stands at Wed 25 Nov, 09:30.
EARLIER = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _report_shared_and_sent(store: Store, ids: dict[str, str], conference: str) -> str:
    report = conferences.add_report(
        store, conference, title="SW report", author_name="t.worker", agency="CSC"
    ).id
    for parent in ("mum", "dad"):
        conferences.record_report_shared_with_parent(
            store, report, parent_id=ids[parent], shared_at=EARLIER,
            method=ShareMethod.EMAIL if parent == "mum" else ShareMethod.PHONE,
            gone_through_together=False,
        )  # fmt: skip
    conferences.mark_report_sent_to_qau(store, report, sent_at=EARLIER + timedelta(hours=1))
    return report


def _live_shares(store: Store) -> list[ReportShare]:
    with store.read() as session:
        return [s for s in session.exec(select(ReportShare)).all() if not s.deleted]


def _sent_at(store: Store, report: str) -> datetime | None:
    with store.read() as session:
        found = session.get(Report, report)
    assert found is not None
    return found.sent_to_qau_at


# --- times that have not happened yet ---------------------------------------------------------


async def test_a_sharing_time_in_the_future_is_refused_under_the_field(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    conferences.add_report(store, conference, title="SW report", author_name="SW", agency="CSC")
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2", "s")
        await type_into(app, pilot, "shared_at", "2026-11-30 10:00")
        await pilot.pause()
        problem = shown(app, "#p-shared_at")
        assert "That time is in the future (it is now Wed 25 Nov 2026, 09:30)." in problem
        assert "Record the sharing once the parent has had the report" in problem
        await save(app, pilot)
        assert isinstance(app.screen, ConferenceEditScreen)  # not saved, the form stays
        assert "Not saved" in shown(app, "#form-error")
        assert _live_shares(store) == []
        await type_into(app, pilot, "shared_at", "today 09:00")
        await save(app, pilot)
        assert app.screen is screen
        assert len(_live_shares(store)) == 1


async def test_a_sent_to_qau_time_in_the_future_is_refused_under_the_field(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = conferences.add_report(
        store, conference, title="SW report", author_name="SW", agency="CSC"
    ).id
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=EARLIER, method=ShareMethod.POST,
        gone_through_together=False,
    )  # fmt: skip
    async with opened(store, conference) as (app, pilot, _screen):
        await keys(app, pilot, "2", "q")
        await type_into(app, pilot, "sent_at", "2026-11-30 11:00")
        await save(app, pilot)
        assert isinstance(app.screen, ConferenceEditScreen)
        assert "Mark the report sent once it has gone to the QA Unit" in shown(app, "#p-sent_at")
        assert _sent_at(store, report) is None


# --- taking back a sharing record or a sent-to-QAU time --------------------------------------


async def test_u_removes_the_only_sharing_record_after_asking(
    store: Store, clock: FakeClock
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = conferences.add_report(
        store, conference, title="SW report", author_name="SW", agency="CSC"
    ).id
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=EARLIER, method=ShareMethod.POST,
        gone_through_together=False,
    )  # fmt: skip
    clock.moment = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # an hour past the deadline
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2", "u")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "Mum · Tue 24 Nov 2026, 15:00 · post" in question
        await keys(app, pilot, "n")  # the safe answer: nothing changes
        assert app.screen is screen and len(_live_shares(store)) == 1
        await keys(app, pilot, "u", "y")
        assert app.screen is screen
        assert _live_shares(store) == []
        assert "Not shared with a parent yet." in shown(app, "#report-text")
        assert row_texts(screen, "report-table")[0][2].startswith("✗")  # overdue again


async def test_u_asks_which_record_when_there_are_several(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    _report_shared_and_sent(store, ids, conference)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2", "u")
        assert isinstance(app.screen, ConferencePick)
        await keys(app, pilot, "escape")  # changed my mind
        assert app.screen is screen and len(_live_shares(store)) == 2
        await keys(app, pilot, "u", "down", "enter")  # the second line
        assert isinstance(app.screen, ConfirmScreen)
        await keys(app, pilot, "y")
        (kept,) = _live_shares(store)
        assert kept.parent_id in (ids["mum"], ids["dad"])
        detail = shown(app, "#report-text")
        assert "Not yet shared with:" in detail
        assert "To parents: ○ Due" in detail  # due again (before Tue 1 Dec)


async def test_v_clears_the_sent_to_qau_time_after_asking(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = _report_shared_and_sent(store, ids, conference)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2")
        assert "To QAU:     ✓ Done on time" in shown(app, "#report-text")
        await keys(app, pilot, "v")
        assert isinstance(app.screen, ConfirmScreen)
        await keys(app, pilot, "y")
        assert app.screen is screen
        assert _sent_at(store, report) is None
        detail = shown(app, "#report-text")
        assert "Sent to QAU: Not yet" in detail and "To QAU:     ○ Due" in detail
        await keys(app, pilot, "v")  # nothing left to clear: said, no question
        assert app.screen is screen
        assert any("not marked sent" in str(n.message) for n in app._notifications)


async def test_removing_the_sharing_behind_a_sent_report_says_what_to_do(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    report = conferences.add_report(
        store, conference, title="SW report", author_name="SW", agency="CSC"
    ).id
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=EARLIER, method=ShareMethod.POST,
        gone_through_together=False,
    )  # fmt: skip
    conferences.mark_report_sent_to_qau(store, report, sent_at=EARLIER)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2", "u", "y")
        assert app.screen is screen
        assert len(_live_shares(store)) == 1
        assert any("Clear the sent-to-QAU time first" in str(n.message) for n in app._notifications)


# --- the form while it saves -------------------------------------------------------------------


@pytest.fixture
def held_save(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """`add_report` waits until the test lets it go: the form stays in "Saving…"."""
    release = threading.Event()
    real = conferences.add_report

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(10), "the test never let the save finish"
        return real(*args, **kwargs)

    monkeypatch.setattr(conferences, "add_report", slow)
    yield release
    release.set()


async def test_escape_while_saving_waits_for_the_save(
    store: Store, held_save: threading.Event
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2")
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ConferenceEditScreen)
        await type_into(app, pilot, "title", "GP report")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Saving…" in shown(app, "#form-error")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form  # the save decides, not the escape
        held_save.set()
        await settle(app, pilot)
        assert app.screen is screen  # the form closed, the conference stays
        assert row_texts(screen, "report-table")[0][0] == "GP report"


class _Over(ModalScreen[None]):
    """Another screen over the form while it saves (as the lock screen would be)."""


async def test_a_save_never_closes_a_screen_over_the_form(
    store: Store, held_save: threading.Event
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "2")
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await type_into(app, pilot, "title", "GP report")
        await pilot.press("ctrl+s")
        await pilot.pause()
        over = _Over()
        await app.push_screen(over)
        held_save.set()
        await settle(app, pilot)
        assert app.screen is over and form in app.screen_stack  # nothing closed under it
        app.pop_screen()
        await settle(app, pilot)
        assert app.screen is screen  # the form closed when it was on top again
        assert row_texts(screen, "report-table")[0][0] == "GP report"


def test_conference_forms_allow_no_text_selection() -> None:
    assert ConferenceEditScreen.ALLOW_SELECT is False  # case data (SECURITY R15)
    assert ConferencePick.ALLOW_SELECT is False
