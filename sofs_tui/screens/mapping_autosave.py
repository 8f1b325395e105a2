"""Autosave for the mapping's forms: every change is saved shortly after the last keystroke or
when the worker leaves a field, and "Saved" is shown only once the commit has returned.

A form subclasses `AutosaveForm` and says three things: what is on screen (`snapshot`), why it
may not be saved yet (`problem`) and the unit of work that saves it (`unit_of_work`). Saves run
one at a time; a change made while one is in flight is saved straight after it. A failed save
keeps the text on screen, says why, and is tried again on the next change or on ctrl+s.
"""

from __future__ import annotations

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
        snapshot = self.snapshot()
        work = self.unit_of_work()
        self._saving = True
        self._again = False
        self._set_status("Saving…", "-saving")
        self._worker = self.host.run_store(
            work,
            lambda saved: self._save_done(snapshot, saved),
            on_error=self._save_failed,
            description="autosave",
        )

    def _save_done(self, snapshot: Snapshot, saved: Saved) -> None:
        self.record_id, moment = saved
        self._saving = False
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
        self.on_saved()
        if self._dirty and (self._again or self._timer is None):
            self.save_now()

    def _save_failed(self, exc: Exception) -> None:
        from sofs_tui.store.errors import StoreError

        self._saving = False
        self._again = False
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
