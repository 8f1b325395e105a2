"""What one push reads and keeps in memory while it decides each change.

A batch touches a few dozen records; reading them one query per change would make a push of
1,000 changes cost thousands of round trips. So the push loads the records it changes (locked,
in id order, so two pushes never deadlock on each other), their parents, the case scopes and
the earlier results it needs in a handful of queries, and looks everything else up lazily and
once. Decisions then update this state, so later changes in the batch see earlier effects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, select

from sofs_tui.server.db import METADATA
from sofs_tui.server.principal import Principal
from sofs_tui.server.scope import visible_cases_clause
from sofs_tui.sync.entities import ENTITIES

RECORD = METADATA.tables["record"]
REVISION = METADATA.tables["record_revision"]
RECEIVED = METADATA.tables["received_change"]
CONFLICT = METADATA.tables["conflict"]
CASE_SCOPE = METADATA.tables["case_scope"]
DEVICE = METADATA.tables["device"]

_CHUNK = 500  # ids per IN (...) list


def chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(ids))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def dumps(value: Any) -> str:
    """JSON as stored: ASCII-only, so any text the client sent is storable on both databases."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RecordState:
    id: str
    entity: str
    case_id: str
    rev: int
    deleted: bool
    data: dict[str, Any]

    def with_fields(self) -> dict[str, Any]:
        """The data as a conflict's 'theirs' shows it: the fields plus the tombstone flag."""
        return {**self.data, "deleted": self.deleted}


@dataclass(frozen=True)
class ConflictState:
    id: str
    entity: str
    record_id: str
    case_id: str
    kind: str  # hard | soft
    status: str  # open | resolved
    base_rev: int | None
    rev_at_detection: int
    incoming_change_id: str
    incoming_op: str
    incoming_fields: dict[str, Any]
    theirs: dict[str, Any]
    author: str
    device_id: str
    client_time: datetime
    detected_at: datetime
    resolved_by: str = ""
    resolved_at: datetime | None = None
    resolution_change_id: str | None = None

    def row(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in CONFLICT.columns.keys()}  # noqa: SIM118
        values["incoming_fields"] = dumps(self.incoming_fields)
        values["theirs"] = dumps(self.theirs)
        return values

    def resolved(self, by: str, at: datetime, change_id: str) -> ConflictState:
        return replace(
            self, status="resolved", resolved_by=by, resolved_at=at, resolution_change_id=change_id
        )


def conflict_from_row(row: Any) -> ConflictState:
    values = dict(row._mapping)
    values["incoming_fields"] = json.loads(values["incoming_fields"])
    values["theirs"] = json.loads(values["theirs"])
    return ConflictState(**values)


@dataclass
class PriorChange:
    """A change as `received_change` holds it (or as this push decided it)."""

    change_id: str
    device_id: str
    device_seq: int
    user_id: str
    record_id: str
    case_id: str | None
    payload: str
    digest: str
    schema_version: int
    status: str
    reason: str
    result: dict[str, Any]


def _prior(row: Any) -> PriorChange:
    return PriorChange(
        change_id=row.change_id,
        device_id=row.device_id,
        device_seq=row.device_seq,
        user_id=row.user_id,
        record_id=row.record_id,
        case_id=row.case_id,
        payload=row.payload,
        digest=row.payload_sha256,
        schema_version=row.schema_version,
        status=row.status,
        reason=row.reason,
        result=json.loads(row.result or "{}"),
    )


def _record(row: Any) -> RecordState:
    return RecordState(
        id=row.id,
        entity=row.entity,
        case_id=row.case_id,
        rev=row.rev,
        deleted=bool(row.deleted),
        data=json.loads(row.data),
    )


@dataclass
class PushState:
    """The push's view of the database, filled by a few batched reads, then kept current."""

    connection: Connection
    principal: Principal
    device_id: str
    records: dict[str, RecordState | None] = field(default_factory=dict)
    in_db: set[str] = field(default_factory=set)  # record ids whose row exists in the table
    scopes: dict[str, bool] = field(default_factory=dict)  # known case ids -> visible to caller
    missing_cases: set[str] = field(default_factory=set)
    received: dict[str, PriorChange] = field(default_factory=dict)
    missing_changes: set[str] = field(default_factory=set)
    seq_owner: dict[int, str] = field(default_factory=dict)
    revisions: dict[tuple[str, int], dict[str, Any] | None] = field(default_factory=dict)
    conflicts: dict[str, ConflictState | None] = field(default_factory=dict)
    conflicts_in_db: set[str] = field(default_factory=set)
    open_by_case: dict[str, dict[str, ConflictState]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # records behind a held change of this device
    assessments_by_case: dict[str, set[str]] = field(default_factory=dict)  # ids in the table

    # -- batched loads ---------------------------------------------------------------------

    def lock_records(self, ids: Iterable[str]) -> None:
        """Load and lock (FOR UPDATE, in id order) the records this push may change."""
        wanted = [i for i in set(ids) if i not in self.records]
        for part in chunks(wanted):
            query = select(RECORD).where(RECORD.c.id.in_(part)).order_by(RECORD.c.id)
            for row in self.connection.execute(query.with_for_update()):
                self.records[row.id] = _record(row)
                self.in_db.add(row.id)
        for record_id in wanted:
            self.records.setdefault(record_id, None)

    def load_records(self, ids: Iterable[str]) -> None:
        """Load records read but not changed (parents), without locks."""
        wanted = [i for i in set(ids) if i not in self.records]
        for part in chunks(wanted):
            for row in self.connection.execute(select(RECORD).where(RECORD.c.id.in_(part))):
                self.records[row.id] = _record(row)
                self.in_db.add(row.id)
        for record_id in wanted:
            self.records.setdefault(record_id, None)

    def load_scopes(self, case_ids: Iterable[str]) -> None:
        wanted = [i for i in set(case_ids) if i and i not in self.scopes]
        if not wanted:
            return
        visible = case((visible_cases_clause(self.principal), 1), else_=0)
        for part in chunks(wanted):
            query = select(CASE_SCOPE.c.case_id, visible).where(CASE_SCOPE.c.case_id.in_(part))
            for case_id, is_visible in self.connection.execute(query):
                self.scopes[case_id] = bool(is_visible)

    def load_received(self, change_ids: Iterable[str]) -> None:
        wanted = [i for i in set(change_ids) if i not in self.received]
        for part in chunks(wanted):
            for row in self.connection.execute(
                select(RECEIVED).where(RECEIVED.c.change_id.in_(part))
            ):
                self.received[row.change_id] = _prior(row)
        self.missing_changes.update(i for i in wanted if i not in self.received)

    def load_seq_owners(self, seqs: Iterable[int]) -> None:
        """Which change already holds each device_seq of this device."""
        wanted = sorted(set(seqs))
        for start in range(0, len(wanted), _CHUNK):
            query = select(RECEIVED.c.device_seq, RECEIVED.c.change_id).where(
                RECEIVED.c.device_id == self.device_id,
                RECEIVED.c.device_seq.in_(wanted[start : start + _CHUNK]),
                RECEIVED.c.reason != "seq_reused",
            )
            for seq, change_id in self.connection.execute(query):
                self.seq_owner[seq] = change_id

    def held_changes(self) -> list[PriorChange]:
        """This device's changes waiting on something, in device order (retried each push)."""
        query = (
            select(RECEIVED)
            .where(RECEIVED.c.device_id == self.device_id, RECEIVED.c.status == "held")
            .order_by(RECEIVED.c.device_seq)
        )
        held = [_prior(row) for row in self.connection.execute(query)]
        for prior in held:
            self.received[prior.change_id] = prior
        return held

    def load_conflicts(self, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if i not in self.conflicts]
        for part in chunks(wanted):
            for row in self.connection.execute(select(CONFLICT).where(CONFLICT.c.id.in_(part))):
                self.conflicts[row.id] = conflict_from_row(row)
                self.conflicts_in_db.add(row.id)
        for conflict_id in wanted:
            self.conflicts.setdefault(conflict_id, None)

    # -- lookups ---------------------------------------------------------------------------

    def record(self, record_id: str) -> RecordState | None:
        if record_id not in self.records:
            self.load_records([record_id])
        return self.records[record_id]

    def signed_off_assessments(self, case_id: str) -> list[RecordState]:
        """The case's signed-off (final) assessments, as this batch has them: those in the
        table, and any created or changed earlier in the batch."""
        if case_id not in self.assessments_by_case:
            query = select(RECORD.c.id).where(
                and_(RECORD.c.case_id == case_id, RECORD.c.entity == "assessment")
            )
            self.assessments_by_case[case_id] = set(self.connection.execute(query).scalars())
        ids = set(self.assessments_by_case[case_id])
        ids.update(
            record.id
            for record in self.records.values()
            if record is not None and record.entity == "assessment" and record.case_id == case_id
        )
        found = [self.record(record_id) for record_id in sorted(ids)]
        return [
            record
            for record in found
            if record is not None and not record.deleted and record.data.get("status") == "final"
        ]

    def case_known(self, case_id: str) -> bool:
        if case_id not in self.scopes and case_id not in self.missing_cases:
            self.load_scopes([case_id])
            if case_id not in self.scopes:
                self.missing_cases.add(case_id)
        return case_id in self.scopes

    def case_visible(self, case_id: str) -> bool:
        return self.case_known(case_id) and self.scopes[case_id]

    def prior(self, change_id: str) -> PriorChange | None:
        if change_id not in self.received and change_id not in self.missing_changes:
            self.load_received([change_id])
        return self.received.get(change_id)

    def revision(self, record_id: str, rev: int) -> dict[str, Any] | None:
        """A record's fields (with the tombstone flag) at `rev`, None if there is no such rev."""
        key = (record_id, rev)
        if key not in self.revisions:
            row = self.connection.execute(
                select(REVISION.c.data, REVISION.c.deleted).where(
                    REVISION.c.record_id == record_id, REVISION.c.rev == rev
                )
            ).first()
            self.revisions[key] = (
                None if row is None else {**json.loads(row.data), "deleted": bool(row.deleted)}
            )
        return self.revisions[key]

    def made_at(self, record_id: str) -> datetime | None:
        """When the record's first version was made, by its author's clock (else when the
        service received it); None for a record not yet in the revision table."""
        row = self.connection.execute(
            select(REVISION.c.client_time, REVISION.c.received_at).where(
                REVISION.c.record_id == record_id, REVISION.c.rev == 1
            )
        ).first()
        if row is None:
            return None
        made: datetime | None = row.client_time or row.received_at
        return made if made is None or made.tzinfo is not None else made.replace(tzinfo=UTC)

    def conflict(self, conflict_id: str) -> ConflictState | None:
        self.load_conflicts([conflict_id])
        return self.conflicts[conflict_id]

    def open_conflicts(self, case_id: str) -> list[ConflictState]:
        """The case's open conflicts (hard ones; soft notes are never open)."""
        if case_id not in self.open_by_case:
            query = select(CONFLICT).where(
                and_(CONFLICT.c.case_id == case_id, CONFLICT.c.status == "open")
            )
            found: dict[str, ConflictState] = {}
            for row in self.connection.execute(query):
                current = self.conflicts.get(row.id) or conflict_from_row(row)
                self.conflicts[row.id] = current
                self.conflicts_in_db.add(row.id)
                if current.status == "open":
                    found[row.id] = current
            self.open_by_case[case_id] = found
        return list(self.open_by_case[case_id].values())

    def case_of_unknown_record(self, record_id: str) -> str | None:
        """The case a record not (yet) in the table was meant for, from changes received."""
        for prior in self.received.values():
            if prior.record_id == record_id and prior.case_id:
                return prior.case_id
        row = self.connection.execute(
            select(RECEIVED.c.case_id)
            .where(RECEIVED.c.record_id == record_id, RECEIVED.c.case_id.is_not(None))
            .limit(1)
        ).first()
        return None if row is None else str(row.case_id)

    # -- keeping the state current ------------------------------------------------------------

    def put_conflict(self, conflict: ConflictState) -> None:
        self.conflicts[conflict.id] = conflict
        open_here = self.open_by_case.get(conflict.case_id)
        if open_here is None:
            return
        if conflict.status == "open":
            open_here[conflict.id] = conflict
        else:
            open_here.pop(conflict.id, None)


def parent_id(entity: str, fields: dict[str, Any], current: RecordState | None) -> str | None:
    """The id this record hangs from (towards its case): from the change, else the record."""
    spec = ENTITIES[entity]
    if spec.parent is None:
        return None
    name = spec.parent[0]
    value = fields.get(name, current.data.get(name) if current else None)
    return value if isinstance(value, str) else None
