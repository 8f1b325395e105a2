"""Envelope encryption for the local store: a random data key wrapped under the passphrase.

The data key (DEK) opens the SQLCipher database as a raw key and is stored only wrapped with
AES-256-GCM under a key (KEK) derived from the worker's passphrase with Argon2id (SECURITY.md
"Keys"). Changing the passphrase re-wraps the DEK; the database itself is never re-encrypted.

Key file (`keyfile.json`, beside the database; the caller gives the path)::

    {"format": "sofs-keyfile", "version": 1, "store_id": "<uuid4>",
     "kdf": {"name": "argon2id", "memory_kib": 65536, "time_cost": 3, "parallelism": 4,
             "salt": "<base64, 16 bytes>"},
     "wrap": {"cipher": "aes-256-gcm", "nonce": "<base64, 12 bytes>",
              "wrapped_key": "<base64, 32-byte DEK + 16-byte tag>"}}

The GCM associated data binds the format version, the store id and the KDF parameters, so
altering any of them (or the salt, which changes the KEK) makes the tag fail. A tag failure
cannot tell a wrong passphrase from a tampered file, so both are reported as `WrongPassphrase`
("does not unlock"). Values no writer of ours could have produced (bad JSON, missing fields,
parameters outside the allowed range, wrong lengths) are `KeyFileCorrupt`.

Passphrases are NFC-normalised before use, so the same words typed on another platform unlock.
Secrets are kept out of exception messages, reprs and (by deleting locals before raising) out
of the frames of the tracebacks we raise. Python cannot reliably wipe `str` or `bytes`, so
copies of the passphrase and the KEK may linger in memory until reused: accepted residual risk
(security.md §2.2 point 7); the DEK itself lives in a `bytearray` that `wipe()` overwrites.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import secrets
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sofs_tui.store.errors import (
    AlreadyEnrolled,
    KeyFileCorrupt,
    NotEnrolled,
    StoreFull,
    StoreIOError,
    StoreLocked,
    WeakPassphrase,
    WrongPassphrase,
)

KEYFILE_NAME = "keyfile.json"
KEYFILE_FORMAT = "sofs-keyfile"
KEYFILE_VERSION = 1
KDF_NAME = "argon2id"
WRAP_CIPHER = "aes-256-gcm"
MIN_PASSPHRASE_LENGTH = 8

_KEY_BYTES = 32
_SALT_BYTES = 16
_NONCE_BYTES = 12
_TAG_BYTES = 16
# Ceilings when reading a key file, so a tampered file cannot make unlocking eat all memory/time.
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_TIME_COST = 64
_MAX_PARALLELISM = 64
_MAX_KEYFILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; never below the OWASP minimum (m=19 MiB, t=2, p=1).

    The default is RFC 9106's second recommended option (t=3, m=64 MiB, p=4), as argon2-cffi's
    own default. Four lanes cost a guesser the same memory and passes as one, while a
    laptop's cores compute them side by side (on two cores: about 0.13 s against 0.17 s).
    Key files keep the parameters they were made with.
    """

    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 4

    MIN_MEMORY_KIB: ClassVar[int] = 19456
    MIN_TIME_COST: ClassVar[int] = 2
    FAST_FOR_TESTS: ClassVar[KdfParams]

    def __post_init__(self) -> None:
        for name in ("memory_kib", "time_cost", "parallelism"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"KdfParams.{name} must be an int")
        if self.memory_kib < self.MIN_MEMORY_KIB or self.time_cost < self.MIN_TIME_COST:
            raise ValueError(
                f"Argon2id parameters below the OWASP minimum (m>={self.MIN_MEMORY_KIB} KiB, "
                f"t>={self.MIN_TIME_COST}): m={self.memory_kib}, t={self.time_cost}"
            )
        if not 1 <= self.parallelism <= self.memory_kib // 8:
            raise ValueError(f"Argon2id parallelism out of range: p={self.parallelism}")


# The OWASP minimum itself: the cheapest parameters we accept, used by tests to stay fast.
KdfParams.FAST_FOR_TESTS = KdfParams(memory_kib=19456, time_cost=2, parallelism=1)
DEFAULT_KDF_PARAMS = KdfParams()


class DataKey:
    """The 256-bit database key, held in a `bytearray` so `wipe()` can overwrite it."""

    __slots__ = ("_material", "_wiped")

    def __init__(self, material: bytes | bytearray) -> None:
        if len(material) != _KEY_BYTES:
            raise ValueError(f"a data key is {_KEY_BYTES} bytes")
        self._material = bytearray(material)
        self._wiped = False

    @classmethod
    def generate(cls) -> DataKey:
        """A fresh random key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    @property
    def is_wiped(self) -> bool:
        return self._wiped

    def raw_hex(self) -> str:
        """The key as 64 hex digits, for `PRAGMA key = "x'…'"`. Raises StoreLocked once wiped."""
        return self._checked().hex()

    def wipe(self) -> None:
        """Overwrite the key with zeros; every later use raises StoreLocked."""
        for index in range(len(self._material)):
            self._material[index] = 0
        self._wiped = True

    def _checked(self) -> bytearray:
        if self._wiped:
            raise StoreLocked(detail="data key used after wipe")
        return self._material

    def __repr__(self) -> str:
        return "DataKey(<wiped>)" if self._wiped else "DataKey(<hidden>)"

    def __reduce__(self) -> NoReturn:
        # No pickles or copies: each copy would be one more unwipeable place for the key.
        raise TypeError("DataKey cannot be pickled or copied")


def create_keyfile(
    path: Path, passphrase: str, params: KdfParams = DEFAULT_KDF_PARAMS
) -> tuple[DataKey, str]:
    """Enrol: make a new data key and store id, and write the key file wrapped under passphrase.

    Refuses (AlreadyEnrolled) if the key file exists; an existing key file is never replaced,
    because losing it loses the store. Returns the data key and the store id.
    """
    secret, strong_enough = _encode(passphrase)
    del passphrase  # keep the passphrase out of traceback frames from here on
    if not strong_enough:
        del secret
        raise WeakPassphrase()
    if path.exists():
        raise AlreadyEnrolled()
    key = DataKey.generate()
    store_id = str(uuid.uuid4())
    document = _wrap(key, secret, store_id, params)
    del secret
    try:
        _write_atomically(path, document, replace=False)
    except FileExistsError:
        key.wipe()
        raise AlreadyEnrolled() from None
    except BaseException:
        key.wipe()
        raise
    return key, store_id


def unlock_keyfile(path: Path, passphrase: str) -> DataKey:
    """Unwrap the data key. NotEnrolled, KeyFileCorrupt, or WrongPassphrase (see module doc)."""
    secret, _ = _encode(passphrase)
    del passphrase
    record = _read_record(path)
    key = _unwrap(record, secret)
    del secret
    if key is None:
        raise WrongPassphrase(detail="AES-GCM tag did not verify")
    return key


def change_passphrase(path: Path, old: str, new: str, params: KdfParams | None = None) -> None:
    """Re-wrap the same data key under a new passphrase, with a fresh salt and nonce.

    `params` defaults to the parameters already in the file. The database is not touched.
    """
    old_secret, _ = _encode(old)
    new_secret, strong_enough = _encode(new)
    del old, new
    if not strong_enough:
        del old_secret, new_secret
        raise WeakPassphrase()
    record = _read_record(path)
    key = _unwrap(record, old_secret)
    del old_secret
    if key is None:
        del new_secret
        raise WrongPassphrase(detail="AES-GCM tag did not verify")
    try:
        document = _wrap(key, new_secret, record.store_id, params or record.params)
    finally:
        key.wipe()
        del new_secret
    _write_atomically(path, document, replace=True)


class MemoryKeyFile:
    """A key file that lives in memory only (the `--demo` store): the data key wrapped under a
    passphrase exactly as on disk, so locking can drop the key and unlocking unwraps it again,
    while nothing of the key ever reaches the disk. Gone with the process, and the database
    with it: nobody can read that file afterwards."""

    __slots__ = ("_document",)

    def __init__(self, document: bytes) -> None:
        self._document = document

    @classmethod
    def create(
        cls, passphrase: str, params: KdfParams = DEFAULT_KDF_PARAMS
    ) -> tuple[DataKey, MemoryKeyFile]:
        """A new data key and its in-memory key file (WeakPassphrase as for `create_keyfile`)."""
        secret, strong_enough = _encode(passphrase)
        del passphrase
        if not strong_enough:
            del secret
            raise WeakPassphrase()
        key = DataKey.generate()
        document = _wrap(key, secret, str(uuid.uuid4()), params)
        del secret
        return key, cls(document)

    def unlock(self, passphrase: str) -> DataKey:
        """The data key, or WrongPassphrase, as `unlock_keyfile`."""
        secret, _ = _encode(passphrase)
        del passphrase
        key = _unwrap(_record_from_bytes(self._document), secret)
        del secret
        if key is None:
            raise WrongPassphrase(detail="AES-GCM tag did not verify")
        return key

    def __repr__(self) -> str:
        return "MemoryKeyFile(<hidden>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("MemoryKeyFile cannot be pickled or copied")


def read_store_id(path: Path) -> str:
    """The store id recorded in the key file (no passphrase needed; it is not secret)."""
    return _read_record(path).store_id


# --- wrapping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _KeyFileRecord:
    store_id: str
    params: KdfParams
    salt: bytes
    nonce: bytes
    wrapped_key: bytes


def _encode(passphrase: str) -> tuple[bytes, bool]:
    """The passphrase as NFC UTF-8 bytes, and whether it is long enough for a new one."""
    normalised = unicodedata.normalize("NFC", passphrase)
    return normalised.encode("utf-8"), len(normalised) >= MIN_PASSPHRASE_LENGTH


def _associated_data(store_id: str, params: KdfParams) -> bytes:
    return (
        f"{KEYFILE_FORMAT}/{KEYFILE_VERSION}\nstore_id={store_id}\n"
        f"kdf={KDF_NAME} m={params.memory_kib} t={params.time_cost} p={params.parallelism}"
    ).encode("ascii")


def _derive_kek(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return bytes(
        hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=_KEY_BYTES,
            type=Type.ID,
        )
    )


def _wrap(key: DataKey, secret: bytes, store_id: str, params: KdfParams) -> bytes:
    salt = secrets.token_bytes(_SALT_BYTES)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    kek = _derive_kek(secret, salt, params)
    wrapped = AESGCM(kek).encrypt(nonce, key._checked(), _associated_data(store_id, params))
    document = {
        "format": KEYFILE_FORMAT,
        "version": KEYFILE_VERSION,
        "store_id": store_id,
        "kdf": {
            "name": KDF_NAME,
            "memory_kib": params.memory_kib,
            "time_cost": params.time_cost,
            "parallelism": params.parallelism,
            "salt": _b64(salt),
        },
        "wrap": {"cipher": WRAP_CIPHER, "nonce": _b64(nonce), "wrapped_key": _b64(wrapped)},
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _unwrap(record: _KeyFileRecord, secret: bytes) -> DataKey | None:
    """The data key, or None when the GCM tag fails (wrong passphrase or altered file)."""
    kek = _derive_kek(secret, record.salt, record.params)
    try:
        material = AESGCM(kek).decrypt(
            record.nonce, record.wrapped_key, _associated_data(record.store_id, record.params)
        )
    except InvalidTag:
        return None
    return DataKey(material)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- reading and writing the file -----------------------------------------------------------


def _read_record(path: Path) -> _KeyFileRecord:
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_KEYFILE_BYTES + 1)
    except FileNotFoundError:
        raise NotEnrolled() from None
    except OSError as exc:
        raise StoreIOError(
            "The key file for this store could not be read. Nothing was changed. "
            "Check the computer's storage, then try again; if it keeps happening, contact IT.",
            detail=errno.errorcode.get(exc.errno or 0, type(exc).__name__),
        ) from None
    return _record_from_bytes(raw)


def _record_from_bytes(raw: bytes) -> _KeyFileRecord:
    if len(raw) > _MAX_KEYFILE_BYTES:
        _corrupt("key file too large")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        _corrupt("not UTF-8 JSON")
    return _parse_record(document)


def _parse_record(document: Any) -> _KeyFileRecord:
    if not isinstance(document, dict) or document.get("format") != KEYFILE_FORMAT:
        _corrupt("not a sofs key file")
    if document.get("version") != KEYFILE_VERSION:
        raise KeyFileCorrupt(
            "This store's key file was written by a different version of the app. "
            "Update the app, then unlock again. Nothing was changed.",
            detail=f"unsupported key file version {document.get('version')!r}",
        )
    kdf = _field(document, "kdf", dict)
    wrap = _field(document, "wrap", dict)
    if kdf.get("name") != KDF_NAME or wrap.get("cipher") != WRAP_CIPHER:
        _corrupt("unknown kdf or cipher")
    store_id = _field(document, "store_id", str)
    try:
        uuid.UUID(store_id)
    except ValueError:
        _corrupt("store_id is not a UUID")
    memory_kib = _field(kdf, "memory_kib", int)
    time_cost = _field(kdf, "time_cost", int)
    parallelism = _field(kdf, "parallelism", int)
    if memory_kib > _MAX_MEMORY_KIB or time_cost > _MAX_TIME_COST or parallelism > _MAX_PARALLELISM:
        _corrupt("kdf parameters above the allowed ceiling")
    try:
        params = KdfParams(memory_kib, time_cost, parallelism)
    except ValueError:
        _corrupt("kdf parameters below the allowed floor")
    salt = _b64_field(kdf, "salt")
    nonce = _b64_field(wrap, "nonce")
    wrapped_key = _b64_field(wrap, "wrapped_key")
    if not _SALT_BYTES <= len(salt) <= 64:
        _corrupt("salt length")
    if len(nonce) != _NONCE_BYTES or len(wrapped_key) != _KEY_BYTES + _TAG_BYTES:
        _corrupt("nonce or wrapped key length")
    return _KeyFileRecord(store_id, params, salt, nonce, wrapped_key)


def _field(mapping: dict[str, Any], name: str, kind: type[Any]) -> Any:
    value = mapping.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        _corrupt(f"field {name!r} missing or not {kind.__name__}")
    return value


def _b64_field(mapping: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(_field(mapping, name, str), validate=True)
    except ValueError:  # binascii.Error
        _corrupt(f"field {name!r} is not base64")


def _corrupt(detail: str) -> NoReturn:
    raise KeyFileCorrupt(detail=detail)


def _write_atomically(path: Path, data: bytes, *, replace: bool) -> None:
    """Write `data` to `path` durably: temp file, fsync, rename, fsync the directory.

    With replace=False an existing file is never overwritten (FileExistsError).
    """
    directory = path.parent
    renamed = False
    try:
        handle_fd, temp_name = tempfile.mkstemp(
            dir=directory, prefix=f".{path.name}.", suffix=".tmp"
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(handle_fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if os.name == "posix":
                temp.chmod(0o600)  # mkstemp already does this; say it where it matters
            if replace:
                temp.replace(path)
            else:
                _rename_no_clobber(temp, path)
            renamed = True
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(directory)
    except FileExistsError:
        raise
    except OSError as exc:
        _raise_write_error(exc, renamed=renamed)


def _rename_no_clobber(source: Path, target: Path) -> None:
    if os.name == "nt":
        source.rename(target)  # Windows rename refuses an existing target
        return
    try:
        target.hardlink_to(source)  # atomic, and fails if target exists
    except FileExistsError:
        raise
    except OSError:
        # Filesystems without hard links: a small race window, accepted.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "key file exists") from None
        source.replace(target)
        return
    source.unlink()


def _fsync_directory(directory: Path) -> None:
    if os.name == "nt":
        return  # directories cannot be opened for fsync on Windows; NTFS journals renames
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some filesystems do not support directory fsync
            raise
    finally:
        os.close(fd)


def _raise_write_error(exc: OSError, *, renamed: bool) -> NoReturn:
    code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    if not renamed and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        raise StoreFull(
            "The key file could not be saved because the disk is full. "
            "Free some space and try again; nothing was changed.",
            detail=code,
        ) from None
    if renamed:
        raise StoreIOError(
            "The new key file was written, but the computer could not confirm it is safely "
            "on disk. Use the new passphrase; if it keeps happening, contact IT.",
            detail=code,
        ) from None
    raise StoreIOError(
        "The key file could not be saved. Nothing was changed. "
        "Try again; if it keeps happening, contact IT.",
        detail=code,
    ) from None
