"""A damaged store file is read but never written: the integrity gate (SECURITY.md: "corrupt
file: a clear message, nothing written, nothing lost").

The damage is real: a 40-case store is written and closed, then one byte is flipped in the
middle of three pages of case data (past the pages the empty schema used), and quick_check
is seen to fail before any test relies on it.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlcipher3 import dbapi2 as sqlcipher
from sqlmodel import col, select

from sofs_tui.store import cases, migrations
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.engine import (
    integrity_ok,
    open_engine,
    translate_db_error,
    translated_db_errors,
    write_engine,
)
from sofs_tui.store.errors import StoreCorrupt, StoreDamaged, StoreError, StoreReadOnly
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from sofs_tui.store.tables import Case, Outbox, SyncMeta

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CASES = 40


@dataclass(frozen=True)
class StoreFile:
    """A closed store on disk and the raw key that opens it."""

    path: Path
    key: bytes
    schema_pages: int  # pages the empty store used: schema, device record

    def open(self) -> Store:
        return open_with_key(self.path, DataKey(self.key))

    def engine(self) -> Engine:
        return open_engine(self.path, DataKey(self.key))

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file in the store's folder: bytes and modification time."""
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in self.path.parent.iterdir()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> StoreFile:
    """A 40-case store, built once per module and copied per test."""
    key = DataKey.generate()
    raw = bytes.fromhex(key.raw_hex())
    path = tmp_path_factory.mktemp("built") / DB_NAME
    store = open_with_key(path, key, Actor("t.worker"), create=True)
    with store.read() as session:
        schema_pages = session.connection().exec_driver_sql("PRAGMA page_count").scalar_one()
    fill_demo_caseload(store, CASES, now=NOW)
    store.lock()  # the last connection checkpoints: everything is in the main file
    assert sorted(p.name for p in path.parent.iterdir()) == [DB_NAME]
    return StoreFile(path, raw, int(schema_pages))


@pytest.fixture
def sound(built: StoreFile, tmp_path: Path) -> StoreFile:
    folder = tmp_path / "sound"
    folder.mkdir()
    shutil.copyfile(built.path, folder / DB_NAME)
    return StoreFile(folder / DB_NAME, built.key, built.schema_pages)


def flip_bytes_in_case_pages(store_file: StoreFile) -> list[int]:
    """Flip one bit in the middle of three pages a quarter, half and three quarters of the
    way through the pages the caseload added; returns their page numbers."""
    engine = store_file.engine()
    with engine.connect() as connection:
        # SQLCipher answers page_size as text
        page_size = int(connection.exec_driver_sql("PRAGMA page_size").scalar_one())
        page_count = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())
    engine.dispose()
    first = store_file.schema_pages + 1
    assert page_count > first + 8, "the caseload should span many pages"
    pages = [first + (page_count - first) * k // 4 for k in (1, 2, 3)]
    data = bytearray(store_file.path.read_bytes())
    assert len(data) == page_count * page_size
    for page in pages:
        data[(page - 1) * page_size + page_size // 2] ^= 0x01
    store_file.path.write_bytes(bytes(data))
    return pages


@pytest.fixture
def damaged(built: StoreFile, tmp_path: Path) -> StoreFile:
    folder = tmp_path / "damaged"
    folder.mkdir()
    shutil.copyfile(built.path, folder / DB_NAME)
    store_file = StoreFile(folder / DB_NAME, built.key, built.schema_pages)
    flip_bytes_in_case_pages(store_file)
    # The damage is what the gate must find: quick_check fails on a fresh engine.
    engine = store_file.engine()
    try:
        assert not integrity_ok(engine), "quick_check should fail on the damaged file"
    finally:
        engine.dispose()
    for suffix in ("-wal", "-shm"):  # that engine's last connection removed them
        assert not (folder / (DB_NAME + suffix)).exists()
    return store_file


@pytest.fixture
def opened(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The store file named by the test's parameter ("sound" or "damaged"), opened."""
    store_file: StoreFile = request.getfixturevalue(request.param)
    store = store_file.open()
    yield store
    store.lock()


class QuickChecks:
    """Counts `PRAGMA quick_check` statements run on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "quick_check" in statement.lower():
            with self._lock:
                self.count += 1


def _engine(store: Store) -> Engine:
    assert store.engine is not None
    return store.engine


def _save(store: Store, reference: str = "NEW-1") -> str:
    return cases.create_case(store, reference=reference, family_name="Newfamily").id


def _assert_damaged_message(message: str) -> None:
    assert "damaged" in message
    assert "will not save anything" in message  # nothing more is harmed
    assert "synced is safe on the service" in message
    assert "Contact IT" in message and "show them this message" in message
    assert "keep the store file" in message


# --- a damaged store -------------------------------------------------------------------------


def test_a_save_to_a_damaged_store_is_refused_with_a_clear_message_and_writes_nothing(
    damaged: StoreFile,
) -> None:
    before = damaged.snapshot()
    store = damaged.open()  # opening works: the caseload can still be read
    try:
        with pytest.raises(StoreDamaged) as caught:
            _save(store)
        _assert_damaged_message(caught.value.user_message)
        assert damaged.path.read_bytes() == before[DB_NAME][0]
        wal = damaged.path.with_name(DB_NAME + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # nothing queued for the file either
    finally:
        store.lock()
    assert damaged.snapshot() == before  # same files, bytes and times after closing


@pytest.mark.parametrize("opened", ["damaged"], indirect=True)
def test_every_write_is_refused_and_the_check_runs_once(opened: Store) -> None:
    checks = QuickChecks(_engine(opened))
    assert checks.count == 0  # opening did not check (start-up is not slowed)
    for attempt in range(3):
        with pytest.raises(StoreDamaged):
            _save(opened, f"NEW-{attempt}")
    with pytest.raises(StoreDamaged), opened.write() as session:
        session.add(Outbox())  # a raw unit of work is refused before it starts
    assert opened.check_integrity() is False
    assert checks.count == 1
    with opened.read() as session:
        assert session.exec(select(Outbox)).all() == []  # no change was queued either


# Tables the demo caseload leaves empty: each is one root page written with the schema, in
# the pages the damage leaves alone.
EMPTY_TABLES = (
    "outbox", "shadow", "sync_conflict", "revoked_case",
    "qau_log_import", "qau_log_conference", "qau_log_report",
)  # fmt: skip


@pytest.mark.parametrize("opened", ["damaged"], indirect=True)
def test_reads_go_on_after_a_refused_save_and_a_damaged_page_reads_as_corrupt(
    opened: Store,
) -> None:
    with pytest.raises(StoreDamaged):
        _save(opened)
    assert opened.actor.username == "t.worker"
    tables = {t.name: t for t in SyncMeta.metadata.sorted_tables}
    broken = []
    for name, table in tables.items():
        if name in EMPTY_TABLES:
            continue
        try:
            with opened.read() as session:
                session.execute(select(table)).all()
        except StoreCorrupt as exc:
            assert "damaged" in exc.user_message
            broken.append(name)
            if len(broken) == 1:
                # SQLCipher leaves a connection that met a damaged page unable to read any
                # page it has not cached; the next reads must not get that connection.
                # None of these tables was read before, so none is cached anywhere.
                for empty in EMPTY_TABLES:
                    with opened.read() as session:
                        assert session.execute(select(tables[empty])).all() == []
        with opened.read() as session:
            meta = session.get(SyncMeta, 1)
            assert meta is not None and meta.device_id == opened.device_id
    assert broken, "the damaged pages hold case data, so some table must read as damaged"
    assert "sync_meta" not in broken


def test_a_damaged_store_that_needs_a_schema_upgrade_is_not_upgraded(
    built: StoreFile, tmp_path: Path
) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copyfile(built.path, folder / DB_NAME)
    old = StoreFile(folder / DB_NAME, built.key, built.schema_pages)
    engine = old.engine()
    with write_engine(engine).begin() as connection:  # as if made by the previous version
        connection.exec_driver_sql(f"PRAGMA user_version = {migrations.HEAD - 1}")
    engine.dispose()
    flip_bytes_in_case_pages(old)
    before = old.snapshot()
    with pytest.raises(StoreDamaged) as caught:
        old.open()
    _assert_damaged_message(caught.value.user_message)
    assert old.snapshot() == before


# --- a sound store ----------------------------------------------------------------------------


def test_a_sound_store_saves_and_pays_the_check_once_per_open(sound: StoreFile) -> None:
    for round_ in range(2):
        store = sound.open()
        try:
            checks = QuickChecks(_engine(store))
            assert checks.count == 0  # not on the way to the first screen
            for n in range(3):
                _save(store, f"NEW-{round_}-{n}")
            assert checks.count == 1  # the first write checked; the others did not
            assert store.check_integrity() is True
            assert checks.count == 1
        finally:
            store.lock()
    store = sound.open()
    try:
        with store.read() as session:
            saved = session.exec(select(Case).where(col(Case.reference).startswith("NEW-"))).all()
        assert len(saved) == 6
    finally:
        store.lock()


def test_the_background_check_runs_once_while_reads_and_a_save_go_on(sound: StoreFile) -> None:
    """What the app does after its first paint: check_integrity in a thread. Several callers
    at once share one check; reads carry on meanwhile; a save waits for the verdict."""
    store = sound.open()
    try:
        checks = QuickChecks(_engine(store))
        callers = 4
        start = threading.Barrier(callers + 2)
        verdicts: list[bool] = []
        errors: list[BaseException] = []
        saved: list[str] = []

        def check() -> None:
            start.wait()
            try:
                verdicts.append(store.check_integrity())
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def save() -> None:
            start.wait()
            try:
                saved.append(_save(store, "NEW-BG"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=check) for _ in range(callers)]
        threads.append(threading.Thread(target=save))
        for thread in threads:
            thread.start()
        start.wait()
        reads = 0
        while any(t.is_alive() for t in threads) or reads < 3:
            with store.read() as session:
                assert len(session.exec(select(Case.id)).all()) >= CASES
            reads += 1
        for thread in threads:
            thread.join()
        assert errors == []
        assert verdicts == [True] * callers
        assert len(saved) == 1
        assert checks.count == 1
    finally:
        store.lock()


# --- SQLite's "readonly" refusal is translated -------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        sqlcipher.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlcipher.OperationalError("access permission denied"),
    ],
)
def test_a_readonly_refusal_is_a_store_error_with_a_clear_message(error: Exception) -> None:
    translated = translate_db_error(error)
    assert isinstance(translated, StoreReadOnly)
    assert "not saved" in translated.user_message and "Contact IT" in translated.user_message


def test_a_real_readonly_refusal_reaches_the_caller_as_a_store_error(sound: StoreFile) -> None:
    engine = sound.engine()
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA query_only = ON")  # SQLite: SQLITE_READONLY
            with pytest.raises(StoreError) as caught, translated_db_errors():
                connection.execute(text("DELETE FROM family_case"))
            connection.invalidate()  # never pool a connection left query-only
        assert isinstance(caught.value, StoreReadOnly)
        assert caught.value.detail.startswith("SQLITE_READONLY")
    finally:
        engine.dispose()


# --- damage the one check per open cannot see --------------------------------------------


def test_a_damaged_page_met_after_the_check_stops_every_later_write(sound: StoreFile) -> None:
    store = sound.open()
    try:
        assert store.check_integrity()
        _save(store, "BEFORE-1")
        with pytest.raises(StoreCorrupt), store.read():
            raise StoreCorrupt(detail="a page failed its HMAC")  # as a damaged page reads

        with pytest.raises(StoreDamaged):
            _save(store, "AFTER-1")
    finally:
        store.lock()
    reopened = sound.open()
    try:
        with reopened.read() as session:
            references = set(session.exec(select(Case.reference)).all())
    finally:
        reopened.lock()
    assert "BEFORE-1" in references and "AFTER-1" not in references


def _drop_device_record(store_file: StoreFile) -> None:
    engine = store_file.engine()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM sync_meta"))
    engine.dispose()


def test_a_damaged_store_without_its_device_record_is_refused_not_given_a_new_one(
    sound: StoreFile,
) -> None:
    _drop_device_record(sound)
    flip_bytes_in_case_pages(sound)
    before = sound.path.read_bytes()

    with pytest.raises(StoreDamaged):
        sound.open()
    assert sound.path.read_bytes() == before


def test_a_sound_store_without_its_device_record_says_it_was_never_set_up(
    sound: StoreFile,
) -> None:
    _drop_device_record(sound)

    with pytest.raises(StoreError, match="never set up"):
        sound.open()
