"""Autosave for the mapping's forms: every change is saved shortly after the last keystroke or
when the worker leaves a field, and "Saved" is shown only once the commit has returned.

A form subclasses `AutosaveForm` and says three things: what is on screen (`snapshot`), why it
may not be saved yet (`problem`) and the unit of work that saves it (`unit_of_work`). Saves run
one at a time; a change made while one is in flight is saved straight after it. A failed save
keeps the text on screen, says why, and is tried again on the next change or on ctrl+s.

When the app closes (ctrl+q, the terminal closed, SIGTERM) the guard calls `save_pending_now`
on every open form before it locks the store: what was typed in the last moment is committed
there, synchronously, and the pause's timer, if it fires at all, finds nothing left to save.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.worker import Worker

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.screens.base import StoreScreen
    from sofs_tui.store.store import Store

#: Seconds after the last keystroke before a change is saved (the promise is "within a second").
AUTOSAVE_DELAY = 0.5

Snapshot = tuple[Hashable, ...]
#: What a save returns: the record's id (new records get theirs here) and its commit time.
Saved = tuple[str, datetime]


def saved_words(moment: datetime) -> str:
    return f"✓ Saved at {moment.astimezone(COUNCIL_TZ).strftime('%H:%M:%S')}"


class _Flight:
    """One save running in a worker's thread: what it saves, and once it has committed (set
    from that thread), what it returned. `settled` once the form has taken its result (from
    the worker's callback, or from `save_pending_now`, which may not wait for the callback)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.done = threading.Event()
        self.saved: Saved | None = None
        self.settled = False


class AutosaveForm(VerticalScroll):
    """A form that saves itself. Subclasses build the fields and implement the three hooks."""

    DELAY: ClassVar[float] = AUTOSAVE_DELAY

    def __init__(self, host: StoreScreen, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="autosave-form")
        self.host = host
        self.read_only = False
        self.read_only_reason = ""
        #: The record this form edits; None until a new record's first save returns.
        self.record_id: str | None = None
        self._saved: Snapshot | None = None
        self._dirty = False
        self._saving = False
        self._again = False
        self._failed = False
        self._timer: Timer | None = None
        self._worker: Worker[None] | None = None
        self._flight: _Flight | None = None
        #: The save of what is on screen now, kept ready for a last-moment save on unmount.
        self._pending: Callable[[Store], Saved] | None = None
        #: Called on the event loop after every successful save (the screen reloads its lists).
        self.on_saved: Callable[[], None] = lambda: None

    # --- what a form provides ----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The values on screen, comparable with the last saved ones."""
        raise NotImplementedError

    def problem(self) -> str | None:
        """Why the values may not be saved as they are (None when they may)."""
        raise NotImplementedError

    def unit_of_work(self) -> Callable[[Store], Saved]:
        """The save, built from the values on screen now (`self.record_id` is None for a new
        record); it returns the saved record's id and its commit time."""
        raise NotImplementedError

    # --- state -------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True while something on screen is not yet committed."""
        return self._dirty or self._saving

    @property
    def status(self) -> PlainText:
        return self.query_one(".save-status", PlainText)

    def status_text(self) -> str:
        return str(self.status.render())

    def _set_status(self, text: str, state: str) -> None:
        self.status.show(text)
        for name in ("-saving", "-saved", "-unsaved", "-read-only"):
            self.status.set_class(name == state, name)

    def loaded(self, *, hint: str = "") -> None:
        """Call after filling the fields from the store: what is on screen is what is saved."""
        self._cancel_timer()
        self._saved = self.snapshot()
        self._dirty = self._failed = self._again = False
        self._pending = None
        if self.read_only:
            self._set_status(f"Read-only: {self.read_only_reason}", "-read-only")
        else:
            self._set_status(hint, "")

    # --- the autosave itself -----------------------------------------------------------------

    def note_change(self) -> None:
        """A field changed: save a moment after the worker stops typing."""
        if self.read_only or self._saved is None:
            return
        if self.snapshot() == self._saved and not self._failed:
            self._dirty = False
            self._cancel_timer()
            return
        self._dirty = True
        self._pending = self.unit_of_work() if self.problem() is None else None
        if not self._saving:
            self._set_status("… Not saved yet (saves when you pause)", "-unsaved")
        self._cancel_timer()
        self._timer = self.set_timer(self.DELAY, self.save_now, name="autosave")

    def save_now(self) -> None:
        """Save at once (leaving a field, ctrl+s, or the pause after typing)."""
        self._cancel_timer()
        if self.read_only or not self._dirty:
            return
        if self._saving:
            self._again = True
            return
        problem = self.problem()
        if problem is not None:
            self._set_status(f"✗ Not saved: {problem}", "-unsaved")
            return
        flight = self._flight = _Flight(self.snapshot())
        work = self.unit_of_work()

        def save(store: Store) -> Saved:
            try:
                saved = flight.saved = work(store)
            finally:
                flight.done.set()
            return saved

        self._saving = True
        self._again = False
        self._set_status("Saving…", "-saving")
        self._worker = self.host.run_store(
            save,
            lambda saved: self._save_done(flight, saved),
            on_error=lambda exc: self._save_failed(flight, exc),
            description="autosave",
        )

    def _committed(self, snapshot: Snapshot, saved: Saved) -> None:
        """A save of `snapshot` has committed: what is on screen now is saved, or not yet."""
        self.record_id, moment = saved
        self._failed = False
        self._saved = snapshot
        if self.snapshot() == snapshot:
            self._dirty = False
            self._pending = None
            self._set_status(saved_words(moment), "-saved")
        else:
            self._dirty = True
            self._pending = self.unit_of_work() if self.problem() is None else None
            self._set_status("… Not saved yet (saves when you pause)", "-unsaved")

    def _save_done(self, flight: _Flight, saved: Saved) -> None:
        if flight.settled:  # save_pending_now took this result already
            return
        flight.settled = True
        self._saving = False
        self._committed(flight.snapshot, saved)
        self.on_saved()
        if self._dirty and (self._again or self._timer is None):
            self.save_now()

    def _save_failed(self, flight: _Flight, exc: Exception) -> None:
        if flight.settled:
            return
        flight.settled = True
        self._saving = False
        self._again = False
        self._show_failure(exc)

    def _show_failure(self, exc: Exception) -> None:
        """A save failed: the text stays on screen as unsaved, and the status says why."""
        from sofs_tui.store.errors import StoreError

        self._failed = True
        self._dirty = True
        message = (
            exc.user_message
            if isinstance(exc, StoreError)
            else "Something went wrong; your text is still here. Press ctrl+s to try again."
        )
        self._set_status(f"✗ Not saved: {message}", "-unsaved")

    async def flush(self) -> bool:
        """Save anything unsaved and wait for the commit. True when nothing is left unsaved."""
        if self.read_only:
            return True
        self._cancel_timer()
        attempts = 0
        while True:
            if self._saving and self._worker is not None:
                await self._worker.wait()
                if self._failed:
                    break
                continue
            if not self._dirty or attempts >= 2:
                break
            attempts += 1
            self.save_now()
            if not self._saving:
                break  # the form says why it cannot be saved yet
        return not self.dirty

    def discard(self) -> None:
        """Forget unsaved changes (the worker chose to leave without saving)."""
        self._cancel_timer()
        self._dirty = False
        self._failed = False
        self._pending = None

    def save_pending_now(self, deadline: float) -> None:
        """The app is closing (ctrl+q, hang-up): commit what is on screen and not yet saved,
        now, on the event loop, in one transaction through the form's own unit of work, before
        the store is locked. A save already running is waited for first (until `deadline`, a
        `time.monotonic()` value), so a new record is never created twice; if it is still
        running then, it is left to finish on its own, and what was typed after it started is
        not saved (the app must not hang). Nothing is saved twice: the pause's timer is
        stopped, and a running save's callback finds its result taken. The lists are not
        reloaded (the app is going); a failure is reported as an incident."""
        self._cancel_timer()
        if self.read_only:
            return
        flight = self._flight if self._saving else None
        if flight is not None:
            if not flight.done.wait(max(0.0, deadline - time.monotonic())):
                return
            flight.settled = True
            self._saving = False
            if flight.saved is not None:
                self._committed(flight.snapshot, flight.saved)
        if not self._dirty or self.problem() is not None:
            return
        snapshot, work = self.snapshot(), self.unit_of_work()
        # Whatever happens now, the way out must not try this save a second time.
        self._pending = None
        self._dirty = False
        try:
            saved = work(self.host.sofs.require_store())
        except Exception as exc:
            self._show_failure(exc)
            self.host.sofs.report_incident(exc)
            return
        self._committed(snapshot, saved)

    def on_unmount(self) -> None:
        """The app is closing under an open form (ctrl+q, hang-up): what was typed in the last
        moment, before the pause, is saved here on the way out. Nothing can be shown any more,
        so a failure is reported as an incident (no text in it)."""
        self._cancel_timer()
        if self._pending is None or not self._dirty or self._saving or self.read_only:
            return
        work, self._pending = self._pending, None
        try:
            work(self.host.sofs.require_store())
        except Exception as exc:
            self.host.sofs.report_incident(exc)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    @on(events.DescendantBlur)
    def _left_a_field(self, event: events.DescendantBlur) -> None:
        # Leaving a field saves it, without waiting for the pause.
        if self._dirty:
            self.save_now()
