"""The data key opens the database as a raw SQLCipher key, checked with the driver alone.

SECURITY.md: the random 256-bit data key is given to SQLCipher as raw key material
(`PRAGMA key = "x'…'"`), so SQLCipher runs no passphrase derivation over it. Opened outside
our engine, the file must give up its rows to that raw key and to nothing else: not to the
same 32 bytes as a passphrase, nor to the worker's passphrase.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from sofs_tui.store.cases import create_case
from sofs_tui.store.files import DB_NAME
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import Actor, enrol

PASSPHRASE = "correct horse battery"
SQLITE_HEADER = b"SQLite format 3\x00"


def _enrolled_store_with_a_case(data_dir: Path) -> str:
    """Enrol as the app does, save one case through the store; returns the data key as hex.

    The store is locked (engine closed, WAL checkpointed) before this returns, so the file is
    complete and no connection of ours is open while the test reads it.
    """
    store = enrol(data_dir, PASSPHRASE, Actor("t.worker"), KdfParams.FAST_FOR_TESTS)
    try:
        create_case(store, reference="RAW-1", family_name="Rawkeyfamily")
        assert store.key is not None
        return store.key.raw_hex()
    finally:
        store.lock()


def _read_family_names(db: Path, key_pragma: str) -> list[str]:
    """Open `db` with the driver alone, key it with `key_pragma`, read every family name."""
    connection = sqlcipher.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
        connection.execute(key_pragma)
        rows = connection.execute("SELECT family_name FROM family_case").fetchall()
        return [str(row[0]) for row in rows]
    finally:
        connection.close()


def test_the_data_key_opens_the_file_as_a_raw_sqlcipher_key(tmp_path: Path) -> None:
    hex_key = _enrolled_store_with_a_case(tmp_path)
    assert len(hex_key) == 64 and int(hex_key, 16) >= 0  # 32 bytes, as hex digits
    names = _read_family_names(tmp_path / DB_NAME, f"PRAGMA key = \"x'{hex_key}'\"")
    assert names == ["Rawkeyfamily"]


@pytest.mark.parametrize(
    "pragma",
    [
        pytest.param("PRAGMA key = '{hex_key}'", id="data-key-hex-as-passphrase"),
        pytest.param(f"PRAGMA key = '{PASSPHRASE}'", id="worker-passphrase"),
    ],
)
def test_the_file_does_not_open_with_the_key_as_a_passphrase(tmp_path: Path, pragma: str) -> None:
    hex_key = _enrolled_store_with_a_case(tmp_path)
    with pytest.raises(sqlcipher.DatabaseError, match="file is not a database"):
        _read_family_names(tmp_path / DB_NAME, pragma.format(hex_key=hex_key))


def test_the_file_on_disk_has_no_plaintext_sqlite_header_or_case_text(tmp_path: Path) -> None:
    _enrolled_store_with_a_case(tmp_path)
    content = (tmp_path / DB_NAME).read_bytes()
    assert len(content) >= 4096  # the store really is on disk, not only in a WAL
    assert content[:16] != SQLITE_HEADER
    assert b"Rawkeyfamily" not in content and b"family_case" not in content
