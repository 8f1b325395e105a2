"""Fixtures for the in-process end-to-end tests: a world (service, people, laptops) over the
`database_url` of the server tests, so every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import World
from tests.server.conftest import database_url  # noqa: F401  (the fixture, reused as is)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:  # noqa: F811
    made = World(database_url, tmp_path)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in is not what these tests are about: a cheap Argon2id profile for their people
    (the real profile and its rehash rule are tested in tests/server/test_auth.py)."""
    from argon2 import PasswordHasher, Type

    from sofs_tui.server import auth

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(auth, "PASSWORD_HASHER", quick)
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
