"""`sofs serve` (R33): TLS with a verifiable certificate, plain http only on loopback, several
workers over one PostgreSQL database. The servers run as real processes on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sofs_tui.server.serve import ServeError, is_loopback, plan_serve
from sofs_tui.server.settings import ServerSettings
from tests.server.test_admin import run_cli
from tests.server.test_auth import PASSWORD

PROJECT = Path(__file__).resolve().parents[2]

# Until `sofs serve` is wired into sofs_tui/cli.py, the same parser wiring run directly.
_LAUNCH = (
    "import argparse, sys\n"
    "from sofs_tui.server.cli_commands import add_server_commands, run_server_command\n"
    "parser = argparse.ArgumentParser(prog='sofs')\n"
    "add_server_commands(parser.add_subparsers(dest='command'))\n"
    "sys.exit(run_server_command(parser.parse_args(sys.argv[1:]), sys.stdin, sys.stdout))\n"
)


def sofs_command() -> list[str]:
    cli = (PROJECT / "sofs_tui" / "cli.py").read_text(encoding="utf-8")
    if "add_server_commands" in cli:
        return [sys.executable, "-m", "sofs_tui"]
    return [sys.executable, "-c", _LAUNCH]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sofs test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


class Server:
    """`sofs serve …` in its own process group, stopped (by its id) at the end of the test."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.output = log.open("wb")
        self.process = subprocess.Popen(
            [*sofs_command(), "serve", *args],
            cwd=PROJECT,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(
        self, url: str, verify: ssl.SSLContext | bool = True, timeout: float = 60
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/health", verify=verify, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"server not up in {timeout}s: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env["SOFS_DATABASE_URL"] = database_url
    env["SOFS_SERVER_DATA_DIR"] = str(tmp_path / "service")
    return env


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


# -- deciding what may run ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_loopback_addresses_may_serve_plain_http(host: str, tmp_path: Path) -> None:
    assert is_loopback(host)
    plan = plan_serve(ServerSettings(tmp_path, "sqlite://"), host=host)
    assert plan.scheme == "http"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "sofs.council.example"])
def test_a_network_address_without_tls_is_refused(host: str, tmp_path: Path) -> None:
    assert not is_loopback(host)
    with pytest.raises(ServeError, match="Refusing to serve plain http"):
        plan_serve(ServerSettings(tmp_path, "sqlite://"), host=host)
    # The operator's explicit promise of a TLS-terminating proxy in front is the one exception.
    plan = plan_serve(ServerSettings(tmp_path, "sqlite://"), host=host, behind_tls_proxy=True)
    assert plan.behind_tls_proxy


def test_serve_on_all_interfaces_without_tls_exits_with_a_clear_error(
    server_env: dict[str, str],
) -> None:
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert code == 1
    assert "Refusing to serve plain http on 0.0.0.0" in err
    assert "--certfile" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"certfile": Path("server.pem")}, "both --certfile and --keyfile"),
        ({"certfile": Path("missing.pem"), "keyfile": Path("missing.key")}, "does not exist"),
        ({"workers": 2}, "need PostgreSQL"),
        ({"workers": 0}, "1 to 64"),
        ({"port": 70000}, "not a TCP port"),
    ],
)
def test_unusable_serve_options_are_refused_before_starting(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ServeError, match=message):
        plan_serve(ServerSettings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"), **options)  # type: ignore[arg-type]


def test_a_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path) -> None:
    _, cert, _ = make_certificates(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, _, wrong_key = make_certificates(other)
    with pytest.raises(ServeError, match="Cannot use"):
        plan_serve(ServerSettings(tmp_path, "sqlite://"), certfile=cert, keyfile=wrong_key)


# -- real processes ----------------------------------------------------------------------


def test_tls_is_verified_against_the_given_ca_only(
    server_env: dict[str, str], servers: list[Server], tmp_path: Path
) -> None:
    ca, cert, key = make_certificates(tmp_path)
    port = free_port()
    server = Server(
        [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
        ],
        server_env,
        tmp_path / "serve.log",
    )
    servers.append(server)
    url = f"https://127.0.0.1:{port}"
    trusting_our_ca = ssl.create_default_context(cafile=str(ca))
    server.wait_until_up(url, verify=trusting_our_ca)

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/health", timeout=5)  # the system's trust store does not know our CA
    answer = httpx.get(f"{url}/health", verify=trusting_our_ca, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert "server" not in answer.headers  # no version banner
    # Plain http to the TLS port gets nowhere.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)


def test_two_workers_over_one_postgresql_database_serve_sign_ins(
    database_url: str, server_env: dict[str, str], servers: list[Server], tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        code, _, err = run_cli("serve", "--workers", "2", "--port", str(free_port()))
        assert (code, "need PostgreSQL" in err) == (1, True)
        return
    port = free_port()
    server = Server(
        ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        server_env,
        tmp_path / "serve.log",
    )
    servers.append(server)
    url = f"http://127.0.0.1:{port}"
    server.wait_until_up(url)
    admin = subprocess.run(
        [*sofs_command(), "admin", "user", "add", "jo", "--password-stdin"],
        input=PASSWORD,
        env=server_env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert admin.returncode == 0, admin.stderr

    assert len(_workers(server.process.pid)) == 2
    refresh = None
    for _ in range(12):  # a new connection each time: the kernel spreads them over workers
        signed_in = httpx.post(
            f"{url}/auth/token", json={"username": "jo", "password": PASSWORD}, timeout=10
        )
        assert signed_in.status_code == 200, signed_in.text
        refresh = signed_in.json()["refresh_token"]
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    renewed = httpx.post(f"{url}/auth/refresh", json={"refresh_token": refresh}, timeout=10)
    assert renewed.status_code == 200
    replay = httpx.post(f"{url}/auth/refresh", json={"refresh_token": refresh}, timeout=10)
    assert replay.status_code == 401  # the spent token is spent for every worker


def _workers(pid: int) -> list[int]:
    """The server's worker processes (Linux /proc): children started by multiprocessing's
    spawn, not its resource tracker."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command:
                found.append(int(child))
    return found
