"""The service schema comes from Alembic migrations and equals `db.METADATA` on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from sofs_tui.server.db import METADATA, make_engine
from sofs_tui.server.migrate import current_revision, head_revision, rotate_epoch, upgrade


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, METADATA))


def test_upgrade_of_an_empty_database_gives_exactly_the_metadata(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _differences(engine) == []


def test_a_second_upgrade_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        before = connection.execute(text("SELECT epoch FROM server_meta")).scalar_one()
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT epoch FROM server_meta")).scalar_one() == before
        assert connection.execute(text("SELECT count(*) FROM sync_clock")).scalar_one() == 1
    assert current_revision(engine) == head_revision()
    assert _differences(engine) == []


def test_migration_seeds_the_clock_at_zero_and_a_fresh_epoch(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT seq FROM sync_clock WHERE id = 1")).scalar_one() == 0
        epoch = connection.execute(text("SELECT epoch FROM server_meta WHERE id = 1")).scalar_one()
    assert len(epoch) == 36
    assert rotate_epoch(engine) != epoch


def test_the_metadata_check_notices_a_missing_index(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_change_log_case_seq"))
    assert _differences(engine) != []
