"""Where `sofs --demo` keeps its throwaway store: under the run's own folders (so `--data-dir`
moves it too), and a killed run's leftovers go at the next demo start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sofs_tui.app import _new_demo_folder
from sofs_tui.paths import app_paths


def test_the_demo_store_lives_under_data_dir(tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "data")

    folder = _new_demo_folder(paths.demo_root)

    assert folder.parent == tmp_path.resolve() / "data" / "state" / "demo"
    assert (folder / "owner.pid").read_text() == str(os.getpid())
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_a_killed_runs_folder_goes_and_a_running_ones_stays(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    killed = root / "sofs-demo-killed"
    killed.mkdir(parents=True)
    (killed / "owner.pid").write_text(ended.stdout.strip())
    (killed / "sofs.db").write_bytes(b"\0" * 64)
    ownerless = root / "sofs-demo-ownerless"  # a run killed before writing its owner file
    ownerless.mkdir()
    an_hour_ago = time.time() - 3600
    os.utime(ownerless, (an_hour_ago, an_hour_ago))
    being_made = root / "sofs-demo-being-made"  # another run between mkdtemp and owner.pid
    being_made.mkdir()
    running = root / "sofs-demo-running"
    running.mkdir()
    (running / "owner.pid").write_text(str(os.getppid()))  # alive: the test runner's parent

    new = _new_demo_folder(root)

    assert not killed.exists() and not ownerless.exists()
    assert running.exists() and being_made.exists() and new.exists()


def test_without_a_harmless_way_to_ask_whether_the_owner_lives_nothing_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On Windows, os.kill(pid, 0) would send Ctrl-C to the console: never asked there.
    killed = tmp_path / "sofs-demo-killed"
    killed.mkdir()
    (killed / "owner.pid").write_text("999999999")
    monkeypatch.setattr(sys, "platform", "win32")

    _new_demo_folder(tmp_path)

    assert killed.exists()
