"""The open store: one encrypted engine, who is working, and the unit-of-work context.

Every write goes through `Store.write()`: one `BEGIN IMMEDIATE` transaction holding the change
and its outbox row, committed before the caller may say "Saved".

A damaged file is read but never written ("nothing written, nothing lost", SECURITY.md):
before its first write an open store checks the whole file once (`check_integrity`, about 1 s
for 10,000 cases, so never on the way to the first screen; the app runs it in the background
once the caseload is painted). If the file is damaged every write raises `StoreDamaged`
before it touches the file; reads go on, and a damaged page reads as `StoreCorrupt`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from sofs_tui.store import migrations
from sofs_tui.store.engine import integrity_ok, open_engine, translated_db_errors, write_engine
from sofs_tui.store.errors import StoreCorrupt, StoreDamaged, StoreError, StoreLocked
from sofs_tui.store.files import DB_NAME, KEYFILE_NAME
from sofs_tui.store.keys import DataKey, KdfParams, create_keyfile, unlock_keyfile
from sofs_tui.store.tables import SyncMeta


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who is making changes on this device (recorded as the author of each change)."""

    username: str
    role: str = "worker"  # worker | manager | admin: the service decides scope; this gates UI

    @property
    def is_manager(self) -> bool:
        return self.role in ("manager", "admin")


@dataclass
class Store:
    """An unlocked local store. `lock()` disposes the engine and wipes the key."""

    engine: Engine | None
    key: DataKey | None
    actor: Actor
    device_id: str
    clock: Callable[[], datetime] = field(default=utc_now)
    # The integrity verdict for this open: None until `check_integrity` has run.
    _intact: bool | None = field(default=None, init=False, repr=False, compare=False)
    _integrity_guard: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def is_locked(self) -> bool:
        return self.engine is None

    def check_integrity(self) -> bool:
        """True when the database file is sound (`PRAGMA quick_check`); False when damaged.

        Runs the check at most once per open and remembers the verdict. It reads the whole
        file (about 1 s for 10,000 cases), so call it from a thread worker, never on the event
        loop: the app does so once the caseload's first page is painted. Safe from any thread
        and alongside reads (the check holds one pooled connection; reads take others); a
        second caller waits for the running check and shares its verdict. Every write calls
        it first, so a write before the background check pays for the check itself (a CLI
        command always does). A check that could not finish (an I/O error, the store locked
        meanwhile) raises that `StoreError` and is not remembered.
        """
        verdict = self._intact
        if verdict is not None:
            return verdict
        with self._integrity_guard:
            if self._intact is None:
                self._intact = integrity_ok(self._engine())
            return self._intact

    def _refuse_if_damaged(self) -> None:
        if not self.check_integrity():
            raise StoreDamaged(detail="quick_check failed")

    def _engine(self) -> Engine:
        if self.engine is None:
            raise StoreLocked()
        return self.engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE); commits on success, rolls back on error.

        SQLite errors are raised as `StoreError`s whose message tells the user what to do.
        On a damaged file it raises `StoreDamaged` before opening a transaction, so nothing
        is written (the first write of an open runs `check_integrity` if it has not run).
        """
        engine = write_engine(self._engine())
        self._refuse_if_damaged()
        with (
            self._noting_damage(),
            translated_db_errors(),
            Session(engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Closing it returns the connection, whose transaction the
        pool rolls back; loaded objects stay readable (a rollback here would expire them).

        Storage failures are raised as `StoreError`s (a damaged page as `StoreCorrupt`).
        """
        with (
            self._noting_damage(),
            translated_db_errors(),
            Session(self._engine(), expire_on_commit=False) as session,
        ):
            yield session

    @contextmanager
    def _noting_damage(self) -> Iterator[None]:
        """A damaged page met after the check (damage done while open) counts as the check
        failing: no write reaches the file after that."""
        try:
            yield
        except StoreCorrupt:
            self._intact = False
            raise

    def now(self) -> datetime:
        return self.clock()

    def lock(self) -> None:
        """Close every connection and wipe the data key; reads and writes then raise."""
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self.key is not None:
            self.key.wipe()
            self.key = None


def _private_file(db_path: Path) -> None:
    """Create the database file readable by its owner only; SQLite gives the -wal and -shm
    files the same mode. Ciphertext or not, nobody else on the machine needs to read it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if not db_path.exists():
        db_path.touch(mode=0o600)
        db_path.chmod(0o600)


def _first_open(engine: Engine, actor: Actor | None, *, create: bool) -> tuple[str, Actor, bool]:
    """Migrate to the newest schema; returns this device's id (made on first open), its
    worker (recorded on first open, read back after) and whether the file was checked whole.

    An existing store that needs a migration is checked first (`integrity_ok`): a damaged
    one raises `StoreDamaged` instead of being upgraded. Up to date, it opens unchecked.
    """
    checked = False
    if not create:
        with engine.connect() as probe:
            behind = migrations.schema_version(probe) < migrations.HEAD
        if behind:
            if not integrity_ok(engine):
                raise StoreDamaged(detail="quick_check failed before a schema upgrade")
            checked = True
    migrations.upgrade(engine)
    with Session(write_engine(engine)) as session, session.begin():
        meta = session.get(SyncMeta, 1)
        if meta is None:
            if not create and not checked and not integrity_ok(engine):
                # Its device row gone from an existing store: damage, not a first open.
                raise StoreDamaged(detail="sync_meta missing and quick_check failed")
            if actor is None:
                raise StoreError("This store was never set up. Run `sofs init` to set it up.")
            meta = SyncMeta(
                id=1, device_id=str(uuid.uuid4()), username=actor.username, role=actor.role
            )
            session.add(meta)
        return meta.device_id, Actor(meta.username, meta.role), checked


def open_with_key(
    db_path: Path, key: DataKey, actor: Actor | None = None, *, create: bool = False
) -> Store:
    """Open (or create) the database at `db_path` with an already unwrapped data key.

    `actor` is recorded when the store is created; later opens use the recorded worker.
    """
    if create:
        _private_file(db_path)
    engine = open_engine(db_path, key, create=create)
    try:
        device_id, recorded, checked = _first_open(engine, actor, create=create)
    except Exception:
        engine.dispose()
        raise
    store = Store(engine=engine, key=key, actor=recorded, device_id=device_id)
    if checked:
        store._intact = True
    return store


def enrol(data_dir: Path, passphrase: str, actor: Actor, params: KdfParams | None = None) -> Store:
    """First run: make the data key, wrap it under the passphrase, create the store."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    db_path = data_dir / DB_NAME
    if db_path.exists():
        raise StoreError(
            f"A case store already exists in {data_dir}. Unlock it instead, or choose "
            "another --data-dir."
        )
    key, _store_id = create_keyfile(data_dir / KEYFILE_NAME, passphrase, params or KdfParams())
    return open_with_key(db_path, key, actor, create=True)


def unlock(data_dir: Path, passphrase: str) -> Store:
    """Unlock an enrolled store; a wrong passphrase raises before anything is opened."""
    key = unlock_keyfile(data_dir / KEYFILE_NAME, passphrase)
    return open_with_key(data_dir / DB_NAME, key)
