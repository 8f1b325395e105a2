"""One sync at a time on a store, whoever runs it: the app's background sync, its "Sync now",
or `sofs sync` in another window (F23).

The lock is an OS lock on a file beside the database (`sofs.db.sync-lock`), held open for the
whole sync: `fcntl.flock` on POSIX, `msvcrt.locking` on Windows. The operating system drops it
when its process ends, however it ends (kill -9, a power cut), so a killed sync never shuts
the next one out (F8). Those locks belong to an open file, not to a process, so two syncs in
one process exclude each other too; a table of the files this process holds makes that
certain also where a file system turns them into per-process locks (NFS).

The file is never deleted (removing a lock file while another process waits on it lets two
hold "the" lock), holds nothing secret, and says who holds it (pid and owner) for support.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store

LOCK_SUFFIX = ".sync-lock"

_held_lock = threading.Lock()
_held: set[str] = set()  # lock files this process holds

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _os_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # byte 0, without waiting
        except OSError:
            return False
        return True

    def _os_unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _os_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _os_unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class SyncLock:
    """The sync lock of one store file. `acquire` never waits; `release` is idempotent."""

    def __init__(self, path: Path, owner: str = "") -> None:
        self.path = path
        self.owner = owner
        self._key = str(path.resolve())
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock now if nobody holds it (this process or another); False if taken."""
        if self._fd is not None:
            return True
        with _held_lock:
            if self._key in _held:
                return False
            _held.add(self._key)
        fd: int | None = None
        try:
            fd = self._open_locked()
        except OSError as exc:  # not "taken": the file or its lock cannot be had at all
            raise StoreError(
                "sofs could not take its sync lock in its data folder. Check that the folder "
                "is on this computer's own disk and not read-only, then sync again.",
                detail=f"sync lock: {type(exc).__name__} errno {exc.errno}",
            ) from exc
        finally:
            if fd is None:
                with _held_lock:
                    _held.discard(self._key)
        if fd is None:
            return False
        self._fd = fd
        with contextlib.suppress(OSError):  # who holds it: for support only
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {self.owner}\n".encode())
        return True

    def _open_locked(self) -> int | None:
        """The lock file's descriptor, locked; None if another holds the lock. The descriptor
        is not inherited by child processes (Python's default): none outlives us holding it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            locked = _os_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            return None
        return fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                _os_unlock(fd)
            os.close(fd)
        finally:
            with _held_lock:
                _held.discard(self._key)


def sync_lock_path(store: Store) -> Path:
    """The lock file of `store`: its database file's name plus `.sync-lock`, beside it."""
    with store.read() as session:
        rows = session.connection().execute(text("PRAGMA database_list")).all()
    database = next((str(r[2]) for r in rows if r[1] == "main"), "")
    if not database:
        raise StoreError("This store has no file on disk, so it cannot be synced.")
    path = Path(database)
    return path.with_name(path.name + LOCK_SUFFIX)
