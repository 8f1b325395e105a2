"""The sync lock (store/sync_lock.py): one sync at a time on a store, in one process or
several, and a lock that dies with its process (F8, F23)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.sync_lock import LOCK_SUFFIX, SyncLock, sync_lock_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

_HOLDER = """
import sys, time
from pathlib import Path
from sofs_tui.store.sync_lock import SyncLock
lock = SyncLock(Path(sys.argv[1]), "child")
print("held" if lock.acquire() else "busy", flush=True)
time.sleep(60)
"""


def spawn_lock_holder(path: Path) -> subprocess.Popen[str]:
    """A child process that takes the lock and keeps it until killed; returns once it holds."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    path = tmp_path / f"sofs.db{LOCK_SUFFIX}"
    child = spawn_lock_holder(path)
    yield path, child
    if child.poll() is None:
        child.kill()
        child.wait()


def test_a_live_holder_in_another_process_blocks_and_a_killed_one_frees_the_lock_at_once(
    holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    path, child = holder
    lock = SyncLock(path, "me")
    assert not lock.acquire()  # the child lives and holds it
    assert not lock.held
    os.kill(child.pid, signal.SIGKILL)  # kill -9: no finally, no clean-up of any kind
    child.wait(timeout=10)
    started = time.monotonic()
    assert lock.acquire()  # free the moment its process is gone, no lease to wait out
    assert time.monotonic() - started < 1.0
    assert path.read_text().split() == [str(os.getpid()), "me"]  # who holds it, for support
    lock.release()


def test_a_lock_held_here_blocks_another_process(tmp_path: Path) -> None:
    path = tmp_path / f"sofs.db{LOCK_SUFFIX}"
    lock = SyncLock(path)
    assert lock.acquire()
    child = subprocess.run(
        [sys.executable, "-c", _HOLDER.replace("time.sleep(60)", ""), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout.strip() == "busy", child.stderr
    lock.release()


def test_two_syncs_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    """The app's background sync and a "Sync now" have a lock object each, one file."""
    path = tmp_path / f"sofs.db{LOCK_SUFFIX}"
    background, now = SyncLock(path, "timer"), SyncLock(path, "sync now")
    assert background.acquire()
    assert background.acquire()  # its own holder asking again: still its
    assert not now.acquire()
    background.release()
    background.release()  # twice is harmless
    assert now.acquire()
    assert not background.acquire()
    now.release()
    assert background.acquire()
    background.release()


def test_the_lock_file_sits_beside_the_store_file(store: Store, store_path: Path) -> None:
    path = sync_lock_path(store)
    assert path.parent.resolve() == store_path.resolve()
    assert path.name.endswith(LOCK_SUFFIX)


def test_a_lock_file_that_cannot_be_opened_is_a_store_error_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "gone"  # e.g. the data folder was moved away while the app ran
    lock = SyncLock(folder / f"sofs.db{LOCK_SUFFIX}")
    with pytest.raises(StoreError, match="sync lock"):
        lock.acquire()
    assert not lock.held
    folder.mkdir()
    assert lock.acquire()  # nothing was left behind in this process's table
    lock.release()
