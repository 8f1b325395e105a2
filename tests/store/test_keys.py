"""Envelope key handling (SECURITY R5): the data key is only ever stored wrapped."""

from __future__ import annotations

import base64
import copy
import errno
import json
import os
import pickle
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sofs_tui.store import keys
from sofs_tui.store.engine import open_engine
from sofs_tui.store.errors import (
    AlreadyEnrolled,
    KeyFileCorrupt,
    NotEnrolled,
    StoreCorrupt,
    StoreFull,
    StoreLocked,
    WeakPassphrase,
    WrongPassphrase,
)
from sofs_tui.store.keys import (
    DataKey,
    KdfParams,
    change_passphrase,
    create_keyfile,
    read_store_id,
    unlock_keyfile,
)

FAST = KdfParams.FAST_FOR_TESTS
PASSPHRASE = "correct horse battery"
NEW_PASSPHRASE = "staple lamp river 42"


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    return tmp_path / "keyfile.json"


Edit = Callable[[dict[str, Any]], object]


def _edit_keyfile(path: Path, edit: Edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _flip_first_byte(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# --- enrol and unlock ------------------------------------------------------------------------


def test_unlock_returns_the_data_key_made_at_enrolment(keyfile: Path) -> None:
    key, store_id = create_keyfile(keyfile, PASSPHRASE, FAST)
    unlocked = unlock_keyfile(keyfile, PASSPHRASE)
    assert unlocked.raw_hex() == key.raw_hex()
    assert read_store_id(keyfile) == store_id


def test_two_enrolments_make_different_keys_and_store_ids(tmp_path: Path) -> None:
    key_a, id_a = create_keyfile(tmp_path / "a.json", PASSPHRASE, FAST)
    key_b, id_b = create_keyfile(tmp_path / "b.json", PASSPHRASE, FAST)
    assert key_a.raw_hex() != key_b.raw_hex()
    assert id_a != id_b


def test_wrong_passphrase_raises_wrong_passphrase(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    with pytest.raises(WrongPassphrase):
        unlock_keyfile(keyfile, PASSPHRASE + "!")


def test_missing_keyfile_means_not_enrolled(keyfile: Path) -> None:
    with pytest.raises(NotEnrolled):
        unlock_keyfile(keyfile, PASSPHRASE)
    with pytest.raises(NotEnrolled):
        read_store_id(keyfile)


def test_enrolment_refuses_to_replace_an_existing_keyfile(keyfile: Path) -> None:
    original_key, _ = create_keyfile(keyfile, PASSPHRASE, FAST)
    before = keyfile.read_bytes()
    with pytest.raises(AlreadyEnrolled):
        create_keyfile(keyfile, NEW_PASSPHRASE, FAST)
    assert keyfile.read_bytes() == before
    assert unlock_keyfile(keyfile, PASSPHRASE).raw_hex() == original_key.raw_hex()


def test_short_passphrase_is_refused_at_enrolment_and_change(keyfile: Path) -> None:
    with pytest.raises(WeakPassphrase):
        create_keyfile(keyfile, "seven77", FAST)
    assert not keyfile.exists()
    create_keyfile(keyfile, PASSPHRASE, FAST)
    before = keyfile.read_bytes()
    with pytest.raises(WeakPassphrase):
        change_passphrase(keyfile, PASSPHRASE, "short")
    assert keyfile.read_bytes() == before


def test_passphrase_typed_decomposed_unlocks_a_composed_enrolment(keyfile: Path) -> None:
    composed = "café au lait, s'il vous plaît"
    key, _ = create_keyfile(keyfile, unicodedata.normalize("NFC", composed), FAST)
    unlocked = unlock_keyfile(keyfile, unicodedata.normalize("NFD", composed))
    assert unlocked.raw_hex() == key.raw_hex()


# --- the file on disk --------------------------------------------------------------------------


def test_stored_kdf_parameters_meet_the_owasp_minimum(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    document = json.loads(keyfile.read_text())
    assert document["kdf"]["name"] == "argon2id"
    assert document["kdf"]["memory_kib"] >= 19 * 1024
    assert document["kdf"]["time_cost"] >= 2
    assert len(base64.b64decode(document["kdf"]["salt"])) >= 16
    assert len(base64.b64decode(document["wrap"]["nonce"])) == 12


def test_default_kdf_parameters_are_64_mib_three_passes() -> None:
    assert KdfParams() == KdfParams(memory_kib=65536, time_cost=3, parallelism=4)


@pytest.mark.parametrize(
    ("memory_kib", "time_cost", "parallelism"),
    [(19455, 2, 1), (19456, 1, 1), (8192, 3, 1), (65536, 3, 0), (65536, True, 1)],
)
def test_kdf_params_below_the_minimum_are_rejected(
    memory_kib: int, time_cost: int, parallelism: int
) -> None:
    with pytest.raises(ValueError):
        KdfParams(memory_kib, time_cost, parallelism)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_keyfile_is_readable_by_its_owner_only(keyfile: Path) -> None:
    old_umask = os.umask(0)
    try:
        create_keyfile(keyfile, PASSPHRASE, FAST)
    finally:
        os.umask(old_umask)
    assert keyfile.stat().st_mode & 0o777 == 0o600
    change_passphrase(keyfile, PASSPHRASE, NEW_PASSPHRASE, FAST)
    assert keyfile.stat().st_mode & 0o777 == 0o600


def test_writes_leave_no_temporary_files_behind(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    change_passphrase(keyfile, PASSPHRASE, NEW_PASSPHRASE)
    assert sorted(p.name for p in keyfile.parent.iterdir()) == ["keyfile.json"]


def test_data_key_is_never_written_to_the_data_dir_raw_or_hex(tmp_path: Path) -> None:
    key, _ = create_keyfile(tmp_path / "keyfile.json", PASSPHRASE, FAST)
    engine = open_engine(tmp_path / "sofs.db", key, create=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (body TEXT)"))
        connection.execute(text("INSERT INTO note VALUES ('a visit')"))
    change_passphrase(tmp_path / "keyfile.json", PASSPHRASE, NEW_PASSPHRASE, FAST)
    raw = bytes.fromhex(key.raw_hex())
    needles = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    needles += [n.decode("latin-1").encode("utf-16-le") for n in needles[1:]]
    needles.append(base64.b64encode(raw))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"keyfile.json", "sofs.db", "sofs.db-wal"}
    for path in files:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"data key found in {path.name}"
    engine.dispose()


def test_failed_write_keeps_the_old_keyfile_and_reports_disk_full(
    keyfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    before = keyfile.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StoreFull) as caught:
        change_passphrase(keyfile, PASSPHRASE, NEW_PASSPHRASE)
    monkeypatch.undo()
    assert "disk is full" in caught.value.user_message
    assert keyfile.read_bytes() == before
    assert sorted(p.name for p in keyfile.parent.iterdir()) == ["keyfile.json"]
    unlock_keyfile(keyfile, PASSPHRASE)


def test_no_clobber_write_never_replaces_an_existing_file(keyfile: Path) -> None:
    keyfile.write_bytes(b"the only copy of the wrapped key")
    with pytest.raises(FileExistsError):
        keys._write_atomically(keyfile, b"something else", replace=False)
    assert keyfile.read_bytes() == b"the only copy of the wrapped key"
    assert sorted(p.name for p in keyfile.parent.iterdir()) == ["keyfile.json"]


# --- changing the passphrase ---------------------------------------------------------------


def test_changed_passphrase_opens_the_store_and_the_old_one_does_not(tmp_path: Path) -> None:
    keyfile = tmp_path / "keyfile.json"
    key, store_id = create_keyfile(keyfile, PASSPHRASE, FAST)
    engine = open_engine(tmp_path / "sofs.db", key, create=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (body TEXT)"))
        connection.execute(text("INSERT INTO note VALUES ('home visit')"))
    engine.dispose()
    db_before = (tmp_path / "sofs.db").read_bytes()

    change_passphrase(keyfile, PASSPHRASE, NEW_PASSPHRASE)

    assert (tmp_path / "sofs.db").read_bytes() == db_before  # re-wrapped, not re-encrypted
    assert read_store_id(keyfile) == store_id
    with pytest.raises(WrongPassphrase):
        unlock_keyfile(keyfile, PASSPHRASE)
    reopened = open_engine(tmp_path / "sofs.db", unlock_keyfile(keyfile, NEW_PASSPHRASE))
    with reopened.connect() as connection:
        assert connection.execute(text("SELECT body FROM note")).scalar_one() == "home visit"
    reopened.dispose()


def test_change_passphrase_uses_a_fresh_salt_and_nonce(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    before = json.loads(keyfile.read_text())
    change_passphrase(keyfile, PASSPHRASE, PASSPHRASE)  # same words, new wrap
    after = json.loads(keyfile.read_text())
    assert after["kdf"]["salt"] != before["kdf"]["salt"]
    assert after["wrap"]["nonce"] != before["wrap"]["nonce"]
    assert after["wrap"]["wrapped_key"] != before["wrap"]["wrapped_key"]
    assert after["kdf"]["memory_kib"] == FAST.memory_kib  # kept when params are not given


def test_change_passphrase_can_raise_the_kdf_cost(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    stronger = KdfParams(memory_kib=32768, time_cost=3)
    change_passphrase(keyfile, PASSPHRASE, NEW_PASSPHRASE, stronger)
    assert json.loads(keyfile.read_text())["kdf"]["memory_kib"] == 32768
    unlock_keyfile(keyfile, NEW_PASSPHRASE)


def test_change_with_the_wrong_old_passphrase_changes_nothing(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    before = keyfile.read_bytes()
    with pytest.raises(WrongPassphrase):
        change_passphrase(keyfile, "not the passphrase", NEW_PASSPHRASE)
    assert keyfile.read_bytes() == before


# --- tampering and corruption --------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda d: d["wrap"].update(wrapped_key=_flip_first_byte(d["wrap"]["wrapped_key"])),
            id="wrapped-key",
        ),
        pytest.param(
            lambda d: d["wrap"].update(nonce=_flip_first_byte(d["wrap"]["nonce"])), id="nonce"
        ),
        pytest.param(lambda d: d["kdf"].update(salt=_flip_first_byte(d["kdf"]["salt"])), id="salt"),
        pytest.param(
            lambda d: d.update(store_id="00000000-0000-4000-8000-000000000000"), id="store-id"
        ),
        pytest.param(lambda d: d["kdf"].update(time_cost=3), id="kdf-params"),
    ],
)
def test_tampered_keyfile_does_not_unlock_and_says_so_cleanly(keyfile: Path, tamper: Edit) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    _edit_keyfile(keyfile, tamper)
    with pytest.raises(WrongPassphrase) as caught:
        unlock_keyfile(keyfile, PASSPHRASE)
    message = caught.value.user_message
    assert "does not unlock" in message
    assert "InvalidTag" not in message and "Traceback" not in message
    assert "cryptography" not in str(caught.value)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="bad-json"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b"", id="empty"),
    ],
)
def test_unreadable_keyfile_is_reported_as_corrupt(keyfile: Path, content: bytes) -> None:
    keyfile.write_bytes(content)
    with pytest.raises(KeyFileCorrupt):
        unlock_keyfile(keyfile, PASSPHRASE)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d.pop("wrap"), id="missing-wrap"),
        pytest.param(lambda d: d["wrap"].pop("wrapped_key"), id="missing-wrapped-key"),
        pytest.param(lambda d: d["wrap"].update(wrapped_key="!!!"), id="not-base64"),
        pytest.param(lambda d: d["wrap"].update(wrapped_key="AAAA"), id="short-wrapped-key"),
        pytest.param(lambda d: d["wrap"].update(nonce="AAAA"), id="short-nonce"),
        pytest.param(lambda d: d["kdf"].update(memory_kib="65536"), id="param-as-string"),
        pytest.param(lambda d: d["kdf"].update(memory_kib=8), id="params-below-floor"),
        pytest.param(lambda d: d["kdf"].update(memory_kib=2**40), id="params-above-ceiling"),
        pytest.param(lambda d: d["kdf"].update(name="pbkdf2"), id="other-kdf"),
        pytest.param(lambda d: d.update(store_id="not-a-uuid"), id="store-id-not-uuid"),
        pytest.param(lambda d: d.update(version=99), id="future-version"),
    ],
)
def test_keyfile_with_impossible_fields_is_corrupt(keyfile: Path, edit: Edit) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    _edit_keyfile(keyfile, edit)
    with pytest.raises(KeyFileCorrupt):
        unlock_keyfile(keyfile, PASSPHRASE)


def test_data_key_from_another_keyfile_does_not_open_the_store(tmp_path: Path) -> None:
    key, _ = create_keyfile(tmp_path / "keyfile.json", PASSPHRASE, FAST)
    open_engine(tmp_path / "sofs.db", key, create=True).dispose()
    other, _ = create_keyfile(tmp_path / "other.json", PASSPHRASE, FAST)
    with pytest.raises(StoreCorrupt):
        open_engine(tmp_path / "sofs.db", other)


# --- secrets stay out of sight --------------------------------------------------------------


def test_data_key_repr_hides_the_key() -> None:
    key = DataKey.generate()
    assert key.raw_hex() not in repr(key)
    assert key.raw_hex().upper() not in repr(key)
    assert "hidden" in repr(key)


def test_wiped_data_key_is_zeroed_and_refuses_use() -> None:
    key = DataKey.generate()
    key.wipe()
    assert key.is_wiped
    assert key._material == bytearray(32)
    with pytest.raises(StoreLocked) as caught:
        key.raw_hex()
    assert caught.value.user_message == "The store is locked. Unlock it to continue."


def test_data_key_cannot_be_pickled_or_copied() -> None:
    key = DataKey.generate()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)


def test_wrong_passphrase_error_holds_no_passphrase_in_message_or_frames(keyfile: Path) -> None:
    create_keyfile(keyfile, PASSPHRASE, FAST)
    attempt = "my-secret-guess-1234"
    with pytest.raises(WrongPassphrase) as caught:
        unlock_keyfile(keyfile, attempt)
    assert attempt not in str(caught.value) and attempt not in repr(caught.value)
    _assert_no_frame_holds(caught.value, attempt)

    with pytest.raises(WrongPassphrase) as caught:
        change_passphrase(keyfile, attempt, NEW_PASSPHRASE)
    _assert_no_frame_holds(caught.value, attempt)
    _assert_no_frame_holds(caught.value, NEW_PASSPHRASE)


def test_weak_passphrase_error_holds_no_passphrase_in_frames(keyfile: Path) -> None:
    with pytest.raises(WeakPassphrase) as caught:
        create_keyfile(keyfile, "abc1234", FAST)
    _assert_no_frame_holds(caught.value, "abc1234")


def _assert_no_frame_holds(exc: BaseException, secret: str) -> None:
    """No frame of the traceback we raised has a local equal to (or encoding) the secret."""
    forms: set[object] = {secret, secret.encode()}
    traceback = exc.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename != __file__:
            for name, value in frame.f_locals.items():
                assert not (isinstance(value, str | bytes) and value in forms), (
                    f"{frame.f_code.co_name}() local {name!r} holds the secret"
                )
        traceback = traceback.tb_next
