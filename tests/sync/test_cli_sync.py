"""`sofs login` and `sofs sync` without a screen: secrets order, messages, exit status."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sofs_tui.domain.enums import Section
from sofs_tui.secrets import TokenStore
from sofs_tui.store import mapping, sync_local
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import Actor, enrol, unlock
from sofs_tui.sync.cli_commands import add_sync_commands, run_sync_command
from tests.store.helpers import new_family
from tests.support.memory_keyring import MemoryKeyring
from tests.sync.conftest import outbox_rows
from tests.sync.fake_server import PASSWORD, URL, FakeServer

STORE_PASS = "correct horse battery"


def _parser() -> argparse.ArgumentParser:
    """The global options `sofs` has, plus the sync commands (as cli.py wires them)."""
    parser = argparse.ArgumentParser(prog="sofs")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--passphrase-stdin", action="store_true")
    add_sync_commands(parser.add_subparsers(dest="command"))
    return parser


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(clock=lambda: datetime.now(UTC))  # the CLI runs on the real clock


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    enrol(tmp_path, STORE_PASS, Actor("t.worker"), KdfParams.FAST_FOR_TESTS).lock()
    return tmp_path


def _run(
    data_dir: Path,
    server: FakeServer,
    tokens: TokenStore,
    *argv: str,
    stdin: str,
) -> tuple[int, str, str, io.StringIO]:
    args = _parser().parse_args(["--data-dir", str(data_dir), "--passphrase-stdin", *argv])
    stdin_stream, out, err = io.StringIO(stdin), io.StringIO(), io.StringIO()
    code = run_sync_command(
        args, stdin_stream, out, transport=server.transport(), tokens=tokens, err=err
    )
    return code, out.getvalue(), err.getvalue(), stdin_stream


def _login(data_dir: Path, server: FakeServer, tokens: TokenStore) -> None:
    code, _, err, _ = _run(
        data_dir, server, tokens, "login", URL, "--password-stdin",
        stdin=f"{STORE_PASS}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0, err


def test_login_reads_the_passphrase_then_the_password_and_keeps_only_the_service_tokens(
    data_dir: Path, server: FakeServer
) -> None:
    backend = MemoryKeyring()
    code, said, _, _ = _run(
        data_dir, server, TokenStore(backend), "login", URL, "--password-stdin",
        stdin=f"{STORE_PASS}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0 and f"Signed in to {URL} as t.worker" in said
    assert set(backend.entries) == {
        ("sofs-tui", f"{URL}|t.worker|refresh"),
        ("sofs-tui", f"{URL}|t.worker|access"),
    }
    assert backend.entries[("sofs-tui", f"{URL}|t.worker|refresh")] == "refresh-1"
    assert backend.entries[("sofs-tui", f"{URL}|t.worker|access")].endswith(":access-1")
    store = unlock(data_dir, STORE_PASS)
    try:
        settings = sync_local.sync_settings(store)
        assert (settings.server_url, settings.server_username) == (URL, "t.worker")
        assert settings.registered_url == URL
    finally:
        store.lock()
    assert server.requests_to(f"/sync/v1/devices/{store.device_id}")


def test_login_refuses_plain_http_to_another_computer_before_reading_a_secret(
    data_dir: Path, server: FakeServer
) -> None:
    code, _, err, stdin = _run(
        data_dir, server, TokenStore(MemoryKeyring()), "login", "http://sofs.council.example",
        "--password-stdin", stdin=f"{STORE_PASS}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 1 and "https://" in err
    assert stdin.read() == f"{STORE_PASS}\n{PASSWORD}\n" and server.requests == []


def test_a_wrong_password_signs_nobody_in_and_remembers_nothing(
    data_dir: Path, server: FakeServer
) -> None:
    backend = MemoryKeyring()
    code, _, err, _ = _run(
        data_dir, server, TokenStore(backend), "login", URL, "--password-stdin",
        stdin=f"{STORE_PASS}\nnot it\n",
    )  # fmt: skip
    assert code == 1 and "did not accept" in err and "not it" not in err
    assert backend.entries == {}
    store = unlock(data_dir, STORE_PASS)
    try:
        assert sync_local.sync_settings(store).server_url == ""
    finally:
        store.lock()


def test_sync_with_a_kept_token_needs_only_the_passphrase_and_prints_a_summary(
    data_dir: Path, server: FakeServer
) -> None:
    tokens = TokenStore(MemoryKeyring())
    _login(data_dir, server, tokens)
    store = unlock(data_dir, STORE_PASS)
    new_family(store)
    store.lock()
    server.expire_access_tokens()  # a new process: only the refresh token survives
    code, said, err, _ = _run(data_dir, server, tokens, "sync", stdin=f"{STORE_PASS}\n")
    assert code == 0, err
    assert "Sent 5 changes, received 0 updates; 0 new conflicts, 0 held, 0 rejected." in said


def test_without_a_credential_store_sync_reads_the_password_second(
    data_dir: Path, server: FakeServer
) -> None:
    nothing_kept = TokenStore.unavailable("No trusted credential store here.")
    code, said, _, _ = _run(
        data_dir, server, nothing_kept, "login", URL, "--password-stdin",
        stdin=f"{STORE_PASS}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0 and "No trusted credential store here." in said
    code, said, err, stdin = _run(
        data_dir, server, nothing_kept, "sync", "--password-stdin",
        stdin=f"{STORE_PASS}\n{PASSWORD}\nleft over\n",
    )  # fmt: skip
    assert code == 0, err
    assert stdin.read() == "left over\n"


def test_sync_before_login_says_what_to_do(data_dir: Path, server: FakeServer) -> None:
    code, _, err, _ = _run(
        data_dir, server, TokenStore(MemoryKeyring()), "sync", stdin=f"{STORE_PASS}\n"
    )
    assert code == 1 and "sofs login URL" in err


def test_an_offline_sync_exits_1_and_keeps_the_outbox(data_dir: Path, server: FakeServer) -> None:
    tokens = TokenStore(MemoryKeyring())
    _login(data_dir, server, tokens)
    store = unlock(data_dir, STORE_PASS)
    new_family(store)
    before = [(r.change_id, r.state, r.attempts) for r in outbox_rows(store)]
    store.lock()
    import httpx

    server.fail("POST", "/sync/v1/push", raise_=httpx.ConnectError)
    code, _, err, _ = _run(data_dir, server, tokens, "sync", stdin=f"{STORE_PASS}\n")
    assert code == 1 and "Sync stopped: Offline" in err and "Try again in about" in err
    store = unlock(data_dir, STORE_PASS)
    try:
        assert [(r.change_id, r.state, r.attempts) for r in outbox_rows(store)] == before
    finally:
        store.lock()


def test_a_long_sync_shows_a_progress_bar(data_dir: Path, server: FakeServer) -> None:
    tokens = TokenStore(MemoryKeyring())
    _login(data_dir, server, tokens)
    store = unlock(data_dir, STORE_PASS)
    ids = new_family(store)
    for n in range(250):
        mapping.save_entry(store, ids["assessment"], section=Section.HARM, text=f"Entry {n}.")
    store.lock()
    code, said, _, _ = _run(data_dir, server, tokens, "sync", stdin=f"{STORE_PASS}\n")
    assert code == 0
    bars = [line for line in said.splitlines() if line.startswith("Sending changes ")]
    assert bars[0].endswith("100/255") and bars[-1].endswith("255/255")
    assert "#" * 30 in bars[-1]
    assert "clock" not in said
