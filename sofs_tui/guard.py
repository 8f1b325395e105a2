"""What keeps case data off an unattended, closed, too small or crashed terminal.

`GuardedApp` is SofsApp's base: the idle lock and lock-now (SECURITY R10, R11), closing the
store on hang-up, the too-small message, and crashes reported as an incident id only (R16).
Before the store closes with the app (ctrl+q, hang-up, SIGTERM), every open form that holds
typing not yet saved (`SavesPending`) saves it.

While the lock screen (or the too-small screen) is up, a screen change asked for underneath
(a worker finishing, a timer) must not appear above it, so it is held and replayed, in order,
once nothing blocks any more. The screens under the lock screen are never destroyed: the
worker comes back to exactly what they left, unsaved text included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rich.text import Text
from textual import events
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.command import CommandPalette
from textual.geometry import Size
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import AwaitMount

from sofs_tui.logging_setup import crash_message, log_event, log_incident
from sofs_tui.screens.help import HelpScreen
from sofs_tui.screens.lock import LockScreen
from sofs_tui.screens.too_small import TooSmallScreen, too_small

if TYPE_CHECKING:
    from sqlalchemy.pool import Pool
    from textual.worker import Worker

    from sofs_tui.config import Settings
    from sofs_tui.store.store import Store

IDLE_CHECK_SECONDS = 5.0
#: Screens that show no case data and may sit above the lock or too-small screen.
SAFE_ON_TOP = (LockScreen, TooSmallScreen, HelpScreen, CommandPalette)
_SIGNAL_EXIT_CODES = {"SIGHUP": 129, "SIGTERM": 143}
#: After a hang-up, how long Textual may take to unwind before the process ends regardless.
EXIT_GRACE_SECONDS = 3.0
#: The most the last saves before closing may wait for saves already running.
PENDING_SAVE_SECONDS = 1.0
#: The most a hang-up or quit waits for a store still opening behind its first page (before
#: the EXIT_GRACE_SECONDS of closing start).
OPENING_WAIT_SECONDS = 1.5


@runtime_checkable
class SavesPending(Protocol):
    """A screen or widget holding changes not yet saved (an autosave waiting for the pause after
    typing). The app calls it before the store closes with the app."""

    def save_pending_now(self, deadline: float) -> None:
        """Save what is pending now, synchronously, each save one transaction; wait for saves
        already running no later than `deadline` (a `time.monotonic()` value)."""


@runtime_checkable
class HoldsUnsavedForm(Protocol):
    """A form screen that saves when the worker saves it (`screens.unsaved`); ctrl+q asks
    before losing what it holds."""

    def unsaved_form(self) -> str | None:
        """The form's title while it holds changes not yet saved, else None."""


@runtime_checkable
class WarnsBeforeQuitting(Protocol):
    """A screen hiding the worker's screens (the lock screen, the too-small message) that can
    say a form would be lost by quitting."""

    def warn_unsaved_form(self, message: str) -> None: ...

    def shows_unsaved_form_warning(self) -> bool:
        """The warning is still on screen (a later message may have replaced it)."""


UNSAVED_FORM_WARNING = (
    "A form holds changes not yet saved. ctrl+q again quits without them; "
    "to keep them, go back to the form and save it with ctrl+s."
)


class GuardedApp(App[None]):
    """An app over one store that locks, holds screen changes while locked, and crashes
    quietly. Subclasses set `settings` and `store`, and call `start_guards()` on mount."""

    settings: Settings

    def __init__(self, *, clock: Callable[[], float], idle_check_seconds: float) -> None:
        super().__init__()
        self.store: Store | None = None
        self._clock = clock
        self._idle_check_seconds = idle_check_seconds
        self._last_activity = clock()
        self._locked = False
        self._too_small = False
        self._held: list[Callable[[], object]] = []
        #: True while locked: no sync starts (app_sync checks it before each one).
        self.sync_paused = False
        #: Published with True on lock and False on unlock (e.g. to retry an autosave).
        self.lock_changed_signal: Signal[bool] = Signal(self, "lock-changed")
        #: The incident id of the crash that stopped the app, if one did.
        self.crash_incident: str | None = None
        #: ctrl+q's question while a form holds unsaved changes (a second ctrl+q quits).
        self._quit_question: Screen[Any] | None = None
        #: The lock screen or too-small message that said a form would be lost (see action_quit).
        self._quit_warned_on: Screen[Any] | None = None

    def start_guards(self) -> None:
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.set_interval(self._idle_check_seconds, self.check_idle_lock, name="idle-lock")
        self._install_signal_handlers()
        self._update_too_small()

    def call_from_worker(self, callback: Callable[..., object], *args: object) -> None:
        """From a thread worker: run `callback(*args)` on the event loop. If it raises, that is
        a bug, and the app stops with an incident id (a worker would swallow it silently and
        leave the worker looking at a blank screen)."""
        try:
            self.call_from_thread(callback, *args)
        except Exception as exc:
            self.call_from_thread(self._handle_exception, exc)

    def note_activity(self) -> None:
        self._last_activity = self._clock()

    # --- locking ------------------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self._locked

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent, events.Paste)):
            self.note_activity()
        await super().on_event(event)

    def check_idle_lock(self) -> None:
        """Lock when nothing was typed or clicked for the council's idle minutes."""
        minutes = self.settings.council.idle_lock_minutes
        if self._clock() - self._last_activity >= minutes * 60:
            plural = "" if minutes == 1 else "s"
            self.lock(f"Locked after {minutes} minute{plural} without use.", cause="idle")

    @property
    def store_opening(self) -> bool:
        """Unlocked, the store still opening (its first page may be on screen already)."""
        return False

    def _can_lock(self) -> bool:
        if self._locked:
            return False
        return (self.store is not None and not self.store.is_locked) or self.store_opening

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lock":  # nothing to lock before the store is unlocked, or once locked
            return self._can_lock()
        return super().check_action(action, parameters)

    def action_lock(self) -> None:
        self.lock("Locked.", cause="key")

    def lock(self, reason: str, *, cause: str = "request") -> None:
        """Save what is pending, cover every screen, close the database and wipe the key;
        pause sync. A store still opening is locked the moment it opens
        (`SofsApp.store_opened`)."""
        if not self._can_lock():
            return
        # What was typed in the last moment is saved first: the laptop may be shut while
        # locked. It also stays on screen, under the lock screen, as it was.
        self.save_pending_edits()
        store = self.store if self.store is not None and not self.store.is_locked else None
        self._locked = True
        self.sync_paused = True
        pool = store.engine.pool if store is not None and store.engine is not None else None
        in_flight = self._store_workers()
        if store is not None:
            store.lock()
        log_event("lock", cause=cause)
        self.clear_notifications()
        self.push_screen(LockScreen(reason))
        self.refresh_bindings()
        self.lock_changed_signal.publish(True)
        if in_flight and pool is not None:
            self._lock_worker(partial(_close_detached, pool, in_flight))

    def _lock_worker(self, work: Callable[[], Coroutine[Any, Any, None]]) -> Worker[None]:
        """Run `work` in an async worker of the "lock" group. Given the function, not a
        coroutine: a worker cancelled before it starts (quitting at once) would leave that
        coroutine never awaited (a RuntimeWarning at exit)."""
        return self.run_worker(work, group="lock", exit_on_error=False)

    def _store_workers(self) -> list[Worker[Any]]:
        """Workers that may hold a store connection: thread workers, and the sync worker (its
        store steps run in threads). Once the store is locked each stops at its next store
        step, which fails as locked, and nothing is lost (SYNC.md 11)."""
        return [
            w
            for w in self.workers
            if w.is_running and (w._thread_worker or w.group in ("sync", "sync-prepare"))
        ]

    def unlocked(self, store: Store) -> None:
        """The lock screen opened the store again: back to exactly where the worker was."""
        self._quit_warned_on = None
        if self.store is not None:
            store.clock = self.store.clock
        self.store = store
        self._locked = False
        self.sync_paused = False
        self.note_activity()
        log_event("unlock")
        while isinstance(self.screen, (HelpScreen, CommandPalette)):
            self.pop_screen()
        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        self.refresh_bindings()
        self.lock_changed_signal.publish(False)
        self._tidy_stack()

    # --- holding screen changes while a blocking screen is up ---------------------------------

    def _in_force(self, screen: Screen[Any]) -> bool:
        return (isinstance(screen, LockScreen) and self._locked) or (
            isinstance(screen, TooSmallScreen) and self._too_small
        )

    def _blocked(self) -> bool:
        return any(self._in_force(screen) for screen in self.screen_stack)

    def _hold(self, change: Callable[[], object]) -> None:
        self._held.append(change)
        log_event("screen_change_held")

    def push_screen(
        self,
        screen: Screen[Any] | str,
        callback: Any = None,
        wait_for_dismiss: bool = False,
        *,
        mode: str | None = None,
    ) -> Any:
        if mode is None and not isinstance(screen, SAFE_ON_TOP) and self._blocked():
            self._hold(partial(App.push_screen, self, screen, callback))
            if wait_for_dismiss:
                return asyncio.get_running_loop().create_future()
            return AwaitMount(self.screen, [])
        if wait_for_dismiss:
            return super().push_screen(screen, callback, True, mode=mode)
        return super().push_screen(screen, callback, False, mode=mode)

    def pop_screen(self) -> AwaitComplete:
        if self._in_force(self.screen):
            self._hold(partial(App.pop_screen, self))
            return _done()
        return super().pop_screen()

    def switch_screen(self, screen: Screen[Any] | str) -> AwaitComplete:
        if self._in_force(self.screen):
            self._hold(partial(App.switch_screen, self, screen))
            return _done()
        return super().switch_screen(screen)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        self.call_later(self._tidy_stack)

    def _tidy_stack(self) -> None:
        """Drop a too-small screen no longer needed, replay held changes once nothing blocks,
        and check the size again."""
        while isinstance(self.screen, TooSmallScreen) and not self._too_small:
            App.pop_screen(self)
        if self._held and not self._blocked():
            held, self._held = self._held, []
            for change in held:
                change()
        self._update_too_small()

    # --- small terminals ----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._update_too_small(event.size)  # self.size may not have caught up yet

    def _update_too_small(self, size: Size | None = None) -> None:
        small = too_small(*(size or self.size))
        if small and not self._too_small and not isinstance(self.screen, LockScreen):
            self._too_small = True
            self.push_screen(TooSmallScreen())
        elif not small and self._too_small:
            self._too_small = False
            self.call_later(self._tidy_stack)

    # --- hang-up and crashes ------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        """Terminal closed (SIGHUP) or asked to stop (SIGTERM): close the store, then exit."""
        if self.is_headless or sys.platform == "win32":
            return
        loop = asyncio.get_running_loop()
        for name, code in _SIGNAL_EXIT_CODES.items():
            loop.add_signal_handler(getattr(signal, name), self._close_on_signal, name, code)

    def _close_on_signal(self, name: str, code: int) -> None:
        log_event("signal", name=name)
        if self.store is None:  # perhaps still opening behind its first page: closed as if open
            self.finish_opening(OPENING_WAIT_SECONDS)
        store = self.store
        pool = store.engine.pool if store is not None and store.engine is not None else None
        # With the terminal gone, Textual 8.2.8's writer thread dies on EIO and its shutdown
        # then waits forever on the writer's full queue (seen under load). The store is closed
        # well before the grace period ends (the last saves wait PENDING_SAVE_SECONDS at most),
        # so ending the process then loses nothing; started first, it also ends a stuck save.
        watchdog = threading.Timer(EXIT_GRACE_SECONDS, _end_process, args=(code, pool))
        watchdog.daemon = True
        watchdog.start()
        self.save_pending_edits()
        in_flight = self._store_workers()
        if store is not None:
            store.lock()

        async def close_then_exit() -> None:
            if pool is not None:
                await _close_detached(pool, in_flight)
            self.exit(return_code=code)

        self._lock_worker(close_then_exit)

    def finish_opening(self, timeout: float) -> None:
        """Closing while the store may still be opening in a thread: subclasses wait for it (at
        most `timeout` seconds) and make it `self.store`, to be closed as an open store."""

    async def action_quit(self) -> None:
        """ctrl+q: save what was typed in the last moment, then close (the store is locked as
        the app unmounts). A form holding changes not yet saved (it saves only when the worker
        saves it) is asked about first; ctrl+q again, or yes, quits. Under the lock screen or
        the too-small message, which hide the form and show no case data, that screen says a
        form would be lost, without naming it, and ctrl+q again quits."""
        if self._quit_question is None:
            form = self._unsaved_form()
            if form is not None and not self._blocked():
                self._ask_before_quitting(form)
                return
            if form is not None and not self._warned_before_quitting():
                self._warn_before_quitting()
                return
        self._quit_now()

    def _quit_now(self) -> None:
        self.save_pending_edits()
        self.exit()

    def _unsaved_form(self) -> str | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, HoldsUnsavedForm):
                title = screen.unsaved_form()
                if title is not None:
                    return title
        return None

    def _warned_before_quitting(self) -> bool:
        """The screen on top said a form would be lost, and still says so."""
        screen = self.screen
        if self._quit_warned_on is not screen:
            return False
        return not isinstance(screen, WarnsBeforeQuitting) or screen.shows_unsaved_form_warning()

    def _warn_before_quitting(self) -> None:
        screen = self._quit_warned_on = self.screen
        if isinstance(screen, WarnsBeforeQuitting):
            screen.warn_unsaved_form(UNSAVED_FORM_WARNING)
        else:  # help or the palette over the lock screen: a toast shows over anything
            self.notify(UNSAVED_FORM_WARNING, severity="warning", markup=False)

    def _ask_before_quitting(self, form: str) -> None:
        from sofs_tui.screens.confirm import ConfirmScreen

        question = ConfirmScreen(
            f"{form}: what you changed in this form is not saved.\n\nQuit and lose it? "
            "To keep it, go back to the form and save it with ctrl+s. (ctrl+q again quits.)",
            yes="Quit without saving",
            no="Back to the form",
        )
        self._quit_question = question

        def answered(quit_now: bool | None) -> None:
            self._quit_question = None
            if quit_now:
                self._quit_now()

        self.push_screen(question, answered)

    def save_pending_edits(self) -> None:
        """Before the store closes with the app: every screen in the stack, and every widget on
        it, that holds changes not yet saved saves them now, synchronously, through its own
        units of work (one transaction each, with its outbox row). Within
        PENDING_SAVE_SECONDS of waiting for saves already running; a failure is an incident
        and the others still save. Nothing to do while locked: the key is gone."""
        if self.store is None or self.store.is_locked or self._locked:
            return
        deadline = time.monotonic() + PENDING_SAVE_SECONDS
        for screen in list(self.screen_stack):
            for node in screen.walk_children(with_self=True):
                if isinstance(node, SavesPending):
                    try:
                        node.save_pending_now(deadline)
                    except Exception as exc:
                        self.report_incident(exc)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.lock()

    def copy_to_clipboard(self, text: str) -> None:
        """Copy and paste work inside sofs, but nothing goes to the system clipboard (OSC 52),
        where case text would leave the encrypted store (SECURITY R15)."""
        self._clipboard = text
        log_event("copy_kept_in_app")

    def report_incident(self, exc: BaseException) -> str:
        """Show an unexpected error as an incident id only: no text, names or locals from the
        case reach the screen or the log (SECURITY R16). Returns the id."""
        incident = log_incident(exc)
        self.notify(
            f"Something went wrong (incident {incident}). Your saved work is safe. "
            "Tell IT the incident number.",
            severity="error",
            markup=False,
            timeout=15,
        )
        return incident

    def _handle_exception(self, error: Exception) -> None:
        """Replaces Textual's crash report (a traceback with locals, verified in 8.2.8) with one
        line holding an incident id; the log gets the id and the exception type only."""
        incident = log_incident(error)
        self._return_code = 1
        if self.crash_incident is None:
            self.crash_incident = incident
            self._exit_renderables.append(Text(crash_message(incident)))
            self._exception = error  # Pilot re-raises it in tests
            first_error: asyncio.Event = getattr(self, "_exception_event")  # noqa: B009 (mypy)
            first_error.set()
        self._close_messages_no_wait()


async def _close_detached(pool: Pool, in_flight: list[Worker[Any]]) -> None:
    """Once the workers that were running at a lock have finished (or failed as locked), close
    the connections they give back to the pool that locking detached from the store; the last
    one to close checkpoints and removes the WAL."""
    for worker in in_flight:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker.wait(), timeout=EXIT_GRACE_SECONDS / 2)
    pool.dispose()


def _end_process(code: int, pool: Pool | None) -> None:
    """The last resort after a hang-up: close what the store left open, flush the log and
    end without unwinding."""
    if pool is not None:
        pool.dispose()
    log_event("forced_exit", code=code)
    logging.shutdown()
    os._exit(code)


def _done() -> AwaitComplete:
    """An already finished change, for one that was held."""
    done: AwaitComplete = AwaitComplete.nothing()  # type: ignore[no-untyped-call]
    return done
