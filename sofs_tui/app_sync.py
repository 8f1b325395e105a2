"""Sync inside the app: the SyncEngine in the background, "sync now", signing in, and what the
status bar shows.

When the store names a service and this computer holds a sign-in (a refresh token in a trusted
credential store, or a sign-in made in this session), the engine runs in an exclusive async
worker (group "sync"): a few seconds after the store opens, every `interval` seconds, and
`after_save` seconds after a save, waiting out the engine's back-off (with Retry-After) after a
failure. Never while the store is locked: a lock in the middle of a sync stops it at its next
store step (nothing is lost: the outbox keeps every change until the service has a result), and
its end repaints nothing. Keyring calls wait off the event loop, with a time limit.

Tests give `SofsApp` their own `SyncConnector` (an in-process service, an in-memory keyring)
and `SyncTiming` (long intervals, so only the keys they press start a sync); both live in
`app_sync_setup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.worker import get_current_worker

from sofs_tui.app_sync_setup import (
    NOT_SET_UP,
    SIGNED_OUT,
    SyncConnector,
    SyncTiming,
    outcome_message,
    progress_words,
)
from sofs_tui.logging_setup import log_event
from sofs_tui.widgets.sync_status import Phase, SyncView

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable
    from datetime import datetime

    from textual.timer import Timer
    from textual.worker import Worker

    from sofs_tui.app import SofsApp
    from sofs_tui.secrets import TokenStore
    from sofs_tui.store.store import Store
    from sofs_tui.store.sync_local import SyncSettings, SyncStatus
    from sofs_tui.sync.client import SyncClient
    from sofs_tui.sync.credentials import Credentials
    from sofs_tui.sync.engine import Backoff, SyncEngine, SyncProgress, SyncSummary
    from sofs_tui.sync.protocol import HeldListResponse

#: Marks a pooled connection whose transaction committed (see `_watch_saves`).
_SAVED = "sofs_app_saved"


class BackgroundSync:
    """The app's one sync controller: decides when to sync, runs it, publishes `sync_view`."""

    def __init__(self, app: SofsApp, connector: SyncConnector, timing: SyncTiming) -> None:
        self.app = app
        self.connector = connector
        self.timing = timing
        #: One lock owner for every engine of this app (see SyncEngine's `owner`).
        self.owner = uuid.uuid4().hex
        self.phase: Phase = "off"
        self.problem = ""
        self.progress = ""
        self.clock_offset_s: float | None = None
        self.signed_in = False
        self.last_summary: SyncSummary | None = None
        self._settings: SyncSettings | None = None
        self._status: SyncStatus | None = None
        self._status_at: datetime | None = None
        self._credentials: Credentials | None = None
        self._tokens: TokenStore | None = None
        self._client: SyncClient | None = None
        self._client_key: tuple[str, str] | None = None
        self._engine: SyncEngine | None = None
        self._engine_parts: tuple[Store, SyncClient] | None = None
        self._backoff: Backoff | None = None
        self._running = False
        self._timer: Timer | None = None
        self._due: float | None = None
        self._not_before = 0.0
        self._watched_engine: object = None
        self._prepare_lock = asyncio.Lock()

    # --- wiring -------------------------------------------------------------------------------

    def start(self) -> None:
        """On mount: follow locks, re-read the counts now and then."""
        self.app.lock_changed_signal.subscribe(self.app, self._lock_changed)
        self.app.set_interval(self.timing.status_poll, self.refresh_status, name="sync-status")

    def store_opened(self, store: Store) -> None:
        """The store is open (first time or after unlock): watch its saves, read its state."""
        if self.phase == "paused":
            self.phase = "waiting"
        self._watch_saves(store)
        self.refresh_status()
        self._run_async(partial(self._prepare_then_schedule, store), "sync-prepare")

    def _run_async(
        self,
        work: Callable[[], Coroutine[Any, Any, None]],
        group: str,
        *,
        exclusive: bool = False,
        name: str = "",
    ) -> Worker[None]:
        """Run `work` in an async worker. It is given the function, not a coroutine: the
        coroutine is made when the worker starts, so a worker cancelled before that (the app
        quitting just after the store opens) leaves none behind, never awaited."""
        return self.app.run_worker(
            work, name=name, group=group, exclusive=exclusive, exit_on_error=False
        )

    @property
    def running(self) -> bool:
        return self._running

    def next_sync_in(self) -> float | None:
        """Seconds until the planned sync, or None when none is planned."""
        return None if self._due is None else max(0.0, self._due - time.monotonic())

    def _watch_saves(self, store: Store) -> None:
        """Every commit on this store's engine (a save, a resolution) nudges the status bar
        and brings the next sync closer. SQLAlchemy's "commit" event fires just before the
        commit, so it only marks the connection; when the connection goes back to the pool,
        the commit is done and readers see it. Both listeners run on the committing thread."""
        engine = store.engine
        if engine is None or engine is self._watched_engine:
            return
        from sqlalchemy import event

        loop = asyncio.get_running_loop()

        def committing(connection: Any) -> None:
            connection.info[_SAVED] = True

        def returned(_dbapi_connection: Any, record: Any) -> None:
            if record.info.pop(_SAVED, False):
                with contextlib.suppress(RuntimeError):  # the app (and its loop) may be gone
                    loop.call_soon_threadsafe(self._store_written)

        event.listen(engine, "commit", committing)
        event.listen(engine.pool, "checkin", returned)
        self._watched_engine = engine

    def _store_written(self) -> None:
        # The engine's own writes during a sync are not saves; the status read after the
        # sync notices any save made meanwhile (changes still to send).
        if not self._running:
            self.refresh_status()

    def _lock_changed(self, locked: bool) -> None:
        if locked:
            self._cancel_timer()
            if self.phase != "off":
                self.phase = "paused"
            return
        store = self.app.store
        if store is not None and not store.is_locked:
            self.store_opened(store)

    # --- status -------------------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Re-read the counts in a thread; a newer read replaces one still running."""
        store = self.app.store
        if store is None or store.is_locked:
            return
        self.app.run_worker(
            lambda: self._read_status(store),
            thread=True,
            group="sync-status",
            exclusive=True,
            exit_on_error=False,
        )

    def _read_status(self, store: Store) -> None:
        from sofs_tui.store import sync_local
        from sofs_tui.store.errors import StoreError

        worker = get_current_worker()
        try:
            status = sync_local.sync_status(store)
            now = store.now()
        except StoreError:
            return  # locked meanwhile: the status stays as it was
        if not worker.is_cancelled:
            self.app.call_from_worker(self._status_read, status, now)

    def _status_read(self, status: SyncStatus, now: datetime) -> None:
        self._status, self._status_at = status, now
        if status.server_url and self.phase == "off":
            self.phase = "waiting"
        elif not status.server_url:
            self.phase = "off"
        self.publish()
        if status.pending and not self._running:
            self._schedule(self.timing.after_save)  # a save: sync soon (back-off permitting)

    def publish(self) -> None:
        """Hand the bars a fresh view (one reactive: a burst of updates paints once). With
        no service the view never changes, so the hidden bars never repaint."""
        if self.phase == "off":
            self.app.sync_view = SyncView()
            return
        status = self._status
        offset = self.clock_offset_s
        if offset is None and status is not None and status.last_success_at is not None:
            offset = status.clock_offset_s
        self.app.sync_view = SyncView(
            phase=self.phase,
            pending=status.pending if status else 0,
            flagged=status.flagged if status else 0,
            conflicts=status.open_conflicts if status else 0,
            held=status.held_records if status else 0,
            last_success_at=status.last_success_at if status else None,
            now=self._status_at,
            clock_offset_s=offset,
            progress=self.progress if self.phase == "syncing" else "",
            problem=self.problem,
        )

    # --- scheduling ---------------------------------------------------------------------------

    def _may_run_alone(self) -> bool:
        return self.signed_in and self.phase != "off" and not self.app.sync_paused

    def _schedule(self, delay: float, *, earlier_only: bool = True) -> None:
        """Sync in `delay` seconds (not before the back-off allows); `earlier_only` keeps an
        earlier sync already planned."""
        if not self._may_run_alone():
            return
        now = time.monotonic()
        due = max(now + delay, self._not_before)
        if earlier_only and self._timer is not None and self._due is not None and self._due <= due:
            return
        self._cancel_timer()
        self._due = due
        self._timer = self.app.set_timer(due - now, self._timer_fired, name="sync")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer, self._due = None, None

    def _timer_fired(self) -> None:
        self._timer, self._due = None, None
        if self._may_run_alone() and not self._running:
            self._start(explicit=False)

    # --- running ------------------------------------------------------------------------------

    def sync_now(self, *, sign_in: bool = False) -> None:
        """ "Sync now" (f6, the palette): sign in first if the service needs the password."""
        if self.app.sync_paused or self.app.store is None:
            return
        if self._running:
            self.app.notify("A sync is running already.", markup=False, timeout=4)
            return
        self._start(explicit=True, sign_in=sign_in)

    def _start(self, *, explicit: bool, sign_in: bool = False) -> None:
        self._running = True  # before the worker starts: two triggers in one tick run once
        self._cancel_timer()
        self._run_async(
            partial(self._run, explicit=explicit, sign_in=sign_in),
            "sync",
            exclusive=True,
            name="sync",
        )

    async def _run(self, *, explicit: bool, sign_in: bool = False) -> None:
        store = self.app.store
        try:
            if store is None or store.is_locked or self.app.sync_paused:
                return
            ready = await self._prepare(store)
            if not ready or sign_in:
                if explicit:
                    self._ask_to_sign_in()
                return
            await self._sync(store, explicit=explicit)
        except Exception as exc:  # a fault in sofs: an incident id, and the app carries on
            self._fault(exc)
        finally:
            self._running = False
            self.publish()

    async def _sync(self, store: Store, *, explicit: bool) -> None:
        from sofs_tui.sync.client import SyncError
        from sofs_tui.sync.engine import SyncEngine

        assert self._settings is not None and self._credentials is not None
        try:
            client = self._client_for(self._settings)
        except SyncError as exc:  # e.g. the CA file named at sign-in has gone
            self._stopped(exc.user_message, explicit=explicit)
            return
        if self._engine is None or self._engine_parts != (store, client):
            # A new store object after each unlock; the owner and back-off carry over.
            self._engine = SyncEngine(
                store, client, self._credentials, backoff=self._backoff_now(), owner=self.owner
            )
            self._engine_parts = (store, client)
        engine = self._engine
        self.phase, self.problem, self.progress = "syncing", "", ""
        self.publish()
        log_event("sync_started", explicit=explicit)
        summary = await engine.sync(progress=self._progressed)
        self._finished(store, summary, explicit=explicit)

    def _progressed(self, step: SyncProgress) -> None:
        self.progress = progress_words(step)
        self.publish()

    def _finished(self, store: Store, summary: SyncSummary, *, explicit: bool) -> None:
        from sofs_tui.store.errors import StoreLocked
        from sofs_tui.sync.client import Offline, Unauthorised

        self.last_summary = summary
        if summary.clock_offset_s is not None:
            self.clock_offset_s = summary.clock_offset_s
        error = summary.error
        if self.app.is_locked or store.is_locked or isinstance(error, StoreLocked):
            # Locked mid-sync: say nothing and repaint nothing; unlocking schedules the rest.
            self.phase = "paused"
            log_event("sync_paused_by_lock")
            return
        if error is None:
            self.phase, self.problem = "online", ""
            self._not_before = 0.0
            self._schedule(self.timing.interval, earlier_only=False)
        elif isinstance(error, Unauthorised):
            self.signed_in = False
            self.phase, self.problem = "sign_in", SIGNED_OUT
        else:
            message = summary.errors[-1] if summary.errors else "Sync did not finish."
            self.phase = "offline" if isinstance(error, Offline) else "unavailable"
            self.problem = message
            if summary.retry_in is not None:
                self._not_before = time.monotonic() + summary.retry_in
                self._schedule(summary.retry_in, earlier_only=False)
            else:  # a person must act (IT, an update): keep trying now and then, quietly
                self.phase = "stopped"
                self._schedule(self.timing.interval, earlier_only=False)
        self._tell(summary, explicit=explicit)
        self.refresh_status()
        self._show_changes(summary)

    def _tell(self, summary: SyncSummary, *, explicit: bool) -> None:
        message = outcome_message(summary, explicit=explicit, problem=self.problem)
        if message is not None:
            words, severity = message
            self.app.notify(words, severity=severity, markup=False, timeout=10)

    def _show_changes(self, summary: SyncSummary) -> None:
        """Let the screen on top show what arrived (never while locked: checked before)."""
        if not (summary.received or summary.conflicts or summary.removed or summary.sent):
            return
        from sofs_tui.screens.case_list import CaseListScreen

        # The conflicts screen follows the status bar's count by itself.
        screen = self.app.screen
        if isinstance(screen, CaseListScreen):
            screen.action_refresh()

    def _stopped(self, message: str, *, explicit: bool) -> None:
        self.phase, self.problem = "stopped", message
        if explicit:
            self.app.notify(f"Sync stopped: {message}", severity="warning", markup=False)

    def _fault(self, exc: Exception) -> None:
        from sofs_tui.store.errors import StoreError

        if isinstance(exc, StoreError):
            if self.app.is_locked:
                self.phase = "paused"
                return
            self._stopped(exc.user_message, explicit=True)
            return
        self.phase, self.problem = "stopped", "Sync stopped because of a fault in sofs."
        self.app.report_incident(exc)

    # --- preparing: settings, credentials, client -------------------------------------------

    async def _prepare_then_schedule(self, store: Store) -> None:
        try:
            ready = await self._prepare(store)
        except Exception as exc:
            self._fault(exc)
            ready = False
        self.publish()
        if ready:
            self._schedule(self.timing.first, earlier_only=False)

    async def _prepare(self, store: Store) -> bool:
        """Read where this store syncs and whether it holds a sign-in. True when a sync can
        run without asking the worker for anything."""
        from sofs_tui.secrets import CredentialStoreUnavailable, token_name
        from sofs_tui.store import sync_local
        from sofs_tui.sync.credentials import Credentials

        async with self._prepare_lock:
            settings = await asyncio.to_thread(sync_local.sync_settings, store)
            self._settings = settings
            if not settings.server_url:
                self.phase = "off"
                return False
            if self.phase == "off":
                self.phase = "waiting"
            url, username = settings.server_url, settings.server_username
            known = self._credentials
            if known is None or (known.server_url, known.username) != (url, username):
                self._tokens = await self.connector.token_store()
                self._credentials = Credentials(
                    self._tokens, url, username, device_id=store.device_id
                )
                self._engine = None
                self.signed_in = False
            tokens = self._tokens
            if not self.signed_in and tokens is not None and tokens.available:
                # A sign-in kept by a trusted credential store (`sofs login`, an earlier run);
                # read off the event loop, with the store's time limit.
                with contextlib.suppress(CredentialStoreUnavailable):
                    self.signed_in = bool(await tokens.aget(token_name(url, username)))
            if not self.signed_in and self.phase not in ("syncing", "stopped"):
                self.phase, self.problem = "sign_in", ""
            return self.signed_in

    def _client_for(self, settings: SyncSettings) -> SyncClient:
        key = (settings.server_url, settings.ca_file)
        if self._client is None or self._client_key != key:
            self._client = self.connector.client(*key)
            self._client_key = key
            self._engine = None
        return self._client

    def _backoff_now(self) -> Backoff:
        from sofs_tui.sync.engine import Backoff

        if self._backoff is None:
            self._backoff = Backoff()
        return self._backoff

    async def aclose(self) -> None:
        """At exit: close the connection to the service."""
        self._cancel_timer()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None

    # --- signing in ---------------------------------------------------------------------------

    def _ask_to_sign_in(self) -> None:
        """An explicit sync that cannot run alone: say why, or ask for the password."""
        settings = self._settings
        if settings is None or not settings.server_url:
            self.app.notify(NOT_SET_UP, markup=False, timeout=10)
            return
        if self._credentials is not None:
            from sofs_tui.screens.sync_sign_in import SignInScreen

            credentials = self._credentials
            self.app.push_screen(
                SignInScreen(
                    settings.server_url, settings.server_username, credentials.problem or ""
                ),
                self._password_given,
            )

    def sign_in(self) -> None:
        """The palette's "sync: sign in": ask for the password even when signed in."""
        self.sync_now(sign_in=True)

    def _password_given(self, password: str | None) -> None:
        if not password or self.app.store is None:
            return
        if self._running:
            self.app.notify("A sync is running already.", markup=False, timeout=4)
            return
        self._running = True
        # Handed over once, when the worker starts: nothing but that worker's frame holds the
        # password, and only until the sign-in is done (a partial would keep it as long as
        # the worker object lives).
        given = [password]
        del password

        async def sign_in_then_sync() -> None:
            await self._sign_in_then_sync(given.pop())

        self._run_async(sign_in_then_sync, "sync", exclusive=True)

    async def _sign_in_then_sync(self, password: str) -> None:
        from sofs_tui.sync.client import SyncError

        store = self.app.store
        try:
            if store is None or store.is_locked or self._settings is None:
                return
            credentials = self._credentials
            assert credentials is not None
            try:
                client = self._client_for(self._settings)
                await credentials.login(client, password)
            except SyncError as exc:
                self.phase, self.problem = "sign_in", exc.user_message
                self.app.notify(exc.user_message, severity="error", markup=False, timeout=10)
                return
            finally:
                del password  # never kept: only the service's tokens are
            self.signed_in = True
            self.problem = ""
            log_event("sync_signed_in", keeps_tokens=credentials.keeps_tokens)
            if not credentials.keeps_tokens:
                self.app.notify(
                    "Signed in for this session only: sofs keeps no password or token on a "
                    "computer without a trusted credential store.",
                    markup=False,
                    timeout=8,
                )
            await self._sync(store, explicit=True)
        except Exception as exc:
            self._fault(exc)
        finally:
            self._running = False
            self.publish()

    # --- the manager's queue --------------------------------------------------------------------

    async def held_changes(self) -> HeldListResponse:
        """The service's changes stored but not applied in the manager's teams' cases (see
        screens/held.py). A 401 renews the access token once; raises SyncError when the
        service cannot answer (Forbidden for anyone but a manager) or nobody is signed in."""
        from sofs_tui.store.errors import StoreLocked
        from sofs_tui.sync.client import Unauthorised

        store = self.app.store
        if store is None or store.is_locked or self.app.sync_paused:
            raise StoreLocked()
        if not await self._prepare(store):
            raise Unauthorised()
        assert self._settings is not None and self._credentials is not None
        client = self._client_for(self._settings)
        credentials = self._credentials
        try:
            return await client.held(await credentials.access_token(client))
        except Unauthorised:
            return await client.held(await credentials.renew(client))

    def show_held(self) -> None:
        from sofs_tui.screens.held import HeldScreen

        if not isinstance(self.app.screen, HeldScreen):
            self.app.push_screen(HeldScreen())

    # --- the palette --------------------------------------------------------------------------

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "sync: now", "Send saved changes and fetch updates now (f6)", self.sync_now
        )
        yield SystemCommand(
            "sync: sign in", "Give your service password to sync again", self.sign_in
        )
        yield SystemCommand(
            "sync: conflicts",
            "Changes made in two places: choose which version to keep (f7)",
            self.app.action_conflicts,
        )
        store = self.app.store
        if store is not None and store.actor.role == "manager":
            yield SystemCommand(
                "sync: changes waiting for a manager",
                "Changes the service kept but did not apply in your teams' cases",
                self.show_held,
            )


__all__ = ["BackgroundSync"]
