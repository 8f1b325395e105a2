"""Every test gets its own home, config and data folders and an in-memory keyring.

Nothing a test does can touch the user's real home, settings or credential store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sofs_tui.store.store import Store
from tests.support.memory_keyring import MEMORY_KEYRING


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_KEYRING)
    monkeypatch.delenv("SOFS_DATABASE_URL", raising=False)


class FakeClock:
    """A clock the test moves by hand (for deadlines, locks and timestamps)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    # A Wednesday morning in term time, London winter time (UTC+0).
    return FakeClock(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(store_path: Path, clock: FakeClock) -> Iterator[Store]:
    """An encrypted store with a random in-memory key, a worker, and the fake clock."""
    from sofs_tui.store.keys import DataKey
    from sofs_tui.store.store import DB_NAME, Actor, open_with_key

    opened = open_with_key(
        store_path / DB_NAME, DataKey.generate(), Actor("t.worker", "worker"), create=True
    )
    opened.clock = clock
    yield opened
    opened.lock()
