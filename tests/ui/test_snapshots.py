"""SVG snapshots of the main screens at 80×24 and 120×40, as a worker sees them.

The picture must only change when a screen does: the demo caseload is made from a fixed seed
with ids numbered in order, the store's clock (deadlines, time left) and the app's idle clock
are fixed, and no text cursor blinks. Update the pictures on purpose with
`pytest tests/ui/test_snapshots.py --snapshot-update` and look at them before committing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.enums import AssessmentStatus, ConferenceStatus
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.screens.help import HelpScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.store import demo
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from sofs_tui.store.tables import Assessment, Conference, Report
from tests.conftest import FakeClock
from tests.ui.shell_support import FakeMonotonic
from tests.ui.test_every_screen import drawn
from tests.ui.test_every_screen import settle as settle_app

SIZES = [(80, 24), (120, 40)]
# A Wednesday morning in term time, London winter time (UTC+0).
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
DEMO_CASES = 12
SEED = 7

Snap = Callable[..., bool]


@dataclass(frozen=True)
class Caseload:
    store: Store
    case_id: str
    assessment_id: str
    conference_id: str
    folder: Path


@pytest.fixture
def caseload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Caseload]:
    """The same invented caseload every run: fixed seed, fixed clock, ids counted in order."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    numbers = itertools.count(1)
    monkeypatch.setattr(demo, "uuid", SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(numbers))))
    store = open_with_key(
        tmp_path / DB_NAME, DataKey.generate(), Actor("t.worker", "worker"), create=True
    )
    store.clock = FakeClock(NOW)
    demo.fill_demo_caseload(store, DEMO_CASES, seed=SEED, now=NOW)
    with store.read() as session:
        # The first case (by reference) with a draft mapping and a planned conference with
        # reports: the screens then show a little of everything.
        conference = session.exec(
            select(Conference)
            .where(Conference.status == ConferenceStatus.PLANNED)
            .where(col(Conference.id).in_(select(Report.conference_id)))
            .where(
                col(Conference.case_id).in_(
                    select(Assessment.case_id).where(Assessment.status == AssessmentStatus.DRAFT)
                )
            )
            .order_by(col(Conference.case_id))
        ).first()
        assert conference is not None
        assessment = session.exec(
            select(Assessment)
            .where(Assessment.case_id == conference.case_id)
            .where(Assessment.status == AssessmentStatus.DRAFT)
        ).first()
        assert assessment is not None
    yield Caseload(store, conference.case_id, assessment.id, conference.id, tmp_path)
    store.lock()


def app_on(caseload: Caseload) -> SofsApp:
    """The app over the caseload; its idle clock never moves, so it never locks by itself."""
    return SofsApp(
        lambda: caseload.store, Settings(), store_dir=caseload.folder, clock=FakeMonotonic()
    )


async def settle(pilot: Pilot[Any]) -> None:
    await settle_app(pilot.app, pilot)


def still_cursors(pilot: Pilot[Any]) -> None:
    """A text cursor blinks on a timer: hold it on, so every picture has it in one state."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False


def showing(
    caseload: Caseload, open_screen: Callable[[Pilot[Any]], Awaitable[None]], expected: type
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """The `run_before` for snap_compare: open a screen from the caseload, wait for its data."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_screen(pilot)
        await settle(pilot)
        assert isinstance(pilot.app.screen, expected), type(pilot.app.screen).__name__
        still_cursors(pilot)
        await drawn(pilot)

    return run_before


def pushing(screen: Callable[[], Any]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def open_screen(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(screen())

    return open_screen


def pressing(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def open_screen(pilot: Pilot[Any]) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return open_screen


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_caseload(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    from sofs_tui.screens.case_list import CaseListScreen

    run_before = showing(caseload, pressing(), CaseListScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_case(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    run_before = showing(caseload, pushing(lambda: CaseScreen(caseload.case_id)), CaseScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_mapping(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    run_before = showing(
        caseload, pushing(lambda: MappingScreen(caseload.assessment_id)), MappingScreen
    )
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_conference_reports(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    async def open_reports(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(ConferenceScreen(caseload.conference_id))
        await settle(pilot)
        await pilot.press("2")

    run_before = showing(caseload, open_reports, ConferenceScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_deadlines(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    from sofs_tui.screens.deadlines import DeadlinesScreen

    run_before = showing(caseload, pressing("d"), DeadlinesScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_lock_screen(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    run_before = showing(caseload, pressing("ctrl+l"), LockScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_help_on_the_case(snap_compare: Snap, caseload: Caseload, size: tuple[int, int]) -> None:
    async def case_then_help(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(CaseScreen(caseload.case_id))
        await settle(pilot)
        await pilot.press("f1")

    run_before = showing(caseload, case_then_help, HelpScreen)
    assert snap_compare(app_on(caseload), terminal_size=size, run_before=run_before)
