"""`sofs --demo` as a person runs it: the real program in a 100×30 pseudo-terminal.

It must reach the invented caseload, quit on ctrl+q with exit code 0, and take its throwaway
store with it. HOME, the XDG folders and TMPDIR all point into the test's own folder, so
wherever the demo puts its store (a temporary folder, or its state folder), it is inside that
folder and can be found by the store's file name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sofs_tui.logging_setup import LOG_FILE_NAME
from sofs_tui.store.files import DB_NAME, KEYFILE_NAME
from tests.ui.pty_session import CTRL_Q, PtySession, sofs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

CASELOAD_SHOWN = b"DEMO-"  # the invented references, DEMO-00001…
START_TIMEOUT_S = 60.0
QUIT_TIMEOUT_S = 10.0


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder, holding HOME, the XDG folders and TMPDIR of the child process."""
    home = tmp_path / "home"
    for name in ("TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setenv("HOME", str(home))
    return tmp_path


@pytest.fixture
def demo(sandbox: Path) -> Iterator[PtySession]:
    """`python -m sofs_tui --demo`, started and showing its caseload; killed if still running."""
    assert list(sandbox.rglob(DB_NAME)) == []
    session = PtySession(sofs("--demo"), cols=100, rows=30)
    try:
        try:
            session.read_until(CASELOAD_SHOWN, timeout=START_TIMEOUT_S)
        except AssertionError as failure:  # the log names an incident's type and place
            logs = "".join(log.read_text() for log in sandbox.rglob(LOG_FILE_NAME))
            raise AssertionError(f"{failure}\nsofs.log:\n{logs}") from None
        yield session
    finally:
        if session.status is None:  # not reaped by wait(): still ours to stop
            session.kill()


def demo_folders(sandbox: Path) -> list[Path]:
    """Folders holding a store: only the demo makes one in the sandbox."""
    return sorted({path.parent for path in sandbox.rglob(DB_NAME)})


def test_the_demo_quits_on_ctrl_q_with_code_0_and_removes_its_folder(
    sandbox: Path, demo: PtySession
) -> None:
    folders = demo_folders(sandbox)
    assert len(folders) == 1, folders  # the throwaway store, while the app runs
    demo.send(CTRL_Q)
    assert demo.wait(timeout=QUIT_TIMEOUT_S) == 0
    assert not folders[0].exists()
    assert demo_folders(sandbox) == []
    assert b"Traceback" not in demo.output


def test_the_demo_keeps_its_key_in_memory_with_no_key_file_on_disk(
    sandbox: Path, demo: PtySession
) -> None:
    # Looked for while the caseload is on screen: the demo folder goes at exit, key file too.
    key_files = sorted(sandbox.rglob(KEYFILE_NAME))
    demo.send(CTRL_Q)
    assert demo.wait(timeout=QUIT_TIMEOUT_S) == 0
    assert key_files == []


def test_with_data_dir_the_demo_store_lives_inside_it(sandbox: Path) -> None:
    data_dir = sandbox / "chosen"
    session = PtySession(sofs("--data-dir", str(data_dir), "--demo"), cols=100, rows=30)
    try:
        session.read_until(CASELOAD_SHOWN, timeout=START_TIMEOUT_S)
        folders = demo_folders(sandbox)
        assert len(folders) == 1 and folders[0].is_relative_to(data_dir), folders
        session.send(CTRL_Q)
        assert session.wait(timeout=QUIT_TIMEOUT_S) == 0
    finally:
        if session.status is None:
            session.kill()
    assert demo_folders(sandbox) == []
