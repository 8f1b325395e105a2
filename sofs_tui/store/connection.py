"""One SQLCipher connection to the local store, opened, keyed, configured and checked, and
the driver's errors in words a social worker can act on.

No SQLAlchemy here: `engine.py` pools these connections for the app's units of work, and the
app's first look at the caseload (`first_page.py`) reads through one of them before the
database layer has been imported. Each connection is keyed with the raw data key, proved by
reading `sqlite_master`, configured (WAL, synchronous=FULL, temp_store=MEMORY, foreign_keys,
busy_timeout; fullfsync on macOS) and read back, so a setting that did not take is an error,
not a surprise (R23).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlcipher3 import dbapi2 as sqlcipher

from sofs_tui.store.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreIOError,
    StoreReadOnly,
)

if TYPE_CHECKING:
    from sofs_tui.store.keys import DataKey

# Decrypted pages kept per connection (negative: KiB). SQLCipher decrypts and checks every page
# it reads into the cache; with the default (about 8 MiB) a 10,000-case caseload's tables do not
# stay in it, so each filter keystroke and page decrypted them again. 32 MiB keeps them; memory
# is only taken as pages are read. A speed setting, not a safety one: not checked on open.
CACHE_SIZE_KIB: Final = 32 * 1024
BUSY_TIMEOUT_MS: Final = 5000
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

CANNOT_OPEN_MESSAGE: Final = (
    "The case store file could not be found or opened. Nothing was changed. "
    "If it was moved, put it back; otherwise contact IT."
)
UNSAFE_SETTINGS_MESSAGE: Final = (
    "The case store could not be opened with its safety settings on this computer. "
    "Nothing was changed. Contact IT."
)


def open_connection(path: Path, key: DataKey | None, *, create: bool) -> Any:
    if not create:
        if not path.is_file():
            raise StoreIOError(CANNOT_OPEN_MESSAGE, detail="no such file")
        if path.stat().st_size == 0:
            # SQLite would open an empty file as a new, empty store: a wiped store must not
            # look like an empty caseload.
            raise StoreCorrupt(detail="empty file")
    uri = f"{path.absolute().as_uri()}?mode={'rwc' if create else 'rw'}"
    try:
        connection = sqlcipher.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    except sqlcipher.Error as exc:
        raise open_failure(exc) from exc
    try:
        configure(connection, key)
        check_connection_settings(connection, encrypted=key is not None)
    except BaseException:
        connection.close()
        raise
    return connection


def configure(connection: Any, key: DataKey | None) -> None:
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
        raise open_failure(exc) from exc


def check_connection_settings(dbapi_connection: Any, *, encrypted: bool = True) -> None:
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
        raise StoreError(UNSAFE_SETTINGS_MESSAGE, detail="; ".join(mismatches))


def translate_driver_error(exc: BaseException | None) -> StoreError | None:
    """The StoreError for a storage failure (disk full, I/O, corruption, a file SQLite may
    not write, another writer holding the store too long), else None.

    Takes the driver's own exception (`engine.translate_db_error` unwraps SQLAlchemy's).
    """
    original = exc
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
        return StoreIOError(CANNOT_OPEN_MESSAGE, detail=name)
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


def open_failure(exc: BaseException) -> StoreError:
    translated = translate_driver_error(exc)
    if translated is not None:
        return translated
    return StoreIOError(CANNOT_OPEN_MESSAGE, detail=type(exc).__name__)
