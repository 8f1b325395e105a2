"""SofsApp: wires the screens, global keys, the palette, themes, locking and crash handling.

Business rules live in `domain`, SQL in `store`; screens run units of work in thread workers.
Start-up: enrol or unlock inside the app (or open the demo store), then the caseload, then the
last case. The idle timer and ctrl+l lock the store under an opaque LockScreen (SECURITY R10,
R11); while it is up, screen changes asked for underneath are held and replayed on unlock.
Sync runs in the background (`app_sync.BackgroundSync`); every store screen gets the sync
status bar above its footer, mounted here when the screen is first shown (no screen has to
compose it), and f6 / f7 sync now / open the conflicts from anywhere.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import sys
import threading
import time
import zoneinfo  # noqa: F401  (imported here, in the main thread: see the comment below)
from collections.abc import Callable, Iterable, MutableMapping
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from sofs_tui.app_sync import BackgroundSync
from sofs_tui.app_sync_setup import SyncConnector, SyncTiming, SystemConnector, attach_status_bar
from sofs_tui.guard import IDLE_CHECK_SECONDS, OPENING_WAIT_SECONDS, GuardedApp
from sofs_tui.logging_setup import crash_message, log_event, log_incident
from sofs_tui.paths import STYLES, AppPaths
from sofs_tui.screens.help import HelpScreen
from sofs_tui.themes import DEFAULT_THEME, HIGH_CONTRAST, HIGH_CONTRAST_LIGHT, SOFS_THEMES
from sofs_tui.widgets.sync_status import SyncView

if TYPE_CHECKING:
    from datetime import datetime

    from textual._path import CSSPathType
    from textual.theme import Theme

    from sofs_tui.config import Settings
    from sofs_tui.screens.case_list import CaseListScreen
    from sofs_tui.store.case_page import CasePage
    from sofs_tui.store.first_page import FirstLook
    from sofs_tui.store.keys import MemoryKeyFile
    from sofs_tui.store.store import Store

# Python 3.11's `sysconfig.get_config_vars()` is not thread-safe: a thread reading it while
# another fills it in finds it empty. `zoneinfo` reads its search path from it once, at import,
# so `zoneinfo` first imported in one of the app's threads could find no time zone for the rest
# of the run (the demo crashed on about one start in twelve on a busy machine). Imported above,
# before any thread starts, it reads the filled values.

#: What the first page needs, in the order Enter needs it: the key's unwrapping first (Argon2
#: waits for it), then the page's reader, then the screen that shows the page.
_FIRST_PAGE_MODULES = (
    "sofs_tui.store.keys",
    "sofs_tui.store.first_page",
    "sofs_tui.screens.case_list",
)

#: Seconds between the first screen's paint and the start of the warm-up imports.
WARM_UP_AFTER_PAINT = 0.1

#: Seconds after the app starts before a keymap in the settings is checked (`sofs_tui.keymap`:
#: it imports every screen, so it waits until the start is out of the way).
KEYMAP_CHECK_AFTER = 3.0

#: Seconds after the store opens by which the background sync and the integrity check start,
#: if the caseload's first page has not been painted by then.
AFTER_OPEN_AT_LATEST = 2.0

DAMAGED_STORE_NOTICE = (
    "The case store file on this computer is damaged. sofs will not save anything to it, so "
    "nothing more can be harmed; you can still read what it holds. Work already synced is "
    "safe on the service. Contact IT and show them this message; keep the store file as it "
    "is (do not delete, move or replace it)."
)

#: The demo store's key is wrapped in memory under this published passphrase, so its lock
#: screen works like the real one (the demo data is invented; its folder goes at exit).
DEMO_PASSPHRASE = "sofs demo"  # noqa: S105 (published on the demo lock screen)


class FirstPagePrepared(Message):
    """The preparation thread has imported the caseload screen (`_prepare_first_page`)."""


class SofsApp(GuardedApp):
    """The app a social worker lives in. `open_store` (demo, tests) runs in a worker after the
    first frame; without it the app asks for the passphrase of the store in `store_dir`.
    `clock` (monotonic seconds) drives the idle lock; tests inject their own, and their own
    `sync_connector` (an in-process service) and `sync_timing`."""

    TITLE = "sofs"
    SUB_TITLE = "Signs of Safety"
    # The unlock screen's and the caseload's sheets too: a screen's own CSS_PATH, read when
    # the screen is first pushed, makes Textual parse every sheet again (every widget's
    # default CSS with them: 12 ms when the caseload is made ready during the unlock's
    # Argon2), and these two are on the way to the first page. Each is a few lines to parse.
    CSS_PATH: ClassVar[CSSPathType] = [
        STYLES / "base.tcss",
        STYLES / "unlock.tcss",
        STYLES / "case_list.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        # Not in the footer: at 80 columns it would push out the screen's own keys, help and
        # lock; F1 help and the palette list it.
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+l", "lock", "Lock", id="app.lock", priority=True),
        Binding("f6", "sync_now", "Sync now", id="app.sync_now", show=False),
        Binding("f7", "conflicts", "Conflicts", id="app.conflicts", show=False),
    ]
    #: What the sync status bars show (see `app_sync`); one value, so bursts paint once.
    sync_view: var[SyncView] = var(SyncView())

    def __init__(
        self,
        open_store: Callable[[], Store] | None,
        settings: Settings,
        *,
        paths: AppPaths | None = None,
        store_dir: Path | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float = IDLE_CHECK_SECONDS,
        sync_connector: SyncConnector | None = None,
        sync_timing: SyncTiming | None = None,
    ) -> None:
        super().__init__(clock=clock, idle_check_seconds=idle_check_seconds)
        if open_store is None and store_dir is None:
            raise ValueError("SofsApp needs open_store, or the store_dir to unlock")
        self._open_store = open_store
        self.settings = settings
        #: Where settings, state and logs live; None in tests (then nothing is saved).
        self.paths = paths
        self.demo = demo
        self._store_dir = store_dir
        #: Opened, and its caseload's first page not painted yet (see `caseload_painted`).
        self._opened_store: Store | None = None
        #: Unlocked, its first page on screen, the store itself still opening behind it
        #: (`store_unlocked`): what the opening will open, until it starts ...
        self._to_open: FirstLook | None = None
        #: ... and the store it gives, for the workers that ask for the store meanwhile.
        self._opening: Future[Store] | None = None
        self._opening_guard = threading.Lock()
        self._warm_up_timer: Timer | None = None
        #: Why the store could not be opened behind its first page (see `store_not_opened`).
        self._not_opened: Exception | None = None
        #: The caseload screen composed during the unlock (`_compose_caseload_screen`).
        self._caseload_prepared: CaseListScreen | None = None
        #: Importing what the first page needs (`_prepare_first_page`), started once.
        self._preparing: threading.Thread | None = None
        #: State-file values asked for and not yet written (see `_save_state`).
        self._state_pending: dict[str, str] = {}
        self._state_guard = threading.Lock()
        self._state_writing = threading.Lock()
        #: Locked while the store was opening behind its first page: the last case is
        #: reopened at the unlock instead.
        self._reopen_on_unlock = False
        #: Where to write the bank holidays once `holidays` is loaded (no usable cache there).
        self._holidays_to_cache: Path | None = None
        self._contrast_from = DEFAULT_THEME
        self.background_sync = BackgroundSync(
            self, sync_connector or SystemConnector(), sync_timing or SyncTiming()
        )
        for theme in SOFS_THEMES:
            self.register_theme(theme)

    # --- start-up -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._apply_theme(self.settings.theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.settings.keymap:
            self.update_keymap(dict(self.settings.keymap))
            self.set_timer(KEYMAP_CHECK_AFTER, self._check_keymap)
        self.start_guards()
        self.screen_change_signal.subscribe(self, self._screen_shown)
        self.background_sync.start()
        if self._open_store is not None:
            self.call_after_refresh(_start_warm_up)
            self.run_worker(self._open, thread=True, group="store", exit_on_error=False)
        else:
            self._first_screen()

    def _open(self) -> None:
        """Open the store off the event loop, then show the caseload."""
        try:
            store = self.require_store()
        except Exception as exc:
            self.call_from_thread(self._open_failed, exc)
            return
        self.call_from_worker(self.store_ready, store)

    def _open_failed(self, exc: Exception) -> None:
        from sofs_tui.store.errors import StoreError

        if isinstance(exc, StoreError):
            self.notify(exc.user_message, severity="error", markup=False, timeout=30)
        else:
            self.report_incident(exc)

    def _check_keymap(self) -> None:
        """Say which entries of the settings' keymap cannot work (an unknown id, a key name
        no terminal sends, a key given to two actions on one screen): Textual ignores them or
        lets one action lose its key, without a word."""

        def check() -> None:
            from sofs_tui import start_gate
            from sofs_tui.keymap import keymap_mistakes, known_bindings

            start_gate.wait_for_the_way()  # imports every screen: not while a page is coming
            problems = keymap_mistakes(self.settings.keymap, known_bindings())
            if problems:
                self.call_from_thread(self._say_keymap_problems, problems)

        self.run_worker(check, thread=True, group="keymap", exit_on_error=False)

    def _say_keymap_problems(self, problems: list[str]) -> None:
        where = self.paths.settings_file if self.paths is not None else "settings.toml"
        self.notify(
            "\n".join(problems) + f"\nThese keys do nothing until fixed in {where} "
            "([keymap]); `sofs keys` lists every action and its key.",
            title="Keymap",
            severity="warning",
            timeout=30,
            markup=False,
        )

    def _first_screen(self) -> None:
        """Enrol on a new device, unlock on an enrolled one. Only a file is looked at here:
        the database layer is imported in the background once that screen is painted, while
        the worker types (see `case_list.warm_up`)."""
        from sofs_tui.store.files import is_enrolled

        assert self._store_dir is not None
        if is_enrolled(self._store_dir):
            from sofs_tui.screens.unlock import UnlockScreen

            screen: Screen[Any] = UnlockScreen()
        else:
            from sofs_tui.screens.enrol import EnrolScreen

            screen = EnrolScreen()
        self.push_screen(screen)
        screen.call_after_refresh(self._after_first_frame, is_enrolled(self._store_dir))

    def _after_first_frame(self, unlocking: bool) -> None:
        """What the first page needs (a few tens of milliseconds) is made ready at once; the
        database layer's imports wait a moment: they would compete for the interpreter with
        the thread writing that frame to the terminal. The worker is typing meanwhile."""
        from sofs_tui import start_gate

        start_gate.freeze_what_is_loaded("first frame")
        if unlocking:
            self._start_preparing()
        self._warm_up_timer = self.set_timer(WARM_UP_AFTER_PAINT, _start_warm_up)

    def passphrase_submitted(self) -> None:
        """The worker pressed Enter on the passphrase. A warm-up not started yet would only
        compete with the first page now: the store's opening does that work after the page.
        One under way pauses after its current step until the page is painted (`start_gate`).
        """
        from sofs_tui import start_gate

        start_gate.hold()
        if self._warm_up_timer is not None:
            self._warm_up_timer.stop()
            self._warm_up_timer = None

    def prepare_caseload_screen(self) -> None:
        """The passphrase for the first page was submitted: while its Argon2 runs (in C,
        without the interpreter lock) the event loop is idle, so the caseload screen is made
        ready then, after "Unlocking…" is painted (`_compose_caseload_screen`), unless it was
        made while the worker typed (`on_first_page_prepared`)."""
        self.call_after_refresh(self._compose_caseload_screen)

    def on_first_page_prepared(self, _message: FirstPagePrepared) -> None:
        """What the caseload screen needs is imported: make it now, while the worker types,
        not after Enter, when it would share the machine with Argon2. Not under the lock
        screen or once unlocked (nothing to make then: `_compose_caseload_screen`)."""
        if not self.is_locked:
            self.prepare_caseload_screen()

    def _compose_caseload_screen(self) -> None:
        """Compose and mount the caseload screen off the screen stack, and read its style sheet:
        the unlock then only fills it and shows it (about 80 ms less between the passphrase
        and the page). A screen pushed with a style sheet not seen before also has Textual
        re-parse every style sheet and restyle every widget. `_load_screen_css` and
        `_register` are those two steps of `push_screen` (Textual 8.2.8, pinned); a screen
        registered and never shown is closed with the app. No case data is in it until
        `store_unlocked` gives it the first page."""
        from sofs_tui.screens.case_list import CaseListScreen

        if self._caseload_prepared is not None or self.store_opening or self.store is not None:
            return  # made already, or the unlock came first (a fast key derivation)
        screen = CaseListScreen()
        self._load_screen_css(screen)
        self._register(self, screen)
        self._caseload_prepared = screen

    def _caseload_screen(self, first_page: tuple[CasePage, datetime] | None) -> CaseListScreen:
        """The caseload screen made ready during the unlock, else a new one."""
        from sofs_tui.screens.case_list import CaseListScreen

        screen, self._caseload_prepared = self._caseload_prepared, None
        if screen is None:
            return CaseListScreen(first_page=first_page)
        screen.give_first_page(first_page)
        return screen

    def store_unlocked(self, look: FirstLook, replacing: Screen[Any] | None = None) -> None:
        """The passphrase was right: show the caseload's first page at once (read without the
        database layer, `store.first_page`), then open the store behind it. Until it is open,
        whatever needs the store waits for it (`require_store`)."""
        self._opening = Future()
        self.note_activity()
        log_event("store_unlocked")
        if replacing is not None and replacing in self.screen_stack:
            self.pop_screen()
        self._to_open = look
        if look.page is None:  # the full open decides (an upgrade, a first set-up, an error)
            self._start_opening()
            self.push_screen(self._caseload_screen(None))
            return
        self.push_screen(self._caseload_screen((look.page, look.now)))
        # The opening starts once that page is painted (`caseload_painted`), or at the latest.
        self.set_timer(AFTER_OPEN_AT_LATEST, self._start_opening)

    @property
    def store_opening(self) -> bool:
        """Unlocked, and the store not open yet (see `store_unlocked`)."""
        return self._opening is not None

    def _start_opening(self) -> None:
        """Open the store behind the first page, once (from any thread)."""
        with self._opening_guard:
            look, self._to_open = self._to_open, None
            future = self._opening
        if look is None or future is None:
            return
        threading.Thread(
            target=_open_behind, args=(self, look, future), name="sofs-open", daemon=True
        ).start()

    def store_opened(self, future: Future[Store], store: Store) -> None:
        """The store opened behind the first page (`_open_behind`; the workers waiting for it
        already have it). Locked meanwhile: it is locked at once, and the lock screen's
        passphrase opens it again; unlocked again already: this one is not needed."""
        if future is not self._opening:
            store.lock()
            return
        self._opening = None
        if self.is_locked:
            store.lock()
            self.store = store
            self._reopen_on_unlock = True
            return
        self.store = store
        self.refresh_bindings()
        log_event("store_opened")
        self._reopen_last_case_over_caseload()
        self._start_background_work(store)

    def lock(self, reason: str, *, cause: str = "request") -> None:
        from sofs_tui import start_gate

        super().lock(reason, cause=cause)
        if self.is_locked:
            start_gate.release()  # no first page is coming now
            self._drop_unopened()

    def _drop_unopened(self) -> None:
        """Wipe the key of a store whose opening has not started (locked or quitting): the
        lock screen's passphrase opens it afresh. Whatever waits for that store stops as
        locked (nothing is lost: it is read again after the unlock)."""
        from sofs_tui.store.errors import StoreLocked

        with self._opening_guard:
            look, self._to_open = self._to_open, None
        if look is None:
            return
        look.key.wipe()
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            opening.set_exception(StoreLocked())
        self._reopen_on_unlock = True

    def finish_opening(self, timeout: float) -> None:
        """Quitting or hung up while the store opens behind its first page: wait for that
        opening (at most `timeout` seconds) and take the store it opened as the app's store,
        so closing closes it as any open store (its WAL checkpointed and removed, the
        connections of workers that were waiting for it closed as they finish), instead of
        leaving it open in a thread the exit ends. The opening thread's own report to the app
        comes after and only locks it, as the closing does anyway."""
        self._drop_unopened()  # not started: nothing to wait for
        opening, self._opening = self._opening, None
        if opening is None:
            return
        try:
            store = opening.result(timeout)
        except Exception:  # it failed (nothing open), was locked, or is still opening
            return
        if self.store is None:
            self.store = store
        elif store is not self.store:
            store.lock()

    def store_not_opened(self, future: Future[Store], exc: Exception) -> None:
        if future is self._opening:
            self._opening = None
            self._not_opened = exc
            self._open_failed(exc)

    def store_ready(self, store: Store, replacing: Screen[Any] | None = None) -> None:
        """The store is open: drop the enrol/unlock screen, show the caseload, reopen the
        last case."""
        self.store = store
        self.note_activity()
        self.refresh_bindings()
        log_event("store_opened")
        if replacing is not None and replacing in self.screen_stack:
            self.pop_screen()
        self._opened_store = store
        self.show_caseload()
        self._reopen_last_case()
        # Whatever happens to the caseload's first page, the rest starts soon after.
        self.set_timer(AFTER_OPEN_AT_LATEST, self.caseload_painted)

    def caseload_painted(self) -> None:
        """The caseload's first page is on screen (or `AFTER_OPEN_AT_LATEST` has passed): now
        start what would have slowed that page down: the store's opening behind a first page
        read without it, or the background sync's set-up and the store's integrity check.
        Runs once per opening of the store."""
        from sofs_tui import start_gate

        start_gate.release()
        self._start_opening()
        store, self._opened_store = self._opened_store, None
        if store is None or store.is_locked or store is not self.store:
            return
        self._start_background_work(store)

    def _start_background_work(self, store: Store) -> None:
        """After the caseload's first page: the background sync's set-up and the store's
        integrity check."""
        self.background_sync.store_opened(store)
        self._check_integrity_soon(store)

    def unlocked(self, store: Store) -> None:
        from sofs_tui import start_gate

        start_gate.release()  # the lock screen's passphrase: no first page on the way
        opening, self._opening = self._opening, None
        if opening is not None:  # locked while it was opening: this store replaces that one
            with self._opening_guard:
                self._to_open = None
            if not opening.done():
                opening.set_result(store)
        super().unlocked(store)  # the background sync starts from the unlock (its signal)
        self._check_integrity_soon(store)
        if opening is not None or self._reopen_on_unlock:
            self._reopen_on_unlock = False
            self._reopen_last_case_over_caseload()

    def _check_integrity_soon(self, store: Store) -> None:
        self.run_worker(
            partial(_check_integrity, self, store),
            thread=True,
            group="integrity",
            exit_on_error=False,
        )

    def show_caseload(self) -> None:
        from sofs_tui.screens.case_list import CaseListScreen

        self.push_screen(CaseListScreen())

    def require_store(self) -> Store:
        """The unlocked store (opened on first use); raises `StoreLocked` when locked.

        While the store is opening behind the first page, this waits for it (and starts the
        opening if it has not started): called from a worker's thread, as units of work are.
        """
        from sofs_tui.store.errors import StoreLocked

        opening = self._opening
        if self.store is None and opening is not None:
            self._start_opening()
            store = opening.result()
            if store.is_locked or self.is_locked:
                raise StoreLocked()
            return store
        if self.store is None and self._not_opened is not None:
            raise self._not_opened  # said in words when it happened; each action says it again
        if self.store is None and self._open_store is not None:
            self.store = self._open_store()
        if self.store is None or self.store.is_locked:
            raise StoreLocked()
        return self.store

    # --- passphrases (called from the enrol/unlock screens' thread workers) ------------------

    @property
    def can_unlock(self) -> bool:
        return self._store_dir is not None

    @property
    def passphrase_hint(self) -> str:
        return f"Demo: the passphrase is “{DEMO_PASSPHRASE}”." if self.demo else ""

    def first_look(self, passphrase: str) -> FirstLook:
        """Unwrap the key file (Argon2: call from a thread) and read the caseload's first page
        without the database layer (`store.first_page`); `store_unlocked` takes it from there.
        A wrong passphrase raises `WrongPassphrase` before anything is opened."""
        from datetime import UTC, datetime, timedelta

        from sofs_tui.store.files import DB_NAME, KEYFILE_NAME
        from sofs_tui.store.keys import unlock_keyfile

        assert self._store_dir is not None
        now = datetime.now(UTC)
        # Started when the unlock screen was painted; Argon2 runs in C without the GIL, so
        # whatever of it is left runs alongside.
        preparing = self._start_preparing()
        key = unlock_keyfile(self._store_dir / KEYFILE_NAME, passphrase)
        del passphrase
        preparing.join()
        from sofs_tui.domain.calendar import default_calendar
        from sofs_tui.screens.case_list import first_page_rows
        from sofs_tui.store.first_page import FirstLook, read_first_page

        council = self.settings.council
        db_path = self._store_dir / DB_NAME
        page = read_first_page(
            db_path,
            key,
            rules=council.deadlines,
            calendar=default_calendar(),
            now=now,
            due_soon=timedelta(hours=council.due_soon_hours),
            limit=first_page_rows(self.size.height),
        )
        return FirstLook(db_path, key, page, now)

    def _start_preparing(self) -> threading.Thread:
        """Start `_prepare_first_page` in a thread, once (from any thread)."""
        with self._opening_guard:
            if self._preparing is None:
                self._preparing = threading.Thread(
                    target=self._prepare_first_page, name="sofs-prepare", daemon=True
                )
                self._preparing.start()
            return self._preparing

    def _prepare_first_page(self) -> None:
        """Import what the first page needs (the key's unwrapping, the caseload screen, the
        page's reader) and know the bank holidays (from the cache in the state folder, else
        from `holidays`; the opening behind the page then writes the cache for next time).
        A few tens of milliseconds, started as soon as the unlock screen is painted."""
        try:
            from datetime import date

            for name in _FIRST_PAGE_MODULES:
                importlib.import_module(name)
            from sofs_tui import holiday_cache
            from sofs_tui.domain.calendar import warm_bank_holidays

            cache = self._holiday_cache_file()
            if cache is None or not holiday_cache.load(cache, date.today()):
                self._holidays_to_cache = cache
                warm_bank_holidays()
            from sofs_tui import start_gate

            start_gate.freeze_what_is_loaded("first page")
            # Made ready while the worker types, the caseload screen leaves both cores to
            # Argon2 after Enter (composing it then took 20 ms from the key's derivation).
            self.post_message(FirstPagePrepared())  # thread-safe; dropped once the app stops
        except Exception as exc:  # only time is lost: the page's reader meets it again
            log_event("prepare_failed", type=type(exc).__name__)

    def _holiday_cache_file(self) -> Path | None:
        from sofs_tui.holiday_cache import CACHE_NAME

        return None if self.paths is None else self.paths.state_dir / CACHE_NAME

    def open_with_passphrase(self, passphrase: str) -> Store:
        """Unwrap the key file and open the store (runs Argon2: call from a thread).

        The key comes first: Argon2 runs in C without the GIL, so it overlaps the warm-up
        thread's import of the database layer, which `open_with_key` then waits for."""
        from sofs_tui.store.errors import StoreLocked
        from sofs_tui.store.files import DB_NAME, KEYFILE_NAME
        from sofs_tui.store.keys import unlock_keyfile

        if isinstance(self._open_store, DemoStore):
            return self._open_store.unlock(passphrase)
        if self._store_dir is None:
            raise StoreLocked()
        key = unlock_keyfile(self._store_dir / KEYFILE_NAME, passphrase)
        del passphrase
        from sofs_tui.store.store import open_with_key

        return open_with_key(self._store_dir / DB_NAME, key)

    def enrol_store(self, passphrase: str, username: str) -> Store:
        """Create the key file and the store for `username` (call from a thread)."""
        from sofs_tui.store.store import Actor, enrol

        assert self._store_dir is not None
        return enrol(self._store_dir, passphrase, Actor(username, "worker"))

    # --- the last case ------------------------------------------------------------------------

    def remember_case(self, case_id: str) -> None:
        """Call when a case is opened: sofs reopens it at the next start."""
        self._save_state(last_case_id=case_id)

    def forget_case(self) -> None:
        """Call when the worker leaves a case (back on the caseload) or it is deleted: the
        next start opens on the caseload."""
        self._save_state(last_case_id="")

    def _state_file(self) -> Path | None:
        return None if self.demo or self.paths is None else self.paths.state_file

    def _save_state(self, **values: str) -> None:
        """Write these values to the state file in a thread. Changes are written in the order
        they were asked for: each write takes everything asked for so far (a later one finds
        nothing left), one at a time, so an older value never lands after a newer one."""
        path = self._state_file()
        if path is not None:
            with self._state_guard:
                self._state_pending.update(values)
            self.run_worker(
                partial(self._write_state, path), thread=True, group="state", exit_on_error=False
            )

    def _write_state(self, path: Path) -> None:
        with self._state_writing:
            with self._state_guard:
                values, self._state_pending = self._state_pending, {}
            if values:
                _save_state(path, values)

    def _reopen_last_case(self, over: Screen[Any] | None = None) -> None:
        """Open the case the worker had open when sofs last stopped. With `over`: only if
        that screen is still on top by then (the worker has not gone elsewhere meanwhile)."""
        path = self._state_file()
        if path is not None:
            self.run_worker(
                partial(self._find_last_case, path, over),
                thread=True,
                group="store",
                exit_on_error=False,
            )

    def _reopen_last_case_over_caseload(self) -> None:
        """The store opened after its caseload was shown: reopen the last case only if the
        worker is still looking at that caseload."""
        from sofs_tui.screens.case_list import CaseListScreen

        if isinstance(self.screen, CaseListScreen):
            self._reopen_last_case(over=self.screen)

    def _find_last_case(self, path: Path, over: Screen[Any] | None) -> None:
        from sofs_tui.config import load_state
        from sofs_tui.store.tables import Case

        case_id = load_state(path).get("last_case_id")
        if not isinstance(case_id, str) or not case_id:
            return
        try:
            with self.require_store().read() as session:
                case = session.get(Case, case_id)
                found = case is not None and not case.deleted
        except Exception as exc:
            log_event("last_case_not_reopened", type=type(exc).__name__)
            return
        if found:
            self.call_from_worker(self._reopen_case, case_id, over)

    def _reopen_case(self, case_id: str, over: Screen[Any] | None) -> None:
        if over is None or self.screen is over:
            self.open_case(case_id)

    def open_case(self, case_id: str) -> None:
        """Push the case screen (when that screen exists in this build)."""
        if importlib.util.find_spec("sofs_tui.screens.case") is None:
            return
        case_screen = importlib.import_module("sofs_tui.screens.case").CaseScreen
        self.push_screen(case_screen(case_id))

    # --- sync -----------------------------------------------------------------------------------

    def _screen_shown(self, screen: Screen[Any]) -> None:
        # At once, before the screen composes (its first layout has the bar: no extra
        # layout pass later, while the worker may be reading the screen).
        attach_status_bar(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sync_now", "conflicts"):  # nothing to sync or show before unlocking
            return self.store is not None and not self.store.is_locked
        return super().check_action(action, parameters)

    def action_sync_now(self) -> None:
        self.background_sync.sync_now()

    def action_conflicts(self) -> None:
        from sofs_tui.screens.conflicts import ConflictsScreen

        if not isinstance(self.screen, ConflictsScreen):
            self.push_screen(ConflictsScreen())

    async def _on_unmount(self) -> None:
        await self.background_sync.aclose()

    # --- help, palette, themes ----------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def action_toggle_high_contrast(self) -> None:
        if self.theme in (HIGH_CONTRAST, HIGH_CONTRAST_LIGHT):
            self.theme = self._contrast_from
        else:
            self._contrast_from = self.theme
            self.theme = HIGH_CONTRAST if self.current_theme.dark else HIGH_CONTRAST_LIGHT

    def _apply_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
        else:
            self.notify(
                f"The theme {name!r} in your settings is not available; using {DEFAULT_THEME}.",
                markup=False,
                severity="warning",
            )
            self.settings = replace(self.settings, theme=DEFAULT_THEME)  # the file is kept
            self.theme = DEFAULT_THEME

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self.settings.theme:
            return
        self.settings = replace(self.settings, theme=theme.name)
        if self.paths is not None:
            path = self.paths.settings_file
            self.run_worker(
                partial(_save_theme, path, theme.name),
                thread=True,
                group="settings",
                exit_on_error=False,
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists every action of the current screen as "group: action", and the
        app's own commands; the screenshot command is removed (no case data to disk)."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        yield SystemCommand("app: lock now", "Hide every case until you unlock", self.action_lock)
        yield SystemCommand("app: help", "What this screen does, and its keys", self.action_help)
        yield from self.background_sync.commands()
        contrast = "normal" if self.theme in (HIGH_CONTRAST, HIGH_CONTRAST_LIGHT) else "high"
        yield SystemCommand(
            f"view: {contrast} contrast",
            "Switch the high-contrast theme on or off (saved for next time)",
            self.action_toggle_high_contrast,
        )
        yield from _screen_commands(screen)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Disabled: a screenshot would write case data to disk unencrypted (SECURITY R15)."""
        log_event("screenshot_refused")
        self.notify("Screenshots are turned off to protect case data.", markup=False)


def _save_state(path: Path, values: dict[str, str]) -> None:
    from sofs_tui.config import save_state

    try:
        save_state(path, **values)
    except OSError as exc:
        log_event("state_not_saved", type=type(exc).__name__)


def _save_theme(path: Path, theme: str) -> None:
    from sofs_tui.config import save_user_choices

    try:
        save_user_choices(path, theme=theme)
    except Exception as exc:  # a damaged settings file: keep running with the new theme
        log_event("theme_not_saved", type=type(exc).__name__)


def _screen_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    group = getattr(screen, "PALETTE_GROUP", "")
    if not group:
        return
    for binding in getattr(screen, "BINDINGS", []):
        if isinstance(binding, Binding) and binding.id and binding.description:
            action = binding.action

            async def run(action: str = action) -> None:
                await screen.run_action(action)

            # The footer shows the short description; a binding whose description is cut
            # short for the footer gives its full name as the tooltip (shown on hover too).
            name = binding.tooltip or binding.description
            yield SystemCommand(f"{group}: {name.lower()}", name, run)
    extra = getattr(screen, "palette_commands", None)
    if extra is not None:
        for name, help_text, callback in extra():
            yield SystemCommand(f"{group}: {name}", help_text, callback)


def run_app(paths: AppPaths, *, demo: bool) -> int:
    """Run the app: on the enrolled store in `paths` (enrol or unlock screen first), or on a
    throwaway demo store. Crashes print an incident id only."""
    import os
    import shutil

    from sofs_tui.config import load_settings
    from sofs_tui.logging_setup import configure_logging

    _production_textual(os.environ)
    configure_logging(paths.log_dir)
    settings = load_settings(paths.settings_file)
    demo_dir: Path | None = None
    if demo:
        demo_dir = _new_demo_folder(paths.demo_root)
        app = SofsApp(_demo_opener(demo_dir), settings, paths=paths, store_dir=demo_dir, demo=True)
    else:
        app = SofsApp(None, settings, paths=paths, store_dir=paths.data_dir)
    try:
        return run_guarded(app)
    finally:
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)


def _check_integrity(app: SofsApp, store: Store) -> None:
    """Read the whole store once (about a second on 10,000 cases), in a thread after the first
    page, so a damaged file is found before anything is written to it: `Store` then refuses
    every write (and a write that comes first runs this check itself)."""
    from sofs_tui.store.errors import StoreError

    try:
        intact = store.check_integrity()
    except StoreError:
        return  # locked meanwhile, or unreadable now: the first write checks again
    if not intact:
        log_event("store_damaged")
        app.call_from_thread(
            app.notify, DAMAGED_STORE_NOTICE, severity="error", markup=False, timeout=600
        )


def _open_behind(app: SofsApp, look: FirstLook, future: Future[Store]) -> None:
    """In its own thread: import the database layer (`case_list.warm_up`) and open the store
    whose first page is on screen. The future is settled here, not on the event loop, so a
    caller waiting for it anywhere (even on the event loop) is never stuck."""
    from sofs_tui.screens.case_list import warm_up

    warm_up()
    if app._holidays_to_cache is not None:
        from sofs_tui.holiday_cache import save

        save(app._holidays_to_cache, look.now.date())
    try:
        from sofs_tui.store.store import open_with_key

        store = open_with_key(look.db_path, look.key)
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
        with contextlib.suppress(RuntimeError):  # the app has stopped: nothing to tell
            app.call_from_thread(app.store_not_opened, future, exc)
        return
    if future.done():  # the lock screen's passphrase opened it again meanwhile
        store.lock()
        return
    future.set_result(store)
    try:
        app.call_from_thread(app.store_opened, future, store)
    except RuntimeError:  # the app has stopped meanwhile
        store.lock()


def _start_warm_up() -> None:
    """Start `case_list.warm_up` in a daemon thread (quitting never waits for it). Called after
    the first screen's paint; even the import of the caseload screen happens in that thread."""

    def warm_up() -> None:
        from sofs_tui.screens.case_list import warm_up

        warm_up(background=True)

    threading.Thread(target=warm_up, name="sofs-warm-up", daemon=True).start()


def run_guarded(app: SofsApp) -> int:
    """`app.run()` with nothing but an incident id on the terminal if anything escapes."""

    def quiet_thread_crash(args: threading.ExceptHookArgs) -> None:
        exc = args.exc_value
        if (
            isinstance(exc, OSError)
            and exc.errno == errno.EIO
            and args.thread is not None
            and args.thread.name == "textual-output"
        ):
            # The terminal closed under Textual's writer thread: a hang-up, not a crash.
            log_event("terminal_gone")
            return
        log_incident(exc or RuntimeError())

    previous_hook = threading.excepthook
    threading.excepthook = quiet_thread_crash
    try:
        app.run()
    except Exception as exc:
        print(crash_message(log_incident(exc)), file=sys.stderr)
        return 1
    finally:
        threading.excepthook = previous_hook
        app.finish_opening(OPENING_WAIT_SECONDS)
        if app.store is not None:
            app.store.lock()
    log_event("exit", code=app.return_code or 0)
    return app.return_code or 0


def _production_textual(environ: MutableMapping[str, str]) -> None:
    """No devtools, debug log, auto-screenshot or scripted keys in a real session: each could
    copy case data out of the encrypted store (security.md §3.6)."""
    from textual import constants

    environ.pop("TEXTUAL", None)
    for name, off in (("LOG_FILE", None), ("SCREENSHOT_DELAY", -1), ("PRESS", "")):
        setattr(constants, name, off)


class DemoStore:
    """The throwaway store of `sofs --demo`: an invented caseload, encrypted under a fresh
    random key that never touches the disk. The key is wrapped under the published demo
    passphrase in memory (`MemoryKeyFile`), so locking drops it and the lock screen works as on
    a real store. Calling the object creates and fills the store (in a worker)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._key_file: MemoryKeyFile | None = None

    def __call__(self) -> Store:
        from sofs_tui.cli import DEMO_CASES
        from sofs_tui.store.demo import fill_demo_caseload
        from sofs_tui.store.files import DB_NAME
        from sofs_tui.store.keys import KdfParams, MemoryKeyFile
        from sofs_tui.store.store import Actor, open_with_key

        key, self._key_file = MemoryKeyFile.create(DEMO_PASSPHRASE, KdfParams.FAST_FOR_TESTS)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        store = open_with_key(
            self.folder / DB_NAME, key, Actor("demo.manager", "manager"), create=True
        )
        fill_demo_caseload(store, DEMO_CASES)
        return store

    def unlock(self, passphrase: str) -> Store:
        """Reopen after a lock: unwrap the in-memory key with the passphrase (call from a
        thread: Argon2)."""
        from sofs_tui.store.errors import StoreLocked
        from sofs_tui.store.files import DB_NAME
        from sofs_tui.store.store import open_with_key

        if self._key_file is None:
            raise StoreLocked()
        return open_with_key(self.folder / DB_NAME, self._key_file.unlock(passphrase))


def _demo_opener(demo_dir: Path) -> DemoStore:
    return DemoStore(demo_dir)


def _new_demo_folder(root: Path) -> Path:
    """A fresh folder for this run's demo store under `root`, after removing the folders of
    earlier runs that ended without cleaning up (killed): their databases cannot be read by
    anyone, the key having lived in that process's memory only."""
    import os
    import shutil
    import tempfile

    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in root.glob("sofs-demo-*"):
        if _demo_run_ended(old):
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="sofs-demo-", dir=root))
    (folder / "owner.pid").write_text(str(os.getpid()))
    return folder


#: A demo folder younger than this without its owner file may be one being made right now.
_DEMO_FOLDER_GRACE_S = 60.0


def _demo_run_ended(folder: Path) -> bool:
    """True when the run that made `folder` has certainly ended. Only POSIX can ask whether a
    process lives without touching it (signal 0); elsewhere leftovers stay (they hold nothing
    anyone can read)."""
    import os
    import sys
    import time

    if sys.platform == "win32":
        return False
    try:
        pid = int((folder / "owner.pid").read_text())
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > _DEMO_FOLDER_GRACE_S
        except OSError:
            return False
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's: not ours to judge
    return False


__all__ = ["DEMO_PASSPHRASE", "SofsApp", "run_app", "run_guarded"]
