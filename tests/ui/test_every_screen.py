"""Every screen in `sofs_tui.screens` opens at 80×24 and at 120×40 without an error, with its
stylesheet loaded, its help written and its keys named for the keymap.

The screens are found by walking the package, so a new screen is covered the day it is added;
its constructor arguments are built from a small demo caseload by parameter name. A screen
that asks for something this file does not know how to build fails here with its name.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from sqlmodel import col, select
from textual.binding import Binding
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import WorkerState

import sofs_tui.screens
from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.calendar import default_calendar
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.conference_actions import details_form
from sofs_tui.screens.conference_edit import FormSpec
from sofs_tui.screens.team_period import Period
from sofs_tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen
from sofs_tui.store.conference_views import ConferenceView, conference_view
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Attendee,
    ChildOutcome,
    Conference,
    Entry,
    LocalConflict,
    Report,
)
from tests.ui.shell_support import FakeMonotonic

SIZES = [(80, 24), (120, 40)]
FORM_MODULES = ("conference_actions", "conference_report_forms")


def screen_classes() -> list[type[Screen[Any]]]:
    """Every Screen subclass defined in a module of `sofs_tui.screens`."""
    found: dict[str, type[Screen[Any]]] = {}
    for module_info in pkgutil.iter_modules(sofs_tui.screens.__path__):
        module = importlib.import_module(f"sofs_tui.screens.{module_info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found[cls.__qualname__] = cls
    return [found[name] for name in sorted(found)]


ALL_SCREENS = screen_classes()
#: A class another screen builds on (StoreScreen, FormScreen…) is covered through them.
BASES = {
    cls for cls in ALL_SCREENS if any(o is not cls and issubclass(o, cls) for o in ALL_SCREENS)
}
CONCRETE = [cls for cls in ALL_SCREENS if cls not in BASES]


# --- a small demo caseload, and the arguments each screen asks for ------------------------------


@dataclass(frozen=True)
class Demo:
    """Ids of one demo conference with reports, invitees and outcomes, its case and mapping,
    and a sync conflict on one of the mapping's entries."""

    case_id: str
    assessment_id: str
    conference_id: str
    conflict_id: str


def demo_caseload(store: Store, cases: int = 3) -> Demo:
    """Fill `store` with a few invented cases; returns a conference that has everything."""
    fill_demo_caseload(store, cases, seed=11)
    with store.read() as session:
        conference = session.exec(
            select(Conference)
            .where(col(Conference.id).in_(select(Report.conference_id)))
            .where(col(Conference.id).in_(select(Attendee.conference_id)))
            .where(col(Conference.id).in_(select(ChildOutcome.conference_id)))
            .order_by(col(Conference.starts_at))
        ).first()
        assert conference is not None, "the demo caseload has no held conference with reports"
        assessment = session.exec(
            select(Assessment).where(Assessment.case_id == conference.case_id)
        ).first()
        assert assessment is not None
        entry = session.exec(select(Entry).where(Entry.assessment_id == assessment.id)).first()
        assert entry is not None
    with store.write() as session:
        # As the sync pull mirrors one: the service's words and this device's, both kept.
        conflict = LocalConflict(
            conflict_id=str(uuid.UUID(int=1)),
            entity="entry",
            record_id=entry.id,
            case_id=conference.case_id,
            theirs=json.dumps({"text": "Their words", "source": "Gran"}),
            mine=json.dumps({"text": "My words", "source": "Gran"}),
            theirs_rev=2,
            current_rev=2,
            base_rev=1,
            author="a.colleague",
            noticed_at=store.now(),
        )
        session.add(conflict)
    return Demo(conference.case_id, assessment.id, conference.id, conflict.conflict_id)


def view_of(store: Store, conference_id: str) -> ConferenceView:
    council = Settings().council
    return conference_view(
        store,
        conference_id,
        rules=council.deadlines,
        calendar=default_calendar(),
        due_soon=timedelta(hours=council.due_soon_hours),
    )


def argument_for(name: str, app: SofsApp | None, store: Store, demo: Demo) -> Any:
    """What a screen's (or a form builder's) parameter called `name` gets."""
    view = cache(lambda: view_of(store, demo.conference_id))
    today = store.now().date()
    builders: dict[str, Callable[[], Any]] = {
        "case_id": lambda: demo.case_id,
        "assessment_id": lambda: demo.assessment_id,
        "conference_id": lambda: demo.conference_id,
        "conflict_id": lambda: demo.conflict_id,
        "reason": lambda: "Locked.",
        "question": lambda: "Remove this person from the case?",
        "screen": lambda: app.screen if app is not None else None,
        "choices": lambda: [("one", Content("The first goal")), ("two", Content("The second"))],
        "spec": lambda: details_form(view()),
        "clock": lambda: store.now,
        "view": view,
        "report": lambda: view().reports[0],
        "invitee": lambda: view().invitees[0],
        "outcome": lambda: view().outcomes[0],
        "task": lambda: None,
        "author": lambda: store.actor.username,
        "lead": lambda: store.actor.username,
        "username": lambda: store.actor.username,
        "url": lambda: "https://sofs.council.example",
        "period": lambda: Period(today.replace(day=1) - timedelta(days=90), today, today),
        "title": lambda: "Export the summary for the family",
        "what": lambda: "summary for the family",
        "formats": lambda: ("text", "html", "pdf"),
        "make": lambda: lambda _store, _fmt: None,
    }
    if name not in builders:
        pytest.fail(f"test_every_screen does not know how to build an argument called {name!r}")
    return builders[name]()


def build(cls: type[Screen[Any]], app: SofsApp, store: Store, demo: Demo) -> Screen[Any]:
    """`cls` constructed with an argument for every parameter without a default."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in inspect.signature(cls.__init__).parameters.values():
        if parameter.name == "self" or parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = argument_for(parameter.name, app, store, demo)
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs)


def form_builders() -> list[tuple[str, Callable[..., FormSpec]]]:
    """Every function of the conference form modules that returns a FormSpec."""
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(f"sofs_tui.screens.{name}")
        for function_name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and (
                inspect.signature(function).return_annotation in ("FormSpec", FormSpec)
            ):
                found.append((f"{name}.{function_name}", function))
    return sorted(found, key=lambda item: item[0])


def form_arguments(function: Callable[..., FormSpec], store: Store, demo: Demo) -> list[Any]:
    parameters = inspect.signature(function).parameters.values()
    return [argument_for(p.name, None, store, demo) for p in parameters]


# --- checks -------------------------------------------------------------------------------------


async def settle(app: SofsApp, pilot: Pilot[Any]) -> None:
    """Let workers finish and their results reach the screen; a result can start more work,
    so go round again while any worker is still going. (Shared by the cross-screen tests.)"""
    for _ in range(5):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            return


async def drawn(pilot: Pilot[Any]) -> None:
    """Wait until the screen has nothing left to lay out or paint. Pausing alone is not
    enough on a busy machine: Pilot waits for the process to look idle, and a DataTable
    measures its columns only when its own queue runs dry. (Shared; the snapshots need it.)"""
    screen = pilot.app.screen
    for _ in range(100):
        tables = list(screen.query(DataTable))
        pending = (
            screen._layout_required
            or bool(screen._dirty_widgets)
            or any(t._require_update_dimensions or t._updated_cells for t in tables)
            or any(w._layout_required or w._repaint_required for w in screen.walk_children())
        )
        if not pending:
            break
        await pilot.pause()
    else:
        raise AssertionError("the screen never finished drawing")
    # A DataTable keeps lines drawn before it measured its columns (textual#4470: columns
    # at their header widths until the cursor moves); draw the settled table afresh.
    for table in screen.query(DataTable):
        table._clear_caches()
        table.refresh()
    await pilot.pause()


def problems_reported(app: SofsApp) -> list[str]:
    """Error notifications and incident ids: what a worker would see when something broke."""
    return [
        str(n.message)
        for n in app._notifications
        if n.severity == "error" or "incident" in str(n.message)
    ]


def assert_css_loaded(app: SofsApp, screen: Screen[Any]) -> None:
    """The screen's TCSS files are in the stylesheet, and one of their rules is for it."""
    assert screen.css_path, f"{type(screen).__name__} has no CSS_PATH"
    for path in screen.css_path:
        assert path.is_file(), path
        assert app.stylesheet.has_source(str(path), ""), f"{path} not loaded"
    names = set(screen._css_type_names)
    assert any(
        selector_set.selectors[0].name in names
        for rule in app.stylesheet.rules
        for selector_set in rule.selector_set
    ), f"no rule in the stylesheet is for {type(screen).__name__}"


def test_the_screens_are_found_by_walking_the_package() -> None:
    names = {cls.__name__ for cls in CONCRETE}
    # A few that must be there, so an empty walk cannot pass silently.
    assert {"CaseListScreen", "CaseScreen", "MappingScreen", "ConferenceScreen"} <= names
    assert {"LockScreen", "HelpScreen", "EnrolScreen", "DeadlinesScreen"} <= names
    assert StoreScreen in BASES
    assert len(CONCRETE) >= 15


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen_opens_with_its_css_and_without_an_error(
    store: Store, size: tuple[int, int]
) -> None:
    """One app per size; each screen in turn is pushed over the caseload, checked, popped."""
    demo = demo_caseload(store)
    app = SofsApp(lambda: store, Settings(), clock=FakeMonotonic())
    failures: list[str] = []
    opened: list[str] = []
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        caseload = app.screen
        for cls in CONCRETE:
            name = cls.__name__
            opened.append(name)
            if cls is TooSmallScreen:
                # The app shows it itself, below 80×24, and takes it away above.
                await pilot.resize_terminal(MIN_WIDTH - 1, MIN_HEIGHT - 1)
                await settle(app, pilot)
                screen = app.screen
                expected = (MIN_WIDTH - 1, MIN_HEIGHT - 1)
            else:
                screen = build(cls, app, store, demo)
                await app.push_screen(screen)
                await settle(app, pilot)
                expected = size
            if not isinstance(app.screen, cls) or app.screen is not screen:
                failures.append(f"{name}: did not stay on top ({type(app.screen).__name__} is)")
            elif not (screen.is_mounted and screen.size == expected):
                failures.append(f"{name}: not laid out at {expected}")
            try:
                assert_css_loaded(app, screen)
            except AssertionError as exc:
                failures.append(f"{name}: {exc}")
            if problems := problems_reported(app):
                failures.append(f"{name}: {problems}")
            app.clear_notifications()
            if cls is TooSmallScreen:
                await pilot.resize_terminal(*size)
            while app.screen is not caseload and len(app.screen_stack) > 1:
                await app.pop_screen()
            await pilot.pause()
        assert app.crash_incident is None and app.is_running, f"crashed after {opened[-1:]}"
    assert opened == [cls.__name__ for cls in CONCRETE]
    assert failures == []


async def test_every_conference_form_opens_at_80x24(store: Store) -> None:
    """Each form behind a conference action, with every field on the form."""
    from sofs_tui.screens.conference_edit import ConferenceEditScreen

    demo = demo_caseload(store)
    app = SofsApp(lambda: store, Settings(), clock=FakeMonotonic())
    failures: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for name, builder in form_builders():
            spec = builder(*form_arguments(builder, store, demo))
            screen = ConferenceEditScreen(spec, clock=store.now)
            await app.push_screen(screen)
            await settle(app, pilot)
            if app.screen is not screen or problems_reported(app):
                failures.append(f"{name}: {problems_reported(app)}")
            missing = [f.name for f in spec.fields if not screen.query(f"#f-{f.name}")]
            if missing:
                failures.append(f"{name}: fields not on the form: {missing}")
            await app.pop_screen()
            await pilot.pause()
        assert app.crash_incident is None and app.is_running
    assert failures == []


def test_there_is_a_form_builder_for_each_conference_action() -> None:
    names = {n.split(".")[1] for n, _ in form_builders()}
    assert {"share_form", "qau_form", "add_report_form", "details_form"} <= names


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_every_screen_has_help_text(cls: type[Screen[Any]]) -> None:
    help_text = getattr(cls, "HELP", "")
    assert isinstance(help_text, str) and len(help_text.split()) >= 5, cls.__name__


@pytest.mark.parametrize(
    "cls",
    [c for c in CONCRETE if issubclass(c, StoreScreen)],
    ids=lambda c: c.__name__,
)
def test_every_store_screen_has_a_palette_group(cls: type[StoreScreen]) -> None:
    assert cls.PALETTE_GROUP, f"{cls.__name__} has no PALETTE_GROUP: its actions miss ctrl+p"
    assert cls.PALETTE_GROUP.islower() and " " not in cls.PALETTE_GROUP


@pytest.mark.parametrize("cls", ALL_SCREENS, ids=lambda c: c.__name__)
def test_every_described_binding_has_an_id_for_the_keymap(cls: type[Screen[Any]]) -> None:
    """Each key sofs declares (on the screen or a sofs base) that says what it does has an id,
    so a user keymap can move it and the palette can list it."""
    missing = []
    for owner in cls.__mro__:
        if not owner.__module__.startswith("sofs_tui"):
            continue
        for binding in Binding.make_bindings(owner.__dict__.get("BINDINGS", [])):
            if binding.description and not binding.id:
                missing.append(f"{owner.__name__}: {binding.key} ({binding.description})")
    assert missing == []
