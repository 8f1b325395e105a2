"""The open store: one encrypted engine, who is working, and the unit-of-work context.

Every write goes through `Store.write()`: one `BEGIN IMMEDIATE` transaction holding the change
and its outbox row, committed before the caller may say "Saved".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from sofs_tui.store import migrations
from sofs_tui.store.engine import open_engine, translated_db_errors, write_engine
from sofs_tui.store.errors import StoreError, StoreLocked
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

    @property
    def is_locked(self) -> bool:
        return self.engine is None

    def _engine(self) -> Engine:
        if self.engine is None:
            raise StoreLocked()
        return self.engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE); commits on success, rolls back on error.

        SQLite errors are raised as `StoreError`s whose message tells the user what to do.
        """
        engine = write_engine(self._engine())
        with (
            translated_db_errors(),
            Session(engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Closing it returns the connection, whose transaction the
        pool rolls back; loaded objects stay readable (a rollback here would expire them)."""
        with Session(self._engine(), expire_on_commit=False) as session:
            yield session

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


def _first_open(engine: Engine, actor: Actor | None) -> tuple[str, Actor]:
    """Migrate to the newest schema; returns this device's id (made on first open) and its
    worker (recorded on first open, read back after)."""
    migrations.upgrade(engine)
    with Session(write_engine(engine)) as session, session.begin():
        meta = session.get(SyncMeta, 1)
        if meta is None:
            if actor is None:
                raise StoreError("This store was never set up. Run `sofs init` to set it up.")
            meta = SyncMeta(
                id=1, device_id=str(uuid.uuid4()), username=actor.username, role=actor.role
            )
            session.add(meta)
        return meta.device_id, Actor(meta.username, meta.role)


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
        device_id, recorded = _first_open(engine, actor)
    except Exception:
        engine.dispose()
        raise
    return Store(engine=engine, key=key, actor=recorded, device_id=device_id)


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
