"""Recording the service's answer to a push (reference/sync.md §2.4), in one transaction.

applied: the change is done (kept 30 days as the sent log), the row takes the service's rev
and, when that revision is exactly "shadow + these fields", the shadow follows. conflict: the
conflict is mirrored with both versions. held / rejected: done, and shown to the worker; the
row keeps its text. idempotency_mismatch: kept and flagged, never done. No result: pending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.store.store import Store
from sofs_tui.store.sync_conflicts import close_conflicts, mirror_push_conflict, reopen_conflicts
from sofs_tui.store.sync_rows import case_id_of, preload, settle_many
from sofs_tui.store.tables import ENTITY_TABLES, Outbox, Shadow
from sofs_tui.sync.protocol import ChangeResult, PushResponse


@dataclass(frozen=True)
class ChangeNotice:
    """A change the service stored but did not apply (held or rejected), for the user."""

    change_id: str
    entity: str
    record_id: str
    status: str
    reason: str


@dataclass
class PushOutcome:
    sent: int = 0
    applied: int = 0
    conflicts: int = 0
    held: int = 0
    rejected: int = 0
    flagged: int = 0
    unknown: int = 0
    notices: list[ChangeNotice] = field(default_factory=list)


def flagged_seqs(store: Store, limit: int) -> list[int]:
    """The device_seqs of the changes kept back (flagged): this device will never send them,
    and says so in each push so its later changes do not wait for them on the service. The
    newest `limit`, in order (older ones were declared with the pushes that followed them)."""
    with store.read() as session:
        seqs = session.exec(
            select(Outbox.device_seq)
            .where(Outbox.state == "flagged")
            .order_by(col(Outbox.device_seq).desc())
            .limit(limit)
        ).all()
    return sorted(int(seq) for seq in seqs)


def apply_push_results(
    store: Store, change_ids: Sequence[str], response: PushResponse
) -> PushOutcome:
    """Record the service's per-change results in one transaction.

    The caller has checked that the response answers this batch (ids, no duplicates, no
    strangers). A change without a result goes back to pending (outcome unknown).
    """
    results = {str(r.change_id): r for r in response.results}
    outcome = PushOutcome()
    with store.write() as session:
        rows = session.exec(
            select(Outbox)
            .where(col(Outbox.change_id).in_(list(change_ids)))
            .order_by(col(Outbox.device_seq))
        ).all()
        wanted: dict[Any, set[str]] = {}
        for change in rows:
            table = ENTITY_TABLES.get(change.entity)
            if table is not None:
                wanted.setdefault(table, set()).add(change.record_id)
        loaded = preload(session, wanted)  # kept while the loop runs (see `preload`)
        # Known shadows, and those made below: asking the session for a shadow that does not
        # exist would query (and flush) once per new record.
        shadows = {row.record_id: row for row in loaded if isinstance(row, Shadow)}
        # Each record's sync state is worked out once, after all its results are in (the
        # last change to a record decides, as it would one by one), for all records at once.
        later: dict[str, tuple[Any, bool]] = {}
        for change in rows:
            # Pending too: another process's start-up may have reset it meanwhile; a result
            # is a result. Done or flagged rows are never touched again.
            if change.state not in ("inflight", "pending"):
                continue
            result = results.get(change.change_id)
            if result is None:
                change.state = "pending"
                change.last_error = "no_result"
                session.add(change)
                outcome.unknown += 1
                continue
            _record_result(
                session, store, change, result, response.server_time, outcome, later, shadows
            )
        for row, conflict_to_come in later.values():
            if conflict_to_come:
                row.sync_state = SyncState.CONFLICT  # details follow in the pull stream
                session.add(row)
        settle_many(
            session, [row for row, conflict_to_come in later.values() if not conflict_to_come]
        )
    return outcome


def _record_result(
    session: Session,
    store: Store,
    change: Outbox,
    result: ChangeResult,
    server_time: datetime,
    outcome: PushOutcome,
    later: dict[str, tuple[Any, bool]],
    shadows: dict[str, Shadow],
) -> None:
    """One change's result; its row's sync state is left to the caller (`later`)."""
    stored = result.model_dump(mode="json", exclude_none=True)
    change.result = json.dumps(stored)
    if result.status == "rejected" and result.reason == "idempotency_mismatch":
        # The service kept another payload under this id: this one was never applied.
        change.state = "flagged"
        change.last_error = "idempotency_mismatch"
        session.add(change)
        outcome.flagged += 1
        return
    change.state = "done"
    change.done_at = store.now()
    change.last_error = ""
    session.add(change)
    outcome.sent += 1
    table = ENTITY_TABLES.get(change.entity)
    row = session.get(table, change.record_id) if table is not None else None
    resolves = [str(c) for c in json.loads(change.resolves or "[]")]
    if result.status == "applied":
        outcome.applied += 1
        _after_applied(session, change, result, row, shadows)
        close_conflicts(session, store, resolves)
    else:
        reopen_conflicts(session, resolves)
    if result.status == "conflict" and result.conflict_id is not None:
        if mirror_push_conflict(session, store, change, result, row, server_time):
            outcome.conflicts += 1
    elif result.status in ("held", "rejected"):
        if result.status == "held":
            outcome.held += 1
        else:
            outcome.rejected += 1
        outcome.notices.append(
            ChangeNotice(
                change.change_id,
                change.entity,
                change.record_id,
                result.status,
                result.reason or "",
            )
        )
    if row is not None:
        later[row.id] = (row, result.status == "conflict" and result.conflict_id is None)


def _after_applied(
    session: Session,
    change: Outbox,
    result: ChangeResult,
    row: Any,
    shadows: dict[str, Shadow],
) -> None:
    """The service made revision `result.rev` from this change. The shadow follows only when
    that revision is exactly "shadow + these fields"; otherwise pull brings the real one."""
    if result.rev is None:
        return
    fields = json.loads(change.fields)
    deleted = fields.pop("deleted", None)
    shadow = shadows.get(change.record_id)
    if shadow is None and change.op == "create" and result.rev == 1:
        case_id = case_id_of(session, row) if row is not None else ""
        shadow = Shadow(
            record_id=change.record_id,
            entity=change.entity,
            case_id=case_id,
            rev=1,
            deleted=bool(deleted),
            data=json.dumps(fields, ensure_ascii=False),
        )
        session.add(shadow)
        shadows[change.record_id] = shadow
    elif shadow is not None and result.rev == shadow.rev + 1:
        shadow.data = json.dumps(json.loads(shadow.data) | fields, ensure_ascii=False)
        if deleted is not None:
            shadow.deleted = bool(deleted)
        shadow.rev = result.rev
        session.add(shadow)
    if row is not None and (row.server_rev or 0) < result.rev:
        row.server_rev = result.rev
        session.add(row)
