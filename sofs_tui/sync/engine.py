"""The sync engine: push, then pull, one sync at a time, nothing local lost on any error.

Every store step is a unit of work from `store.sync_local`, run off the event loop with
`asyncio.to_thread`; the HTTP side is `SyncClient`. Outcomes follow reference/sync.md §2.4,
§2.5 and §2.12: a change leaves the outbox only with a stored result, an unknown outcome puts
it back to pending, a page and its cursor are applied together or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Concatenate, ParamSpec, TypeVar
from uuid import UUID

from pydantic import ValidationError

from sofs_tui import __version__
from sofs_tui.store import sync_local
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
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
    for this engine, and the store's lock row (BEGIN IMMEDIATE) for other engines and
    processes on the same store."""

    LOCK_LEASE = timedelta(minutes=10)

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
        # The app passes one owner for all its engines: a sync cut short by the idle lock
        # leaves the store's lock row to it, and the engine built after unlock resumes.
        self._owner = owner or uuid.uuid4().hex
        self._lock_wait = lock_wait
        self._lock_poll = lock_poll
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
            if not await self._take_lock():
                summary.stop(SyncBusy())
                return self._finish(summary)
            try:
                await self._run(summary, progress)
            except (SyncError, StoreError) as exc:
                summary.stop(exc)
            finally:
                with contextlib.suppress(StoreError):  # else the lease runs out on its own
                    await asyncio.to_thread(sync_local.release_sync_lock, self._store, self._owner)
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
                sync_local.mark_registered,
                self._store,
                self._client.base_url,
                device.last_device_seq,
            )
        return self._info

    # --- The cycle ---------------------------------------------------------------------------

    async def _run(self, summary: SyncSummary, progress: ProgressCallback | None) -> None:
        await asyncio.to_thread(sync_local.reset_inflight, self._store)
        await self.handshake()
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
        done = 0
        while True:
            await self._renew_lock()
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
            request = PushRequest(
                device_id=UUID(self._store.device_id),
                batch_id=uuid.uuid4(),
                schema_version=SCHEMA_CURRENT,
                changes=changes,
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
        received = 0
        while True:
            await self._renew_lock()
            try:
                page = await self._authorised(self._client.pull, cursor, self._page)
            except Gone:
                if resync:
                    raise
                resync, cursor, seen = True, None, set()  # 410: start again from a snapshot
                continue
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
                sync_local.sweep_after_resync, self._store, seen
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
        was_fresh = not self._credentials.has_access_token
        token = await self._credentials.access_token(self._client)
        try:
            return await call(token, *args, **kwargs)
        except Unauthorised:
            if was_fresh:
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

    async def _take_lock(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lock_wait
        while True:
            taken = await asyncio.to_thread(
                sync_local.acquire_sync_lock, self._store, self._owner, self.LOCK_LEASE
            )
            if taken:
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(self._lock_poll)

    async def _renew_lock(self) -> None:
        taken = await asyncio.to_thread(
            sync_local.acquire_sync_lock, self._store, self._owner, self.LOCK_LEASE
        )
        if not taken:
            raise SyncBusy(detail="lock taken over")

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
