"""The pool of connections to the local store: SQLCipher, WAL, synchronous=FULL, checked.

Each pooled connection comes from `connection.open_connection` (keyed with the raw data key,
configured and read back, R23); failures surface as `StoreError`s whose messages a social
worker can act on (`translate_db_error`).

Damage: SQLCipher checks each page as it reads it; a connection that met a damaged page stays
broken (later reads of sound pages fail too, writes fail as "readonly"), so such a connection
is dropped from the pool at once (`_drop_damaged_connection`). Whether the whole file is sound
is `integrity_ok` (`PRAGMA quick_check`), which the store runs once per open, before its first
write (`Store.check_integrity`).

Transactions: connections run with the driver's implicit transactions off
(`isolation_level=None`) and a "begin" listener emits our own BEGIN. A unit of work that writes
must ask for `BEGIN IMMEDIATE` through the `sofs_write` execution option (`WRITE_OPTIONS`,
`write_engine()`): in WAL mode a deferred transaction that reads first and then writes can fail
at once with SQLITE_BUSY_SNAPSHOT (busy_timeout does not help), whereas IMMEDIATE takes the
write lock up front and waits politely for another writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool
from sqlcipher3 import dbapi2 as sqlcipher

from sofs_tui.store.connection import (
    BUSY_TIMEOUT_MS,
    CACHE_SIZE_KIB,
    check_connection_settings,
    open_connection,
    translate_driver_error,
)
from sofs_tui.store.errors import StoreCorrupt, StoreError
from sofs_tui.store.keys import DataKey

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CACHE_SIZE_KIB",
    "WRITE_OPTIONS",
    "check_connection_settings",
    "cipher_version",
    "compile_options",
    "full_integrity_check",
    "integrity_ok",
    "open_engine",
    "open_plain_engine",
    "translate_db_error",
    "translated_db_errors",
    "write_engine",
]

# Execution options for a unit of work that writes: its transaction starts with BEGIN IMMEDIATE.
WRITE_OPTIONS: Final[Mapping[str, Any]] = {"sofs_write": True}


def open_engine(db_path: Path, key: DataKey, *, create: bool = False) -> Engine:
    """An engine over the encrypted store at `db_path`, keyed with the raw data key.

    Opens one connection at once, so a bad key or damaged file fails here, not at the first
    query. `create=False` never creates a file (URI `mode=rw`); only enrolment passes True.

    A key that does not fit the file and a damaged file give the same SQLite error ("file is
    not a database"). Because the data key comes from a successful AES-GCM unwrap, a mismatch
    here means the file is damaged or is not this store's, so both raise `StoreCorrupt`;
    a wrong *passphrase* is caught earlier, by `keys.unlock_keyfile` (`WrongPassphrase`).
    After `key.wipe()` new connections raise `StoreLocked`.
    """
    path = Path(db_path)
    return _build_engine(lambda: open_connection(path, key, create=create))


def open_plain_engine(db_path: Path, *, create: bool = False) -> Engine:
    """BENCHMARK ONLY: the same driver, pool and pragmas with NO encryption.

    Exists so the SQLCipher cost can be measured against an identical unencrypted store
    (perf-baseline.md §3). Never use it for case data.
    """
    path = Path(db_path)
    return _build_engine(lambda: open_connection(path, None, create=create))


def write_engine(engine: Engine) -> Engine:
    """The same engine, with every transaction started as BEGIN IMMEDIATE (for writes)."""
    return engine.execution_options(**WRITE_OPTIONS)


def translate_db_error(exc: BaseException) -> StoreError | None:
    """The StoreError for a storage failure, else None (see `connection.translate_driver_error`).

    Accepts SQLAlchemy's wrapper or the driver's own exception.
    """
    return translate_driver_error(exc.orig if isinstance(exc, DBAPIError) else exc)


@contextmanager
def translated_db_errors() -> Iterator[None]:
    """Re-raise storage failures as StoreError (see translate_db_error); others unchanged."""
    try:
        yield
    except (DBAPIError, sqlcipher.Error) as exc:
        translated = translate_db_error(exc)
        if translated is None:
            raise
        raise translated from exc


def integrity_ok(engine: Engine) -> bool:
    """`PRAGMA quick_check`: True when every page reads back (SQLCipher checks each page's
    HMAC) and the tables and indexes are consistent.

    It reads the whole file (about 1 s for a 10,000-case store), so it never runs on the
    way to the first screen: `Store.check_integrity` runs it once per open.
    """
    try:
        with engine.connect() as connection, translated_db_errors():
            rows = connection.exec_driver_sql("PRAGMA quick_check").fetchall()
            sound = [tuple(row) for row in rows] == [("ok",)]
            if not sound:
                # quick_check reports most damage as rows, not errors; the connection that
                # met it may be broken all the same (see _drop_damaged_connection).
                connection.invalidate()
    except StoreCorrupt:
        return False
    return sound


def full_integrity_check(engine: Engine) -> list[str]:
    """`integrity_check` plus `cipher_integrity_check` (page HMACs); the problems, [] if none."""
    problems: list[str] = []
    for pragma in ("integrity_check", "cipher_integrity_check"):
        try:
            with engine.connect() as connection, translated_db_errors():
                rows = connection.exec_driver_sql(f"PRAGMA {pragma}").fetchall()
                found = [f"{pragma}: {row[0]}" for row in rows if row[0] != "ok"]
                if found:
                    connection.invalidate()  # as in integrity_ok
        except StoreCorrupt as exc:
            problems.append(f"{pragma}: {exc.detail or 'database is damaged'}")
            continue
        problems.extend(found)
    return problems


def cipher_version(engine: Engine) -> str:
    """The linked SQLCipher version, e.g. '4.19.0 community'."""
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA cipher_version").scalar_one())


def compile_options(engine: Engine) -> list[str]:
    """The linked library's compile options, e.g. ['TEMP_STORE=2', …]."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("PRAGMA compile_options").fetchall()
    return [str(row[0]) for row in rows]


# --- construction ---------------------------------------------------------------------------


def _build_engine(creator: Callable[[], DBAPIConnection]) -> Engine:
    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=creator,
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=2,
        # The connection used last first: its page cache holds what the screen just read.
        pool_use_lifo=True,
        # Statement parameters are case data: keep them out of exception text and logs.
        hide_parameters=True,
    )
    event.listen(engine, "begin", _emit_begin)
    event.listen(engine, "handle_error", _drop_damaged_connection)
    event.listen(engine.pool, "checkout", _keep_manual_transactions)
    try:
        with engine.connect():
            pass  # open (and check) the first connection now
    except BaseException:
        engine.dispose()
        raise
    return engine


def _emit_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("sofs_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _drop_damaged_connection(context: ExceptionContext) -> None:
    # SQLCipher leaves a connection that failed a page check broken for good: later reads of
    # sound pages fail as "malformed" and writes as "readonly". Treating the error as a
    # disconnect makes SQLAlchemy close that one connection instead of pooling it, so the
    # next unit of work gets a fresh connection (the rest of the pool is kept).
    if isinstance(translate_db_error(context.original_exception), StoreCorrupt):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def _keep_manual_transactions(
    dbapi_connection: DBAPIConnection,
    _record: ConnectionPoolEntry,
    _proxy: PoolProxiedConnection,
) -> None:
    # After a connection used the isolation_level execution option, SQLAlchemy's check-in
    # reset sets the driver's isolation_level to "", handing transaction control back to the
    # driver (implicit deferred BEGINs on raw use). Every checkout starts with ours again.
    dbapi_connection.isolation_level = None
