"""The SQL a push writes: the effects of its decisions in bulk (one statement per table), and
the received changes with their results. apply.py decides when; this module only writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from sofs_tui.server.decide import Decision
from sofs_tui.server.push_state import (
    CASE_SCOPE,
    CONFLICT,
    RECEIVED,
    RECORD,
    REVISION,
    PushState,
    dumps,
)

_RECORD_VALUES: dict[str, Any] = {
    "rev": bindparam("b_rev"),
    "deleted": bindparam("b_deleted"),
    "data": bindparam("b_data"),
    "updated_at": bindparam("b_at"),
    "updated_by": bindparam("b_by"),
}
_RECORD_KEYS: dict[str, Any] = {
    "id": bindparam("b_id"),
    "entity": bindparam("b_entity"),
    "case_id": bindparam("b_case_id"),
}


def write_effects(
    conn: Connection, state: PushState, decisions: list[Decision], now: datetime, who: str
) -> None:
    """New cases, each record's final state, every revision, new and resolved conflicts.
    Rows `state` says are in the tables already are updated, the others inserted."""
    scopes = [d.new_scope for d in decisions if d.new_scope is not None]
    if scopes:
        conn.execute(insert(CASE_SCOPE), scopes)
    records = {d.record.id: d.record for d in decisions if d.record is not None}
    as_json = {id(r.data): dumps(r.data) for r in records.values()}  # once per state
    rows = [
        {"b_id": r.id, "b_entity": r.entity, "b_case_id": r.case_id, "b_rev": r.rev,
         "b_deleted": r.deleted, "b_data": as_json[id(r.data)], "b_at": now, "b_by": who}
        for r in records.values()
    ]  # fmt: skip
    new = [row for row in rows if row["b_id"] not in state.in_db]
    old = [row for row in rows if row["b_id"] in state.in_db]
    if new:
        conn.execute(insert(RECORD).values(_RECORD_VALUES | _RECORD_KEYS), new)
    if old:
        conn.execute(
            update(RECORD).where(RECORD.c.id == bindparam("b_id")).values(_RECORD_VALUES), old
        )
    revisions = [
        {**d.revision, "data": as_json.get(id(d.revision["data"])) or dumps(d.revision["data"])}
        for d in decisions
        if d.revision is not None
    ]
    if revisions:
        conn.execute(insert(REVISION), revisions)
    conflicts = {c.id: c for d in decisions for c in d.conflicts}
    new_conflicts = [c.row() for c in conflicts.values() if c.id not in state.conflicts_in_db]
    if new_conflicts:
        conn.execute(insert(CONFLICT), new_conflicts)
    resolved = [
        {"b_id": c.id, "b_status": c.status, "b_by": c.resolved_by, "b_at": c.resolved_at,
         "b_change": c.resolution_change_id}
        for c in conflicts.values()
        if c.id in state.conflicts_in_db
    ]  # fmt: skip
    if resolved:
        conn.execute(
            update(CONFLICT)
            .where(CONFLICT.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                resolved_by=bindparam("b_by"),
                resolved_at=bindparam("b_at"),
                resolution_change_id=bindparam("b_change"),
            ),
            resolved,
        )


def store_results(
    conn: Connection, new_rows: list[dict[str, Any]], updated_rows: list[dict[str, Any]]
) -> None:
    """Insert the received changes of this batch; update held ones retried with a new result."""
    if new_rows:
        conn.execute(insert(RECEIVED), new_rows)
    if updated_rows:
        conn.execute(
            update(RECEIVED)
            .where(RECEIVED.c.change_id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                reason=bindparam("b_reason"),
                result=bindparam("b_result"),
                case_id=bindparam("b_case"),
            ),
            updated_rows,
        )
