"""Applying a pull page on this device: one transaction for the page and its cursor.

Rules (reference/sync.md §2.5), all idempotent: an item no newer than the shadow is ignored;
a clean row takes the service's version; a row with unsent work, a hold or a conflict gets
only its shadow updated; a revoke removes the case's clean rows and keeps rows with unsent
changes until the service has them; a gain brings a snapshot. Text goes through
`clean_text` on its way in (sync_rows.assign). The caller validated the page whole first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.store.store import Store
from sofs_tui.store.sync_conflicts import mirror_pulled_conflict
from sofs_tui.store.sync_rows import (
    assign,
    has_unsent,
    parent_present,
    remove_rows,
    rows_of_case,
    settle,
    table_of,
    unsent_ids,
)
from sofs_tui.store.tables import (
    SYNCED_TABLES,
    LocalConflict,
    Outbox,
    RevokedCase,
    Shadow,
    Synced,
    SyncMeta,
)
from sofs_tui.sync.protocol import (
    ConflictItem,
    OutcomeItem,
    PullResponse,
    RecordItem,
    ScopeItem,
)


@dataclass
class PageOutcome:
    received: int = 0  # records whose confirmed version moved on
    conflicts: int = 0  # conflicts new to this device and open
    removed: int = 0  # rows removed because their case left scope
    record_ids: set[str] = field(default_factory=set)  # every record the page named


def apply_page(
    store: Store,
    page: PullResponse,
    *,
    resync: bool = False,
    mid_apply: Callable[[], None] | None = None,
) -> PageOutcome:
    """Apply one validated page and store its cursor, all or nothing.

    `resync` (after 410) takes the service's versions as they are, whatever revision the
    shadows hold: the service may have been restored. Unsent work is still never touched.
    `mid_apply` runs after the items, before the cursor and the commit (a test failpoint).
    """
    outcome = PageOutcome()
    with store.write() as session:
        grew = False
        for item in page.items:
            if isinstance(item, RecordItem):
                grew |= _apply_record(session, store, item, resync, outcome)
            elif isinstance(item, ScopeItem) and item.op == "gain":
                revoked = session.get(RevokedCase, item.case_id)
                if revoked is not None:
                    session.delete(revoked)
                for record in item.snapshot:
                    grew |= _apply_record(session, store, record, resync, outcome)
            elif isinstance(item, ScopeItem):
                outcome.removed += _remove_case(session, store, item.case_id)
            elif isinstance(item, ConflictItem):
                outcome.conflicts += int(mirror_pulled_conflict(session, store, item))
            elif isinstance(item, OutcomeItem):
                _apply_outcome(session, store, item)
        if grew:
            _materialise_orphans(session, store)
            _mark_conflicted(session)
        if mid_apply is not None:
            session.flush()  # the page's rows written, uncommitted
            mid_apply()
        meta = session.get(SyncMeta, 1)
        assert meta is not None
        meta.cursor = page.next_cursor
        meta.server_epoch = page.server_epoch
        session.add(meta)
    return outcome


def _apply_record(
    session: Session, store: Store, item: RecordItem, resync: bool, outcome: PageOutcome
) -> bool:
    """Returns True when the record is new here (a row was added, or waits for its parent)."""
    outcome.record_ids.add(item.id)
    table = table_of(item.entity)
    data = dict(item.data)
    data.pop("deleted", None)
    shadow = session.get(Shadow, item.id)
    if shadow is not None and item.rev <= shadow.rev and not resync:
        return False
    same = (
        shadow is not None
        and (shadow.rev, shadow.deleted) == (item.rev, item.deleted)
        and json.loads(shadow.data) == data
    )
    if not same:
        if shadow is None:
            shadow = Shadow(record_id=item.id, entity=item.entity, rev=item.rev)
        shadow.case_id = item.case_id
        shadow.rev = item.rev
        shadow.deleted = item.deleted
        shadow.data = json.dumps(data, ensure_ascii=False)
        session.add(shadow)
        outcome.received += 1
    row = session.get(table, item.id)
    if row is None:
        if item.deleted:
            return False
        if parent_present(session, table, data):
            _insert(session, store, table, item.id, data, item.rev)
        return True
    takes_theirs = (
        row.sync_state is SyncState.CLEAN
        and not has_unsent(session, row.id)
        and (resync or item.rev >= (row.server_rev or 0))
    )
    if takes_theirs:
        assign(row, data)
        row.deleted = item.deleted
        row.server_rev = item.rev
        row.updated_at = store.now()
        session.add(row)
    return False


def _insert(
    session: Session,
    store: Store,
    table: type[Synced],
    record_id: str,
    data: dict[str, Any],
    rev: int,
) -> None:
    now = store.now()
    row = table(
        id=record_id,
        server_rev=rev,
        sync_state=SyncState.CLEAN,
        created_at=now,
        updated_at=now,
        author="",
    )
    assign(row, data)
    session.add(row)


def _mark_conflicted(session: Session) -> None:
    """Rows that arrived after their conflict in the same page (orphans materialised last)
    are in conflict too: the state the screens and the sign-off rule read."""
    for mirror in session.exec(select(LocalConflict).where(LocalConflict.status == "open")):
        row = session.get(table_of(mirror.entity), mirror.record_id)
        if row is not None and row.sync_state is not SyncState.CONFLICT:
            row.sync_state = SyncState.CONFLICT
            session.add(row)


def _materialise_orphans(session: Session, store: Store) -> None:
    """Records that arrived before their parent get their working row once it is here
    (tables in parent-first order, so a whole chain lands in one pass)."""
    for table in SYNCED_TABLES:
        waiting = session.exec(
            select(Shadow).where(
                Shadow.entity == table.ENTITY,
                col(Shadow.deleted).is_(False),
                col(Shadow.record_id).not_in(select(table.id)),
            )
        ).all()
        for shadow in waiting:
            data = json.loads(shadow.data)
            if parent_present(session, table, data):
                _insert(session, store, table, shadow.record_id, data, shadow.rev)


def _remove_case(session: Session, store: Store, case_id: str) -> int:
    """The case left this worker's scope: its clean rows go now; rows with unsent changes
    (and the rows above them) stay until the service has stored those changes."""
    rows = rows_of_case(session, case_id)
    removed, kept = remove_rows(session, rows, unsent_ids(session, [r.id for r in rows]))
    for shadow in session.exec(select(Shadow).where(Shadow.case_id == case_id)).all():
        if shadow.record_id not in kept:
            session.delete(shadow)
    for mirror in session.exec(select(LocalConflict).where(LocalConflict.case_id == case_id)).all():
        if mirror.record_id not in kept:
            session.delete(mirror)
    marker = session.get(RevokedCase, case_id)
    if kept and marker is None:
        session.add(RevokedCase(case_id=case_id, revoked_at=store.now()))
    elif not kept and marker is not None:
        session.delete(marker)
    return removed


def purge_revoked(store: Store) -> int:
    """After a push: rows of revoked cases whose changes the service now holds go too."""
    with store.write() as session:
        cases = session.exec(select(RevokedCase.case_id)).all()
        return sum(_remove_case(session, store, case_id) for case_id in cases)


def _apply_outcome(session: Session, store: Store, item: OutcomeItem) -> None:
    """The later result of a change the service had held."""
    change = session.get(Outbox, str(item.change_id))
    if change is None:
        return
    result = json.loads(change.result or "{}")
    result.update(status=item.status, rev=item.rev, reason=item.reason)
    change.result = json.dumps({k: v for k, v in result.items() if v is not None})
    if change.state in ("pending", "inflight"):
        change.state = "done"  # the service holds it: a result is a result
        change.done_at = store.now()
    session.add(change)
    session.flush()
    row = session.get(table_of(change.entity), change.record_id)
    if row is None:
        return
    if item.status == "applied" and item.rev is not None:
        row.server_rev = max(row.server_rev or 0, item.rev)
    if item.status == "conflict":
        row.sync_state = SyncState.CONFLICT  # its details come as a conflict item
        session.add(row)
    else:
        settle(session, row)


def sweep_after_resync(store: Store, seen: set[str]) -> int:
    """After a full resync: clean rows the snapshot did not name are out of scope or gone.
    Rows with unsent work, holds or conflicts (and the rows above them) stay; so does the
    outbox. Returns how many rows went."""
    with store.write() as session:
        rows: list[Synced] = []
        for table in SYNCED_TABLES:
            rows.extend(session.exec(select(table)).all())
        keep = {
            r.id
            for r in rows
            if r.id in seen or r.sync_state is not SyncState.CLEAN or r.server_rev is None
        }
        keep |= unsent_ids(session, [r.id for r in rows if r.id not in keep])
        removed, kept = remove_rows(session, rows, keep)
        present = {r.id for r in rows}
        for shadow in session.exec(select(Shadow)).all():
            gone = shadow.record_id not in present or shadow.record_id not in kept
            if shadow.record_id not in seen and gone:
                session.delete(shadow)
        return removed
