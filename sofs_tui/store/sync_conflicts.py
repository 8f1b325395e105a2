"""Conflicts on this device: the service's conflicts mirrored with both full versions, and
their resolution by a person (Keep theirs / Keep mine / Keep both / Edit merged).

A conflict is never dismissed here: it closes when the service has applied a resolution
(ours, or one pulled from another device). A resolution is an ordinary change: the working
row is edited and an outbox row carries `resolves=[conflict_id]`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.sync_rows import (
    SYNC_COLUMNS,
    UNSENT,
    assign,
    case_id_of,
    full_version,
    settle,
    table_of,
)
from sofs_tui.store.tables import Case, Entry, LocalConflict, Outbox, Score, Shadow, Synced
from sofs_tui.sync.protocol import ChangeResult, ConflictItem

#: Entities whose "keep both" makes sense: list items whose second copy is just another item.
KEEP_BOTH_ENTITIES = frozenset({"entry", "child_voice", "family_plan_item"})


class ConflictClosed(StoreError):
    def __init__(self) -> None:
        super().__init__("That conflict is already resolved. Open the record to see it.")


# --- Mirroring -------------------------------------------------------------------------------


def mirror_push_conflict(
    session: Session,
    store: Store,
    change: Outbox,
    result: ChangeResult,
    row: Synced | None,
    server_time: datetime,
) -> bool:
    """The service answered one of our changes with a conflict: keep both versions here.
    "Mine" is the whole working row; "theirs" is our last confirmed copy until the pull
    brings the service's. Returns True when the conflict is new to this device."""
    assert result.conflict_id is not None
    conflict_id = str(result.conflict_id)
    mirror = session.get(LocalConflict, conflict_id)
    is_new = mirror is None
    if mirror is None:
        shadow = session.get(Shadow, change.record_id)
        theirs: dict[str, Any] = {}
        if shadow is not None:
            theirs = json.loads(shadow.data) | {"deleted": shadow.deleted}
        mirror = LocalConflict(
            conflict_id=conflict_id,
            entity=change.entity,
            record_id=change.record_id,
            theirs_rev=shadow.rev if shadow is not None else None,
            theirs=json.dumps(theirs, ensure_ascii=False),
            detected_at=server_time,
            noticed_at=store.now(),
        )
    mirror.case_id = mirror.case_id or case_id_of(session, row)
    mirror.base_rev = change.base_rev
    mirror.current_rev = result.current_rev or mirror.current_rev
    mine = full_version(row) if row is not None else json.loads(change.fields)
    mirror.mine = json.dumps(mine, ensure_ascii=False)
    mirror.mine_is_local = True
    mirror.incoming_change_id = change.change_id
    mirror.incoming_op = change.op
    mirror.author = mirror.author or store.actor.username
    mirror.client_time = change.client_time
    session.add(mirror)
    return is_new


def mirror_pulled_conflict(session: Session, store: Store, item: ConflictItem) -> bool:
    """A conflict from the pull stream (any device's). Returns True when new and open."""
    conflict_id = str(item.conflict_id)
    mirror = session.get(LocalConflict, conflict_id)
    is_new = mirror is None
    if mirror is None:
        mirror = LocalConflict(
            conflict_id=conflict_id,
            entity=item.entity,
            record_id=item.record_id,
            noticed_at=store.now(),
        )
    mirror.case_id = item.case_id
    mirror.kind = item.kind
    mirror.base_rev = item.base_rev
    mirror.current_rev = item.current_rev
    mirror.theirs_rev = item.current_rev
    mirror.theirs = json.dumps(dict(item.theirs), ensure_ascii=False)
    if not mirror.mine_is_local:
        incoming = dict(item.incoming)
        if item.incoming_op == "delete":
            incoming = {"deleted": True}
        mirror.mine = json.dumps(dict(item.theirs) | incoming, ensure_ascii=False)
    mirror.incoming_op = item.incoming_op
    mirror.author = item.author
    mirror.client_time = item.client_time
    mirror.detected_at = item.detected_at
    if item.status == "resolved" and mirror.status != "resolved":
        mirror.status = "resolved"
        mirror.resolved_at = store.now()
    session.add(mirror)
    row = session.get(table_of(item.entity), item.record_id)
    if row is not None:
        settle(session, row)
    return is_new and item.status == "open"


def close_conflicts(session: Session, store: Store, conflict_ids: list[str]) -> None:
    """The service applied a resolution of these conflicts."""
    for conflict_id in conflict_ids:
        mirror = session.get(LocalConflict, conflict_id)
        if mirror is not None and mirror.status != "resolved":
            mirror.status = "resolved"
            mirror.resolved_at = store.now()
            session.add(mirror)


def reopen_conflicts(session: Session, conflict_ids: list[str]) -> None:
    """A resolution did not apply (it met another change): the conflict needs a person again."""
    for conflict_id in conflict_ids:
        mirror = session.get(LocalConflict, conflict_id)
        if mirror is not None and mirror.status == "open":
            mirror.resolution_change_id = None
            session.add(mirror)


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    """One conflict with both full versions, for the conflicts screen (show as plain text).

    `theirs` is the version on the service when the conflict was found (revision
    `theirs_rev`); `mine` is the conflicting change's version: this device's own when
    `mine_is_local`, otherwise another device's (label it with `author`). Keep theirs / Keep
    mine choose between exactly these two.
    """

    conflict_id: str
    entity: str
    record_id: str
    case_id: str
    status: str
    kind: str  # hard: a person must choose; soft: header fields merged, shown as a note
    theirs: dict[str, Any]
    mine: dict[str, Any]
    theirs_rev: int | None
    current_rev: int | None
    base_rev: int | None
    mine_is_local: bool
    incoming_op: str
    author: str
    client_time: datetime | None
    detected_at: datetime | None
    noticed_at: datetime
    resolution_pending: bool


def _view(mirror: LocalConflict) -> ConflictView:
    return ConflictView(
        conflict_id=mirror.conflict_id,
        entity=mirror.entity,
        record_id=mirror.record_id,
        case_id=mirror.case_id,
        status=mirror.status,
        kind=mirror.kind,
        theirs=json.loads(mirror.theirs),
        mine=json.loads(mirror.mine),
        theirs_rev=mirror.theirs_rev,
        current_rev=mirror.current_rev,
        base_rev=mirror.base_rev,
        mine_is_local=mirror.mine_is_local,
        incoming_op=mirror.incoming_op,
        author=mirror.author,
        client_time=mirror.client_time,
        detected_at=mirror.detected_at,
        noticed_at=mirror.noticed_at,
        resolution_pending=mirror.resolution_change_id is not None,
    )


def list_conflicts(
    store: Store, *, status: str | None = "open", case_id: str | None = None
) -> list[ConflictView]:
    """Conflicts on this device, oldest first (`status=None` for every one)."""
    with store.read() as session:
        query = select(LocalConflict).order_by(col(LocalConflict.noticed_at))
        if status is not None:
            query = query.where(LocalConflict.status == status)
        if case_id is not None:
            query = query.where(LocalConflict.case_id == case_id)
        return [_view(m) for m in session.exec(query).all()]


def get_conflict(store: Store, conflict_id: str) -> ConflictView:
    with store.read() as session:
        mirror = session.get(LocalConflict, conflict_id)
        if mirror is None:
            raise changes.RecordNotFound("conflict")
        return _view(mirror)


def case_references(store: Store, case_ids: list[str]) -> dict[str, str]:
    """The reference of each case named (for the conflicts screen); unknown ids are left out."""
    if not case_ids:
        return {}
    with store.read() as session:
        rows = session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(case_ids)))
        return {case_id: reference for case_id, reference in rows.all()}


def assessment_has_open_conflicts(store: Store, assessment_id: str) -> bool:
    """True while the assessment or any of its entries or scores has an open conflict
    (it cannot be signed off until a person resolves them)."""
    with store.read() as session:
        ids = [assessment_id]
        for table in (Entry, Score):
            ids += session.exec(select(table.id).where(table.assessment_id == assessment_id)).all()
        found = session.exec(
            select(LocalConflict.conflict_id)
            .where(col(LocalConflict.record_id).in_(ids), LocalConflict.status == "open")
            .limit(1)
        ).first()
        return found is not None


# --- Resolving -------------------------------------------------------------------------------


def keep_theirs(store: Store, conflict_id: str) -> str:
    """The service's version stays; returns the resolution's change id."""
    with store.write() as session:
        mirror = _open(session, conflict_id)
        return _resolve(session, store, mirror, json.loads(mirror.theirs))


def keep_mine(store: Store, conflict_id: str) -> str:
    """The other side of the conflict (this device's text, when it was ours) wins."""
    with store.write() as session:
        mirror = _open(session, conflict_id)
        return _resolve(session, store, mirror, json.loads(mirror.mine))


def edit_merged(store: Store, conflict_id: str, fields: Mapping[str, Any]) -> str:
    """The service's version with a person's merged `fields` over it (e.g. {"text": …})."""
    with store.write() as session:
        mirror = _open(session, conflict_id)
        table = table_of(mirror.entity)
        unknown = [n for n in fields if n not in table.model_fields or n in SYNC_COLUMNS]
        if unknown:
            raise ValueError(f"{table.__name__} has no editable field {unknown[0]!r}")
        merged = json.loads(mirror.theirs) | {
            name: changes.jsonable(value) for name, value in fields.items()
        }
        return _resolve(session, store, mirror, merged)


def keep_both(store: Store, conflict_id: str) -> str:
    """The service's version stays and the other text becomes a new item beside it (a new
    id). Returns the new record's id."""
    with store.write() as session:
        mirror = _open(session, conflict_id)
        if mirror.entity not in KEEP_BOTH_ENTITIES:
            raise StoreError(
                "Keep both works for entries, notes and plan items. For this record choose "
                "Keep theirs, Keep mine or Edit merged."
            )
        mine = json.loads(mirror.mine)
        if mine.get("deleted") or json.loads(mirror.theirs).get("deleted"):
            raise StoreError(
                "One side of this conflict deletes the item, so there are not two texts to "
                "keep. Choose Keep theirs or Keep mine."
            )
        _resolve(session, store, mirror, json.loads(mirror.theirs))
        table = table_of(mirror.entity)
        copy = table(id=str(uuid.uuid4()))
        assign(copy, {k: v for k, v in mine.items() if k != "deleted"})
        if isinstance(copy, Entry):
            copy.goal_for_id = None  # a safety goal pairs with one danger statement only
        return changes.create(session, store, copy).id


def _open(session: Session, conflict_id: str) -> LocalConflict:
    mirror = session.get(LocalConflict, conflict_id)
    if mirror is None:
        raise changes.RecordNotFound("conflict")
    if mirror.status != "open":
        raise ConflictClosed()
    return mirror


def _resolve(session: Session, store: Store, mirror: LocalConflict, version: dict[str, Any]) -> str:
    """Make the working row `version` and queue that as a resolution of `mirror`.

    The change carries the whole version (so the result is exact whatever the base) and is
    based on the service revision the person saw. It never folds into an unsent ordinary
    edit (that edit must still reach the service); an unsent resolution is replaced.
    """
    table = table_of(mirror.entity)
    row = session.get(table, mirror.record_id)
    if row is None:
        raise changes.RecordNotFound("record")
    assign(row, version)
    changes._touch(store, row)
    row.sync_state = SyncState.CONFLICT  # until the service applies the resolution
    session.add(row)
    fields = {"deleted": True} if row.deleted else full_version(row)
    op = "delete" if row.deleted else "update"
    base_rev = mirror.theirs_rev or mirror.current_rev
    unsent = session.exec(
        select(Outbox)
        .where(Outbox.record_id == row.id, col(Outbox.state).in_(UNSENT))
        .order_by(col(Outbox.device_seq).desc())
        .limit(1)
    ).first()
    earlier = json.loads(unsent.resolves) if unsent is not None else []
    if unsent is not None and earlier and unsent.state == "pending" and unsent.attempts == 0:
        change = unsent  # an earlier resolution that never left: this decision replaces it
        change.resolves = json.dumps(sorted({*earlier, mirror.conflict_id}))
    else:
        change = Outbox(
            change_id=str(uuid.uuid4()),
            device_seq=changes._next_seq(session),
            entity=mirror.entity,
            record_id=row.id,
            base_rev=base_rev,
            # Chain after a resolution already sent; never after an ordinary unsent edit.
            base_change_id=unsent.change_id if unsent is not None and earlier else None,
            resolves=json.dumps([mirror.conflict_id]),
            op=op,
            payload_sha256="",
            client_time=store.now(),
        )
    change.op = op
    change.fields = json.dumps(fields, ensure_ascii=False)
    change.payload_sha256 = changes._sha(mirror.entity, row.id, op, fields)
    change.client_time = store.now()
    session.add(change)
    mirror.resolution_change_id = change.change_id
    session.add(mirror)
    return change.change_id
