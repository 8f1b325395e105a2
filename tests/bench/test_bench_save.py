"""Durable save of one entry in a store of ~100,000 entries (goal: ≤ 10 ms median).

Each `mapping.save_entry` is a whole unit of work: BEGIN IMMEDIATE, the row and its outbox row,
COMMIT with synchronous=FULL. Baselines in the same run, alternated call by call: the same save
on a store of ~100 entries (how store size affects a save) and the floor, one raw INSERT + COMMIT
through the big store's own engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from sofs_tui.domain.enums import AssessmentStatus, Section
from sofs_tui.store import mapping
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key, unlock
from sofs_tui.store.tables import Assessment, Entry, Outbox
from tests.bench import _measure as m
from tests.bench.conftest import Caseload

SAVES = 200  # half new entries, half edits of existing ones
SMALL_CASES = 10  # ~110 entries with the demo seed
TEXT = (
    "Mum says she will ring Nan every evening before the children's bedtime, and Nan will "
    "come round if Mum sounds unwell; the school will tell the social worker on Monday. "
)


@dataclass(frozen=True)
class Target:
    assessment_id: str
    entry_id: str


class Saver:
    """Alternates a new entry and an edit of an existing demo entry, one target per pair."""

    def __init__(self, store: Store, targets: list[Target]) -> None:
        self.store = store
        self.targets = targets
        self.created: dict[str, str] = {}  # entry id -> text
        self.edited: dict[str, str] = {}

    def __call__(self, call: int) -> None:
        target = self.targets[(call // 2) % len(self.targets)]
        text = f"{TEXT}({call})"
        if call % 2 == 0:
            entry = mapping.save_entry(
                self.store, target.assessment_id, text=text, section=Section.NEXT_STEPS
            )
            self.created[entry.id] = text
        else:
            mapping.save_entry(
                self.store, target.assessment_id, entry_id=target.entry_id, text=text
            )
            self.edited[target.entry_id] = text


def _targets(store: Store, wanted: int) -> list[Target]:
    """One existing entry from each of up to `wanted` draft assessments, then more from the
    same ones if there are fewer assessments (the small store)."""
    with store.read() as session:
        rows = session.exec(
            select(Entry.assessment_id, Entry.id)
            .join(Assessment, col(Assessment.id) == Entry.assessment_id)
            .where(Assessment.status == AssessmentStatus.DRAFT, col(Entry.deleted).is_(False))
            .order_by(Entry.assessment_id, Entry.id)
        ).all()
    firsts: dict[str, Target] = {}
    rest: list[Target] = []
    for assessment_id, entry_id in rows:
        target = Target(assessment_id, entry_id)
        if assessment_id not in firsts:
            firsts[assessment_id] = target
        else:
            rest.append(target)
    return ([*firsts.values(), *rest])[:wanted]


def _entry_count(store: Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(Entry)).one()


def _floor(store: Store) -> m.Op:
    """One INSERT + COMMIT (BEGIN IMMEDIATE, synchronous=FULL) through the store's engine."""
    engine = store.engine
    assert engine is not None
    with engine.connect().execution_options(sofs_write=True) as conn, conn.begin():
        conn.exec_driver_sql(
            "CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
        )

    def insert_one(call: int) -> None:
        with engine.connect().execution_options(sofs_write=True) as conn, conn.begin():
            conn.exec_driver_sql("INSERT INTO bench_floor (body) VALUES (?)", (f"{TEXT}{call}",))

    return insert_one


class FsyncProbe:
    """The machine's own flush cost: append 4 KiB to a file beside the store, then fsync."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "fsync_probe.bin"
        self.handle = self.path.open("ab")

    def __call__(self, _call: int) -> None:
        self.handle.write(b"x" * 4096)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()
        self.path.unlink()


def _check_saved(store: Store, saver: Saver) -> None:
    with store.read() as session:
        for entry_id, text in (saver.created | saver.edited).items():
            entry = session.get(Entry, entry_id)
            assert entry is not None and entry.text == text
        changed = set(saver.created) | set(saver.edited)
        queued = session.exec(
            select(func.count(func.distinct(Outbox.record_id))).where(
                col(Outbox.record_id).in_(changed)
            )
        ).one()
    assert queued == len(changed), "every saved record has its outbox row"


@pytest.mark.bench
def test_bench_save_entry_at_100k_entries(caseload_10k: Caseload, tmp_path: Path) -> None:
    big = unlock(caseload_10k.data_dir, caseload_10k.passphrase)
    small = open_with_key(tmp_path / DB_NAME, DataKey.generate(), Actor("bench"), create=True)
    try:
        # The once-per-open integrity check (the app runs it after the first page), not a save.
        assert big.check_integrity() and small.check_integrity()
        fill_demo_caseload(small, SMALL_CASES)
        big_before, small_before = _entry_count(big), _entry_count(small)
        assert big_before >= 100_000
        assert 50 <= small_before <= 200
        big_saver = Saver(big, _targets(big, SAVES // 2))
        small_saver = Saver(small, _targets(small, SAVES // 2))
        assert len(big_saver.targets) == SAVES // 2
        floor = _floor(big)
        fsync = FsyncProbe(caseload_10k.data_dir)
        try:
            seconds = m.round_robin(
                SAVES,
                {"big": big_saver, "small": small_saver, "floor": floor, "fsync": fsync},
            )
        finally:
            fsync.close()

        assert _entry_count(big) == big_before + SAVES // 2
        assert _entry_count(small) == small_before + SAVES // 2
        _check_saved(big, big_saver)
        _check_saved(small, small_saver)
        with big.read() as session:
            floor_rows = session.connection().exec_driver_sql("SELECT count(*) FROM bench_floor")
            assert floor_rows.scalar_one() == SAVES
    finally:
        big.lock()
        small.lock()

    m.header("durable save_entry (BEGIN IMMEDIATE + row + outbox + COMMIT, synchronous=FULL)")
    m.note(
        f"stores: {big_before:,} entries ({len(big_saver.targets)} draft assessments used) vs "
        f"{small_before} entries ({len(small_saver.targets)} targets); "
        f"{SAVES} calls each, new/edit alternating, round-robin big/small/floor/fsync"
    )
    new, edit = slice(0, None, 2), slice(1, None, 2)
    m.figure(f"save @ {big_before // 1000}k entries (goal ≤ 10 ms)", seconds["big"])
    m.figure("  of which new entries", seconds["big"][new])
    m.figure("  of which edits", seconds["big"][edit])
    m.figure(f"save @ {small_before} entries (baseline)", seconds["small"])
    m.figure("raw INSERT + COMMIT, big store engine (floor)", seconds["floor"])
    m.figure("os.fsync of a 4 KiB append, same folder (disk)", seconds["fsync"])
    m.ratio("big/small save", seconds["big"], seconds["small"])
    m.ratio("big save/floor", seconds["big"], seconds["floor"])
    m.ratio("small save/floor", seconds["small"], seconds["floor"])
