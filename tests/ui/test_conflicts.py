"""Two workers on two laptops edit the same mapping entry; the service keeps both versions and
the app shows the conflict until a person resolves it (Keep theirs / mine / both / Edit merged).
Everything runs against the real service in process; the other laptop is a SyncEngine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from textual import events
from textual.widgets import Button, DataTable, OptionList, Static

from sofs_tui.app import SofsApp
from sofs_tui.domain.enums import AssessmentStatus, Section
from sofs_tui.screens import case_list
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.conflict_resolve import ConflictResolveScreen, word_diff
from sofs_tui.screens.conflicts import ConflictsScreen
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.store import cases, mapping, sync_local
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Entry
from sofs_tui.widgets.plain import PlainText
from sofs_tui.widgets.text_area_field import TextAreaField
from tests.conftest import FakeClock
from tests.ui.sync_ui_support import (
    Connector,
    Service,
    bar,
    engine_for,
    notes,
    open_store,
    settle,
    signed_in,
    start_service,
    sync_app,
)

SIZES = [(80, 24), (160, 48)]
ORIGINAL = "Dad drinks when he looks after Kai."
ALICES = "Dad drinks most evenings when he looks after Kai alone."
BOBS = "Dad drinks when he looks after Kai, and Kai has been hurt twice."


@dataclass(frozen=True)
class Family:
    case_id: str
    assessment_id: str
    danger_id: str


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    started = start_service(tmp_path, clock)
    started.user("alice")
    started.user("bob")
    yield started
    started.close()


@pytest.fixture
def alice(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_store(tmp_path, "alice", clock)
    yield store
    store.lock()


@pytest.fixture
def bob(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_store(tmp_path, "bob", clock)
    yield store
    store.lock()


def complete_mapping(store: Store) -> Family:
    """A case with a mapping ready to sign off: a danger statement, its goal and a score."""
    case = cases.create_case(store, reference="REF-7", family_name="Brackwell family")
    assessment = mapping.create_assessment(store, case.id, title="First mapping")
    danger = mapping.save_entry(
        store, assessment.id, section=Section.DANGER_STATEMENT, text=ORIGINAL
    )
    goal = mapping.save_entry(
        store,
        assessment.id,
        section=Section.SAFETY_GOAL,
        text="Dad will stay sober when caring for Kai, checked by Gran, for six months.",
    )
    mapping.pair_safety_goal(store, danger.id, goal.id)
    mapping.record_score(store, assessment.id, scorer_name="Mum", value=5, rationale="ok")
    return Family(case.id, assessment.id, danger.id)


async def both_edit_the_danger_statement(service: Service, alice: Store, bob: Store) -> Family:
    """Alice maps the family and syncs; Bob receives it; both change the same entry; Alice
    syncs her change first. Bob's change is saved on his laptop, not sent yet."""
    family = complete_mapping(alice)
    async with engine_for(service, alice, "alice") as alices:
        assert (await alices.sync()).ok
        async with engine_for(service, bob, "bob") as bobs:
            assert (await bobs.sync()).received > 0
        mapping.save_entry(alice, family.assessment_id, text=ALICES, entry_id=family.danger_id)
        mapping.save_entry(bob, family.assessment_id, text=BOBS, entry_id=family.danger_id)
        assert (await alices.sync()).ok
    return family


def dangers(store: Store, assessment_id: str) -> list[str]:
    with store.read() as session:
        rows = session.exec(
            select(Entry).where(
                Entry.assessment_id == assessment_id,
                Entry.section == Section.DANGER_STATEMENT,
                col(Entry.deleted).is_(False),
            )
        ).all()
    return sorted(row.text for row in rows)


def cells(table: DataTable[Any], row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


def shown(widget: Any) -> str:
    return str(widget.render())


def version(screen: ConflictResolveScreen, side: str) -> str:
    box = screen.query_one(f"#version-{side}")
    return "\n".join(
        shown(box.query_one(selector))
        for selector in (".version-title", ".version-meta", ".version-fields")
    )


async def bobs_app_with_the_conflict(
    service: Service, bob: Store, pilot: Any, app: SofsApp
) -> None:
    await settle(app, pilot)
    await pilot.press("f6")  # Bob's change meets Alice's on the service
    await settle(app, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_the_same_entry_edited_on_two_laptops_is_resolved_with_keep_both(
    service: Service, alice: Store, bob: Store, size: tuple[int, int]
) -> None:
    family = await both_edit_the_danger_statement(service, alice, bob)
    app = sync_app(
        bob, Connector(httpx.ASGITransport(app=service.app), await signed_in(service, bob, "bob"))
    )
    async with app.run_test(size=size, notifications=True) as pilot:
        await bobs_app_with_the_conflict(service, bob, pilot, app)
        assert any("1 new conflict" in n for n in notes(app))
        assert "⚠ 1 conflict (f7)" in bar(app)
        assert isinstance(app.screen, CaseListScreen)
        table = app.screen.query_one(DataTable)
        sync = "⚠ 1 conflict" if size[0] >= case_list.WIDE else "⚠ 1"  # symbol and count
        assert cells(table, 0)[table.get_column_index("sync")] == sync

        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, ConflictsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        reference, what, versions = cells(table, 0)
        assert reference == "REF-7"
        assert what == "⚠ to choose · Mapping entry\nDad drinks most evenings when…"
        assert versions == "service, rev 2, 25 Nov 09:30\nyou (bob), 25 Nov 09:30"

        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConflictResolveScreen)
        theirs_text, mine_text = version(screen, "theirs"), version(screen, "mine")
        assert "Theirs (t): The version the service kept (revision 2)" in theirs_text
        assert "on the service at Wed 25 Nov 09:30 (service clock)" in theirs_text
        assert f"≠ Text: {ALICES}" in theirs_text
        assert "Mine (m): Your change on this computer (bob)" in mine_text
        assert "written Wed 25 Nov 09:30 (this computer's clock)" in mine_text
        assert f"≠ Text: {BOBS}" in mine_text
        same = shown(screen.query_one("#version-same"))
        assert same.startswith("Same in both: Section: danger statement · Source: -")
        assert screen.has_class("-wide") is (size[0] >= 120)

        await pilot.press("b")
        await settle(app, pilot)
        assert any(
            n.startswith("Kept both") and "sent at the next sync" in n and "resolving" in n
            for n in notes(app)
        )
        assert isinstance(app.screen, ConflictsScreen)
        assert cells(app.screen.query_one(DataTable), 0)[1].startswith("… resolving · Mapping")
        assert "resolving (sent at the next sync)" in shown(
            app.screen.query_one("#conflict-status")
        )

        await pilot.press("f6")
        await settle(app, pilot)
        assert app.screen.query_one(DataTable).row_count == 0
        assert "No conflicts" in shown(app.screen.query_one("#conflict-status"))
        assert "conflict" not in bar(app).split(" · synced")[0]
        assert dangers(bob, family.assessment_id) == sorted([ALICES, BOBS])
        assert sync_local.list_conflicts(bob) == []

    async with engine_for(service, alice, "alice") as alices:
        assert (await alices.sync()).ok
    assert dangers(alice, family.assessment_id) == sorted([ALICES, BOBS])
    assert sync_local.list_conflicts(alice) == []


async def test_sign_off_is_refused_while_the_conflict_is_open_or_resolving(
    service: Service, alice: Store, bob: Store
) -> None:
    family = await both_edit_the_danger_statement(service, alice, bob)
    tokens = await signed_in(service, bob, "bob")
    app = sync_app(bob, Connector(httpx.ASGITransport(app=service.app), tokens))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await bobs_app_with_the_conflict(service, bob, pilot, app)
        screen = MappingScreen(family.assessment_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        worries = screen.query_one("#list-worries", OptionList)
        prompts = [str(getattr(o.prompt, "plain", o.prompt)) for o in worries.options]
        assert any(
            BOBS in p and "⚠ 2 versions: changed in two places; choose in Conflicts (f7)" in p
            for p in prompts
        )
        await pilot.press("f")
        await settle(app, pilot)
        summary = shown(screen.query_one("#mapping-summary", PlainText))
        assert "Not signed off: This assessment has open sync conflicts" in summary

        conflict = sync_local.list_conflicts(bob)[0]
        sync_local.keep_theirs(bob, conflict.conflict_id)  # chosen, not yet sent
        screen.reload()
        await settle(app, pilot)
        prompts = [str(getattr(o.prompt, "plain", o.prompt)) for o in worries.options]
        assert any("… 2 versions: your choice is sent at the next sync" in p for p in prompts)
        await pilot.press("f")
        await settle(app, pilot)
        assert "open sync conflicts" in shown(screen.query_one("#mapping-summary", PlainText))
        with bob.read() as session:
            assessment = session.get(Assessment, family.assessment_id)
        assert assessment is not None and assessment.status is AssessmentStatus.DRAFT

        await pilot.press("f6")  # the choice reaches the service: the conflict closes
        await settle(app, pilot)
        screen.reload()
        await settle(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        with bob.read() as session:
            assessment = session.get(Assessment, family.assessment_id)
        assert assessment is not None and assessment.status is AssessmentStatus.FINAL
        assert dangers(bob, family.assessment_id) == [ALICES]


async def test_edit_merged_shows_a_diff_refuses_control_characters_and_saves_the_text_written(
    service: Service, alice: Store, bob: Store
) -> None:
    family = await both_edit_the_danger_statement(service, alice, bob)
    tokens = await signed_in(service, bob, "bob")
    app = sync_app(bob, Connector(httpx.ASGITransport(app=service.app), tokens))
    merged = "Dad drinks most evenings with Kai alone; Kai has been hurt twice."
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await bobs_app_with_the_conflict(service, bob, pilot, app)
        await pilot.press("f7")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConflictResolveScreen)
        await pilot.press("e")
        await settle(app, pilot)
        diff = shown(screen.query_one(".merge-diff", Static))
        assert diff == (
            "Dad drinks[− most evenings] when he looks after [+Kai, and ]Kai "
            "[−alone.][+has been hurt twice.]"
        )
        field = screen.query_one("#merge-text", TextAreaField)
        assert field.text == ALICES  # the service's text, for the worker to edit
        assert app.focused is field.area

        app.post_message(events.Paste("\x1b[31m red"))  # an escape sequence in a paste
        await pilot.pause()
        assert "Left out a hidden control character" in shown(field.query_one(".field-problem"))
        assert field.text == ALICES + "[31m red"  # the rest of the paste is kept

        field.load("")
        await pilot.press(*merged)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any(n.startswith("Saved your merged version.") for n in notes(app))
        assert isinstance(app.screen, ConflictsScreen)
        await pilot.press("f6")
        await settle(app, pilot)
        assert sync_local.list_conflicts(bob) == []
        assert dangers(bob, family.assessment_id) == [merged]

    async with engine_for(service, alice, "alice") as alices:
        assert (await alices.sync()).ok
    assert dangers(alice, family.assessment_id) == [merged]


async def test_on_the_other_laptop_mine_is_labelled_as_the_colleagues_change(
    service: Service, alice: Store, bob: Store
) -> None:
    family = await both_edit_the_danger_statement(service, alice, bob)
    async with engine_for(service, bob, "bob") as bobs:
        assert (await bobs.sync()).conflicts == 1  # Bob's laptop, without the app
    tokens = await signed_in(service, alice, "alice")
    app = sync_app(alice, Connector(httpx.ASGITransport(app=service.app), tokens))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")  # Alice hears of the conflict
        await settle(app, pilot)
        assert "⚠ 1 conflict (f7)" in bar(app)
        await pilot.press("f7")
        await settle(app, pilot)
        versions = cells(app.screen.query_one(DataTable), 0)[2]
        assert versions.endswith("\nbob, other device, 25 Nov 09:30")
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConflictResolveScreen)
        mine = version(screen, "mine")
        assert "Mine (m): bob's change, from another device" in mine
        assert "(their computer's clock)" in mine and BOBS in mine
        assert ALICES in version(screen, "theirs")
        await pilot.press("t")  # keep the service's version (Alice's words)
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        assert app.screen.query_one(DataTable).row_count == 0
        assert sync_local.list_conflicts(alice) == []
        assert dangers(alice, family.assessment_id) == [ALICES]

    async with engine_for(service, bob, "bob") as bobs:
        assert (await bobs.sync()).ok
    assert dangers(bob, family.assessment_id) == [ALICES]
    assert sync_local.list_conflicts(bob) == []


async def test_keep_both_is_offered_only_where_a_second_item_makes_sense(
    service: Service, alice: Store, bob: Store
) -> None:
    family = await both_edit_the_danger_statement(service, alice, bob)
    async with engine_for(service, alice, "alice") as alices:
        cases.update_case(alice, family.case_id, family_name="Brackwell-Stone family")
        assert (await alices.sync()).ok
    cases.update_case(bob, family.case_id, family_name="Stone family")
    tokens = await signed_in(service, bob, "bob")
    app = sync_app(bob, Connector(httpx.ASGITransport(app=service.app), tokens))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await bobs_app_with_the_conflict(service, bob, pilot, app)
        assert "⚠ 2 conflicts (f7)" in bar(app)
        header = next(c for c in sync_local.list_conflicts(bob) if c.entity == "case")
        screen = ConflictResolveScreen(header.conflict_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        assert screen.query_one("#keep-both", Button).disabled
        await pilot.press("b")
        await settle(app, pilot)
        assert app.screen is screen
        assert "Keep both works for entries" in shown(screen.query_one("#resolve-message"))
        assert sync_local.get_conflict(bob, header.conflict_id).resolution_pending is False
        await pilot.press("m")
        await settle(app, pilot)
        assert sync_local.get_conflict(bob, header.conflict_id).resolution_pending is True


def test_the_diff_marks_words_only_one_side_has() -> None:
    diff = word_diff("Dad drinks when he looks after Kai.", "Dad drinks when Kai is alone.")
    assert diff.plain == "Dad drinks when [−he looks after Kai.][+Kai is alone.]"
