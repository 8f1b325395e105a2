"""The log file: opened with the first record (not before the app's first frame), private."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sofs_tui.logging_setup import LOG_FILE_NAME, close_logging, configure_logging, log_event
from tests.support.fresh_python import run_fresh_python


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "logs"
    close_logging()


def test_the_file_is_made_with_the_first_record_readable_by_its_owner_only(log_dir: Path) -> None:
    path = configure_logging(log_dir)
    assert path == log_dir / LOG_FILE_NAME and log_dir.is_dir() and not path.exists()
    log_event("store_opened", cases=3)
    assert path.stat().st_mode & 0o077 == 0
    assert "event=store_opened cases=3" in path.read_text(encoding="utf-8")


def test_records_from_several_threads_all_reach_the_one_file(log_dir: Path) -> None:
    path = configure_logging(log_dir)

    def write(n: int) -> None:
        for _ in range(20):
            log_event("saved", n=n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_logging()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 80 and all("event=saved n=" in line for line in lines)


def test_configuring_the_log_imports_no_file_handler_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sofs_tui.logging_setup import configure_logging, log_event\n"
        f"configure_logging(Path({str(tmp_path / 'logs')!r}))\n"
        "before = 'logging.handlers' in sys.modules\n"
        "log_event('exit', code=0)\n"
        "print(before, 'logging.handlers' in sys.modules)\n"
    )
    assert run_fresh_python(code).split() == ["False", "True"]
