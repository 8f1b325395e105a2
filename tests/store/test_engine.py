"""The connection factory: ciphertext on disk (R1), quiet failure (R2), no temp files (R3),
dependency floor (R4), settings on every connection (R23), transactions and error mapping."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool
from sqlcipher3 import dbapi2 as sqlcipher

from sofs_tui.store.engine import (
    check_connection_settings,
    cipher_version,
    compile_options,
    full_integrity_check,
    integrity_ok,
    open_engine,
    translate_db_error,
    write_engine,
)
from sofs_tui.store.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreIOError,
    StoreLocked,
)
from sofs_tui.store.keys import DataKey
from tests.support.fresh_python import fresh_python

SENTINEL = "ZZ-SENTINEL-CHILD-NAME"
MIN_CIPHER_VERSION = (4, 19)


def _run_child(
    code: str, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that can import sofs_tui; capture both streams."""
    return fresh_python(code, *args, stdin=stdin, env=env)


def _make_store(path: Path, key: DataKey, rows: int = 0) -> None:
    """A closed, checkpointed store with a `note` table holding `rows` rows of ~500 chars."""
    engine = open_engine(path, key, create=True)
    with write_engine(engine).begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        if rows:
            connection.execute(
                text("INSERT INTO note (body) VALUES (:body)"),
                [{"body": f"{n} " + "visit notes " * 40} for n in range(rows)],
            )
    engine.dispose()


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


# --- R1: the files are ciphertext ----------------------------------------------------------

_CRASHING_WRITER = """
    import os, sys
    from pathlib import Path
    from sqlalchemy import text
    from sofs_tui.store.engine import open_engine, open_plain_engine, write_engine
    from sofs_tui.store.keys import DataKey

    db_path, sentinel, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    if mode == "encrypted":
        engine = open_engine(db_path, DataKey(bytes.fromhex(sys.stdin.readline())), create=True)
    else:
        engine = open_plain_engine(db_path, create=True)
    with write_engine(engine).begin() as connection:
        connection.execute(text("CREATE TABLE child (name TEXT)"))
    with write_engine(engine).begin() as connection:
        connection.execute(text("INSERT INTO child VALUES (:name)"), {"name": sentinel})
    os._exit(0)  # crash: no close, so no checkpoint; the commit lives only in the -wal
"""


def _sentinel_forms() -> list[bytes]:
    return [SENTINEL.encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")]


def _files_holding_sentinel(directory: Path) -> list[str]:
    return sorted(
        p.name
        for p in directory.iterdir()
        if any(form in p.read_bytes() for form in _sentinel_forms())
    )


def test_committed_sentinel_is_not_readable_in_db_wal_or_shm(tmp_path: Path) -> None:
    key = DataKey.generate()
    db_path = tmp_path / "sofs.db"
    child = _run_child(
        _CRASHING_WRITER, str(db_path), SENTINEL, "encrypted", stdin=key.raw_hex() + "\n"
    )
    assert child.returncode == 0, child.stderr
    wal = tmp_path / "sofs.db-wal"
    assert wal.stat().st_size > 0, "the crash should leave an uncheckpointed WAL"
    assert {p.name for p in tmp_path.iterdir()} == {"sofs.db", "sofs.db-wal", "sofs.db-shm"}

    assert _files_holding_sentinel(tmp_path) == []

    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        plain = sqlite3.connect(db_path)
        try:
            plain.execute("SELECT * FROM sqlite_master").fetchall()
        finally:
            plain.close()

    engine = open_engine(db_path, key)  # and the crashed commit is there
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM child")).scalar_one() == SENTINEL
    engine.dispose()


def test_sentinel_scan_finds_the_sentinel_in_an_unencrypted_store(tmp_path: Path) -> None:
    # The control for the test above: the same crash without the cipher is readable.
    child = _run_child(_CRASHING_WRITER, str(tmp_path / "plain.db"), SENTINEL, "plain")
    assert child.returncode == 0, child.stderr
    assert "plain.db-wal" in _files_holding_sentinel(tmp_path)


# --- R2: wrong key and damage fail closed and quietly ---------------------------------------

_OPEN_AND_REPORT = """
    import json, sys
    from pathlib import Path
    from sofs_tui.store.engine import full_integrity_check, integrity_ok, open_engine
    from sofs_tui.store.errors import StoreError
    from sofs_tui.store.keys import DataKey

    try:
        engine = open_engine(Path(sys.argv[1]), DataKey(bytes.fromhex(sys.stdin.readline())))
    except StoreError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": exc.user_message}))
    else:
        print(json.dumps({"quick_ok": integrity_ok(engine),
                          "problems": full_integrity_check(engine)}))
"""


def test_wrong_key_fails_as_corrupt_and_writes_nothing_to_stderr(tmp_path: Path) -> None:
    db_path = tmp_path / "sofs.db"
    _make_store(db_path, DataKey.generate(), rows=5)
    child = _run_child(_OPEN_AND_REPORT, str(db_path), stdin=DataKey.generate().raw_hex())
    assert child.stderr == ""
    report = json.loads(child.stdout)
    assert report["error"] == "StoreCorrupt"
    assert "Nothing was changed" in report["message"]


def test_sqlcipher_logs_to_stderr_unless_silenced(tmp_path: Path) -> None:
    # Canary for the test above: if SQLCipher stopped logging, that test would prove nothing.
    db_path = tmp_path / "sofs.db"
    _make_store(db_path, DataKey.generate())
    code = """
        import sys
        from sqlcipher3 import dbapi2
        connection = dbapi2.connect(sys.argv[1])
        connection.execute("PRAGMA key = \\"x'" + "00" * 32 + "'\\"")
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except dbapi2.DatabaseError:
            pass
    """
    child = _run_child(code, str(db_path))
    assert "hmac check failed" in child.stderr


def test_wrong_key_leaves_every_file_untouched(tmp_path: Path) -> None:
    db_path = tmp_path / "sofs.db"
    _make_store(db_path, DataKey.generate(), rows=5)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreCorrupt):
        open_engine(db_path, DataKey.generate())
    assert _snapshot(tmp_path) == before  # same names (no -wal, no -shm), bytes and mtimes


def test_missing_store_is_a_clear_error_and_no_file_is_created(tmp_path: Path) -> None:
    with pytest.raises(StoreIOError) as caught:
        open_engine(tmp_path / "sofs.db", DataKey.generate())
    assert "could not be found" in caught.value.user_message
    assert list(tmp_path.iterdir()) == []


def test_empty_store_file_is_corrupt_not_an_empty_caseload(tmp_path: Path) -> None:
    (tmp_path / "sofs.db").write_bytes(b"")
    with pytest.raises(StoreCorrupt):
        open_engine(tmp_path / "sofs.db", DataKey.generate())
    assert (tmp_path / "sofs.db").read_bytes() == b""


def _flip_byte(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: _flip_byte(data, 2 * 4096 + 1000), id="flip-byte-in-page-3"),
        pytest.param(lambda data: _flip_byte(data, len(data) - 100), id="flip-byte-in-last-page"),
        pytest.param(lambda data: _flip_byte(data, 1000), id="flip-byte-in-page-1"),
        pytest.param(lambda data: data[: 4096 + 2048], id="truncate-mid-page-2"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncate-half"),
        pytest.param(lambda data: data[:100], id="truncate-header"),
    ],
)
def test_damaged_store_is_reported_not_crashed_and_stays_quiet(
    tmp_path: Path, damage: object
) -> None:
    key = DataKey.generate()
    db_path = tmp_path / "sofs.db"
    _make_store(db_path, key, rows=300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sofs.db"]  # fully checkpointed
    db_path.write_bytes(damage(db_path.read_bytes()))  # type: ignore[operator]

    child = _run_child(_OPEN_AND_REPORT, str(db_path), stdin=key.raw_hex())

    assert child.returncode == 0, child.stderr
    assert child.stderr == ""
    report = json.loads(child.stdout)
    if "error" in report:
        assert report["error"] == "StoreCorrupt"
    else:
        assert report["quick_ok"] is False
        assert report["problems"], "a damaged page must show up in full_integrity_check"


def test_healthy_store_passes_both_integrity_checks(tmp_path: Path) -> None:
    key = DataKey.generate()
    _make_store(tmp_path / "sofs.db", key, rows=300)
    engine = open_engine(tmp_path / "sofs.db", key)
    assert integrity_ok(engine)
    assert full_integrity_check(engine) == []
    engine.dispose()


# --- R3: no plaintext temporary files -------------------------------------------------------


def test_temp_store_is_memory_and_the_library_defaults_to_memory(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA temp_store").scalar_one() == 2
    assert {"TEMP_STORE=2", "TEMP_STORE=3"} & set(compile_options(engine))
    engine.dispose()


_BIG_SORT = """
    import json, os, sys
    from pathlib import Path
    from sofs_tui.store.engine import open_engine
    from sofs_tui.store.keys import DataKey

    db_path, temp_store, temp_dir = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    engine = open_engine(db_path, DataKey.generate(), create=True)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("CREATE TABLE big (sort_key TEXT, body TEXT)")
    cursor.execute("BEGIN IMMEDIATE")
    cursor.executemany(
        "INSERT INTO big VALUES (?, ?)",
        ((os.urandom(8).hex(), os.urandom(500).hex()) for _ in range(12_000)),  # ~12 MB
    )
    cursor.execute("COMMIT")
    # A sort spills only past the page cache (the app's is 32 MiB): make this ~12 MB one spill.
    cursor.execute("PRAGMA cache_size = -2000")
    if temp_store != "default":
        cursor.execute(f"PRAGMA temp_store = {temp_store}")
    cursor.execute("SELECT sort_key, body FROM big ORDER BY sort_key")
    cursor.fetchone()  # the whole sort is materialised; its spill files are open now
    open_in_temp_dir = []
    if os.path.isdir("/proc/self/fd"):  # SQLite unlinks temp files at once: look at open fds
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith(temp_dir):
                open_in_temp_dir.append(target)
    print(json.dumps({"open": open_in_temp_dir, "listed": os.listdir(temp_dir)}))
"""


@pytest.mark.parametrize(
    ("temp_store", "expect_spill"),
    [
        pytest.param("default", False, id="app-settings"),
        pytest.param(
            "FILE",
            True,
            id="control-temp-store-file",
            marks=pytest.mark.skipif(
                not Path("/proc/self/fd").is_dir(), reason="needs /proc to see unlinked files"
            ),
        ),
    ],
)
def test_large_sort_writes_no_temporary_file(
    tmp_path: Path, temp_store: str, expect_spill: bool
) -> None:
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    child = _run_child(
        _BIG_SORT,
        str(tmp_path / "sofs.db"),
        temp_store,
        str(temp_dir),
        TMPDIR=str(temp_dir),
        SQLITE_TMPDIR=str(temp_dir),
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert bool(report["open"]) is expect_spill
    assert report["listed"] == []
    assert list(temp_dir.iterdir()) == []


# --- R4: dependency floor -------------------------------------------------------------------


def test_sqlcipher_is_version_4_at_least_the_pinned_minimum(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    version = cipher_version(engine)
    engine.dispose()
    assert version.startswith("4.")
    numbers = tuple(int(part) for part in version.split()[0].split(".")[:2])
    assert numbers >= MIN_CIPHER_VERSION


@pytest.mark.parametrize(
    "passphrase",
    ['a";PRAGMA cipher_log_level=DEBUG;--', "a\";PRAGMA cipher_log_level=DEBUG;--'x"],
)
def test_sqlalchemy_pysqlcipher_dialect_quotes_a_hostile_passphrase(
    tmp_path: Path, passphrase: str
) -> None:
    db_path = tmp_path / "dialect.db"
    url = URL.create("sqlite+pysqlcipher", password=passphrase, database=str(db_path))
    probe = sqlcipher.connect(":memory:")
    default_level = probe.execute("PRAGMA cipher_log_level").fetchone()
    probe.close()

    def dialect_engine() -> Engine:
        return create_engine(url, module=sqlcipher, poolclass=NullPool)

    writer = dialect_engine()
    with writer.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('round trip')"))
    writer.dispose()

    reader = dialect_engine()
    with reader.connect() as connection:
        assert connection.execute(text("SELECT x FROM t")).scalar_one() == "round trip"
        level = connection.exec_driver_sql("PRAGMA cipher_log_level").one()
        assert tuple(level) == tuple(default_level)  # the injected PRAGMA did not run
    reader.dispose()

    # The whole passphrase was the key, not a prefix cut at the quote.
    truncated = sqlcipher.connect(str(db_path))
    truncated.execute("PRAGMA cipher_log_level = NONE")
    truncated.execute("PRAGMA key = 'a'")
    with pytest.raises(sqlcipher.DatabaseError):
        truncated.execute("SELECT count(*) FROM sqlite_master").fetchall()
    truncated.close()


# --- R23: the settings hold on every pooled connection --------------------------------------


@pytest.mark.parametrize("state", ["fresh", "reopened"])
def test_every_pooled_connection_is_durable_and_private(tmp_path: Path, state: str) -> None:
    key = DataKey.generate()
    db_path = tmp_path / "sofs.db"
    if state == "reopened":
        _make_store(db_path, key, rows=3)
    engine = open_engine(db_path, key, create=state == "fresh")
    with ExitStack() as stack:
        connections = [stack.enter_context(engine.connect()) for _ in range(3)]
        driver_connections = {id(c.connection.dbapi_connection) for c in connections}
        assert len(driver_connections) == 3
        for connection in connections:

            def pragma(name: str, connection: object = connection) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()  # type: ignore[attr-defined]

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2
            assert pragma("temp_store") == 2
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 5000
            assert pragma("cipher_log_level") == "NONE"
    engine.dispose()


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        ("synchronous = NORMAL", "synchronous=1"),
        ("temp_store = FILE", "temp_store=1"),
        ("foreign_keys = OFF", "foreign_keys=0"),
        ("busy_timeout = 0", "busy_timeout=0"),
        ("cipher_log_level = WARN", "cipher_log_level='WARN'"),
        ("journal_mode = DELETE", "journal_mode='delete'"),
    ],
)
def test_a_setting_that_did_not_take_is_an_error(
    tmp_path: Path, change: str, reported: str
) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    raw = engine.raw_connection()
    try:
        check_connection_settings(raw.dbapi_connection)  # type: ignore[arg-type]
        raw.cursor().execute(f"PRAGMA {change}")
        with pytest.raises(StoreError) as caught:
            check_connection_settings(raw.dbapi_connection)  # type: ignore[arg-type]
        assert reported in caught.value.detail
        assert "Nothing was changed" in caught.value.user_message
    finally:
        raw.invalidate()
    engine.dispose()


def test_wiped_key_locks_new_connections(tmp_path: Path) -> None:
    key = DataKey.generate()
    engine = open_engine(tmp_path / "sofs.db", key, create=True)
    engine.dispose()  # drop pooled connections, as locking does
    key.wipe()
    with pytest.raises(StoreLocked):
        engine.connect()


# --- transactions -------------------------------------------------------------------------


def _other_writer_can_begin(engine: Engine) -> bool:
    """Whether a second connection could take the write lock right now (without waiting)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlcipher.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        cursor.execute("ROLLBACK")
        return True
    finally:
        raw.invalidate()  # its busy_timeout was changed: never return it to the pool


def test_write_option_takes_the_write_lock_when_the_transaction_begins(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    with write_engine(engine).connect() as connection, connection.begin():
        assert not _other_writer_can_begin(engine)
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT 1"))
        assert _other_writer_can_begin(engine)  # plain reads start deferred
    engine.dispose()


def test_rolled_back_write_leaves_nothing_and_commit_keeps_it(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    writes = write_engine(engine)
    with writes.begin() as connection:
        connection.execute(text("CREATE TABLE note (body TEXT)"))
    with pytest.raises(RuntimeError), writes.begin() as connection:
        connection.execute(text("INSERT INTO note VALUES ('discarded')"))
        raise RuntimeError("abandon the unit of work")
    with writes.begin() as connection:
        connection.execute(text("INSERT INTO note VALUES ('kept')"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM note")).scalars().all() == ["kept"]
    engine.dispose()


def test_driver_never_takes_back_transaction_control(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="SERIALIZABLE")
        connection.execute(text("SELECT 1"))
    with engine.connect() as connection:  # the same pooled connection, reset on check-in
        assert connection.connection.dbapi_connection.isolation_level is None  # type: ignore[union-attr]
    engine.dispose()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    writes = write_engine(engine)
    with writes.begin() as connection:
        connection.execute(text("CREATE TABLE family (id INTEGER PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE child (family_id INTEGER REFERENCES family(id))"))
    with pytest.raises(IntegrityError), writes.begin() as connection:
        connection.execute(text("INSERT INTO child VALUES (42)"))
    engine.dispose()


def test_database_errors_do_not_carry_case_data_in_their_text(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "sofs.db", DataKey.generate(), create=True)
    writes = write_engine(engine)
    with writes.begin() as connection:
        connection.execute(text("CREATE TABLE child (name TEXT UNIQUE)"))
        connection.execute(text("INSERT INTO child VALUES (:name)"), {"name": SENTINEL})
    with pytest.raises(IntegrityError) as caught, writes.begin() as connection:
        connection.execute(text("INSERT INTO child VALUES (:name)"), {"name": SENTINEL})
    assert SENTINEL not in str(caught.value)
    engine.dispose()


# --- error translation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlcipher.OperationalError("database or disk is full"), StoreFull),
        (sqlcipher.OperationalError("disk I/O error"), StoreIOError),
        (sqlcipher.DatabaseError("file is not a database"), StoreCorrupt),
        (sqlcipher.DatabaseError("database disk image is malformed"), StoreCorrupt),
        (sqlite3.OperationalError("database or disk is full"), StoreFull),
        (sqlcipher.IntegrityError("UNIQUE constraint failed: child.name"), None),
        (sqlcipher.OperationalError("database is locked"), StoreBusy),
        (ValueError("disk I/O error"), None),
    ],
)
def test_translate_db_error_maps_storage_failures_only(
    error: BaseException, expected: type[StoreError] | None
) -> None:
    wrapped = DBAPIError("INSERT ...", None, error)
    for candidate in (error, wrapped):
        translated = translate_db_error(candidate)
        if expected is None:
            assert translated is None
        else:
            assert type(translated) is expected


def test_store_errors_always_have_a_user_message() -> None:
    assert "disk is full" in StoreFull().user_message
    assert "still on screen" in StoreFull().user_message
    assert StoreError("Custom words.").user_message == "Custom words."
    assert str(StoreCorrupt(detail="SQLITE_NOTADB")).endswith("(SQLITE_NOTADB)")
