"""Real processes for the layer-B sync tests (reference/sync.md §5.1): `sofs serve` under
uvicorn on 127.0.0.1, and laptops (data dirs) driven through `python -m sofs_tui`, or through
the same engine in this process where a test needs a short client timeout. What each side
holds is read in `state.py`.

Every address is 127.0.0.1. Laptop stores use the fast test KDF so that each `sofs sync`
subprocess unlocks quickly; everything else is the production path.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sofs_tui.server import admin
from sofs_tui.server.db import make_engine
from sofs_tui.server.db import session as server_session
from sofs_tui.server.migrate import upgrade
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import Actor, Store, enrol, unlock

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TEAM = "Northside"
PASSWORD = "Kettle-Harbour-Lantern-42"  # every test user's service password
#: Worker and manager accounts on a provisioned service.
PEOPLE = {"alice": "worker", "bob": "worker", "carol": "worker", "mo": "manager"}
#: Environment variables a child must not inherit from the test run.
_NOT_INHERITED = ("SOFS_CRASH_AT", "SOFS_FAILPOINT", "SOFS_DATABASE_URL", "SOFS_SERVER_DATA_DIR")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def child_env(**extra: str | None) -> dict[str, str]:
    """The test's own (isolated) environment for a child, plus `extra` (None: left out)."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


# --- The service -------------------------------------------------------------------------------


class Service:
    """`sofs serve` in its own process group (uvicorn, and its workers when there are several),
    restartable on the same port."""

    def __init__(self, data_dir: Path, database_url: str, *, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "serve.log"

    def start(self, *, failpoint: str | None = None, timeout: float = 60.0) -> Service:
        """Start and wait until /health answers; `failpoint` arms SOFS_FAILPOINT."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        argv = [sys.executable, "-m", "sofs_tui", "serve", "--host", HOST]
        argv += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        argv += ["--workers", str(self.workers)]
        env = child_env(SOFS_DATABASE_URL=self.database_url, SOFS_FAILPOINT=failpoint)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts} failpoint={failpoint}\n".encode())
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the workers go with it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sofs serve exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"sofs serve did not answer in {timeout}s:\n{self.log_tail()}")

    def _signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """Ask it to stop (SIGTERM), as an operator would; kill it if it does not."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        self._signal_group(signal.SIGKILL)  # any worker left behind

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=15)

    def wait_exit(self, timeout: float = 15.0) -> int:
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)  # its workers, if any
        return code

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def provision(database_url: str, people: dict[str, str] = PEOPLE) -> None:
    """Schema, one team, its workers and manager, as `sofs admin` makes them."""
    engine = make_engine(database_url)
    who: dict[str, Any] = {"actor": "e2e-test", "now": datetime.now(UTC)}
    try:
        upgrade(engine)
        with server_session(engine) as session:
            admin.create_team(session, TEAM, **who)
            for name, role in people.items():
                admin.create_user(session, name, PASSWORD, role, TEAM, **who)
                if role == "manager":
                    admin.make_manager_of(session, name, TEAM, **who)
    finally:
        engine.dispose()


# --- Laptops -----------------------------------------------------------------------------------


@dataclass
class Run:
    """A finished `sofs` command."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"{' '.join(self.argv[3:])} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


class Laptop:
    """One worker's data dir, driven like `sofs --data-dir DIR --passphrase-stdin …`."""

    def __init__(self, name: str, data_dir: Path, role: str | None = None) -> None:
        self.name = name
        self.data_dir = data_dir
        self.role = role or PEOPLE.get(name, "worker")
        self.passphrase = f"{name} laptop passphrase 1"

    def enrol(self) -> Laptop:
        actor = Actor(self.name, self.role)
        enrol(self.data_dir, self.passphrase, actor, KdfParams.FAST_FOR_TESTS).lock()
        return self

    def copy_to(self, data_dir: Path) -> Laptop:
        """The same laptop's disk on another path (a second, identical run)."""
        import shutil

        shutil.copytree(self.data_dir, data_dir)
        return Laptop(self.name, data_dir, self.role)

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        opened = unlock(self.data_dir, self.passphrase)
        try:
            yield opened
        finally:
            opened.lock()

    def argv(self, *args: str) -> list[str]:
        base = [sys.executable, "-m", "sofs_tui", "--data-dir", str(self.data_dir)]
        return [*base, "--passphrase-stdin", *args]

    def secrets(self) -> str:
        return f"{self.passphrase}\n{PASSWORD}\n"

    def sofs(self, *args: str, crash_at: str | None = None, timeout: float = 120.0) -> Run:
        argv = self.argv(*args)
        done = subprocess.run(
            argv,
            input=self.secrets(),
            capture_output=True,
            text=True,
            env=child_env(SOFS_CRASH_AT=crash_at),
            cwd=self.data_dir.parent,
            timeout=timeout,
        )
        return Run(argv, done.returncode, done.stdout, done.stderr)

    def here(self, *args: str) -> Run:
        """The same command run in this process: cheaper, for steps not under test."""
        from sofs_tui.cli import main

        argv = ["--data-dir", str(self.data_dir), "--passphrase-stdin", *args]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(argv, stdin=io.StringIO(self.secrets()), out=out)
        return Run([sys.executable, "-m", "sofs_tui", *argv], code, out.getvalue(), err.getvalue())

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The same, without waiting (several laptops at once)."""
        process = subprocess.Popen(
            self.argv(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=self.data_dir.parent,
        )
        assert process.stdin is not None
        process.stdin.write(self.secrets())
        process.stdin.close()
        process.stdin = None  # written and closed: `communicate` must not flush it
        return process

    def login(self, url: str, *, here: bool = False) -> Run:
        args = ("login", url, "--password-stdin")
        run = self.here(*args) if here else self.sofs(*args)
        assert run.returncode == 0, str(run)
        return run

    def sync(
        self, *, crash_at: str | None = None, expect: int | None = 0, here: bool = False
    ) -> Run:
        """`sofs sync` in a child process (or `here`); checks the exit status unless None."""
        args = ("sync", "--password-stdin")
        run = self.here(*args) if here else self.sofs(*args, crash_at=crash_at)
        if expect is not None:
            assert run.returncode == expect, str(run)
        return run


def finish(process: subprocess.Popen[str], timeout: float = 120.0) -> Run:
    out, err = process.communicate(timeout=timeout)
    assert isinstance(process.args, list)
    return Run([str(a) for a in process.args], process.returncode, out, err)


def wait_until(condition: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def engine_sync(
    laptop: Laptop, url: str, *, read_timeout: float = 60.0, lock_wait: float = 120.0
) -> Any:
    """One sync by the real engine in this process over real TCP, with a client timeout
    short enough for a test (`sofs sync` has no option for it). Returns the SyncSummary."""
    import asyncio

    from sofs_tui.secrets import TokenStore
    from sofs_tui.sync.client import SyncClient
    from sofs_tui.sync.credentials import Credentials
    from sofs_tui.sync.engine import Backoff, SyncEngine
    from tests.support.memory_keyring import MemoryKeyring

    async def password() -> str:
        return PASSWORD

    async def run(store: Store) -> Any:
        credentials = Credentials(
            TokenStore(MemoryKeyring()),
            url,
            laptop.name,
            device_id=store.device_id,
            ask_password=password,
        )
        timeout = httpx.Timeout(connect=5.0, read=read_timeout, write=5.0, pool=5.0)
        async with SyncClient(url, timeout=timeout) as client:
            engine = SyncEngine(
                store,
                client,
                credentials,
                device_label=f"{laptop.name}'s laptop",
                backoff=Backoff(rand=lambda: 0.5),
                lock_wait=lock_wait,
            )
            return await engine.sync()

    with laptop.store() as store:
        return asyncio.run(run(store))
