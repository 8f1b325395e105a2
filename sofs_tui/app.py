"""SofsApp: wires the screens, global keys, the palette and themes. Business rules live in
`domain`, SQL in `store`; screens run units of work in thread workers."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

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
        if self.settings.keymap:
            self.update_keymap(dict(self.settings.keymap))
        self.run_worker(self._open, thread=True, group="store", exit_on_error=False)

    def _open(self) -> None:
        """Open the store off the event loop, then show the caseload."""
        try:
            self.require_store()
        except Exception as exc:
            self.call_from_thread(self._open_failed, exc)
            return
        self.call_from_thread(self.show_caseload)

    def _open_failed(self, exc: Exception) -> None:
        from sofs_tui.store.errors import StoreError

        if isinstance(exc, StoreError):
            self.notify(exc.user_message, severity="error", markup=False, timeout=30)
        else:
            self.report_incident(exc)

    def show_caseload(self) -> None:
        from sofs_tui.screens.case_list import CaseListScreen

        self.push_screen(CaseListScreen())

    def require_store(self) -> Store:
        """The unlocked store (opened on first use); raises `StoreLocked` when locked."""
        from sofs_tui.store.errors import StoreLocked

        if self.store is None:
            self.store = self._open_store()
        if self.store.is_locked:
            raise StoreLocked()
        return self.store

    def report_incident(self, exc: BaseException) -> str:
        """Show an unexpected error as an incident id only: no text, names or locals from the
        case reach the screen (SECURITY R16). Returns the id."""
        incident = uuid.uuid4().hex[:8].upper()
        self.notify(
            f"Something went wrong (incident {incident}). Your saved work is safe. "
            "Tell IT the incident number.",
            severity="error",
            markup=False,
            timeout=15,
        )
        return incident

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every action of the current screen as "group: action", and the
        app's own commands; the screenshot command is removed (no case data to disk)."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        yield from _screen_commands(screen)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Disabled: a screenshot would write case data to disk unencrypted (SECURITY R15)."""
        self.notify("Screenshots are turned off to protect case data.", markup=False)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.lock()


def _screen_commands(screen: Screen[object]) -> Iterable[SystemCommand]:
    group = getattr(screen, "PALETTE_GROUP", "")
    if not group:
        return
    for binding in getattr(screen, "BINDINGS", []):
        if isinstance(binding, Binding) and binding.id and binding.description:
            action = binding.action

            async def run(action: str = action) -> None:
                await screen.run_action(action)

            yield SystemCommand(
                f"{group}: {binding.description.lower()}",
                binding.tooltip or binding.description,
                run,
            )
    extra = getattr(screen, "palette_commands", None)
    if extra is not None:
        for name, help_text, callback in extra():
            yield SystemCommand(f"{group}: {name}", help_text, callback)


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
        from sofs_tui.cli import DEMO_CASES
        from sofs_tui.store.demo import fill_demo_caseload
        from sofs_tui.store.keys import DataKey
        from sofs_tui.store.store import DB_NAME, Actor, open_with_key

        # The key lives only in memory: the demo store is unreadable once the app exits.
        store = open_with_key(
            demo_dir / DB_NAME, DataKey.generate(), Actor("demo.manager", "manager"), create=True
        )
        fill_demo_caseload(store, DEMO_CASES)
        return store

    return open_demo
