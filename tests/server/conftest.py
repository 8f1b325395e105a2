"""Server tests run against SQLite and, where it answers, PostgreSQL on 127.0.0.1:5432.

Each PostgreSQL test gets a schema of its own (search_path), dropped afterwards. Where
PostgreSQL is absent the PostgreSQL half skips with the reason, except under
SOFS_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.sync_support import Harness, Workspace, make_harness, workspace

PG_URL = os.environ.get(
    "SOFS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("SOFS_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not here"
        return f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__})"


_PG_PROBLEM: str | bool | None = False


def postgres_or_skip() -> None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_problem()
    if _PG_PROBLEM:
        if REQUIRE_PG:
            pytest.fail(f"{_PG_PROBLEM}; SOFS_REQUIRE_POSTGRES=1 makes it mandatory")
        pytest.skip(str(_PG_PROBLEM))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty service database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.db'}"
        return
    postgres_or_skip()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    """The service on `database_url` with a client that acts as whoever the test says."""
    harness = make_harness(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def ws(harness: Harness) -> Workspace:
    """A team with workers, a manager and a case with a mapping (alice's device has sent
    seq 1, the assessment)."""
    return workspace(harness)
