"""Processes, databases, people, stores and timing for the sync benchmarks (loopback only).

Both servers of a comparison run the same stack: uvicorn (as `sofs serve` configures it) in a
subprocess on 127.0.0.1 with a random port. Databases are a SQLite file, or a PostgreSQL schema
of its own on 127.0.0.1:5432 (skipped with the reason where PostgreSQL is absent).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

from sofs_tui.domain.enums import Section
from sofs_tui.server import admin
from sofs_tui.server.db import make_engine
from sofs_tui.store import changes
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import DB_NAME, Actor, Store, open_with_key
from sofs_tui.store.tables import Assessment, Case, Entry, Outbox
from sofs_tui.sync.protocol import Change
from tests.server.conftest import PG_URL, postgres_or_skip

PROJECT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"  # tests.server.test_auth's, passes the policy
_WORDS = [
    "mum", "dad", "nan", "school", "nursery", "visit", "home", "health", "injury", "bruise",
    "neglect", "support", "plan", "safety", "evening", "bedtime", "ring", "social", "worker",
    "monday", "police", "incident", "drinking", "shouting", "calm", "child", "sister",
    "brother", "garden", "kitchen", "doctor", "appointment", "attend", "agreed", "worried",
]  # fmt: skip

# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A server in its own session; `stop()` signals that session by the process's own id."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._output = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout: float = 60) -> float:
        """Seconds from now until /health answers 200."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"server not up in {timeout}s: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._output.close()


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def service(database_url: str, folder: Path, *, workers: int = 1) -> Iterator[Server]:
    """`python -m sofs_tui serve` on a random loopback port (it migrates the schema first)."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = _env(SOFS_DATABASE_URL=database_url, SOFS_SERVER_DATA_DIR=str(folder / "service"))
    server = Server([sys.executable, "-m", "sofs_tui", *args], env, folder / "serve.log", port)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


@contextmanager
def bare_app(database_url: str, folder: Path, *, create: bool) -> Iterator[Server]:
    """The bare yardstick app under uvicorn with `sofs serve`'s options (one worker, info
    log with access lines, no server header)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.bench._bare_sync_app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info", "--no-server-header",
    ]  # fmt: skip
    env = _env(BARE_DATABASE_URL=database_url, BARE_CREATE="1" if create else "0")
    server = Server(command, env, folder / "bare.log", port)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


# --- databases -------------------------------------------------------------------------------


@contextmanager
def database(kind: str, folder: Path, name: str = "server") -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    postgres_or_skip()
    import psycopg

    schema = f"bench_{name}_{uuid.uuid4().hex[:10]}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def add_people(database_url: str, teams: Mapping[str, list[str]]) -> None:
    """Teams of workers, through the admin functions (the schema must exist: serve made it)."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with Session(engine, expire_on_commit=False) as session:
            for team, usernames in teams.items():
                admin.create_team(session, team, actor="bench", now=now)
                for username in usernames:
                    admin.create_user(
                        session, username, PASSWORD, "worker", team, actor="bench", now=now
                    )
    finally:
        engine.dispose()


# --- HTTP ------------------------------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests to a real transport and notes each one as 'METHOD /path'."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- timing ----------------------------------------------------------------------------------

#: An op gets the round number; it returns the seconds it measured itself, or None to be
#: timed whole.
AsyncOp = Callable[[int], Awaitable[float | None]]


async def round_robin(
    rounds: int,
    ops: Mapping[str, AsyncOp],
    prepare: Callable[[int], Awaitable[None]] | None = None,
) -> dict[str, list[float]]:
    """_measure.round_robin for coroutines: every op once per round, order reversed on odd
    rounds, so drift hits every side alike. `prepare` (untimed) runs before each round."""
    names = list(ops)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        if prepare is not None:
            await prepare(index)
        for name in names if index % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            own = await ops[name](index)
            seconds[name].append(own if own is not None else time.perf_counter() - start)
    return seconds


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- records and stores ----------------------------------------------------------------------


def entry_text(rng: random.Random, length: int = 800) -> str:
    """A paragraph of worker-like prose, `length` characters (a record is ~1.1 KB of JSON)."""
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return (" ".join(words)[: length - 1] + ".").capitalize()


def open_store(folder: Path, username: str) -> Store:
    """A new encrypted store (random in-memory key) with the real clock."""
    return open_with_key(
        folder / DB_NAME, DataKey.generate(), Actor(username, "worker"), create=True
    )


def add_case(store: Store, reference: str) -> tuple[str, str]:
    """A case and its assessment, saved as a worker saves them: (case id, assessment id)."""
    with store.write() as session:
        case = changes.create(
            session, store, Case(id="", reference=reference, family_name="Family", opened_on=None)
        )
        assessment = changes.create(
            session, store, Assessment(id="", case_id=case.id, title="Assessment")
        )
        return case.id, assessment.id


def add_entries(store: Store, assessment_id: str, count: int, rng: random.Random) -> None:
    """`count` new entries with their outbox rows, a write transaction per hundred."""
    for start in range(0, count, 100):
        with store.write() as session:
            for n in range(start, min(count, start + 100)):
                entry = Entry(
                    id="",
                    assessment_id=assessment_id,
                    section=Section.HARM,
                    text=entry_text(rng),
                    position=f"a{n:06d}",
                )
                changes.create(session, store, entry)


def pending_changes(store: Store) -> list[Change]:
    """The pending outbox as protocol changes, in device order (read only)."""
    with store.read() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.state == "pending").order_by(col(Outbox.device_seq))
        ).all()
        return [
            Change(
                change_id=uuid.UUID(row.change_id),
                device_seq=row.device_seq,
                entity=row.entity,
                id=row.record_id,
                op=row.op,
                base_rev=row.base_rev,
                base_change_id=uuid.UUID(row.base_change_id) if row.base_change_id else None,
                fields=json.loads(row.fields),
                resolves=[uuid.UUID(c) for c in json.loads(row.resolves or "[]")],
                client_time=row.client_time,
                payload_sha256=row.payload_sha256,
            )
            for row in rows
        ]
