"""Writing a record and its outbox row together (SYNC.md "local write", rules L1 and L2)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Text
from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.domain.text import clean_text
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Outbox, Synced, SyncMeta

T = TypeVar("T", bound=Synced)

_SYNC_COLUMNS = frozenset(Synced.model_fields)


class RecordNotFound(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"That {what} is no longer in this store (it may have been removed on another "
            "device). Go back to the list and open it again."
        )


def jsonable(value: Any) -> Any:
    """Field values as they travel in the outbox and over sync."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _clean(row: Synced, name: str, value: Any) -> Any:
    """Text passes `clean_text` at the store boundary whatever the caller checked."""
    if not isinstance(value, str) or isinstance(value, Enum):
        return value
    column = type(row).__table__.columns[name]  # type: ignore[attr-defined]
    return clean_text(value, multiline=isinstance(column.type, Text))


def _next_seq(session: Session) -> int:
    meta = session.get(SyncMeta, 1)
    if meta is None:
        raise StoreError("This store has no device record. Restart sofs to repair it.")
    seq = meta.next_device_seq
    meta.next_device_seq = seq + 1
    session.add(meta)
    return seq


def _sha(entity: str, record_id: str, op: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"entity": entity, "record_id": record_id, "op": op, "fields": fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _held_change(session: Session, record_id: str) -> str | None:
    """The record's last stored change if the service holds it (its outcome, and so the rev
    it makes, is still to come); None when the last one applied, conflicted or was refused."""
    last = session.exec(
        select(Outbox)
        .where(Outbox.record_id == record_id, Outbox.state == "done")
        .order_by(col(Outbox.device_seq).desc())
        .limit(1)
    ).first()
    if last is None or json.loads(last.result or "{}").get("status") != "held":
        return None
    return last.change_id


def _outbox(session: Session, store: Store, row: Synced, op: str, fields: dict[str, Any]) -> Outbox:
    entity = row.ENTITY
    now = store.now()
    unsent = session.exec(
        select(Outbox)
        .where(Outbox.record_id == row.id, col(Outbox.state).in_(("pending", "inflight")))
        .order_by(col(Outbox.device_seq).desc())
        .limit(1)
    ).first()
    # Rule L2: fold an update into the newest pending row if it was never sent.
    if (
        op == "update"
        and unsent is not None
        and unsent.state == "pending"
        and unsent.attempts == 0
        and unsent.op in ("create", "update")
    ):
        merged = json.loads(unsent.fields) | fields
        unsent.fields = json.dumps(merged, ensure_ascii=False)
        unsent.payload_sha256 = _sha(entity, row.id, unsent.op, merged)
        unsent.client_time = now
        session.add(unsent)
        return unsent
    # While an earlier change is in flight, or held by the service, its rev is unknown:
    # this one is based on that change, so the service orders it after it (never a
    # conflict of the worker with herself, F25).
    before = unsent.change_id if unsent is not None else _held_change(session, row.id)
    change = Outbox(
        change_id=str(uuid.uuid4()),
        device_seq=_next_seq(session),
        entity=entity,
        record_id=row.id,
        op=op,
        base_rev=row.server_rev,
        base_change_id=before,
        fields=json.dumps(fields, ensure_ascii=False),
        payload_sha256=_sha(entity, row.id, op, fields),
        client_time=now,
    )
    session.add(change)
    return change


def _touch(store: Store, row: Synced) -> None:
    row.updated_at = store.now()
    row.author = store.actor.username
    if row.sync_state is not SyncState.CONFLICT:
        row.sync_state = SyncState.DIRTY


def create(session: Session, store: Store, row: T) -> T:
    """Insert a new record and its 'create' outbox row (all its fields)."""
    now = store.now()
    if not row.id:
        row.id = str(uuid.uuid4())
    row.created_at = now
    for name in type(row).model_fields:
        if name not in _SYNC_COLUMNS:
            setattr(row, name, _clean(row, name, getattr(row, name)))
    _touch(store, row)
    session.add(row)
    fields = {
        name: jsonable(getattr(row, name))
        for name in type(row).model_fields
        if name not in _SYNC_COLUMNS or name == "deleted"
    }
    _outbox(session, store, row, "create", fields)
    return row


def update(session: Session, store: Store, row: T, **changes: Any) -> dict[str, Any]:
    """Apply `changes` to `row`; writes an outbox row with only the fields that changed.

    Returns the changed fields (empty when nothing changed, and then nothing is written).
    """
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _SYNC_COLUMNS or name not in type(row).model_fields:
            raise ValueError(f"{type(row).__name__} has no editable field {name!r}")
        value = _clean(row, name, value)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed[name] = jsonable(value)
    if changed:
        _touch(store, row)
        session.add(row)
        _outbox(session, store, row, "update", changed)
    return changed


def tombstone(session: Session, store: Store, row: Synced) -> None:
    """Mark a record deleted (a tombstone that sync carries); never removes the row."""
    if row.deleted:
        return
    row.deleted = True
    _touch(store, row)
    session.add(row)
    _outbox(session, store, row, "delete", {"deleted": True})


def get(session: Session, table: type[T], record_id: str, what: str) -> T:
    """The live record, or `RecordNotFound` with a message naming `what` it was."""
    row = session.get(table, record_id)
    if row is None or row.deleted:
        raise RecordNotFound(what)
    return row
