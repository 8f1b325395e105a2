"""Durability: no acknowledged save lost under kill -9 (R24); disk full is survivable (R25)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, text
from sqlmodel import select

from sofs_tui.store import cases, mapping
from sofs_tui.store.engine import (
    full_integrity_check,
    integrity_ok,
    open_engine,
    translated_db_errors,
    write_engine,
)
from sofs_tui.store.errors import StoreFull
from sofs_tui.store.keys import DataKey, KdfParams
from sofs_tui.store.store import DB_NAME, Actor, enrol, open_with_key
from sofs_tui.store.tables import Entry, Outbox
from tests.store import kill9_writer

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(kill9_writer.__file__)
PASSPHRASE = "kill nine, nothing lost"
KILL_ITERATIONS = 40
KILL_WINDOW_S = (0.3, 0.8)


class _Writer:
    """The writer subprocess, with its acknowledged ids collected by a reader thread."""

    def __init__(self, data_dir: Path, assessment_id: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), str(data_dir), assessment_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.ready = threading.Event()
        self.acknowledged: list[int] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def start(self) -> None:
        """Give it the passphrase: until now it has only imported, touching no file."""
        assert self.process.stdin is not None
        self.process.stdin.write(PASSPHRASE + "\n")
        self.process.stdin.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == "ready":
                self.ready.set()
            elif line.strip():
                self.acknowledged.append(int(line))
        self.ready.set()  # EOF: do not leave the parent waiting on a writer that died

    def kill_after(self, seconds: float) -> str:
        """Wait until the store is open, let it write, SIGKILL it; return its stderr."""
        assert self.ready.wait(timeout=60), "writer never opened the store"
        time.sleep(seconds)
        self.process.kill()  # SIGKILL on POSIX: no atexit, no close, no checkpoint
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        return self.process.stderr.read()


def _check_after_kill(data_dir: Path, material: bytes, kept: int | None, acked: int) -> int:
    """Reopen; check integrity, that saves are numbered without gaps, that the last
    acknowledged one is there, and that every saved entry has its outbox row.

    Then drop all but the newest entry and its outbox row, so the checks stay fast as the
    iterations pile up (test-only cleanup; the app never hard-deletes). Returns the number
    of the entry kept.
    """
    store = open_with_key(data_dir / DB_NAME, DataKey(material))
    try:
        assert store.engine is not None
        assert integrity_ok(store.engine), "quick_check failed"
        assert full_integrity_check(store.engine) == []
        with store.write() as session:
            entries = session.exec(select(Entry)).all()
            numbers = sorted(kill9_writer.number_of(e.text) for e in entries)
            first = 1 if kept is None else kept
            assert numbers == list(range(first, first + len(numbers))), "gaps in saves"
            assert numbers[-1] >= acked, f"save {acked} was acknowledged but lost"
            changed = set(session.exec(select(Outbox.record_id)).all())
            assert {e.id for e in entries} <= changed, "a saved entry has no outbox row"
            newest = max(entries, key=lambda e: kill9_writer.number_of(e.text))
            session.execute(delete(Entry).where(Entry.id != newest.id))  # type: ignore[arg-type]
            session.execute(
                delete(Outbox).where(Outbox.entity == "entry", Outbox.record_id != newest.id)  # type: ignore[arg-type]
            )
        return numbers[-1]
    finally:
        store.lock()


@pytest.mark.slow
def test_no_acknowledged_save_is_lost_when_the_writer_is_killed(tmp_path: Path) -> None:
    store = enrol(tmp_path, PASSPHRASE, Actor("k.writer"), KdfParams.FAST_FOR_TESTS)
    assert store.key is not None
    material = bytes.fromhex(store.key.raw_hex())
    case = cases.create_case(store, reference="R24", family_name="Durable")
    assessment_id = mapping.create_assessment(store, case.id, title="Mapping").id
    store.lock()

    rng = random.Random(24)
    last_acknowledged = 0
    kept: int | None = None
    started = time.monotonic()
    next_writer = _Writer(tmp_path, assessment_id)
    try:
        for iteration in range(KILL_ITERATIONS):
            writer = next_writer
            writer.start()
            stderr = writer.kill_after(rng.uniform(*KILL_WINDOW_S))
            if iteration + 1 < KILL_ITERATIONS:
                next_writer = _Writer(tmp_path, assessment_id)  # imports overlap the checks
            assert stderr == "", f"iteration {iteration}: the writer failed:\n{stderr}"
            if os.name == "posix":
                assert writer.process.returncode == -9
            assert writer.acknowledged, f"iteration {iteration}: nothing saved before the kill"
            last_acknowledged = max(last_acknowledged, *writer.acknowledged)
            kept = _check_after_kill(tmp_path, material, kept, last_acknowledged)
    finally:
        next_writer.process.kill()  # only matters when a failure left one waiting
        next_writer.process.wait(timeout=30)
    elapsed = time.monotonic() - started
    print(f"\nR24: {KILL_ITERATIONS} kills, {last_acknowledged} saves, {elapsed:.1f} s")


def test_disk_full_loses_only_the_failing_write(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    with write_engine(engine).begin() as connection:
        connection.execute(text("CREATE TABLE draft (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO draft (body) VALUES ('earlier draft')"))

    with engine.connect() as connection:  # max_page_count is per connection: keep this one
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {pages + 2}")
        connection.commit()
        writes = connection.execution_options(sofs_write=True)

        with pytest.raises(StoreFull) as caught, translated_db_errors(), writes.begin():
            writes.execute(
                text("INSERT INTO draft (body) VALUES (:body)"),
                [{"body": "a long assessment " * 300} for _ in range(20)],  # ~100 KB
            )
        assert "disk is full" in caught.value.user_message
        assert caught.value.detail == "SQLITE_FULL"

        rows = connection.execute(text("SELECT body FROM draft")).scalars().all()
        assert rows == ["earlier draft"]
        connection.rollback()

        connection.exec_driver_sql("PRAGMA max_page_count = 1073741823")  # space freed
        connection.commit()
        with translated_db_errors(), writes.begin():
            writes.execute(text("INSERT INTO draft (body) VALUES ('after the space was freed')"))

    assert integrity_ok(engine)
    assert full_integrity_check(engine) == []
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT body FROM draft ORDER BY id")).scalars().all()
    assert rows == ["earlier draft", "after the space was freed"]
    engine.dispose()
