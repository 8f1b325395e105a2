"""The in-process end-to-end world: the real service, real laptops, and a journal of saves.

`Service` is `create_app` over the test database (SQLite file or PostgreSQL schema) with an
injectable clock; people are made with the real admin functions and sign in with the real
`/auth/token`. A `Laptop` is an encrypted client store in its own folder, driven by the real
`SyncEngine` and `SyncClient` through a `FaultTransport`; its clock is the store clock, which
a test may skew. A laptop can be killed at a failpoint (`die`) and started again from its
files on disk (`restart`). Every edit a test makes through a laptop is a real store unit of
work, and each successful save is written to the `Journal`, which lives outside the system
under test and is what the invariant checks (oracle.py) hold the system to.
"""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from sofs_tui.domain.enums import Section
from sofs_tui.server import admin
from sofs_tui.server.app import create_app
from sofs_tui.server.db import METADATA
from sofs_tui.server.settings import ServerSettings
from sofs_tui.store import cases, changes, mapping, sync_local
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, open_with_key
from sofs_tui.store.tables import Assessment, Entry
from sofs_tui.sync.client import SyncClient
from sofs_tui.sync.credentials import Credentials
from sofs_tui.sync.engine import Backoff, SyncEngine, SyncSummary
from tests.e2e.faults import ClientCrash, FaultTransport

#: Loopback, as the client insists for plain http; the ASGI transport never opens a socket.
SERVICE_URL = "http://127.0.0.1:8765"
PASSWORD = "a long e2e test passphrase"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENED_ON = date(2026, 3, 2)


class Clock:
    """A clock a test moves by hand: `moment + offset` (the offset is the skew)."""

    def __init__(self, start: datetime = T0) -> None:
        self.moment = start
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self.moment + self.offset

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def skew(self, **delta: float) -> None:
        """Move this clock away from the true time (and back with a negative delta)."""
        self.offset += timedelta(**delta)


# --- The service --------------------------------------------------------------------------------


class Service:
    """The real app over `database_url`, with admin helpers and read-only views of its tables."""

    def __init__(self, database_url: str, folder: Path, clock: Clock) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.clock = clock
        self.app = create_app(
            ServerSettings(data_dir=folder, database_url=database_url), clock=clock
        )
        self.user_ids: dict[str, str] = {}

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.state.engine
        return engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # -- administration, through the real admin functions ---------------------------------------

    def team(self, name: str) -> None:
        with self.session() as session:
            admin.create_team(session, name, actor="admin", now=self.clock())

    def person(self, username: str, role: str, team: str, manages: tuple[str, ...] = ()) -> None:
        with self.session() as session:
            user = admin.create_user(
                session, username, PASSWORD, role, team, actor="admin", now=self.clock()
            )
            self.user_ids[username] = user.id
        for managed in manages:
            with self.session() as session:
                admin.make_manager_of(session, username, managed, actor="admin", now=self.clock())

    def reassign(self, case_id: str, *, team: str, lead: str | None = None) -> None:
        with self.session() as session:
            admin.reassign_case(
                session, case_id, team=team, lead=lead, actor="admin", now=self.clock()
            )

    def rotate_epoch(self) -> str:
        from sofs_tui.server.migrate import rotate_epoch

        return rotate_epoch(self.engine)

    def backup(self) -> Callable[[], None]:
        """Take a backup of the database now; returns `restore`, which puts it back as it was
        (every later commit gone) and then, as the runbook says, rotates the epoch (F21).

        SQLite: a copy of the file through SQLite's online backup, copied back the same way.
        PostgreSQL: a copy of every table beside it in the test's schema, copied back over
        emptied tables (what a point-in-time restore leaves, without a second server)."""
        tables = [t.name for t in METADATA.sorted_tables]
        if self.database_url.startswith("sqlite"):
            live = self.database_url.removeprefix("sqlite:///")
            copy = f"{live}.backup"
            _sqlite_copy(live, copy)

            def restore() -> None:
                self.engine.dispose()
                _sqlite_copy(copy, live)
                self.rotate_epoch()

            return restore
        with self.engine.begin() as connection:
            for name in tables:
                connection.execute(text(f'CREATE TABLE "backup_{name}" AS TABLE "{name}"'))

        def restore_tables() -> None:
            with self.engine.begin() as connection:
                listed = ", ".join(f'"{name}"' for name in tables)
                connection.execute(text(f"TRUNCATE {listed}"))
                for name in tables:  # parents first
                    connection.execute(text(f'INSERT INTO "{name}" TABLE "backup_{name}"'))
            self.rotate_epoch()

        return restore_tables


def _sqlite_copy(source: str, target: str) -> None:
    """Copy one SQLite database over another, page by page (safe with WAL and readers)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


# --- The journal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Save:
    """One successful local save of one field (the value as the store holds it)."""

    laptop: str
    entity: str
    record_id: str
    field: str
    value: Any
    order: int


@dataclass
class Journal:
    """Every successful save, appended after the store's commit returned (the moment the app
    may say "Saved"). Kept outside the system under test."""

    saves: list[Save] = field(default_factory=list)

    def note(self, laptop: str, entity: str, record_id: str, **values: Any) -> None:
        for name, value in values.items():
            self.saves.append(Save(laptop, entity, record_id, name, value, len(self.saves)))

    def latest(self) -> list[Save]:
        """The last value each laptop saved in each field of each record (a laptop's own later
        save supersedes its earlier one: that is an edit, not a loss)."""
        last: dict[tuple[str, str, str], Save] = {}
        for save in self.saves:
            last[(save.laptop, save.record_id, save.field)] = save
        return sorted(last.values(), key=lambda s: s.order)


# --- A laptop -----------------------------------------------------------------------------------


class Laptop:
    """One worker's computer: an encrypted store, the sync engine, and a fault transport."""

    def __init__(
        self, name: str, role: str, service: Service, folder: Path, journal: Journal
    ) -> None:
        self.name = name
        self.role = role
        self.service = service
        self.folder = folder
        self.journal = journal
        self.clock = Clock()
        self._key = secrets.token_bytes(32)  # the keyring's copy of the data key
        self.transport = FaultTransport(service.app)
        self.client = SyncClient(SERVICE_URL, transport=self.transport)
        self.dead = False
        self.crashes = 0
        self._corpse: Engine | None = None
        self.store = open_with_key(
            folder / DB_NAME, DataKey(self._key), Actor(name, role), create=True
        )
        self.store.clock = self.clock
        self.engine = self._new_engine()

    def _new_engine(self) -> SyncEngine:
        async def password() -> str:
            return PASSWORD

        credentials = Credentials(
            None, SERVICE_URL, self.name, device_id=self.store.device_id, ask_password=password
        )
        return SyncEngine(
            self.store,
            self.client,
            credentials,
            device_label=f"{self.name}'s laptop",
            backoff=Backoff(rand=lambda: 0.5),
            lock_wait=0.0,
        )

    @property
    def device_id(self) -> str:
        return self.store.device_id

    # -- sync, crash, restart ----------------------------------------------------------------------

    async def sync(self) -> SyncSummary | None:
        """One sync; None when the laptop was killed during it (it is started again)."""
        assert not self.dead
        try:
            summary: SyncSummary | None = await self.engine.sync()
        except ClientCrash:
            summary = None
        if self.killed():
            await self.restart()
            return None
        return summary

    async def sync_ok(self) -> SyncSummary:
        summary = await self.sync()
        assert summary is not None and summary.ok, summary and summary.errors
        return summary

    def killed(self) -> bool:
        return self.dead

    def die(self) -> None:
        """kill -9: from now on nothing this process does reaches the disk. An open write
        transaction rolls back when its exception unwinds (as SQLite's journal would)."""
        self.dead = True
        self.crashes += 1
        self._corpse = self.store.engine
        self.store.engine = None  # every later unit of work raises StoreLocked

    async def restart(self) -> None:
        """Start the app again from the files on disk, and sign in again."""
        if self._corpse is not None:
            self._corpse.dispose()
            self._corpse = None
        self.store = open_with_key(self.folder / DB_NAME, DataKey(self._key))
        self.store.clock = self.clock
        self.engine = self._new_engine()
        self.dead = False

    def reopen(self) -> None:
        """Close and open the store again (an ordinary restart, for F21's copy of the files)."""
        assert self.store.engine is not None
        self.store.engine.dispose()
        self.store = open_with_key(self.folder / DB_NAME, DataKey(self._key))
        self.store.clock = self.clock
        self.engine = self._new_engine()

    async def close(self) -> None:
        if self._corpse is not None:
            self._corpse.dispose()
        if self.store.engine is not None:
            self.store.engine.dispose()
        await self.client.aclose()

    # -- the service as this person sees it ------------------------------------------------------

    async def get(self, path: str, **params: Any) -> Any:
        """GET a service endpoint with this person's access token (JSON answer)."""
        token = await self.engine._credentials.access_token(self.client)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.service.app), base_url=SERVICE_URL
        ) as http:
            response = await http.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        return response.status_code, response.json()

    # -- edits (real units of work), each journaled after its commit ----------------------------

    def create_case(self, reference: str, family_name: str = "Family") -> str:
        case = cases.create_case(
            self.store, reference=reference, family_name=family_name, opened_on=OPENED_ON
        )
        self.journal.note(self.name, "case", case.id, family_name=case.family_name)
        return case.id

    def create_assessment(self, case_id: str, title: str = "Mapping") -> str:
        assessment = mapping.create_assessment(self.store, case_id, title=title)
        self.journal.note(self.name, "assessment", assessment.id, title=assessment.title)
        return assessment.id

    def add_entry(self, assessment_id: str, text: str, section: Section = Section.HARM) -> str:
        entry = mapping.save_entry(self.store, assessment_id, section=section, text=text)
        self.journal.note(self.name, "entry", entry.id, text=entry.text)
        return entry.id

    def edit_entry(self, entry_id: str, text: str) -> None:
        assessment_id = self.row(Entry, entry_id).assessment_id
        entry = mapping.save_entry(self.store, assessment_id, entry_id=entry_id, text=text)
        self.journal.note(self.name, "entry", entry.id, text=entry.text)

    def delete_entry(self, entry_id: str) -> None:
        mapping.delete_entry(self.store, entry_id)
        self.journal.note(self.name, "entry", entry_id, deleted=True)

    def edit_header(self, assessment_id: str, **fields: str) -> None:
        """Change fields of the assessment's header (title, zero_wording, ten_wording)."""
        with self.store.write() as session:
            row = changes.get(session, Assessment, assessment_id, "assessment")
            done = changes.update(session, self.store, row, **fields)
        self.journal.note(self.name, "assessment", assessment_id, **done)

    def resolve(self, conflict_id: str, how: str, text: str | None = None) -> str:
        """Resolve a conflict as a person would on the conflicts screen."""
        view = sync_local.get_conflict(self.store, conflict_id)
        if how == "keep_theirs":
            result = sync_local.keep_theirs(self.store, conflict_id)
            kept = view.theirs
        elif how == "keep_mine":
            result = sync_local.keep_mine(self.store, conflict_id)
            kept = view.mine
        elif how == "keep_both":
            result = sync_local.keep_both(self.store, conflict_id)
            kept = view.theirs
            self.journal.note(self.name, view.entity, result, text=view.mine["text"])
        else:
            assert how == "edit_merged" and text is not None
            result = sync_local.edit_merged(self.store, conflict_id, {"text": text})
            kept = view.theirs | {"text": text}
        journaled = {k: v for k, v in kept.items() if k in ("text", "title", "zero_wording")}
        self.journal.note(self.name, view.entity, view.record_id, **journaled)
        return result

    # -- reading the store -------------------------------------------------------------------------

    def row(self, table: type[Any], record_id: str) -> Any:
        with self.store.read() as session:
            found = session.get(table, record_id)
        assert found is not None, f"{self.name} has no {table.__name__} {record_id}"
        return found

    def rows(self, table: type[Any]) -> list[Any]:
        with self.store.read() as session:
            return list(session.exec(select(table)).all())

    def open_conflicts(self) -> list[sync_local.ConflictView]:
        return sync_local.list_conflicts(self.store, status="open")


# --- The world ----------------------------------------------------------------------------------


class World:
    """A service, its teams and people, their laptops and the journal of their saves."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.folder = folder
        self.server_clock = Clock()
        self.service = Service(database_url, folder / "service", self.server_clock)
        self.journal = Journal()
        self.laptops: dict[str, Laptop] = {}
        self._teams: set[str] = set()

    def laptop(
        self, name: str, role: str = "worker", team: str = "team-a", manages: tuple[str, ...] = ()
    ) -> Laptop:
        """A person on the service with a laptop of their own (signed in at its first sync)."""
        for needed in (team, *manages):
            if needed not in self._teams:
                self.service.team(needed)
                self._teams.add(needed)
        self.service.person(name, role, team, manages)
        folder = self.folder / f"laptop-{name}-{uuid.uuid4().hex[:6]}"
        made = Laptop(name, role, self.service, folder, self.journal)
        self.laptops[name] = made
        return made

    def team(self, name: str) -> None:
        if name not in self._teams:
            self.service.team(name)
            self._teams.add(name)

    async def sync_all(self, rounds: int = 2) -> None:
        """Everyone syncs, `rounds` times over, each sync finishing cleanly."""
        for _ in range(rounds):
            for laptop in self.laptops.values():
                await laptop.sync_ok()

    async def close(self) -> None:
        for laptop in self.laptops.values():
            await laptop.close()
        self.service.close()
