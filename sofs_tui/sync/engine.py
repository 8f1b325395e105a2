"""The sync engine: push, then pull, one sync at a time, nothing local lost on any error.

Every store step is a unit of work from `store.sync_local`, run off the event loop with
`asyncio.to_thread`; the HTTP side is `SyncClient`. Outcomes follow reference/sync.md §2.4,
§2.5 and §2.12: a change leaves the outbox only with a stored result, an unknown outcome puts
it back to pending, a page and its cursor are applied together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar
from uuid import UUID

from pydantic import ValidationError

from sofs_tui import __version__
from sofs_tui.store import sync_local, sync_push
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.sync_lock import SyncLock, sync_lock_path
from sofs_tui.sync.client import (
    BadResponse,
    Gone,
    Offline,
    ServerBusy,
    SyncClient,
    SyncError,
    TooLarge,
    Unauthorised,
    UnknownDevice,
    UpgradeRequired,
)
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.entities import field_problems
from sofs_tui.sync.failpoints import (
    AFTER_CHECKPOINT,
    AFTER_INFLIGHT,
    AFTER_SEND_BEFORE_ACK,
    PULL_MID_APPLY,
    failpoint,
)
from sofs_tui.sync.protocol import (
    DEFAULT_PAGE,
    MAX_BATCH_BYTES,
    MAX_BATCH_CHANGES,
    MAX_PAGE,
    MAX_SKIPPED_SEQS,
    PROTOCOL_VERSION,
    SCHEMA_CURRENT,
    Change,
    ConflictItem,
    DeviceRegistration,
    InfoResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    RecordItem,
    ScopeItem,
)
from sofs_tui.sync.summary import ProgressCallback, SyncProgress, SyncSummary

#: Room for the request's own JSON around the changes.
BATCH_ENVELOPE_BYTES = 4096
__all__ = [
    "Backoff",
    "ProgressCallback",
    "SyncBusy",
    "SyncEngine",
    "SyncProgress",
    "SyncSummary",
    "page_problems",
]
log = logging.getLogger(__name__)  # ids, counts and error types only: never text or tokens
_P = ParamSpec("_P")
_T = TypeVar("_T")


class SyncBusy(SyncError):
    default_message = "Another sync is running on this computer. Try again in a moment."
    retryable = True


@dataclass
class Backoff:
    """Exponential back-off with full jitter (1 s up to 15 min), honouring Retry-After.

    After the n-th failure in a row the wait is a random time up to min(cap, base·2ⁿ⁻¹),
    never less than `base` nor than what the service asked for. Pure: inject `rand`.
    """

    base: float = 1.0
    cap: float = 900.0
    rand: Callable[[], float] = random.random
    failures: int = 0

    def failure(self, retry_after: float | None = None) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        self.failures += 1
        ceiling = min(self.cap, self.base * 2.0 ** min(self.failures - 1, 40))
        delay = max(self.base, self.rand() * ceiling)
        return max(delay, retry_after) if retry_after is not None else delay

    def success(self) -> None:
        self.failures = 0


def page_problems(page: PullResponse) -> list[str]:
    """Why a page cannot be applied (unknown entities or fields, bad values); [] if fine.
    One problem refuses the whole page, so a bad page changes nothing (F7)."""
    problems: list[str] = []

    def record(item: RecordItem) -> None:
        problems.extend(field_problems(item.entity, dict(item.data)))

    for item in page.items:
        if isinstance(item, RecordItem):
            record(item)
        elif isinstance(item, ScopeItem):
            for snapshot_item in item.snapshot:
                record(snapshot_item)
        elif isinstance(item, ConflictItem):
            problems.extend(field_problems(item.entity, dict(item.theirs)))
            problems.extend(field_problems(item.entity, dict(item.incoming)))
    return problems


class SyncEngine:
    """Push before pull, under a lock so two syncs never interleave (F23): an asyncio lock
    for this engine, and the store's sync lock file (`store/sync_lock.py`, an OS lock) for other
    engines in this process and other processes. That lock ends with its process, so a sync
    killed mid-way never shuts the next one out (F8)."""

    def __init__(
        self,
        store: Store,
        client: SyncClient,
        credentials: Credentials,
        *,
        device_label: str | None = None,
        backoff: Backoff | None = None,
        lock_wait: float = 120.0,
        lock_poll: float = 0.2,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._credentials = credentials
        self._label = (device_label or f"sofs on {socket.gethostname()}")[:120]
        self.backoff = backoff or Backoff()
        self._lock = asyncio.Lock()
        # Who holds the sync lock, written into its file for support (the app passes one
        # owner for all its engines).
        self._owner = owner or uuid.uuid4().hex
        self._lock_wait = lock_wait
        self._lock_poll = lock_poll
        self._sync_lock: SyncLock | None = None
        self._clock = clock or store.now
        self._info: InfoResponse | None = None
        self._pull_allowed = True
        self._batch_changes = MAX_BATCH_CHANGES
        self._batch_bytes = MAX_BATCH_BYTES
        self._page = DEFAULT_PAGE
        self._offset: float | None = None

    @property
    def clock_offset_s(self) -> float | None:
        return self._offset

    async def sync(self, progress: ProgressCallback | None = None) -> SyncSummary:
        """One full cycle. Never raises for sync or storage failures: they end up in the
        summary (`error`, `errors`, `retry_in`), with every local row kept."""
        summary = SyncSummary()
        async with self._lock:
            try:
                lock = await self._take_lock()
            except StoreError as exc:  # e.g. the store was locked meanwhile
                summary.stop(exc)
                return self._finish(summary)
            if lock is None:
                summary.stop(SyncBusy())
                return self._finish(summary)
            try:
                await self._run(summary, progress)
            except (SyncError, StoreError) as exc:
                summary.stop(exc)
            finally:
                lock.release()
        return self._finish(summary)

    async def handshake(self) -> InfoResponse:
        """Ask the service what it speaks (once per engine), then register this device
        (once per store and service)."""
        if self._info is None:
            info = await self._client.info()
            self._note_time(info.server_time)
            self._check_versions(info)
            self._info = info
        settings = await asyncio.to_thread(sync_local.sync_settings, self._store)
        if settings.registered_url != self._client.base_url:
            await self._register()
        return self._info

    async def _register(self) -> int:
        """Register this device (idempotent); the last device_seq the service holds of it."""
        registration = DeviceRegistration(
            label=self._label, app_version=__version__, schema_version=SCHEMA_CURRENT
        )
        device = await self._authorised(
            self._client.register_device, self._store.device_id, registration
        )
        if device.device_id != UUID(self._store.device_id):
            raise BadResponse(detail="registration answered for another device")
        if device.server_time is not None:
            self._note_time(device.server_time)
        await asyncio.to_thread(
            sync_local.mark_registered, self._store, self._client.base_url, device.last_device_seq
        )
        return device.last_device_seq

    async def _after_restore(self, info: InfoResponse) -> bool:
        """F21: a service restored from a backup has a new epoch and has lost what was stored
        after the backup. Every change of ours it no longer holds (above the last device_seq
        it knows) goes back to pending, to be pushed again before the resync, so the sweep
        finds them on the service and our next changes follow in sequence. True if so."""
        settings = await asyncio.to_thread(sync_local.sync_settings, self._store)
        if not settings.server_epoch or settings.server_epoch == info.server_epoch:
            return False
        last_device_seq = await self._register()
        again = await asyncio.to_thread(
            sync_local.resend_after_restore, self._store, info.server_epoch, last_device_seq
        )
        log.warning("sync: the service was restored from a backup; %d changes go again", again)
        return True

    async def _full_handshake(self) -> None:
        """The handshake; a new engine then checks for a restore against the cached epoch."""
        fresh = self._info is None
        info = await self.handshake()
        if fresh:  # a cached epoch may be stale: a restore is then found at the 410
            await self._after_restore(info)

    async def _info_can_wait(self) -> bool:
        """True when a new engine may skip /info, so that a sync with nothing to do is one
        request: this store is registered with this service, holds a cursor from it and has
        nothing to push. The pull answer then says whether the service still speaks our
        versions (`SyncClient.served`; else the full handshake follows), and a restore answers
        410. The first push of this engine does the full handshake first."""
        if self._info is not None:
            return False  # the handshake is local from now on (the registration check)
        settings = await asyncio.to_thread(sync_local.sync_settings, self._store)
        if settings.registered_url != self._client.base_url or not settings.cursor:
            return False
        return await asyncio.to_thread(sync_local.pending_count, self._store) == 0

    # --- The cycle ---------------------------------------------------------------------------

    async def _run(self, summary: SyncSummary, progress: ProgressCallback | None) -> None:
        await asyncio.to_thread(sync_local.reset_inflight, self._store)
        if not await self._info_can_wait():
            await self._full_handshake()
        try:
            await self._push(summary, progress)
        except UnknownDevice:  # the service lost its record of us: register, then go on
            await asyncio.to_thread(sync_local.forget_registration, self._store)
            await self.handshake()
            await self._push(summary, progress)
        summary.removed += await asyncio.to_thread(sync_local.purge_revoked, self._store)
        if not self._pull_allowed:
            raise UpgradeRequired()
        await self._pull(summary, progress)
        await asyncio.to_thread(sync_local.purge_sent_log, self._store)
        await asyncio.to_thread(sync_local.record_success, self._store, self._offset)

    async def _push(self, summary: SyncSummary, progress: ProgressCallback | None) -> None:
        total = await asyncio.to_thread(sync_local.pending_count, self._store)
        if total and self._info is None:  # skipped by _info_can_wait; a save came since
            await self._full_handshake()
        done = 0
        while True:
            batch = await asyncio.to_thread(
                sync_local.take_batch,
                self._store,
                self._batch_changes,
                self._batch_bytes - BATCH_ENVELOPE_BYTES,
            )
            if not batch:
                return
            failpoint(AFTER_INFLIGHT)
            changes, invalid = _as_protocol(batch)
            if invalid:
                await asyncio.to_thread(
                    sync_local.flag_changes, self._store, invalid, "invalid_local_change"
                )
                summary.flagged += len(invalid)
            if not changes:
                continue
            ids = [str(change.change_id) for change in changes]
            # The changes kept back (flagged) are never sent: say so, or every later change
            # would wait for them on the service as a gap (F22). Read again for each batch, so
            # one flagged earlier in this sync is declared by the changes after it.
            skipped = await asyncio.to_thread(sync_push.flagged_seqs, self._store, MAX_SKIPPED_SEQS)
            request = PushRequest(
                device_id=UUID(self._store.device_id),
                batch_id=uuid.uuid4(),
                schema_version=SCHEMA_CURRENT,
                changes=changes,
                skipped_seqs=skipped,
            )
            try:
                response = await self._authorised(self._client.push, request)
                _check_answer(request, response)
            except TooLarge:
                await asyncio.to_thread(
                    sync_local.release_batch, self._store, ids, "too_large", never_sent=True
                )
                if len(ids) > 1:
                    self._batch_changes = max(1, len(ids) // 2)  # F22: halve and go on
                else:  # one change the service will never take: keep it back, send the rest
                    await asyncio.to_thread(sync_local.flag_changes, self._store, ids, "too_large")
                    summary.flagged += 1
                continue
            except BaseException as exc:
                never_sent = isinstance(exc, Offline) and not exc.maybe_sent
                await asyncio.to_thread(
                    sync_local.release_batch,
                    self._store,
                    ids,
                    _error_code(exc),
                    never_sent=never_sent,
                )
                raise
            failpoint(AFTER_SEND_BEFORE_ACK)
            self._note_time(response.server_time)
            outcome = await asyncio.to_thread(
                sync_local.apply_push_results, self._store, ids, response
            )
            summary.add_push(outcome)
            done += len(ids)
            if progress is not None:
                progress(SyncProgress("push", min(done, total), max(total, done)))
            if outcome.unknown:
                raise BadResponse(detail=f"{outcome.unknown} changes had no result")

    async def _pull(self, summary: SyncSummary, progress: ProgressCallback | None) -> None:
        settings = await asyncio.to_thread(sync_local.sync_settings, self._store)
        cursor: str | None = settings.cursor or None
        # No cursor (a first sync, or a new service): the snapshot is the truth, whatever
        # revisions old shadows hold, and clean rows it does not name are swept afterwards.
        resync = cursor is None
        seen: set[str] = set()
        seen_conflicts: set[str] = set()
        received = 0
        while True:
            try:
                page = await self._authorised(self._client.pull, cursor, self._page)
            except Gone:
                if resync:
                    raise
                self._info = None  # 410: was the service restored? Then push again first
                if await self._after_restore(await self.handshake()):
                    await self._push(summary, progress)
                resync, cursor = True, None  # and start again from a snapshot
                seen, seen_conflicts = set(), set()
                continue
            served = self._client.served
            if self._info is None and (served is None or not served.speaks_ours):
                await self._full_handshake()  # /info was skipped: the answer says too little
                if not self._pull_allowed:
                    raise UpgradeRequired()
            problems = page_problems(page)
            if problems:
                raise BadResponse(detail=f"page refused: {len(problems)} invalid values")
            self._note_time(page.server_time)
            outcome = await asyncio.to_thread(
                sync_local.apply_page,
                self._store,
                page,
                resync=resync,
                mid_apply=_pull_mid_apply,
            )
            failpoint(AFTER_CHECKPOINT)
            summary.received += outcome.received
            summary.conflicts += outcome.conflicts
            summary.removed += outcome.removed
            seen |= outcome.record_ids
            seen_conflicts |= {
                str(i.conflict_id) for i in page.items if isinstance(i, ConflictItem)
            }
            received += len(page.items)
            if page.has_more and page.next_cursor == cursor:
                raise BadResponse(detail="a page that does not move on")
            cursor = page.next_cursor
            if progress is not None:
                progress(SyncProgress("pull", received, None if page.has_more else received))
            if not page.has_more:
                break
        if resync:
            summary.removed += await asyncio.to_thread(
                sync_local.sweep_after_resync, self._store, seen, seen_conflicts
            )

    # --- Helpers -----------------------------------------------------------------------------

    async def _authorised(
        self,
        call: Callable[Concatenate[str, _P], Awaitable[_T]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """Call with the access token; on 401 renew once (refresh, or the password prompt)
        and try again; a second refusal is `Unauthorised` (F16). Nothing local changes."""
        token = await self._credentials.access_token(self._client)
        fresh = self._credentials.just_issued
        try:
            return await call(token, *args, **kwargs)
        except Unauthorised:
            if fresh:
                await self._credentials.refused()
                raise
        token = await self._credentials.renew(self._client)
        return await call(token, *args, **kwargs)

    def _check_versions(self, info: InfoResponse) -> None:
        if PROTOCOL_VERSION not in info.protocol_versions:
            raise UpgradeRequired(detail="protocol")
        if info.schema_versions.max < SCHEMA_CURRENT:
            raise UpgradeRequired(
                "The service is older than this version of sofs. Your changes are kept; ask "
                "IT to update the service, then sync again.",
                detail="schema above service max",
            )
        # Below the service's minimum: pushes are still stored (held), pull is refused.
        self._pull_allowed = info.schema_versions.min <= SCHEMA_CURRENT
        self._batch_changes = max(1, min(MAX_BATCH_CHANGES, info.limits.max_batch_changes))
        self._batch_bytes = max(
            BATCH_ENVELOPE_BYTES * 2, min(MAX_BATCH_BYTES, info.limits.max_batch_bytes)
        )
        self._page = max(1, min(MAX_PAGE, info.limits.max_page))

    async def _take_lock(self) -> SyncLock | None:
        """The store's sync lock, waiting up to `lock_wait` for another sync to end."""
        if self._sync_lock is None:
            path = await asyncio.to_thread(sync_lock_path, self._store)
            self._sync_lock = SyncLock(path, self._owner)
        lock = self._sync_lock
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lock_wait
        while not lock.acquire():  # never blocks: a try, then a short sleep
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(self._lock_poll)
        return lock

    def _note_time(self, server_time: datetime) -> None:
        self._offset = (server_time - self._clock()).total_seconds()

    def _finish(self, summary: SyncSummary) -> SyncSummary:
        summary.clock_offset_s = self._offset
        error = summary.error
        log.info(
            "sync %s: sent=%d received=%d conflicts=%d held=%d rejected=%d flagged=%d removed=%d",
            type(error).__name__ if error is not None else "ok",
            summary.sent,
            summary.received,
            summary.conflicts,
            summary.held,
            summary.rejected,
            summary.flagged,
            summary.removed,
        )
        if error is None:
            self.backoff.success()
        elif isinstance(error, SyncError) and error.retryable:
            retry_after = error.retry_after if isinstance(error, ServerBusy) else None
            summary.retry_in = self.backoff.failure(retry_after)
        return summary


def _pull_mid_apply() -> None:
    """Inside a page's transaction, before its cursor (a test failpoint; free otherwise)."""
    failpoint(PULL_MID_APPLY)


def _as_protocol(batch: list[sync_local.OutgoingChange]) -> tuple[list[Change], list[str]]:
    """The batch as protocol changes; rows that cannot be expressed (a local fault) apart."""
    changes: list[Change] = []
    invalid: list[str] = []
    for row in batch:
        try:
            changes.append(
                Change(
                    change_id=UUID(row.change_id),
                    device_seq=row.device_seq,
                    entity=row.entity,
                    id=row.record_id,
                    op=row.op,
                    base_rev=row.base_rev,
                    base_change_id=UUID(row.base_change_id) if row.base_change_id else None,
                    fields=row.fields,
                    resolves=[UUID(c) for c in row.resolves],
                    client_time=row.client_time,
                    payload_sha256=row.payload_sha256,
                )
            )
        except (ValidationError, ValueError):
            invalid.append(row.change_id)
    return changes, invalid


def _check_answer(request: PushRequest, response: PushResponse) -> None:
    """A push answer must be for this batch and device, and name only its changes, once."""
    if response.batch_id != request.batch_id or response.device_id != request.device_id:
        raise BadResponse(detail="answer for another batch")
    sent = {change.change_id for change in request.changes}
    answered = [result.change_id for result in response.results]
    if len(set(answered)) != len(answered):
        raise BadResponse(detail="a change answered twice")
    if not set(answered) <= sent:
        raise BadResponse(detail="an answer for a change not sent")


def _error_code(exc: BaseException) -> str:
    """A short code for the outbox's last_error: a class name, never a message."""
    return type(exc).__name__[:40]
