"""The service's tables (their own metadata, apart from the client's) and its engine.

SQLite (a file in the data dir) by default; PostgreSQL in production through
`SOFS_DATABASE_URL=postgresql+psycopg://…`. All coordination between stateless workers goes
through these tables: unique change ids, device rows locked per push, record rows locked per
change, and the one-row `sync_clock` whose update orders every write by commit (SYNC.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Engine, Index, MetaData, Text, create_engine, event
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel

from sofs_tui.server.types import UTCDateTime


def utc_now() -> datetime:
    return datetime.now(UTC)


# Named constraints, so later Alembic migrations can alter them on SQLite (batch mode) too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ServerModel(
    SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))
):
    """Base of the service's tables: a metadata of their own."""


def _when(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _json() -> Any:
    return Field(default="{}", sa_type=Text)


class Team(ServerModel, table=True):
    __tablename__ = "team"
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=120, unique=True)


class User(ServerModel, table=True):
    __tablename__ = "app_user"
    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(max_length=120, unique=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=16)  # worker | manager | admin
    team_id: str | None = Field(default=None, foreign_key="team.id", max_length=36)
    disabled: bool = Field(default=False)
    created_at: datetime = _when()


class TeamManager(ServerModel, table=True):
    """A manager sees every case of the teams they manage (and of their own team)."""

    __tablename__ = "team_manager"
    user_id: str = Field(primary_key=True, foreign_key="app_user.id", max_length=36)
    team_id: str = Field(primary_key=True, foreign_key="team.id", max_length=36)


class Device(ServerModel, table=True):
    __tablename__ = "device"
    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="app_user.id", max_length=36, index=True)
    label: str = Field(default="", max_length=120)
    app_version: str = Field(default="", max_length=40)
    schema_version: int = Field(default=0)
    last_device_seq: int = Field(default=0)
    revoked: bool = Field(default=False)
    registered_at: datetime = _when()
    last_seen_at: datetime | None = _when(nullable=True)


class AuthToken(ServerModel, table=True):
    """Opaque tokens, stored only as SHA-256 hashes. Refresh tokens rotate within a family;
    reusing a spent one revokes the whole family (SECURITY R29)."""

    __tablename__ = "auth_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)  # access | refresh
    user_id: str = Field(foreign_key="app_user.id", max_length=36, index=True)
    device_id: str | None = Field(default=None, max_length=36, index=True)
    family_id: str = Field(max_length=36, index=True)
    issued_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = _when(nullable=True)
    revoked: bool = Field(default=False)


class LoginThrottle(ServerModel, table=True):
    """Failed logins per account and per address, shared by every worker."""

    __tablename__ = "login_throttle"
    key: str = Field(primary_key=True, max_length=200)  # "user:<name>" or "addr:<ip>"
    failures: int = Field(default=0)
    locked_until: datetime | None = _when(nullable=True)
    last_failure_at: datetime | None = _when(nullable=True)


class CaseScope(ServerModel, table=True):
    """Who a case belongs to: its team and lead worker. The server is the only authority."""

    __tablename__ = "case_scope"
    case_id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(default="", max_length=40)
    team_id: str | None = Field(default=None, foreign_key="team.id", max_length=36, index=True)
    lead_user_id: str | None = Field(
        default=None, foreign_key="app_user.id", max_length=36, index=True
    )


class Record(ServerModel, table=True):
    """The current version of every synced record, as JSON fields."""

    __tablename__ = "record"
    id: str = Field(primary_key=True, max_length=36)
    entity: str = Field(max_length=40)
    case_id: str = Field(max_length=36, index=True)
    rev: int
    deleted: bool = Field(default=False)
    data: str = _json()
    updated_at: datetime = _when()
    updated_by: str = Field(default="", max_length=120)


class RecordRevision(ServerModel, table=True):
    """Every version anyone saved, never changed (the history and the conflict 'theirs')."""

    __tablename__ = "record_revision"
    record_id: str = Field(primary_key=True, max_length=36)
    rev: int = Field(primary_key=True)
    entity: str = Field(max_length=40)
    data: str = _json()
    deleted: bool = Field(default=False)
    change_id: str | None = Field(default=None, max_length=36)
    author: str = Field(default="", max_length=120)
    device_id: str | None = Field(default=None, max_length=36)
    client_time: datetime | None = _when(nullable=True)
    received_at: datetime = _when()
    kind: str = Field(max_length=16)  # create | update | delete | merge | resolve


class ReceivedChange(ServerModel, table=True):
    """Every change a device sent, with its payload and its result (the idempotency key)."""

    __tablename__ = "received_change"
    __table_args__ = (
        Index("ix_received_device_seq", "device_id", "device_seq"),
        # Each push looks up its device's held changes to retry them (apply.py).
        Index("ix_received_device_status", "device_id", "status"),
    )
    change_id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(max_length=36)
    device_seq: int
    user_id: str = Field(max_length=36, index=True)
    entity: str = Field(max_length=40)
    record_id: str = Field(max_length=36, index=True)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    payload: str = _json()
    payload_sha256: str = Field(max_length=64)
    schema_version: int
    received_at: datetime = _when()
    status: str = Field(max_length=16)  # received | applied | conflict | rejected | held
    reason: str = Field(default="", max_length=60)
    result: str = _json()


class Conflict(ServerModel, table=True):
    __tablename__ = "conflict"
    id: str = Field(primary_key=True, max_length=36)
    entity: str = Field(max_length=40)
    record_id: str = Field(max_length=36, index=True)
    case_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=8)  # hard | soft
    status: str = Field(max_length=10, index=True)  # open | resolved
    base_rev: int | None = Field(default=None)
    rev_at_detection: int
    incoming_change_id: str = Field(max_length=36)
    incoming_op: str = Field(max_length=16)
    incoming_fields: str = _json()
    theirs: str = _json()
    author: str = Field(default="", max_length=120)
    device_id: str = Field(max_length=36)
    client_time: datetime = _when()
    detected_at: datetime = _when()
    resolved_by: str = Field(default="", max_length=120)
    resolved_at: datetime | None = _when(nullable=True)
    resolution_change_id: str | None = Field(default=None, max_length=36)


class SyncClock(ServerModel, table=True):
    """One row; updated last in every write transaction so `seq` follows commit order."""

    __tablename__ = "sync_clock"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)


class ChangeLog(ServerModel, table=True):
    """The pull stream: one row per committed event, in `seq` (commit) order."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_case_seq", "case_id", "seq"),)
    seq: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    kind: str = Field(max_length=16)  # record | gain | revoke | conflict | outcome
    entity: str = Field(default="", max_length=40)
    record_id: str = Field(default="", max_length=36)
    case_id: str = Field(default="", max_length=36)
    principal_user_id: str | None = Field(default=None, max_length=36, index=True)
    change_id: str | None = Field(default=None, max_length=36)
    conflict_id: str | None = Field(default=None, max_length=36)


class AuditEvent(ServerModel, table=True):
    """Append-only: who did what to which case, when, from which device. No record text."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    actor: str = Field(default="", max_length=120)
    device_id: str | None = Field(default=None, max_length=36)
    action: str = Field(max_length=40)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    record_id: str | None = Field(default=None, max_length=36)
    detail: str = Field(default="", max_length=400)


class ServerMeta(ServerModel, table=True):
    """One row: the epoch, rotated whenever the database is restored from a backup."""

    __tablename__ = "server_meta"
    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=36)


METADATA = ServerModel.metadata


#: Execution option for a read-only transaction: a deferred BEGIN on SQLite (see make_engine).
READ_ONLY = "sofs_read_only"


def make_engine(url: str) -> Engine:
    """The service's engine: SQLite in WAL with a busy timeout, or PostgreSQL (READ COMMITTED
    with explicit row locks, SYNC.md §7)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # SQLite serialises writers; taking the lock up front avoids upgrade deadlocks.
            # Readers that ask for `read_only=True` (pull pages) take a deferred snapshot instead
            # and never wait for, or block, a writer.
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
