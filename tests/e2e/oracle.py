"""The invariants of SYNC.md, checked against the service's tables, the laptops' stores and the
journal of saves (tests/e2e/harness.py). Every check raises AssertionError with what broke.

I2 no loss: each laptop's last save of each field is on the service (a revision, a conflict or
a received change) or still on that laptop (its row, its outbox or a conflict mirror).
I3 no duplicates: one revision per change id; one change per device sequence number.
I10 scope, I13 convergence: after everyone synced, each laptop holds exactly the live records
of the cases it may see, at the service's revisions, and the same open conflicts.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import select

from sofs_tui.domain.enums import SyncState
from sofs_tui.server import pull
from sofs_tui.server.db import Conflict, Device, ReceivedChange, Record, RecordRevision
from sofs_tui.store.sync_rows import full_version
from sofs_tui.store.tables import (
    SYNCED_TABLES,
    LocalConflict,
    Outbox,
    RevokedCase,
    Shadow,
    Synced,
    SyncMeta,
)
from tests.e2e.harness import Laptop, Service, World

#: Fields that hold ids: they differ from run to run, so run comparisons leave them out.
ID_FIELDS = frozenset({"id", "case_id", "assessment_id", "goal_for_id", "child_id", "parent_id"})
UNSENT = ("pending", "inflight", "flagged")


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- The service's tables -----------------------------------------------------------------------


def records(service: Service, case_ids: set[str] | None = None) -> dict[str, Record]:
    with service.session() as session:
        query = select(Record)
        if case_ids is not None:
            query = query.where(Record.case_id.in_(sorted(case_ids)))  # type: ignore[attr-defined]
        return {r.id: r for r in session.scalars(query)}


def revisions(service: Service) -> list[RecordRevision]:
    with service.session() as session:
        return list(session.scalars(select(RecordRevision)))


def conflicts(service: Service) -> list[Conflict]:
    with service.session() as session:
        return list(session.scalars(select(Conflict)))


def received(service: Service) -> list[ReceivedChange]:
    with service.session() as session:
        return list(session.scalars(select(ReceivedChange)))


def last_device_seq(service: Service, device_id: str) -> int:
    with service.session() as session:
        device = session.get(Device, device_id)
        assert device is not None
        return device.last_device_seq


def visible_cases(service: Service, username: str) -> set[str]:
    with service.session() as session:
        return pull.cases_visible_to(session, service.user_ids[username])


def case_record_set(service: Service, case_id: str) -> set[tuple[str, str, int, bool, str]]:
    """(entity, id, rev, deleted, data) of every record of a case on the service."""
    return {
        (r.entity, r.id, r.rev, r.deleted, _canon(json.loads(r.data)))
        for r in records(service, {case_id}).values()
    }


# --- The laptops ----------------------------------------------------------------------------------


def synced_rows(laptop: Laptop) -> list[Synced]:
    found: list[Synced] = []
    for table in SYNCED_TABLES:
        found.extend(laptop.rows(table))
    return found


def local_record_set(
    laptop: Laptop,
    ids: set[str],
    *,
    confirmed: set[str] = frozenset(),  # type: ignore[assignment]
) -> set[tuple[str, str, int, bool, str]]:
    """The same shape as `case_record_set`, from a laptop's working rows named in `ids`; for
    the records in `confirmed` (those in an open conflict, whose working row keeps this
    laptop's own version until a person decides), from the service version it holds."""
    found = set()
    shadows = {s.record_id: s for s in laptop.rows(Shadow)}
    for row in synced_rows(laptop):
        if row.id not in ids:
            continue
        if row.id in confirmed:
            shadow = shadows[row.id]
            found.add(
                (shadow.entity, row.id, shadow.rev, shadow.deleted, _canon(json.loads(shadow.data)))
            )
            continue
        data = full_version(row)
        data.pop("deleted")
        found.add((row.ENTITY, row.id, row.server_rev or 0, row.deleted, _canon(data)))
    return found


def outbox(laptop: Laptop) -> list[Outbox]:
    return sorted(laptop.rows(Outbox), key=lambda r: r.device_seq)


def unsent(laptop: Laptop) -> set[str]:
    return {r.change_id for r in outbox(laptop) if r.state in UNSENT}


def everything(laptop: Laptop, ignore: tuple[str, ...] = ("last_error",)) -> dict[str, list[str]]:
    """Every row of every table sync touches, as text (to prove "nothing changed"), without
    the sync lock's columns (a sync takes and gives back the lock whatever happens) and the
    outbox columns in `ignore` (bookkeeping of an attempt, not data)."""
    tables: list[Any] = [*SYNCED_TABLES, Outbox, Shadow, LocalConflict, SyncMeta, RevokedCase]
    skipped = {"sync_lock_owner", "sync_lock_until", *ignore}
    found: dict[str, list[str]] = {}
    for table in tables:
        rows = []
        for row in laptop.rows(table):
            data = {k: v for k, v in row.model_dump(mode="json").items() if k not in skipped}
            rows.append(json.dumps(data, sort_keys=True))
        found[table.__tablename__] = sorted(rows)
    return found


# --- Invariants ---------------------------------------------------------------------------------


def check_no_duplicates(service: Service) -> None:
    """I3: a change has at most one effect, however often it was sent."""
    per_change = Counter(r.change_id for r in revisions(service) if r.change_id)
    twice = [c for c, n in per_change.items() if n > 1]
    assert not twice, f"changes with more than one revision: {twice}"
    per_seq = Counter(
        (r.device_id, r.device_seq) for r in received(service) if r.reason != "seq_reused"
    )
    reused = [k for k, n in per_seq.items() if n > 1]
    assert not reused, f"device sequence numbers holding two changes: {reused}"


def _service_values(service: Service) -> dict[tuple[str, str], set[str]]:
    """(record id, field) -> every value the service holds for it, anywhere."""
    found: dict[tuple[str, str], set[str]] = {}

    def add(record_id: str, data: dict[str, Any]) -> None:
        for name, value in data.items():
            found.setdefault((record_id, name), set()).add(_canon(value))

    for revision in revisions(service):
        add(revision.record_id, json.loads(revision.data) | {"deleted": revision.deleted})
    for conflict in conflicts(service):
        add(conflict.record_id, json.loads(conflict.incoming_fields))
        add(conflict.record_id, json.loads(conflict.theirs))
    for change in received(service):
        payload = json.loads(change.payload)
        fields = payload["fields"] | ({"deleted": True} if payload["op"] == "delete" else {})
        add(change.record_id, fields)
    return found


def _laptop_values(laptop: Laptop) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}

    def add(record_id: str, data: dict[str, Any]) -> None:
        for name, value in data.items():
            found.setdefault((record_id, name), set()).add(_canon(value))

    for row in synced_rows(laptop):
        add(row.id, full_version(row))
    for change in outbox(laptop):
        add(change.record_id, json.loads(change.fields))
    for mirror in laptop.rows(LocalConflict):
        add(mirror.record_id, json.loads(mirror.mine))
        add(mirror.record_id, json.loads(mirror.theirs))
    return found


def check_nothing_lost(world: World, *, on_service: bool = False) -> None:
    """I2 against the journal: each laptop's last save of each field is on the service, or
    (unless `on_service`, after the final syncs) still on that laptop."""
    on_server = _service_values(world.service)
    local: dict[str, dict[tuple[str, str], set[str]]] = {}
    missing = []
    for save in world.journal.latest():
        key, value = (save.record_id, save.field), _canon(save.value)
        if value in on_server.get(key, set()):
            continue
        if not on_service:
            if save.laptop not in local:
                local[save.laptop] = _laptop_values(world.laptops[save.laptop])
            if value in local[save.laptop].get(key, set()):
                continue
        missing.append(save)
    assert not missing, f"saves found nowhere: {missing}"


def check_converged(world: World) -> None:
    """I10 and I13 after everyone synced twice with no new edits."""
    service = world.service
    open_on_service = {c.id: c for c in conflicts(service) if c.status == "open"}
    for laptop in world.laptops.values():
        scope = visible_cases(service, laptop.name)
        on_service = records(service, scope)
        live = {i for i, r in on_service.items() if not r.deleted}
        expected = {
            (r.entity, r.id, r.rev, r.deleted, _canon(json.loads(r.data)))
            for i, r in on_service.items()
            if i in live
        }
        mine = {c.conflict_id for c in laptop.open_conflicts()}
        theirs = {i for i, c in open_on_service.items() if c.case_id in scope}
        assert mine == theirs, f"{laptop.name}'s open conflicts {mine} != the service's {theirs}"
        in_conflict = {c.record_id for i, c in open_on_service.items() if i in theirs}
        rows = synced_rows(laptop)
        live_here = {r.id for r in rows if not r.deleted or r.id in in_conflict}
        held = local_record_set(laptop, live_here, confirmed=in_conflict)
        assert held == expected, f"{laptop.name} differs from the service: {held ^ expected}"
        for row in rows:
            if row.deleted and row.id not in in_conflict:  # a tombstone: the service's too
                record = on_service.get(row.id)
                assert record is not None, f"{laptop.name} holds {row.id} outside its scope"
                assert (record.deleted, record.rev) == (True, row.server_rev)
            state = SyncState.CONFLICT if row.id in in_conflict else SyncState.CLEAN
            assert row.sync_state is state, (laptop.name, row.ENTITY, row.sync_state)
        assert not unsent(laptop), f"{laptop.name} has unsent changes after syncing"


def check_all(world: World) -> None:
    """The final check: no duplicates, nothing lost, everyone converged."""
    check_no_duplicates(world.service)
    check_nothing_lost(world, on_service=True)
    check_converged(world)


# --- Comparing runs -----------------------------------------------------------------------------


def _normal(data: dict[str, Any], cast: dict[str, str]) -> str:
    text = _canon({k: v for k, v in data.items() if k not in ID_FIELDS})
    for name, role in cast.items():  # lead worker, author: this run's names, as roles
        text = text.replace(name, role)
    return text


def end_state(world: World, case_id: str, cast: dict[str, str]) -> dict[str, Any]:
    """What a run ended with, without the ids and names that differ between runs: the case's
    records and conflicts on the service, the fate of each change, and each laptop's rows.
    `cast` maps this run's laptop names to role names ("alice-2" -> "alice")."""
    service = world.service
    by_device = {world.laptops[n].device_id: role for n, role in cast.items()}
    case = records(service, {case_id})
    state: dict[str, Any] = {
        "records": sorted(
            (r.entity, r.rev, r.deleted, _normal(json.loads(r.data), cast)) for r in case.values()
        ),
        "conflicts": sorted(
            (
                c.entity,
                c.kind,
                c.status,
                c.base_rev,
                c.rev_at_detection,
                c.incoming_op,
                _normal(json.loads(c.incoming_fields), cast),
                _normal(json.loads(c.theirs), cast),
            )
            for c in conflicts(service)
            if c.case_id == case_id
        ),
        "received": sorted(
            (by_device[r.device_id], r.device_seq, r.entity, r.status, r.reason)
            for r in received(service)
            if r.device_id in by_device
        ),
    }
    for name, role in cast.items():
        laptop = world.laptops[name]
        state[role] = {
            "rows": sorted(
                (
                    r.ENTITY,
                    r.server_rev,
                    r.deleted,
                    r.sync_state.value,
                    _normal(full_version(r), cast),
                )
                for r in synced_rows(laptop)
            ),
            "open_conflicts": len(laptop.open_conflicts()),
            "outbox": [
                (r.device_seq, r.op, r.state, json.loads(r.result or "{}").get("status"))
                for r in outbox(laptop)
            ],
        }
    return state
