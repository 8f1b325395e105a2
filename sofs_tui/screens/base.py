"""What every screen that reads or writes the store shares: running units of work off the
event loop, and showing a failure in words without losing what is on screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import Screen
from textual.worker import Worker, get_current_worker

if TYPE_CHECKING:
    from sofs_tui.app import SofsApp
    from sofs_tui.store.store import Store

T = TypeVar("T")

#: Seconds between refreshes of the time left on a screen that shows deadlines: they move on
#: while it stays open (due soon, then overdue), and a worker may leave it open for hours.
TIME_LEFT_EVERY = 60.0


class StoreScreen(Screen[None]):
    """A screen whose data comes from the store. Case screens never allow text selection
    (no selection-to-clipboard of case data, SECURITY R15)."""

    ALLOW_SELECT = False
    #: The palette group for this screen's actions ("case", "mapping", "conference"…).
    PALETTE_GROUP = ""

    def on_mount(self) -> None:
        # Textual runs every class's on_mount: this one with the subclass's own.
        if type(self).refresh_time_left is not StoreScreen.refresh_time_left:
            self.set_interval(TIME_LEFT_EVERY, self._time_left_tick, name="time-left")

    def refresh_time_left(self) -> None:
        """Show the deadlines' time left (and their states) as of now. A screen that shows
        them overrides this; it is then called every TIME_LEFT_EVERY seconds while the screen
        is on top and the store open (a form over it, or the lock screen, waits)."""

    def _time_left_tick(self) -> None:
        store = self.sofs.store
        # On top only: `is_current` also holds under a modal (a form, help), which waits.
        if self.app.screen is self and store is not None and not store.is_locked:
            self.refresh_time_left()

    @property
    def sofs(self) -> SofsApp:
        from sofs_tui.app import SofsApp

        assert isinstance(self.app, SofsApp)
        return self.app

    @property
    def store(self) -> Store:
        return self.sofs.require_store()

    def run_store(
        self,
        work: Callable[[Store], T],
        on_done: Callable[[T], None] | None = None,
        *,
        on_error: Callable[[Exception], None] | None = None,
        description: str = "store",
    ) -> Worker[None]:
        """Run `work(store)` in a thread worker (one SQLAlchemy session per unit of work) and
        call `on_done(result)` back on the event loop. A `StoreError` is shown in words; the
        screen keeps its state (unsaved text stays in its fields)."""

        def task() -> None:
            try:
                result = work(self.store)
            except Exception as exc:  # shown to the user; never swallowed silently
                if not get_current_worker().is_cancelled:
                    self.app.call_from_thread(self._failed, exc, on_error)
                return
            if on_done is not None and not get_current_worker().is_cancelled:
                self.app.call_from_thread(on_done, result)

        return self.run_worker(
            task, thread=True, group="store", exit_on_error=False, description=description
        )

    def _failed(self, exc: Exception, on_error: Callable[[Exception], None] | None) -> None:
        from sofs_tui.store.errors import StoreError

        if on_error is not None:
            on_error(exc)
        if isinstance(exc, StoreError):
            self.notify(exc.user_message, severity="error", markup=False, timeout=10)
        else:
            self.sofs.report_incident(exc)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """Extra palette entries beyond this screen's bindings: (name, help, callback)."""
        return []
