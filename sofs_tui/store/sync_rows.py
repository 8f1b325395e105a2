"""Working rows as sync sees them: their full versions as JSON, their place under a case,
their sync state, and their removal when a case leaves scope (used by sync_local & co.)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Date, Text, func
from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.domain.text import clean_text
from sofs_tui.store.changes import jsonable
from sofs_tui.store.tables import (
    ENTITY_TABLES,
    SYNCED_TABLES,
    Case,
    LocalConflict,
    Outbox,
    Shadow,
    Synced,
)
from sofs_tui.store.types import StrEnumType, UTCDateTime

#: Outbox states whose change the service has not stored (the row still has unsent work).
UNSENT = ("pending", "inflight", "flagged")
SYNC_COLUMNS = frozenset(Synced.model_fields)


def _parents() -> dict[type[Synced], tuple[str, type[Synced]]]:
    """Each table's link towards its case, read from the foreign keys (entry → assessment)."""
    by_name = {t.__tablename__: t for t in SYNCED_TABLES}
    links: dict[type[Synced], tuple[str, type[Synced]]] = {}
    for table in SYNCED_TABLES:
        for fk in table.__table__.foreign_keys:  # type: ignore[attr-defined]
            links[table] = (fk.parent.name, by_name[fk.column.table.name])
    return links


PARENTS = _parents()


def full_version(row: Synced) -> dict[str, Any]:
    """Every field of a record as it travels over sync (the tombstone flag included)."""
    data = {
        name: jsonable(getattr(row, name))
        for name in type(row).model_fields
        if name not in SYNC_COLUMNS
    }
    data["deleted"] = row.deleted
    return data


def to_column(table: type[Synced], name: str, value: Any) -> Any:
    """A JSON value as the column wants it; text passes `clean_text` (the store boundary)."""
    if value is None:
        return None
    kind = table.__table__.columns[name].type  # type: ignore[attr-defined]
    if isinstance(kind, StrEnumType):
        return kind.enum_cls(value)
    if isinstance(kind, UTCDateTime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date) and isinstance(value, str) and not isinstance(value, Enum):
        return date.fromisoformat(value)
    if isinstance(value, str) and not isinstance(value, Enum):
        return clean_text(value, multiline=isinstance(kind, Text))
    return value


def assign(row: Synced, data: dict[str, Any]) -> None:
    """Copy a version's fields onto a working row (unknown and sync columns are ignored)."""
    table = type(row)
    for name, value in data.items():
        if name == "deleted":
            row.deleted = bool(value)
        elif name in table.model_fields and name not in SYNC_COLUMNS:
            setattr(row, name, to_column(table, name, value))


def parent_present(session: Session, table: type[Synced], data: dict[str, Any]) -> bool:
    link = PARENTS.get(table)
    if link is None:
        return True
    parent_id = data.get(link[0])
    return isinstance(parent_id, str) and session.get(link[1], parent_id) is not None


def case_id_of(session: Session, row: Synced | None) -> str:
    """The case a row belongs to, following its parents ("" if a link is missing)."""
    while row is not None:
        link = PARENTS.get(type(row))
        if link is None:
            return row.id
        row = session.get(link[1], getattr(row, link[0]))
    return ""


def preload(session: Session, wanted: dict[type[Synced], set[str]]) -> list[Any]:
    """Load these rows, their parents up to their case and their shadows, a query per table
    and chunk, so that the `session.get` calls of the work that follows are answered from the
    session without a query (and without the flush each query would start). Keep the returned
    list while that work runs: the session holds clean rows weakly."""
    loaded: list[Any] = []
    shadow_ids: set[str] = set()
    while wanted:
        parents: dict[type[Synced], set[str]] = {}
        for table, ids in wanted.items():
            id_list = sorted(ids)
            shadow_ids.update(id_list)
            for start in range(0, len(id_list), _IN_CHUNK):
                rows = session.exec(
                    select(table).where(col(table.id).in_(id_list[start : start + _IN_CHUNK]))
                ).all()
                loaded.extend(rows)
                link = PARENTS.get(table)
                if link is not None:
                    parents.setdefault(link[1], set()).update(
                        getattr(row, link[0]) for row in rows if getattr(row, link[0])
                    )
        wanted = parents
    record_ids = sorted(shadow_ids)
    for start in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[start : start + _IN_CHUNK]
        loaded.extend(session.exec(select(Shadow).where(col(Shadow.record_id).in_(chunk))).all())
    return loaded


def has_unsent(session: Session, record_id: str) -> bool:
    found = session.exec(
        select(Outbox.change_id)
        .where(Outbox.record_id == record_id, col(Outbox.state).in_(UNSENT))
        .limit(1)
    ).first()
    return found is not None


def settle(session: Session, row: Synced) -> None:
    """Work out a row's sync state from the facts: an open conflict, unsent changes, a
    held or rejected last change; else clean, and equal to the service's confirmed version."""
    settle_many(session, [row])


def settle_many(session: Session, rows: Sequence[Synced]) -> None:
    """`settle` for many rows, reading the facts for all of them in four queries (a push
    batch's hundred records took four queries each)."""
    ids = list({row.id for row in rows})
    conflicted: set[str] = set()
    unsent: set[str] = set()
    last_result: dict[str, str] = {}
    shadows: dict[str, Shadow] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        conflicted.update(
            session.exec(
                select(LocalConflict.record_id).where(
                    col(LocalConflict.record_id).in_(chunk), LocalConflict.status == "open"
                )
            ).all()
        )
        unsent.update(
            session.exec(
                select(Outbox.record_id).where(
                    col(Outbox.record_id).in_(chunk), col(Outbox.state).in_(UNSENT)
                )
            ).all()
        )
        # Each record's last sent change: SQLite takes the bare column `result` from the row
        # holding max(device_seq) (documented behaviour of min/max aggregates).
        last_result.update(
            (record_id, result)
            for record_id, result, _ in session.exec(
                select(Outbox.record_id, Outbox.result, func.max(Outbox.device_seq))
                .where(col(Outbox.record_id).in_(chunk), Outbox.state == "done")
                .group_by(col(Outbox.record_id))
            ).all()
        )
        shadows.update(
            (shadow.record_id, shadow)
            for shadow in session.exec(select(Shadow).where(col(Shadow.record_id).in_(chunk))).all()
        )
    for row in rows:
        if row.id in conflicted:
            row.sync_state = SyncState.CONFLICT
        elif row.id in unsent:
            row.sync_state = SyncState.DIRTY
        elif _status_of(last_result.get(row.id)) in ("held", "rejected"):
            row.sync_state = SyncState.HELD
        else:
            row.sync_state = SyncState.CLEAN
            # Nothing local is unsent, so the service's version is the truth: take it when
            # the shadow holds the row's revision or a later one (a header merge may have
            # added another device's fields to the revision our change made).
            shadow = shadows.get(row.id)
            if shadow is not None and shadow.rev >= (row.server_rev or 0):
                assign(row, json.loads(shadow.data))
                row.deleted = shadow.deleted
                row.server_rev = shadow.rev
        session.add(row)


#: Ids per IN (…) list: well under SQLite's limit on bound parameters.
_IN_CHUNK = 500


def _status_of(result: str | None) -> str | None:
    if not result:
        return None
    status = json.loads(result).get("status")
    return str(status) if status is not None else None


def rows_of_case(session: Session, case_id: str) -> list[Synced]:
    """Every working row under a case, parents before children."""
    found: list[Synced] = []
    ids: dict[type[Synced], list[str]] = {}
    case = session.get(Case, case_id)
    if case is not None:
        found.append(case)
        ids[Case] = [case.id]
    for table in SYNCED_TABLES:
        link = PARENTS.get(table)
        if link is None or not ids.get(link[1]):
            continue
        rows = session.exec(
            select(table).where(col(getattr(table, link[0])).in_(ids[link[1]]))
        ).all()
        found.extend(rows)
        ids[table] = [r.id for r in rows]
    return found


def remove_rows(session: Session, rows: list[Synced], keep_ids: set[str]) -> tuple[int, set[str]]:
    """Hard-delete `rows` (parents before children) except `keep_ids` and their ancestors,
    with their shadows and conflict mirrors. Returns how many went, and the ids kept."""
    keep = set(keep_ids)
    for row in reversed(rows):  # children first, so a kept child keeps its parent
        link = PARENTS.get(type(row))
        if row.id in keep and link is not None:
            keep.add(getattr(row, link[0]))
    removed = 0
    for row in reversed(rows):
        if row.id in keep:
            continue
        shadow = session.get(Shadow, row.id)
        if shadow is not None:
            session.delete(shadow)
        for conflict in session.exec(
            select(LocalConflict).where(LocalConflict.record_id == row.id)
        ).all():
            session.delete(conflict)
        session.delete(row)
        removed += 1
    return removed, keep


def unsent_ids(session: Session, record_ids: list[str]) -> set[str]:
    if not record_ids:
        return set()
    return set(
        session.exec(
            select(Outbox.record_id).where(
                col(Outbox.record_id).in_(record_ids), col(Outbox.state).in_(UNSENT)
            )
        ).all()
    )


def table_of(entity: str) -> type[Synced]:
    table = ENTITY_TABLES.get(entity)
    if table is None:
        raise ValueError(f"unknown entity {entity!r}")
    return table
