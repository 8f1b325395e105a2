"""SQLCipher cost: bulk write and read of 10,000 cases and their people (goal: cipher/plain ≤ 1.35).

Both sides use the store's own engine factory, pool and pragmas (WAL, synchronous=FULL, …);
`open_plain_engine` differs only in not keying the connection. Each run is a fresh file:
create + migrate, bulk-write through `Store.write()` the way `fill_demo_caseload` does, reopen,
read everything back as ORM objects and as raw driver rows. Rounds alternate the two sides.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import col, select

from sofs_tui.domain.enums import CaseStatus, PersonKind, PlanCategory, SyncState
from sofs_tui.store import migrations
from sofs_tui.store.engine import open_engine, open_plain_engine
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import Actor, Store
from sofs_tui.store.tables import Case, Person, SyncMeta
from tests.bench import _measure as m

CASES = 10_000
ROUNDS = 5
PER_BATCH = 500  # cases per write transaction, as fill_demo_caseload does
REFERENCE_MARK = "BENCHREF-"  # findable in a plaintext file, never in an encrypted one

Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _rows(seed: int = 11) -> Rows:
    """10,000 cases with 3–7 people each (children, parents, network, GP), demo-like values."""
    rng = random.Random(seed)
    stamp = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    today = date(2026, 11, 25)
    common = {"server_rev": 1, "sync_state": SyncState.CLEAN, "deleted": False}
    blank = {
        "relationship": "", "date_of_birth": None, "expected_on": None,
        "parental_responsibility": False, "plan_category_initial": None,
        "plan_category_latest": None, "plan_start": None, "plan_end": None, "role": "",
        "agency": "", "is_gp": False, "gp_practice": "",
    }  # fmt: skip
    cases: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    for index in range(CASES):
        when = stamp - timedelta(days=rng.randint(20, 400))
        worker = f"worker.{rng.randint(1, 40)}"
        meta = common | {"created_at": when, "updated_at": when, "author": worker}
        surname = f"Surname{rng.randint(1, 3000)}"
        case_id = str(uuid.uuid4())
        cases.append(
            meta
            | {
                "id": case_id,
                "reference": f"{REFERENCE_MARK}{index:05d}",
                "family_name": f"{surname} family",
                "lead_worker": worker,
                "team": f"Team {index % 7}",
                "status": CaseStatus.OPEN,
                "opened_on": today - timedelta(days=rng.randint(30, 700)),
                "closed_on": None,
            }
        )
        kinds = [PersonKind.CHILD] * rng.randint(1, 3) + [PersonKind.ADULT] * rng.randint(1, 2)
        kinds += [PersonKind.NETWORK] * rng.randint(0, 1) + [PersonKind.PROFESSIONAL]
        for number, kind in enumerate(kinds):
            extra: dict[str, Any] = {}
            if kind is PersonKind.CHILD:
                category = rng.choice(list(PlanCategory))
                extra = {
                    "date_of_birth": today - timedelta(days=rng.randint(200, 6000)),
                    "plan_category_initial": category,
                    "plan_category_latest": category,
                    "plan_start": today - timedelta(days=rng.randint(10, 500)),
                }
            elif kind is PersonKind.ADULT:
                extra = {"relationship": "Parent", "parental_responsibility": True}
            elif kind is PersonKind.PROFESSIONAL:
                extra = {"role": "GP", "agency": "Practice", "is_gp": True, "gp_practice": "P"}
            people.append(
                meta
                | blank
                | extra
                | {
                    "id": str(uuid.uuid4()),
                    "case_id": case_id,
                    "kind": kind,
                    "name": f"Person{number} {surname}",
                }
            )
    return cases, people


class Side:
    """One backend: how to open its engine, and the key (None for plain)."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        self.key = DataKey.generate() if name == "cipher" else None
        self.runs = 0

    def open(self, path: Path, *, create: bool) -> Engine:
        if self.key is None:
            return open_plain_engine(path, create=create)
        return open_engine(path, self.key, create=create)

    def store(self, engine: Engine) -> Store:
        # key=None: lock() must not wipe the key this side reuses for its next run.
        return Store(engine=engine, key=None, actor=Actor("bench"), device_id="bench-device")


def _create_and_migrate(side: Side, path: Path) -> Store:
    """What `open_with_key(create=True)` does after the engine: migrate, record the device."""
    engine = side.open(path, create=True)
    migrations.upgrade(engine)
    store = side.store(engine)
    with store.write() as session:
        session.add(SyncMeta(id=1, device_id=store.device_id, username="bench", role="worker"))
    return store


def _write(store: Store, rows: Rows) -> None:
    cases, people = rows
    by_case: dict[str, list[dict[str, Any]]] = {}
    for person in people:
        by_case.setdefault(person["case_id"], []).append(person)
    for start in range(0, len(cases), PER_BATCH):
        batch = cases[start : start + PER_BATCH]
        with store.write() as session:
            session.execute(insert(Case), batch)
            session.execute(insert(Person), [p for c in batch for p in by_case[c["id"]]])


def _read_orm(store: Store) -> tuple[int, int]:
    with store.read() as session:
        cases = session.exec(
            select(Case).where(col(Case.deleted).is_(False)).order_by(Case.reference)
        ).all()
        people = session.exec(
            select(Person)
            .join(Case, col(Case.id) == Person.case_id)
            .where(col(Case.deleted).is_(False))
        ).all()
    return len(cases), len(people)


def _read_raw(store: Store) -> tuple[int, int]:
    with store.read() as session:
        conn = session.connection()
        cases = conn.exec_driver_sql(
            "SELECT * FROM family_case WHERE deleted = 0 ORDER BY reference"
        ).fetchall()
        people = conn.exec_driver_sql(
            "SELECT p.* FROM person p JOIN family_case c ON c.id = p.case_id WHERE c.deleted = 0"
        ).fetchall()
    return len(cases), len(people)


def _one_run(side: Side, rows: Rows, seconds: dict[str, list[float]]) -> dict[str, Any]:
    side.runs += 1
    path = side.folder / f"{side.name}-{side.runs}.db"

    def clock(label: str, call: Callable[[], Any]) -> Any:
        elapsed, result = m.timed(call)
        seconds.setdefault(f"{side.name} {label}", []).append(elapsed)
        return result

    store = clock("create + migrate", lambda: _create_and_migrate(side, path))
    clock("write", lambda: _write(store, rows))
    store.lock()  # closes every connection: the WAL is checkpointed into the file
    store = clock("reopen", lambda: side.store(side.open(path, create=False)))
    orm = clock("read ORM", lambda: _read_orm(store))
    raw = clock("read raw", lambda: _read_raw(store))
    store.lock()
    data = path.read_bytes()
    for extra in path.parent.glob(path.name + "-*"):
        extra.unlink()
    path.unlink()
    return {"orm": orm, "raw": raw, "plaintext": REFERENCE_MARK.encode() in data}


@pytest.mark.bench
def test_bench_cipher_vs_plain_bulk_write_and_read(tmp_path: Path) -> None:
    build_seconds, rows = m.timed(_rows)
    expected = (len(rows[0]), len(rows[1]))
    sides = {name: Side(name, tmp_path) for name in ("cipher", "plain")}
    seconds: dict[str, list[float]] = {}
    for round_number in range(ROUNDS * 2):
        # cipher, plain, plain, cipher, cipher, plain: each side goes first equally often.
        name = ("cipher", "plain")[(round_number + round_number // 2) % 2]
        outcome = _one_run(sides[name], rows, seconds)
        assert outcome["orm"] == expected
        assert outcome["raw"] == expected
        assert outcome["plaintext"] is (name == "plain"), "cipher file must not hold plaintext"
    assert all(side.runs == ROUNDS for side in sides.values())

    m.header(f"SQLCipher vs plain: {expected[0]:,} cases + {expected[1]:,} people, fresh files")
    m.note(f"rows built in Python once: {build_seconds:.2f} s; {ROUNDS} runs per side, alternated")
    for label in ("create + migrate", "write", "reopen", "read ORM", "read raw"):
        m.figure(f"cipher {label}", seconds[f"cipher {label}"])
        m.figure(f"plain  {label}", seconds[f"plain {label}"])
    for label in ("write", "read ORM", "read raw"):
        m.ratio(f"cipher/plain {label} (goal ≤ 1.35)", *_pair(seconds, label))
    for label in ("create + migrate", "reopen"):
        m.ratio(f"cipher/plain {label}", *_pair(seconds, label))


def _pair(seconds: dict[str, list[float]], label: str) -> tuple[list[float], list[float]]:
    return seconds[f"cipher {label}"], seconds[f"plain {label}"]
