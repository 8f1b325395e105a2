"""What each side holds, as plain data to compare: a laptop's records, outbox and conflicts,
the service's records, revisions, receipts and conflicts (and the F7 raw dump)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from sofs_tui.server.db import Conflict, ReceivedChange, Record, RecordRevision, make_engine
from sofs_tui.server.db import session as server_session
from sofs_tui.store.tables import SYNCED_TABLES, LocalConflict, Outbox, SyncMeta
from sofs_tui.sync.entities import ENTITIES
from tests.e2e_process.harness import Laptop

# --- What each side holds ----------------------------------------------------------------------

#: A record as both sides can show it: (entity, rev, deleted, its synced fields).
RecordView = tuple[str, int | None, bool, str]


def _fields(entity: str, data: dict[str, Any]) -> str:
    names = ENTITIES[entity].fields
    return json.dumps({name: data.get(name) for name in names}, sort_keys=True)


@dataclass
class ClientState:
    records: dict[str, RecordView]
    sync_states: dict[str, str]
    outbox: list[tuple[int, str, str]]  # (device_seq, change_id, state)
    results: dict[str, dict[str, Any]]  # change_id -> the service's stored result
    conflicts: list[tuple[str, str, str]]  # (record_id, status, kind)
    cursor: str

    @property
    def inflight(self) -> int:
        return sum(1 for _, _, state in self.outbox if state == "inflight")

    def comparable(self) -> dict[str, Any]:
        """Everything that must match an uninterrupted run (not the service's ids)."""
        return {
            "records": self.records,
            "sync_states": self.sync_states,
            "outbox": self.outbox,
            "statuses": {c: r.get("status") for c, r in self.results.items()},
            "conflicts": self.conflicts,
        }


def client_state(laptop: Laptop) -> ClientState:
    with laptop.store() as store, store.read() as session:
        records: dict[str, RecordView] = {}
        states: dict[str, str] = {}
        for table in SYNCED_TABLES:
            for row in session.exec(select(table)).all():
                data = row.model_dump(mode="json")
                fields = _fields(table.ENTITY, data)
                records[row.id] = (table.ENTITY, row.server_rev, row.deleted, fields)
                states[row.id] = str(data["sync_state"])
        outbox_rows = session.exec(select(Outbox)).all()
        outbox = sorted((o.device_seq, o.change_id, o.state) for o in outbox_rows)
        results = {o.change_id: json.loads(o.result) for o in outbox_rows if o.result}
        conflicts = sorted(
            (c.record_id, c.status, c.kind) for c in session.exec(select(LocalConflict)).all()
        )
        meta = session.get(SyncMeta, 1)
        assert meta is not None
        return ClientState(records, states, outbox, results, conflicts, meta.cursor)


@dataclass
class ServerState:
    records: dict[str, RecordView]
    revisions_per_change: Counter[str]
    received: dict[str, str]  # change_id -> status
    conflicts: list[tuple[str, str, str]]  # (record_id, status, kind)

    def comparable(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "revisions_per_change": dict(self.revisions_per_change),
            "received": self.received,
            "conflicts": self.conflicts,
        }


def server_state(database_url: str) -> ServerState:
    engine = make_engine(database_url)
    try:
        with server_session(engine) as session:
            records: dict[str, RecordView] = {
                r.id: (r.entity, r.rev, r.deleted, _fields(r.entity, json.loads(r.data)))
                for r in session.exec(select(Record)).all()
            }
            revisions = Counter(
                r.change_id for r in session.exec(select(RecordRevision)).all() if r.change_id
            )
            received = {c.change_id: c.status for c in session.exec(select(ReceivedChange)).all()}
            conflicts = sorted(
                (c.record_id, c.status, c.kind) for c in session.exec(select(Conflict)).all()
            )
        return ServerState(records, revisions, received, conflicts)
    finally:
        engine.dispose()


def local_dump(laptop: Laptop) -> dict[str, Any]:
    """Every row of the record tables, shadows, conflicts and outbox, every column, and the
    cursor: what must stay exactly as it was when a pull fails (F7)."""
    from sofs_tui.store.tables import Shadow

    tables: list[Any] = [*SYNCED_TABLES, Shadow, LocalConflict, Outbox]
    with laptop.store() as store, store.read() as session:
        dump: dict[str, Any] = {
            table.__tablename__: sorted(
                json.dumps(row.model_dump(mode="json"), sort_keys=True)
                for row in session.exec(select(table)).all()
            )
            for table in tables
        }
        meta = session.get(SyncMeta, 1)
        assert meta is not None
        dump["cursor"] = (meta.cursor, meta.server_epoch)
        return dump
