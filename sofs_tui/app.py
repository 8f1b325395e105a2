"""SofsApp: wires the screens, global keys and themes. Business rules live elsewhere."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from sofs_tui.paths import STYLES, AppPaths

if TYPE_CHECKING:
    from sofs_tui.config import Settings
    from sofs_tui.store.store import Store


class SofsApp(App[None]):
    """The app a social worker lives in. `open_store` runs in a worker after the first frame,
    so the heavy database imports never delay the screen."""

    TITLE = "sofs"
    SUB_TITLE = "Signs of Safety"
    CSS_PATH = STYLES / "base.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, open_store: Callable[[], Store], settings: Settings) -> None:
        super().__init__()
        self._open_store = open_store
        self.settings = settings
        self.store: Store | None = None

    def on_mount(self) -> None:
        from sofs_tui.screens.case_list import CaseListScreen

        self.push_screen(CaseListScreen(self._open_store, self.settings))

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.lock()


def run_app(store: Store | None, paths: AppPaths, *, demo: bool) -> int:
    """Run the app on `store`, or on a throwaway demo store with an in-memory key."""
    from sofs_tui.config import load_settings

    settings = load_settings(paths.settings_file)
    demo_dir: Path | None = None
    if demo:
        demo_dir = Path(tempfile.mkdtemp(prefix="sofs-demo-"))
        open_store = _demo_opener(demo_dir)
    else:
        assert store is not None
        unlocked = store

        def open_store() -> Store:
            return unlocked

    app = SofsApp(open_store, settings)
    try:
        app.run()
    finally:
        if app.store is not None:
            app.store.lock()
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)
    return app.return_code or 0


def _demo_opener(demo_dir: Path) -> Callable[[], Store]:
    def open_demo() -> Store:
        from sofs_tui.store.demo import fill_demo_caseload
        from sofs_tui.store.keys import DataKey
        from sofs_tui.store.store import DB_NAME, Actor, open_with_key

        # The key lives only in memory: the demo store is unreadable once the app exits.
        store = open_with_key(
            demo_dir / DB_NAME, DataKey.generate(), Actor("demo.manager", "manager"), create=True
        )
        from sofs_tui.cli import DEMO_CASES

        fill_demo_caseload(store, DEMO_CASES)
        return store

    return open_demo
