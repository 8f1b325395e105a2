"""Alembic's environment for the service schema: runs on the connection `migrate.upgrade` passes
in (no URL, no logging setup of its own), so the caller owns the transaction and the lock."""

from __future__ import annotations

from alembic import context

from sofs_tui.server.db import METADATA

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=METADATA,
    # SQLite alters tables by copying them; named constraints (db.NAMING_CONVENTION) survive.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
