"""GET /sync/v1/changes: the pull stream, page by page (SYNC.md "pull"; SYNC reference §2.5, §7).

A page is built inside one read-only snapshot (REPEATABLE READ on PostgreSQL, a deferred read
transaction on SQLite): the change_log rows after the cursor that the caller may see, the
current state of what they name, and the clock's value, all from the same moment. Because the
clock row orders seqs by commit (sync_log.py), every row at or below that value has committed,
and no later commit can take a smaller seq: a client holding the cursor skips nothing (I7).

The cursor is opaque to clients: URL-safe base64 of {"epoch", "seq"} (plus "phase" and "after"
while a full snapshot is being paged). Without a cursor the caller gets a snapshot of every live
record in scope and the open conflicts, keyed by id, then the cursor of the snapshot's seq.
A cursor from another epoch (a restored database) or from the future answers 410: resync.

Scope changes are stream events (written by scope_events.py, re-exported here): `gain` and
`revoke` rows for the users who start or stop seeing a case; a `gain` item carries a snapshot of
the case, so records older than the cursor arrive too (R37).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, false, or_, select, text

from sofs_tui.server import sync_log
from sofs_tui.server.db import READ_ONLY
from sofs_tui.server.principal import Principal
from sofs_tui.server.push_state import CASE_SCOPE, CONFLICT, RECEIVED, RECORD, chunks
from sofs_tui.server.scope import visible_cases_clause

# admin.py's entry points for scope changes, re-exported: they live in scope_events.py.
from sofs_tui.server.scope_events import cases_visible_to as cases_visible_to
from sofs_tui.server.scope_events import principals_for as principals_for
from sofs_tui.server.scope_events import record_scope_change as record_scope_change
from sofs_tui.server.scope_events import record_user_scope_change as record_user_scope_change
from sofs_tui.server.sync_log import CHANGE_LOG, GAIN, OUTCOME, REVOKE
from sofs_tui.sync.protocol import (
    MAX_PAGE,
    SCHEMA_CURRENT,
    ConflictItem,
    OutcomeItem,
    PullResponse,
    RecordItem,
    ScopeItem,
)

#: Stop filling a page past this much record text (a page is parsed whole on the laptop).
PAGE_BYTES = 4 * 1024 * 1024
_PHASES = ("records", "conflicts")
#: What an item needs of a `record` row (not its update time and author: fewer values to read),
#: in the order the page loops unpack them.
_RECORD_COLUMNS = (
    RECORD.c.id,
    RECORD.c.entity,
    RECORD.c.case_id,
    RECORD.c.rev,
    RECORD.c.deleted,
    RECORD.c.data,
)


class CursorGone(Exception):
    """410: the cursor cannot be honoured (other epoch, unknown form); resync from scratch."""


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int
    phase: str | None = None  # None: following the log; else the snapshot part being paged
    after: str = ""  # snapshot: the last id sent

    def encode(self) -> str:
        body: dict[str, Any] = {"epoch": self.epoch, "seq": self.seq}
        if self.phase:
            body |= {"phase": self.phase, "after": self.after}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json.loads(raw)
            cursor = cls(
                epoch=body["epoch"],
                seq=body["seq"],
                phase=body.get("phase"),
                after=body.get("after", ""),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise CursorGone from None
        valid = (
            isinstance(cursor.epoch, str)
            and isinstance(cursor.seq, int)
            and cursor.seq >= 0
            and (cursor.phase is None or cursor.phase in _PHASES)
            and isinstance(cursor.after, str)
        )
        if not valid:
            raise CursorGone
        return cursor


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent moment of the database."""
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {
            "isolation_level": "REPEATABLE READ",
            "postgresql_readonly": True,
        }
    else:
        options = {READ_ONLY: True}
    with engine.connect() as connection:
        connection.execution_options(**options)
        with connection.begin():
            yield connection


def pull_page(
    engine: Engine,
    principal: Principal,
    cursor: str | None,
    limit: int,
    now: datetime,
    client_schema: int = SCHEMA_CURRENT,
) -> PullResponse:
    """One page of the stream after `cursor` (or of the snapshot, without one), as a model."""
    body = pull_page_json(engine, principal, cursor, limit, now, client_schema)
    return PullResponse.model_validate_json(body)


def pull_page_json(
    engine: Engine,
    principal: Principal,
    cursor: str | None,
    limit: int,
    now: datetime,
    client_schema: int = SCHEMA_CURRENT,
) -> bytes:
    """One page as the `PullResponse` JSON the route sends. Record items are written straight
    from their rows (`record_json`: the stored data is JSON already, so it is neither parsed
    nor validated again); the envelope and the rarer items are the protocol models' own JSON.
    """
    limit = max(1, min(limit, MAX_PAGE))
    with read_snapshot(engine) as connection:
        epoch, clock = _epoch_and_clock(connection)
        at = Cursor(epoch, clock, "records") if cursor is None else Cursor.decode(cursor)
        if at.epoch != epoch or at.seq > clock:
            raise CursorGone
        page = _Page(connection, principal, limit, client_schema)
        if at.phase is None:
            next_cursor, has_more = page.follow_log(at, clock)
        else:
            next_cursor, has_more = page.snapshot(at)
    envelope = PullResponse(
        items=[],
        next_cursor=next_cursor.encode(),
        has_more=has_more,
        server_time=now,
        server_epoch=epoch,
    ).model_dump_json(by_alias=True)
    if not envelope.startswith(_NO_ITEMS):
        raise RuntimeError("PullResponse must serialise `items` first")
    items = ",".join(page.items)
    return "".join(('{"items":[', items, "]", envelope[len(_NO_ITEMS) :])).encode()


_NO_ITEMS = '{"items":[]'
#: migrate.server_epoch and sync_log.current_seq in one statement (one round trip a page).
_EPOCH_AND_CLOCK = text(
    "SELECT server_meta.epoch, sync_clock.seq FROM server_meta, sync_clock "
    "WHERE server_meta.id = 1 AND sync_clock.id = 1"
)


def _epoch_and_clock(connection: Connection) -> tuple[str, int]:
    """The epoch and the newest committed seq, as this snapshot sees them."""
    epoch, seq = connection.execute(_EPOCH_AND_CLOCK).one()
    return str(epoch), int(seq)


class _Page:
    def __init__(
        self, connection: Connection, principal: Principal, limit: int, client_schema: int
    ) -> None:
        self.connection = connection
        self.principal = principal
        self.limit = limit
        self.client_schema = client_schema
        self.items: list[str] = []  # each item's JSON
        self.size = 0
        self.open_ids: dict[str, set[str]] = {}  # record id -> its open conflicts
        self.visible_cases = select(CASE_SCOPE.c.case_id).where(visible_cases_clause(principal))

    def _room_for(self, count: int, size: int) -> bool:
        if not self.items:
            return True  # a page always makes progress
        return len(self.items) + count <= self.limit and self.size + size <= PAGE_BYTES

    def _add(self, items: list[str], size: int) -> None:
        self.items.extend(items)
        self.size += size

    # -- following the log ---------------------------------------------------------------------

    def follow_log(self, at: Cursor, clock: int) -> tuple[Cursor, bool]:
        rows = self.connection.execute(self._log_page(at, clock)).all()  # one fetchall
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        # A record or conflict named twice in the page is sent once, where it last appears, in
        # its current state; scope events and outcomes are each their own event.
        last_record: dict[str, int] = {}
        last_conflict: dict[str, int] = {}
        gains: set[str] = set()
        outcome_ids: list[str] = []
        for n, row in enumerate(rows):
            kind = row.kind
            if kind == sync_log.RECORD:
                last_record[row.record_id] = n
            elif kind == sync_log.CONFLICT:
                last_conflict[row.conflict_id] = n
            elif kind == GAIN:
                gains.add(row.log_case_id)
            elif kind == OUTCOME:
                outcome_ids.append(row.change_id)
        if last_record:
            self._note_open(self._open_conflict_ids(CONFLICT.c.record_id.in_(self._named(rows))))
        conflicts = self._conflicts_by_id(last_conflict)
        gained = self._visible(gains)
        snapshots = self._case_snapshots(gained)
        outcomes = self._outcomes(outcome_ids)
        consumed = at.seq
        items, limit, open_ids, schema = self.items, self.limit, self.open_ids, self.client_schema
        for n, row in enumerate(rows):
            # _log_page's columns, in its order.
            seq, kind, record_id, _, conflict_id, _, _, entity, case_id, rev, deleted, data = row
            if kind == sync_log.RECORD:
                # The common item, written here: a page is mostly records.
                if last_record[record_id] != n or data is None:
                    consumed = seq  # sent later in this page (or no longer stored)
                    continue
                if items and (len(items) >= limit or self.size + len(data) > PAGE_BYTES):
                    return Cursor(at.epoch, consumed), True
                open_now = open_ids.get(record_id)
                items.append(
                    _record_text(seq, entity, record_id, case_id, rev, deleted, data,
                                 sorted(open_now) if open_now else (), schema)
                )  # fmt: skip
                self.size += len(data)
                consumed = seq
                continue
            if kind == sync_log.CONFLICT and last_conflict[conflict_id] != n:
                consumed = seq
                continue
            more_items, size = self._items_for(row, conflicts, gained, snapshots, outcomes)
            if not self._room_for(len(more_items), size):
                return Cursor(at.epoch, consumed), True
            self._add(more_items, size)
            consumed = seq
        return (Cursor(at.epoch, consumed), True) if more else (Cursor(at.epoch, clock), False)

    def _log_page(self, at: Cursor, clock: int) -> Select[Any]:
        """The page's log rows after the cursor that the caller may see, in seq order, each
        record row joined to the record's current state (`log_case_id` is the row's case). One
        statement: the log rows are picked (and limited) first, then their records looked up
        by primary key, so the sort never carries record text."""
        log = CHANGE_LOG.c
        mine = log.principal_user_id == self.principal.user_id
        page = (
            select(log.seq, log.kind, log.record_id, log.case_id, log.conflict_id, log.change_id)
            .where(
                log.seq > at.seq,
                log.seq <= clock,
                or_(
                    and_(log.kind.in_((sync_log.RECORD, sync_log.CONFLICT)),
                         log.case_id.in_(self.visible_cases)),
                    and_(log.kind.in_((GAIN, REVOKE, OUTCOME)), mine),
                ),
            )
            .order_by(log.seq)
            .limit(self.limit + 1)
            .subquery("page")
        )  # fmt: skip
        row = page.c
        is_record = and_(row.kind == sync_log.RECORD, RECORD.c.id == row.record_id)
        return (
            select(row.seq, row.kind, row.record_id, row.case_id.label("log_case_id"),
                   row.conflict_id, row.change_id, *_RECORD_COLUMNS)
            .select_from(page.outerjoin(RECORD, is_record))
            .order_by(row.seq)
        )  # fmt: skip

    def _named(self, rows: Sequence[Any]) -> Select[Any]:
        """The ids of the records the page's log rows name, read through the log itself (the
        record rows of the page's seq range in the caller's cases), not as a list of up to a
        thousand ids the database would have to parse and plan for every page."""
        log = CHANGE_LOG.c
        return select(log.record_id).where(
            log.kind == sync_log.RECORD,
            log.case_id.in_(self.visible_cases),
            log.seq >= rows[0].seq,
            log.seq <= rows[-1].seq,
        )

    def _items_for(
        self,
        row: Any,
        conflicts: dict[str, Any],
        gained: set[str],
        snapshots: dict[str, tuple[list[Any], list[Any]]],
        outcomes: dict[str, Any],
    ) -> tuple[list[str], int]:
        """The items of a log row other than a record's (conflict, scope event, outcome)."""
        kind = row.kind
        if kind == sync_log.CONFLICT:
            conflict = conflicts.get(row.conflict_id)
            if conflict is None:
                return [], 0
            return [self._conflict_json(conflict, row.seq)], _conflict_size(conflict)
        if kind == REVOKE:
            revoke = ScopeItem(seq=row.seq, op="revoke", case_id=row.log_case_id)
            return [revoke.model_dump_json()], 0
        if kind == GAIN:
            # A gain later revoked again brings nothing: the revoke follows in the stream.
            live, open_conflicts = snapshots.get(row.log_case_id, ([], []))
            if row.log_case_id not in gained:
                live, open_conflicts = [], []
            gain = ScopeItem(seq=row.seq, op="gain", case_id=row.log_case_id).model_dump_json()
            snapshot = ",".join(self._record_json(r, row.seq) for r in live)
            if not gain.endswith(_NO_SNAPSHOT):
                raise RuntimeError("ScopeItem must serialise `snapshot` last")
            items = [gain[: -len(_NO_SNAPSHOT)] + f'"snapshot":[{snapshot}]}}']
            items += [self._conflict_json(c, row.seq) for c in open_conflicts]
            size = sum(len(r.data) for r in live) + sum(map(_conflict_size, open_conflicts))
            return items, size
        received = outcomes.get(row.change_id)
        if received is None:
            return [], 0
        result = json.loads(received.result or "{}")
        outcome = OutcomeItem(
            seq=row.seq,
            change_id=row.change_id,
            status=received.status,
            rev=result.get("rev"),
            reason=received.reason or None,
        )
        return [outcome.model_dump_json()], 0

    # -- the snapshot ----------------------------------------------------------------------------

    def snapshot(self, at: Cursor) -> tuple[Cursor, bool]:
        if at.phase == "records":
            query = (
                select(*_RECORD_COLUMNS)
                .where(
                    RECORD.c.case_id.in_(self.visible_cases),
                    RECORD.c.deleted == false(),
                    RECORD.c.id > at.after,
                )
                .order_by(RECORD.c.id)
                .limit(self.limit + 1)
            )
            rows = self.connection.execute(query).all()
            open_ids = self._open_conflict_ids(
                CONFLICT.c.case_id.in_(self.visible_cases)
                & (CONFLICT.c.record_id > at.after)
                & (CONFLICT.c.record_id <= (rows[-1].id if rows else at.after))
            )
            items, limit, schema = self.items, self.limit, self.client_schema
            for n, (record_id, entity, case_id, rev, deleted, data) in enumerate(rows):
                full = items and (len(items) >= limit or self.size + len(data) > PAGE_BYTES)
                if n == limit or full:
                    after = rows[n - 1].id if n else at.after
                    return Cursor(at.epoch, at.seq, "records", after), True
                open_now = open_ids.get(record_id)
                items.append(
                    _record_text(at.seq, entity, record_id, case_id, rev, deleted, data,
                                 sorted(open_now) if open_now else (), schema)
                )  # fmt: skip
                self.size += len(data)
            at = Cursor(at.epoch, at.seq, "conflicts", "")
        query = (
            select(CONFLICT)
            .where(
                CONFLICT.c.case_id.in_(self.visible_cases),
                CONFLICT.c.status == "open",
                CONFLICT.c.id > at.after,
            )
            .order_by(CONFLICT.c.id)
            .limit(self.limit + 1)
        )
        last = at.after
        for conflict in self.connection.execute(query):
            if len(self.items) >= self.limit or not self._room_for(1, _conflict_size(conflict)):
                return Cursor(at.epoch, at.seq, "conflicts", last), True
            self._add([self._conflict_json(conflict, at.seq)], _conflict_size(conflict))
            last = conflict.id
        return Cursor(at.epoch, at.seq), False

    # -- reads -----------------------------------------------------------------------------------

    def _note_open(self, found: dict[str, list[str]]) -> None:
        for record_id, conflict_ids in found.items():
            self.open_ids.setdefault(record_id, set()).update(conflict_ids)

    def _open_conflict_ids(self, which: ColumnElement[bool]) -> dict[str, list[str]]:
        """Record id → its open conflicts' ids (in id order), for the records `which` picks."""
        found: dict[str, list[str]] = {}
        query = select(CONFLICT.c.record_id, CONFLICT.c.id).where(
            which, CONFLICT.c.status == "open"
        )
        for record_id, conflict_id in self.connection.execute(query.order_by(CONFLICT.c.id)):
            found.setdefault(record_id, []).append(conflict_id)
        return found

    def _conflicts_by_id(self, ids: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for part in chunks(ids):
            for row in self.connection.execute(select(CONFLICT).where(CONFLICT.c.id.in_(part))):
                found[row.id] = row
        return found

    def _visible(self, case_ids: set[str]) -> set[str]:
        if not case_ids:
            return set()
        query = select(CASE_SCOPE.c.case_id).where(
            CASE_SCOPE.c.case_id.in_(sorted(case_ids)), visible_cases_clause(self.principal)
        )
        return set(self.connection.scalars(query))

    def _case_snapshots(self, case_ids: set[str]) -> dict[str, tuple[list[Any], list[Any]]]:
        """Every live record and open conflict of each case (a gain's snapshot)."""
        found: dict[str, tuple[list[Any], list[Any]]] = {c: ([], []) for c in case_ids}
        for part in chunks(case_ids):
            live: Select[Any] = select(*_RECORD_COLUMNS).where(
                RECORD.c.case_id.in_(part), RECORD.c.deleted == false()
            )
            for row in self.connection.execute(live.order_by(RECORD.c.id)).all():
                found[row.case_id][0].append(row)
            still_open = select(CONFLICT).where(
                CONFLICT.c.case_id.in_(part), CONFLICT.c.status == "open"
            )
            for row in self.connection.execute(still_open.order_by(CONFLICT.c.id)):
                found[row.case_id][1].append(row)
        for _, conflicts in found.values():
            for conflict in conflicts:
                self._note_open({conflict.record_id: [conflict.id]})
        return found

    def _outcomes(self, change_ids: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for part in chunks(change_ids):
            query = select(
                RECEIVED.c.change_id, RECEIVED.c.status, RECEIVED.c.reason, RECEIVED.c.result
            ).where(RECEIVED.c.change_id.in_(part))
            for row in self.connection.execute(query):
                found[row.change_id] = row
        return found

    # -- items -------------------------------------------------------------------------------------

    def _record_json(self, row: Any, seq: int, open_ids: list[str] | None = None) -> str:
        conflicts = open_ids if open_ids is not None else self.open_ids.get(row.id, ())
        return record_json(row, seq, sorted(conflicts), self.client_schema)

    def _conflict_json(self, row: Any, seq: int) -> str:
        return conflict_item(row, seq, self.client_schema).model_dump_json()


_NO_SNAPSHOT = '"snapshot":[]}'
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string: Callable[[str], str] = json.encoder.encode_basestring  # a JSON string, quoted


def record_item(
    row: Any, seq: int, open_conflicts: list[str], client_schema: int = SCHEMA_CURRENT
) -> RecordItem:
    """A `record` table row as the client receives it."""
    return RecordItem(
        seq=seq,
        entity=row.entity,
        id=row.id,
        case_id=row.case_id,
        rev=row.rev,
        deleted=bool(row.deleted),
        data=for_client(row.entity, json.loads(row.data), client_schema),
        open_conflicts=open_conflicts,
    )


def record_json(
    row: Any, seq: int, open_conflicts: list[str], client_schema: int = SCHEMA_CURRENT
) -> str:
    """`record_item(...).model_dump_json()`, written directly: the row's `data` is the JSON
    the service stored (a flat object of scalars), sent as it is to a current client."""
    return _record_text(
        seq, row.entity, row.id, row.case_id, row.rev, row.deleted, row.data, open_conflicts,
        client_schema,
    )  # fmt: skip


def _record_text(
    seq: int,
    entity: str,
    record_id: str,
    case_id: str,
    rev: int,
    deleted: bool,
    data: str,
    open_conflicts: Sequence[str],
    client_schema: int,
) -> str:
    """`record_json` of a row's values (the page loop passes them unpacked)."""
    if client_schema < SCHEMA_CURRENT:
        data = _dumps(for_client(entity, json.loads(data), client_schema))
    conflicts = _dumps([str(c) for c in open_conflicts]) if open_conflicts else "[]"
    return (
        f'{{"type":"record","seq":{int(seq)},"entity":{_string(entity)},'
        f'"id":{_string(record_id)},"case_id":{_string(case_id)},"rev":{int(rev)},'
        f'"deleted":{"true" if deleted else "false"},"data":{data},'
        f'"open_conflicts":{conflicts}}}'
    )


def conflict_item(row: Any, seq: int, client_schema: int = SCHEMA_CURRENT) -> ConflictItem:
    """A `conflict` table row as the client receives it (both versions, author, times)."""
    return ConflictItem(
        seq=seq,
        conflict_id=row.id,
        entity=row.entity,
        record_id=row.record_id,
        case_id=row.case_id,
        status=row.status,
        kind=row.kind,
        base_rev=row.base_rev,
        current_rev=row.rev_at_detection,
        theirs=for_client(row.entity, json.loads(row.theirs), client_schema),
        incoming=for_client(row.entity, json.loads(row.incoming_fields), client_schema),
        incoming_op=row.incoming_op,
        author=row.author,
        client_time=row.client_time,
        detected_at=row.detected_at,
    )


def for_client(entity: str, data: dict[str, Any], client_schema: int) -> dict[str, Any]:
    """Fields as the client's schema knows them: newer fields are left out (§2.11)."""
    if client_schema < 2 and entity == "entry":
        data.pop("audience", None)
    return data


def _conflict_size(row: Any) -> int:
    return len(row.theirs) + len(row.incoming_fields)
