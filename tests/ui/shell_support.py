"""Shared pieces for the app-shell tests: an enrolled store on disk, a hand-moved monotonic
clock, and what the worker can see on the top screen (widget text and the rendered lines)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Markdown, Static
from textual.worker import WorkerFailed

from sofs_tui.app import SofsApp
from sofs_tui.config import CouncilRules, Settings
from sofs_tui.paths import AppPaths, app_paths
from sofs_tui.store.keys import KdfParams

PASS = "correct horse battery"
SENTINEL = "Zqxjvortex"  # a family name no screen text could contain by chance


class FakeMonotonic:
    """The app's idle clock, moved by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.now += minutes * 60 + seconds


def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at the OWASP minimum for enrolment from the app (the key file records it)."""
    import sofs_tui.store.store as store_module

    monkeypatch.setattr(store_module, "KdfParams", lambda: KdfParams.FAST_FOR_TESTS)


def enrolled(data_dir: Path, families: Iterable[str] = (f"{SENTINEL} family",)) -> list[str]:
    """An enrolled store in `data_dir` (passphrase PASS) holding one case per family name;
    returns the case ids."""
    from sofs_tui.store.cases import create_case
    from sofs_tui.store.store import Actor, enrol

    store = enrol(data_dir, PASS, Actor("t.worker", "worker"), KdfParams.FAST_FOR_TESTS)
    try:
        return [
            create_case(store, reference=f"REF-{number:04d}", family_name=family).id
            for number, family in enumerate(families, start=1)
        ]
    finally:
        store.lock()


def shell_app(
    data_dir: Path,
    *,
    clock: FakeMonotonic | None = None,
    settings: Settings | None = None,
    idle_minutes: int = 5,
) -> tuple[SofsApp, AppPaths]:
    """The app as `sofs --data-dir data_dir` builds it, with an injected idle clock."""
    paths = app_paths(data_dir)
    settings = settings or Settings(council=CouncilRules(idle_lock_minutes=idle_minutes))
    app = SofsApp(
        None, settings, paths=paths, store_dir=paths.data_dir, clock=clock or FakeMonotonic()
    )
    return app, paths


async def settle(app: SofsApp, pilot: Pilot[None]) -> None:
    """Let workers finish and their results reach the screen (twice: results start work),
    and a store opening behind its first page finish opening (`SofsApp.store_unlocked`)."""
    for _ in range(500):
        if not (app.store_opening and app._to_open is None):
            break
        await pilot.pause(0.01)
    for _ in range(3):
        # A worker may fail on purpose (e.g. reading while locked); the app carries on.
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def unlock_with(app: SofsApp, pilot: Pilot[None], passphrase: str = PASS) -> None:
    await settle(app, pilot)
    await pilot.press(*passphrase, "enter")
    await settle(app, pilot)


def top(app: SofsApp) -> Screen[Any]:
    """The top screen, read afresh (an assert on `app.screen` would narrow its type)."""
    return app.screen


def focused(app: SofsApp) -> Widget | None:
    return app.focused


def visible_text(app: SofsApp) -> str:
    """Everything the top screen holds as text (its widgets) and shows (its rendered lines)."""
    screen = app.screen
    parts = [strip.text for strip in screen._compositor.render_strips()]
    for widget in screen.walk_children(with_self=False):
        if isinstance(widget, Input):
            parts += [widget.value, widget.placeholder]
        elif isinstance(widget, DataTable):
            parts += [
                str(cell) for row in range(widget.row_count) for cell in widget.get_row_at(row)
            ]
        elif isinstance(widget, Markdown):
            parts.append(widget.source)
        elif isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)
