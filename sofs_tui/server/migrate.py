"""Service schema migrations (Alembic, scripts in `server/migrations/`) and the server epoch.

`upgrade(engine)` brings any database, empty or older, to the newest schema in one
transaction. On PostgreSQL it first takes a transaction-scoped advisory lock, so several
workers started at once with `migrate=True` run the migrations one after another instead of
racing (production runs them once per deploy anyway, SYNC reference §7).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Arbitrary, fixed key for pg_advisory_xact_lock: "sofs" migrations.
_MIGRATION_LOCK = 0x736F6673


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        command.upgrade(_config(connection), "head")


def head_revision() -> str | None:
    """The newest revision the scripts define."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (None when it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def server_epoch(connection: Connection) -> str:
    """The epoch clients compare their cursors against (one row, written by migration 0001)."""
    epoch = connection.execute(text("SELECT epoch FROM server_meta WHERE id = 1")).scalar_one()
    return str(epoch)


def rotate_epoch(engine: Engine) -> str:
    """Give the database a new epoch: the runbook step after restoring a backup (F21). Every
    client's cursor then answers 410, and the clients re-push their sent log and resync."""
    epoch = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE server_meta SET epoch = :epoch WHERE id = 1"), {"epoch": epoch}
        )
    return epoch
