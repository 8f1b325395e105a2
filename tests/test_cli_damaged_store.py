"""The commands that write to the local store refuse a damaged one: the clear message on
stderr, no traceback, a non-zero exit status, and not one byte of any file changed.

The store is made as a worker would (`sofs init`, `sofs demo-data --cases 40`); then one bit
is flipped in the middle of three pages of case data, and quick_check is seen to fail.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sofs_tui.cli import main
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import DB_NAME, unlock

REPO_ROOT = Path(__file__).resolve().parents[1]
QAU_LOG = REPO_ROOT / "examples" / "qau_log_example.csv"
PASS = "correct horse battery"
CASES = 40


def _cli(data_dir: Path, *args: str) -> int:
    return main(
        ["--data-dir", str(data_dir), "--passphrase-stdin", *args],
        stdin=io.StringIO(PASS + "\n"),
        out=io.StringIO(),
    )


def _sofs(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sofs` in a process of its own, as a script would run it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sofs_tui", "--data-dir", str(data_dir), "--passphrase-stdin",
         *args],
        input=PASS + "\n", capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def _pages(db: Path) -> int:
    return db.stat().st_size // 4096


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A 40-case store made through the CLI (Argon2 at its test cost); its folder and the
    number of pages the empty store used."""
    data_dir = tmp_path_factory.mktemp("made") / "data"
    with pytest.MonkeyPatch.context() as patch:
        import sofs_tui.store.store as store_module

        patch.setattr(store_module, "KdfParams", lambda: KdfParams.FAST_FOR_TESTS)
        assert _cli(data_dir, "init", "--user", "a.worker") == 0
        schema_pages = _pages(data_dir / DB_NAME)
        assert _cli(data_dir, "demo-data", "--cases", str(CASES)) == 0
    assert sorted(p.name for p in data_dir.iterdir()) == ["keyfile.json", DB_NAME]
    return data_dir, schema_pages


def _copy(made: tuple[Path, int], tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(made[0], data_dir)
    return data_dir


@pytest.fixture
def damaged(made: tuple[Path, int], tmp_path: Path) -> Path:
    data_dir = _copy(made, tmp_path)
    db = data_dir / DB_NAME
    data = bytearray(db.read_bytes())
    first, count = made[1] + 1, _pages(db)
    for page in (first + (count - first) * k // 4 for k in (1, 2, 3)):
        data[(page - 1) * 4096 + 2048] ^= 0x01
    db.write_bytes(bytes(data))
    store = unlock(data_dir, PASS)
    try:
        assert store.check_integrity() is False, "quick_check should fail on the damaged file"
    finally:
        store.lock()
    assert sorted(p.name for p in data_dir.iterdir()) == ["keyfile.json", DB_NAME]
    return data_dir


def _snapshot(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in data_dir.iterdir()}


def _assert_refused(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 0
    assert done.stdout == ""
    err = done.stderr
    assert "case store file on this computer is damaged" in err
    assert "will not save anything" in err and "synced is safe on the service" in err
    assert "Contact IT" in err and "keep the store file" in err
    assert "Traceback" not in err and "Error" not in err
    assert "hmac" not in err.lower() and "ERROR CORE" not in err


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("import", "conferences", str(QAU_LOG)), id="import-conferences"),
        pytest.param(("demo-data", "--cases", "3"), id="demo-data"),
    ],
)
def test_a_command_that_writes_refuses_a_damaged_store_and_changes_nothing(
    damaged: Path, command: tuple[str, ...]
) -> None:
    before = _snapshot(damaged)
    done = _sofs(damaged, *command)
    _assert_refused(done)
    assert _snapshot(damaged) == before  # same files (no -wal, no -shm), bytes and times


def test_the_same_commands_work_on_a_sound_store(made: tuple[Path, int], tmp_path: Path) -> None:
    # The control for the test above: the file, the log and the commands are fine.
    data_dir = _copy(made, tmp_path)
    done = _sofs(data_dir, "import", "conferences", str(QAU_LOG))
    assert done.returncode == 0, done.stderr
    assert "Imported" in done.stdout
    done = _sofs(data_dir, "demo-data", "--cases", "3")
    assert done.returncode == 0, done.stderr
    assert "Added 3 invented cases" in done.stdout
