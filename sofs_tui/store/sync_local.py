"""Every read and write the sync engine makes on this device's store (the store owns SQL).

Units of work taking `Store`, so the app can run them in thread workers. The rules are
SYNC.md's and reference/sync.md §2.3-2.8: the outbox leaves `pending` only with a stored
result; pull never writes over unsent work; nothing here deletes a word because of an error.
This module is the one the engine and the app import: push answers (`sync_push`), pull apply
(`sync_apply`) and conflicts (`sync_conflicts`) live beside it and are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.sync_apply import PageOutcome, apply_page, purge_revoked, sweep_after_resync
from sofs_tui.store.sync_conflicts import (
    ConflictClosed,
    ConflictView,
    assessment_has_open_conflicts,
    case_references,
    edit_merged,
    get_conflict,
    keep_both,
    keep_mine,
    keep_theirs,
    list_conflicts,
)
from sofs_tui.store.sync_push import ChangeNotice, PushOutcome, apply_push_results
from sofs_tui.store.sync_rows import settle
from sofs_tui.store.tables import ENTITY_TABLES, LocalConflict, Outbox, SyncMeta

__all__ = [
    "ChangeNotice",
    "ConflictClosed",
    "ConflictView",
    "OutgoingChange",
    "PageOutcome",
    "PushOutcome",
    "SyncSettings",
    "SyncStatus",
    "apply_page",
    "apply_push_results",
    "assessment_has_open_conflicts",
    "case_references",
    "edit_merged",
    "flag_changes",
    "forget_registration",
    "get_conflict",
    "keep_both",
    "keep_mine",
    "keep_theirs",
    "list_conflicts",
    "mark_registered",
    "pending_count",
    "purge_revoked",
    "purge_sent_log",
    "record_success",
    "release_batch",
    "resend_after_restore",
    "reset_inflight",
    "set_server",
    "sweep_after_resync",
    "sync_settings",
    "sync_status",
    "take_batch",
]

SENT_LOG_DAYS = 30
#: Rough JSON overhead of one change besides its fields (ids, times, hash), for batch sizing.
CHANGE_OVERHEAD_BYTES = 512


# --- Settings, registration ------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSettings:
    """Where and as whom this device syncs, and where the last sync left off."""

    device_id: str
    server_url: str
    server_username: str
    ca_file: str
    registered_url: str
    cursor: str
    server_epoch: str
    clock_offset_s: float
    last_success_at: datetime | None


def _meta(session: Session) -> SyncMeta:
    meta = session.get(SyncMeta, 1)
    if meta is None:
        raise StoreError("This store has no device record. Restart sofs to repair it.")
    return meta


def sync_settings(store: Store) -> SyncSettings:
    with store.read() as session:
        meta = _meta(session)
        return SyncSettings(
            device_id=meta.device_id,
            server_url=meta.server_url,
            server_username=meta.server_username or meta.username,
            ca_file=meta.ca_file,
            registered_url=meta.registered_url,
            cursor=meta.cursor,
            server_epoch=meta.server_epoch,
            clock_offset_s=meta.clock_offset_s,
            last_success_at=meta.last_success_at,
        )


def set_server(store: Store, url: str, username: str, ca_file: str = "") -> None:
    """Remember the service (after a successful sign-in). A different service starts its
    pull from the beginning; nothing local is removed."""
    with store.write() as session:
        meta = _meta(session)
        if meta.server_url != url:
            meta.cursor = ""
            meta.server_epoch = ""
            meta.registered_url = ""
        meta.server_url = url
        meta.server_username = username
        meta.ca_file = ca_file
        session.add(meta)


def mark_registered(store: Store, url: str, last_device_seq: int) -> None:
    """The service knows this device. If it has seen higher device sequence numbers (this
    store was restored from a copy), new changes continue above them."""
    with store.write() as session:
        meta = _meta(session)
        meta.registered_url = url
        meta.next_device_seq = max(meta.next_device_seq, last_device_seq + 1)
        session.add(meta)


def forget_registration(store: Store) -> None:
    """The service no longer knows this device: the next sync registers it again."""
    with store.write() as session:
        meta = _meta(session)
        meta.registered_url = ""
        session.add(meta)


def record_success(store: Store, clock_offset_s: float | None) -> None:
    with store.write() as session:
        meta = _meta(session)
        meta.last_success_at = store.now()
        if clock_offset_s is not None:
            meta.clock_offset_s = clock_offset_s
        session.add(meta)


# --- Push ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingChange:
    """An outbox row as it goes out (a copy: the row itself stays in the store)."""

    change_id: str
    device_seq: int
    entity: str
    record_id: str
    op: str
    base_rev: int | None
    base_change_id: str | None
    fields: dict[str, Any]
    resolves: list[str]
    client_time: datetime
    payload_sha256: str


def reset_inflight(store: Store) -> int:
    """Crash recovery (at start-up and before each sync, under the sync lock): a change left
    in flight has an unknown outcome, so it goes back to pending and is sent again with the
    same change_id; the service replays its stored result. Returns how many."""
    with store.write() as session:
        rows = session.exec(select(Outbox).where(Outbox.state == "inflight")).all()
        for row in rows:
            row.state = "pending"
            row.last_error = "interrupted"
            session.add(row)
        return len(rows)


def pending_count(store: Store) -> int:
    with store.read() as session:
        count = session.exec(
            select(func.count())
            .select_from(Outbox)
            .where(col(Outbox.state).in_(("pending", "inflight")))
        ).one()
        return int(count)


def take_batch(store: Store, max_changes: int, max_bytes: int) -> list[OutgoingChange]:
    """The next pending changes in device order (up to `max_changes` or about `max_bytes`,
    at least one), marked in flight in one transaction before anything is sent."""
    with store.write() as session:
        rows = session.exec(
            select(Outbox)
            .where(Outbox.state == "pending")
            .order_by(col(Outbox.device_seq))
            .limit(max(1, max_changes))
        ).all()
        taken: list[OutgoingChange] = []
        size = 0
        for row in rows:
            size += len(row.fields.encode()) + CHANGE_OVERHEAD_BYTES
            if taken and size > max_bytes:
                break
            row.state = "inflight"
            row.attempts += 1  # from now on rule L2 never folds another edit into it
            session.add(row)
            taken.append(
                OutgoingChange(
                    change_id=row.change_id,
                    device_seq=row.device_seq,
                    entity=row.entity,
                    record_id=row.record_id,
                    op=row.op,
                    base_rev=row.base_rev,
                    base_change_id=row.base_change_id,
                    fields=json.loads(row.fields),
                    resolves=json.loads(row.resolves or "[]"),
                    client_time=row.client_time,
                    payload_sha256=row.payload_sha256,
                )
            )
        return taken


def release_batch(
    store: Store, change_ids: Iterable[str], error: str, *, never_sent: bool = False
) -> None:
    """Outcome unknown: the batch goes back to pending. `never_sent` (the connection was
    refused before a byte left) also undoes the attempt, so offline edits keep coalescing."""
    ids = list(change_ids)
    with store.write() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.change_id).in_(ids))).all()
        for row in rows:
            if row.state != "inflight":
                continue
            row.state = "pending"
            row.last_error = error
            if never_sent and row.attempts > 0:
                row.attempts -= 1
            session.add(row)


def resend_after_restore(store: Store, server_epoch: str, last_device_seq: int) -> int:
    """The service came back from a backup (a new epoch) holding this device's changes only
    up to `last_device_seq`. Every later change it had stored, whatever its answer, goes back
    to pending, to be sent again in device order under its own change_id (the service replays
    any it still has), so the service gets back what it lost and no sequence number is
    missing; their rows count as unsent until then, so no resync sweep or pull touches them.
    The pull starts again from a snapshot of the restored service. One transaction; returns
    how many changes go again (F21, reference/sync.md §2.8)."""
    with store.write() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.state == "done", col(Outbox.device_seq) > last_device_seq)
        ).all()
        for change in rows:
            change.state = "pending"  # attempts stay: rule L2 never folds an edit into it
            change.last_error = "service_restored"
            session.add(change)
        session.flush()
        for entity, record_id in {(c.entity, c.record_id) for c in rows}:
            table = ENTITY_TABLES.get(entity)
            row = session.get(table, record_id) if table is not None else None
            if row is not None:
                settle(session, row)
        meta = _meta(session)
        meta.server_epoch = server_epoch
        meta.cursor = ""
        meta.next_device_seq = max(meta.next_device_seq, last_device_seq + 1)
        session.add(meta)
        return len(rows)


def flag_changes(store: Store, change_ids: Iterable[str], reason: str) -> None:
    """Keep changes that cannot go (a local bug, or the service holds another payload under
    the same id) out of the queue, kept and shown; never deleted, never marked done."""
    ids = list(change_ids)
    with store.write() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.change_id).in_(ids))).all()
        for row in rows:
            row.state = "flagged"
            row.last_error = reason
            session.add(row)


# --- Sent log, status -------------------------------------------------------------------------


def purge_sent_log(store: Store, days: int = SENT_LOG_DAYS) -> int:
    """Forget sent changes older than `days` whose outcome is final (applied or a conflict,
    both kept by the service). Held and rejected ones stay: they still explain a row."""
    cutoff = store.now() - timedelta(days=days)
    with store.write() as session:
        rows = session.exec(
            select(Outbox).where(
                Outbox.state == "done",
                col(Outbox.done_at).is_not(None),
                col(Outbox.done_at) < cutoff,
            )
        ).all()
        removed = 0
        for row in rows:
            status = json.loads(row.result or "{}").get("status")
            if status in ("applied", "conflict"):
                session.delete(row)
                removed += 1
        return removed


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    server_url: str
    pending: int
    flagged: int
    open_conflicts: int
    held_records: int
    last_success_at: datetime | None
    clock_offset_s: float


def sync_status(store: Store) -> SyncStatus:
    with store.read() as session:
        meta = _meta(session)
        counts = dict(
            session.exec(select(Outbox.state, func.count()).group_by(col(Outbox.state))).all()
        )
        conflicts = session.exec(
            select(func.count()).select_from(LocalConflict).where(LocalConflict.status == "open")
        ).one()
        held = sum(
            int(
                session.exec(
                    select(func.count())
                    .select_from(table)
                    .where(table.sync_state == SyncState.HELD)
                ).one()
            )
            for table in ENTITY_TABLES.values()
        )
        return SyncStatus(
            server_url=meta.server_url,
            pending=int(counts.get("pending", 0)) + int(counts.get("inflight", 0)),
            flagged=int(counts.get("flagged", 0)),
            open_conflicts=int(conflicts),
            held_records=held,
            last_success_at=meta.last_success_at,
            clock_offset_s=meta.clock_offset_s,
        )
