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
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Date, Text, insert
from sqlmodel import Session, col, select

from sofs_tui.domain.enums import SyncState
from sofs_tui.domain.text import clean_text
from sofs_tui.store.store import Store
from sofs_tui.store.sync_conflicts import mirror_pulled_conflict
from sofs_tui.store.sync_rows import (
    PARENTS,
    SYNC_COLUMNS,
    assign,
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
from sofs_tui.store.types import StrEnumType, UTCDateTime
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

    Records are applied in runs (every record item between two other items, gain snapshots
    included): a run reads the shadows, rows, parents and unsent ids it needs in a few
    queries, decides each record in page order as `_apply_record` says, then inserts the new
    rows and shadows with one executemany per table. Other items are applied one by one
    between runs, so every item sees what the items before it wrote.
    """
    outcome = PageOutcome()
    with store.write() as session:
        run = _RecordRun(session, store, resync, outcome)
        for item in page.items:
            if isinstance(item, RecordItem):
                run.queue.append(item)
            elif isinstance(item, ScopeItem) and item.op == "gain":
                revoked = session.get(RevokedCase, item.case_id)
                if revoked is not None:
                    session.delete(revoked)
                run.queue.extend(item.snapshot)
            else:
                run.apply()
                if isinstance(item, ScopeItem):
                    outcome.removed += _remove_case(session, store, item.case_id)
                elif isinstance(item, ConflictItem):
                    outcome.conflicts += int(mirror_pulled_conflict(session, store, item))
                elif isinstance(item, OutcomeItem):
                    _apply_outcome(session, store, item)
        run.apply()
        if run.grew:
            _materialise_orphans(session, store, run.added)
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


@dataclass
class _NewShadow:
    """A shadow first written by this run (inserted with the run's executemany)."""

    record_id: str
    entity: str
    case_id: str
    rev: int
    deleted: bool
    data: str


class _RecordRun:
    """Consecutive record items of a page, applied together (see `apply_page`).

    Rows and shadows already in the store are loaded as ORM objects and changed in place (the
    session writes them); rows and shadows new to the store are plain column dicts, inserted
    by `apply` after the run's decisions."""

    def __init__(self, session: Session, store: Store, resync: bool, outcome: PageOutcome):
        self.session = session
        self.store = store
        self.resync = resync
        self.outcome = outcome
        self.queue: list[RecordItem] = []
        self.grew = False  # a row was added, or a record waits for its parent
        self.added: set[type[Synced]] = set()  # tables that got new rows
        self.shadows: dict[str, Shadow | _NewShadow] = {}
        self.rows: dict[tuple[type[Synced], str], Synced | dict[str, Any]] = {}
        self.present: set[tuple[type[Synced], str]] = set()  # rows known to exist
        self.unsent: set[str] = set()
        self.new_rows: dict[type[Synced], list[dict[str, Any]]] = {}
        self.new_shadows: list[_NewShadow] = []

    def apply(self) -> None:
        items, self.queue = self.queue, []
        if not items:
            return
        self._load(items)
        for item in items:
            self.grew |= _apply_record(
                self.session, self.store, item, self.resync, self.outcome, self
            )
        connection = self.session.connection()
        for table in SYNCED_TABLES:  # parents first (the keys are deferred anyway)
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in self.new_rows.get(table, []):
                by_columns.setdefault(tuple(row), []).append(row)
            for rows in by_columns.values():
                connection.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
        if self.new_shadows:
            connection.execute(
                insert(Shadow.__table__),  # type: ignore[attr-defined]
                [vars(shadow) for shadow in self.new_shadows],
            )
        self.shadows.clear()
        self.rows.clear()
        self.present.clear()
        self.new_rows.clear()
        self.new_shadows.clear()

    def _load(self, items: list[RecordItem]) -> None:
        """What the run's decisions read, in a few queries (after the session's own writes)."""
        session = self.session
        session.flush()
        ids = sorted({item.id for item in items})
        by_table: dict[type[Synced], set[str]] = {}
        for item in items:
            by_table.setdefault(table_of(item.entity), set()).add(item.id)
        for part in _chunks(ids):
            for shadow in session.exec(select(Shadow).where(col(Shadow.record_id).in_(part))):
                self.shadows[shadow.record_id] = shadow
        for table, table_ids in by_table.items():
            for part in _chunks(sorted(table_ids)):
                for row in session.exec(select(table).where(col(table.id).in_(part))):
                    self.rows[(table, row.id)] = row
                    self.present.add((table, row.id))
        self.unsent = set()
        for part in _chunks(ids):
            self.unsent |= unsent_ids(session, part)
        parents: dict[type[Synced], set[str]] = {}
        for item in items:
            link = PARENTS.get(table_of(item.entity))
            parent_id = item.data.get(link[0]) if link is not None else None
            if link is not None and isinstance(parent_id, str):
                parents.setdefault(link[1], set()).add(parent_id)
        for parent, parent_ids in parents.items():
            wanted = sorted(parent_ids - {i for t, i in self.present if t is parent})
            for part in _chunks(wanted):
                found = session.exec(select(parent.id).where(col(parent.id).in_(part)))
                self.present.update((parent, parent_id) for parent_id in found)

    def parent_present(self, table: type[Synced], data: dict[str, Any]) -> bool:
        link = PARENTS.get(table)
        if link is None:
            return True
        parent_id = data.get(link[0])
        return isinstance(parent_id, str) and (link[1], parent_id) in self.present

    def add_shadow(self, item: RecordItem) -> _NewShadow:
        shadow = _NewShadow(item.id, item.entity, item.case_id, item.rev, item.deleted, "{}")
        self.shadows[item.id] = shadow
        self.new_shadows.append(shadow)
        return shadow

    def add_row(self, table: type[Synced], record_id: str, data: dict[str, Any], rev: int) -> None:
        now = self.store.now()
        row = _defaults(table) | {
            "id": record_id,
            "server_rev": rev,
            "sync_state": SyncState.CLEAN,
            "created_at": now,
            "updated_at": now,
            "author": "",
        }
        _assign_values(table, row, data)
        self.rows[(table, record_id)] = row
        self.present.add((table, record_id))
        self.new_rows.setdefault(table, []).append(row)
        self.added.add(table)


def _apply_record(
    session: Session,
    store: Store,
    item: RecordItem,
    resync: bool,
    outcome: PageOutcome,
    run: _RecordRun,
) -> bool:
    """Decide one record of a run; True when it is new here (a row was added, or waits for its
    parent). An item no newer than the shadow is ignored; the shadow takes the service's
    version; a clean row with nothing unsent takes it too; a missing row is added once its
    parent is here. Reads and writes go through `run` (the store is read before the run)."""
    outcome.record_ids.add(item.id)
    table = table_of(item.entity)
    data = dict(item.data)
    data.pop("deleted", None)
    shadow = run.shadows.get(item.id)
    if shadow is not None and item.rev <= shadow.rev and not resync:
        return False
    same = (
        shadow is not None
        and (shadow.rev, shadow.deleted) == (item.rev, item.deleted)
        and json.loads(shadow.data) == data
    )
    if not same:
        if shadow is None:
            shadow = run.add_shadow(item)
        shadow.case_id = item.case_id
        shadow.rev = item.rev
        shadow.deleted = item.deleted
        shadow.data = json.dumps(data, ensure_ascii=False)
        outcome.received += 1
    row = run.rows.get((table, item.id))
    if row is None:
        if item.deleted:
            return False
        if run.parent_present(table, data):
            run.add_row(table, item.id, data, item.rev)
        return True
    if isinstance(row, dict):  # added earlier in this run, so clean
        if item.id not in run.unsent and (resync or item.rev >= (row["server_rev"] or 0)):
            _assign_values(table, row, data)
            row["deleted"] = item.deleted
            row["server_rev"] = item.rev
            row["updated_at"] = store.now()
        return False
    takes_theirs = (
        row.sync_state is SyncState.CLEAN
        and row.id not in run.unsent
        and (resync or item.rev >= (row.server_rev or 0))
    )
    if takes_theirs:
        assign(row, data)
        row.deleted = item.deleted
        row.server_rev = item.rev
        row.updated_at = store.now()
        session.add(row)
    return False


def _defaults(table: type[Synced]) -> dict[str, Any]:
    """A new row's column values before its fields are assigned (the model's defaults)."""
    found = _DEFAULTS.get(table)
    if found is None:
        found = {
            name: info.get_default(call_default_factory=True)
            for name, info in table.model_fields.items()
            if not info.is_required()
        }
        _DEFAULTS[table] = found
    return dict(found)


_DEFAULTS: dict[type[Synced], dict[str, Any]] = {}


def _assign_values(table: type[Synced], row: dict[str, Any], data: dict[str, Any]) -> None:
    """`sync_rows.assign` for a row that is still a dict of column values."""
    converters = column_converters(table)
    for name, value in data.items():
        if name == "deleted":
            row["deleted"] = bool(value)
        else:
            convert = converters.get(name)
            if convert is not None:
                row[name] = convert(value)


def column_converters(table: type[Synced]) -> dict[str, Callable[[Any], Any]]:
    """`sync_rows.to_column` for each field a version may set on `table`, with the column's
    type looked up once (a page converts thousands of values; a test holds them equal)."""
    found = _CONVERTERS.get(table)
    if found is None:
        columns = table.__table__.columns  # type: ignore[attr-defined]
        found = {
            name: _converter(columns[name].type)
            for name in table.model_fields
            if name not in SYNC_COLUMNS
        }
        _CONVERTERS[table] = found
    return found


_CONVERTERS: dict[type[Synced], dict[str, Callable[[Any], Any]]] = {}


def _converter(kind: Any) -> Callable[[Any], Any]:
    if isinstance(kind, StrEnumType):
        enum_cls = kind.enum_cls
        return lambda value: None if value is None else enum_cls(value)
    if isinstance(kind, UTCDateTime):
        return lambda value: datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(kind, Date):
        return lambda value: (
            date.fromisoformat(value)
            if isinstance(value, str) and not isinstance(value, Enum)
            else value
        )
    multiline = isinstance(kind, Text)
    return lambda value: (
        clean_text(value, multiline=multiline)
        if isinstance(value, str) and not isinstance(value, Enum)
        else value
    )


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


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


def _materialise_orphans(session: Session, store: Store, added: set[type[Synced]]) -> None:
    """Records that arrived before their parent get their working row once it is here
    (tables in parent-first order, so a whole chain lands in one pass). Parent rows appear
    only when a page adds them, so only the children of tables that got rows (`added`, and
    those this pass adds to) can have a record waiting that may now land."""
    grown = set(added)
    for table in SYNCED_TABLES:
        link = PARENTS.get(table)
        if link is None or link[1] not in grown:
            continue
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
                grown.add(table)


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


def sweep_after_resync(store: Store, seen: set[str], seen_conflicts: set[str] | None = None) -> int:
    """After a full resync: clean rows the snapshot did not name are out of scope or gone.
    Rows with unsent work, holds or conflicts (and the rows above them) stay; so does the
    outbox. Returns how many rows went.

    `seen_conflicts`: the conflicts the resync named. The snapshot names every conflict open
    in scope, so a mirror still open here and not named is no longer open on the service: it
    was resolved meanwhile, or lost in a restore from a backup (F21; the sent log then met
    it again, under a new id). It is marked resolved, kept for history, so it no longer
    blocks a sign-off or shows twice."""
    with store.write() as session:
        if seen_conflicts is not None:
            _close_unnamed_conflicts(session, store, seen_conflicts)
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


def _close_unnamed_conflicts(session: Session, store: Store, named: set[str]) -> None:
    stale = session.exec(
        select(LocalConflict).where(
            LocalConflict.status == "open", col(LocalConflict.conflict_id).not_in(named)
        )
    ).all()
    for mirror in stale:
        mirror.status = "resolved"
        mirror.resolved_at = store.now()
        session.add(mirror)
    session.flush()
    for mirror in stale:
        row = session.get(table_of(mirror.entity), mirror.record_id)
        if row is not None:
            settle(session, row)
