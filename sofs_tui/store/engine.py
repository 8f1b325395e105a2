"""The connection factory for the local store: SQLCipher, WAL, synchronous=FULL, checked.

Every pooled connection is keyed with the raw data key, proved by reading `sqlite_master`,
configured (WAL, synchronous=FULL, temp_store=MEMORY, foreign_keys, busy_timeout; fullfsync on
macOS) and then read back, so a setting that did not take is an error, not a surprise (R23).
Each connection also keeps a larger page cache (speed only, so not read back).
Failures surface as `StoreError`s whose messages a social worker can act on.

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

import sqlite3
import sys
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

from sofs_tui.store.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreIOError,
    StoreReadOnly,
)
from sofs_tui.store.keys import DataKey

BUSY_TIMEOUT_MS: Final = 5000
# Decrypted pages kept per connection (negative: KiB). SQLCipher decrypts and checks every page
# it reads into the cache; with the default (about 8 MiB) a 10,000-case caseload's tables do not
# stay in it, so each filter keystroke and page decrypted them again. 32 MiB keeps them; memory
# is only taken as pages are read. A speed setting, not a safety one: not checked on open.
CACHE_SIZE_KIB: Final = 32 * 1024
# Execution options for a unit of work that writes: its transaction starts with BEGIN IMMEDIATE.
WRITE_OPTIONS: Final[Mapping[str, Any]] = {"sofs_write": True}

_ON_MACOS: Final[bool] = sys.platform == "darwin"

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_PERM: Final = 3
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_NOTADB: Final = 26

_CANNOT_OPEN_MESSAGE: Final = (
    "The case store file could not be found or opened. Nothing was changed. "
    "If it was moved, put it back; otherwise contact IT."
)
_UNSAFE_SETTINGS_MESSAGE: Final = (
    "The case store could not be opened with its safety settings on this computer. "
    "Nothing was changed. Contact IT."
)


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
    return _build_engine(lambda: _open_connection(path, key, create=create))


def open_plain_engine(db_path: Path, *, create: bool = False) -> Engine:
    """BENCHMARK ONLY: the same driver, pool and pragmas with NO encryption.

    Exists so the SQLCipher cost can be measured against an identical unencrypted store
    (perf-baseline.md §3). Never use it for case data.
    """
    path = Path(db_path)
    return _build_engine(lambda: _open_connection(path, None, create=create))


def write_engine(engine: Engine) -> Engine:
    """The same engine, with every transaction started as BEGIN IMMEDIATE (for writes)."""
    return engine.execution_options(**WRITE_OPTIONS)


def check_connection_settings(dbapi_connection: DBAPIConnection, *, encrypted: bool = True) -> None:
    """Read back the durability and privacy settings; raise StoreError if any differ (R23)."""
    expected: dict[str, object] = {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "temp_store": 2,  # MEMORY
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
    }
    if _ON_MACOS:
        expected |= {"fullfsync": 1, "checkpoint_fullfsync": 1}
    if encrypted:
        expected["cipher_log_level"] = "NONE"
    cursor = dbapi_connection.cursor()
    try:
        mismatches = []
        for name, wanted in expected.items():
            cursor.execute(f"PRAGMA {name}")
            row = cursor.fetchone()
            actual = row[0] if row else None
            if isinstance(actual, str) and isinstance(wanted, str):
                actual = actual.lower() if name == "journal_mode" else actual.upper()
            if actual != wanted:
                mismatches.append(f"{name}={actual!r}, expected {wanted!r}")
    finally:
        cursor.close()
    if mismatches:
        raise StoreError(_UNSAFE_SETTINGS_MESSAGE, detail="; ".join(mismatches))


def translate_db_error(exc: BaseException) -> StoreError | None:
    """The StoreError for a storage failure (disk full, I/O, corruption, a file SQLite may
    not write, another writer holding the store too long), else None.

    Accepts SQLAlchemy's wrapper or the driver's own exception.
    """
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(original, StoreError):
        return original
    if not isinstance(original, sqlcipher.Error | sqlite3.Error):
        return None
    code = getattr(original, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    name = str(getattr(original, "sqlite_errorname", "") or type(original).__name__)
    message = str(original).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in message:
        return StoreFull(detail=name)
    if primary == _SQLITE_IOERR or "disk i/o error" in message:
        return StoreIOError(detail=name)
    if (
        primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        or "file is not a database" in message
        or "database disk image is malformed" in message
    ):
        return StoreCorrupt(detail=name)
    if primary == _SQLITE_CANTOPEN or "unable to open database file" in message:
        return StoreIOError(_CANNOT_OPEN_MESSAGE, detail=name)
    if (
        primary in (_SQLITE_READONLY, _SQLITE_PERM)
        or "attempt to write a readonly database" in message
        or "access permission denied" in message
    ):
        # A read-only file or folder, a file moved while open, or (SQLCipher) a connection
        # that met a damaged page.
        return StoreReadOnly(detail=name)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in message:
        # Another writer (a long `sofs demo-data` or import) kept the store past busy_timeout.
        return StoreBusy(detail=name)
    return None


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


def _open_connection(path: Path, key: DataKey | None, *, create: bool) -> DBAPIConnection:
    if not create:
        if not path.is_file():
            raise StoreIOError(_CANNOT_OPEN_MESSAGE, detail="no such file")
        if path.stat().st_size == 0:
            # SQLite would open an empty file as a new, empty store: a wiped store must not
            # look like an empty caseload.
            raise StoreCorrupt(detail="empty file")
    uri = f"{path.absolute().as_uri()}?mode={'rwc' if create else 'rw'}"
    try:
        connection = sqlcipher.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    except sqlcipher.Error as exc:
        raise _open_failure(exc) from exc
    try:
        _configure(connection, key)
        check_connection_settings(connection, encrypted=key is not None)
    except BaseException:
        connection.close()
        raise
    return connection  # type: ignore[no-any-return]


def _configure(connection: Any, key: DataKey | None) -> None:
    try:
        if key is not None:
            # Before the key, so SQLCipher never writes to stderr over the screen (R2).
            connection.execute("PRAGMA cipher_log_level = NONE")
            connection.execute(f"PRAGMA key = \"x'{key.raw_hex()}'\"")
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
        # A wrong key is not noticed by PRAGMA key; the first read fails. Prove it now.
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        connection.execute("PRAGMA journal_mode = WAL").fetchone()
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute("PRAGMA foreign_keys = ON")
        if _ON_MACOS:
            # macOS fsync does not flush the drive cache without F_FULLFSYNC.
            connection.execute("PRAGMA fullfsync = ON")
            connection.execute("PRAGMA checkpoint_fullfsync = ON")
    except sqlcipher.Error as exc:
        raise _open_failure(exc) from exc


def _open_failure(exc: BaseException) -> StoreError:
    translated = translate_db_error(exc)
    if translated is not None:
        return translated
    return StoreIOError(_CANNOT_OPEN_MESSAGE, detail=type(exc).__name__)
