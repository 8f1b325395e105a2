"""Running the service under uvicorn (`sofs serve`): TLS, or plain http on loopback only (R33).

Three ways to run it:
- development and tests: `--host 127.0.0.1` (or ::1, localhost), plain http;
- directly on the network: `--certfile` and `--keyfile`, TLS terminated by uvicorn;
- behind a TLS-terminating reverse proxy (nginx, a load balancer) on a private network:
  `--behind-tls-proxy`, which allows plain http on a non-loopback address and trusts
  `X-Forwarded-For`/`-Proto` from `--forwarded-allow-ips` only (so throttling sees the real
  client address). The flag says what the operator promises; without it, a non-loopback address
  without a certificate is refused, so nobody serves case data over the network in clear text
  by accident.

Several workers (`--workers N`) need PostgreSQL: SQLite serialises writers in one file and is
the single-worker default. The schema is migrated once, here, before any worker starts.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sofs_tui.server.settings import ServerSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TLS_PORT = 8443


class ServeError(Exception):
    """The service cannot start as asked; the message says why and what to do instead."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServePlan:
    """What `serve` will run, decided and checked before anything starts."""

    host: str
    port: int
    certfile: Path | None
    keyfile: Path | None
    workers: int
    behind_tls_proxy: bool
    forwarded_allow_ips: str

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def plan_serve(
    settings: ServerSettings,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    workers: int = 1,
    behind_tls_proxy: bool = False,
    forwarded_allow_ips: str = "127.0.0.1",
) -> ServePlan:
    """Check the options (raises ServeError with a clear message) and fill in defaults."""
    if (certfile is None) != (keyfile is None):
        raise ServeError("Give both --certfile and --keyfile for TLS, or neither.")
    if certfile is not None and behind_tls_proxy:
        raise ServeError("--behind-tls-proxy is for plain http behind a proxy; drop it with TLS.")
    if certfile is None and not is_loopback(host) and not behind_tls_proxy:
        raise ServeError(
            f"Refusing to serve plain http on {host}: case data would cross the network "
            "unencrypted. Give --certfile and --keyfile, or serve on 127.0.0.1 behind a "
            "TLS-terminating proxy, or (only behind such a proxy on a private network) add "
            "--behind-tls-proxy."
        )
    if certfile is not None and keyfile is not None:
        _check_certificate(certfile, keyfile)
    if not 1 <= workers <= 64:
        raise ServeError("Choose from 1 to 64 workers.")
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise ServeError(
            "Several workers need PostgreSQL (set SOFS_DATABASE_URL=postgresql+psycopg://…); "
            "the SQLite default runs one worker."
        )
    chosen_port = port if port is not None else (DEFAULT_TLS_PORT if certfile else DEFAULT_PORT)
    if not 0 <= chosen_port <= 65535:
        raise ServeError(f"{chosen_port} is not a TCP port.")
    return ServePlan(
        host, chosen_port, certfile, keyfile, workers, behind_tls_proxy, forwarded_allow_ips
    )


def _check_certificate(certfile: Path, keyfile: Path) -> None:
    """Load the pair now, so a wrong path or a mismatched key is one clear line, not a
    traceback from inside uvicorn."""
    for path, what in ((certfile, "certificate"), (keyfile, "key")):
        if not path.is_file():
            raise ServeError(f"The {what} file {path} does not exist.")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise ServeError(
            f"Cannot use {certfile} with {keyfile} ({exc.__class__.__name__}: the files must "
            "be a PEM certificate chain and its unencrypted private key)."
        ) from None


def uvicorn_options(plan: ServePlan) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": plan.host,
        "port": plan.port,
        "workers": plan.workers,
        "server_header": False,
        "proxy_headers": plan.behind_tls_proxy,
        "forwarded_allow_ips": plan.forwarded_allow_ips,
        "timeout_graceful_shutdown": 10,
        "log_level": "info",
    }
    if plan.certfile is not None:
        options["ssl_certfile"] = str(plan.certfile)
        options["ssl_keyfile"] = str(plan.keyfile)
    return options


def app_from_env() -> FastAPI:
    """The app each worker process builds (uvicorn `factory=True`); `serve` has migrated."""
    from sofs_tui.server.app import create_app

    return create_app(ServerSettings.from_env(), migrate=False)


def prepare(settings: ServerSettings, *, migrate: bool = True) -> None:
    """Create the data folder (private to this account) and bring the schema up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if migrate:
        from sofs_tui.server.db import make_engine
        from sofs_tui.server.migrate import upgrade

        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()


def serve(
    settings: ServerSettings,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    workers: int = 1,
    behind_tls_proxy: bool = False,
    forwarded_allow_ips: str = "127.0.0.1",
    migrate: bool = True,
) -> None:
    """Run the service until interrupted (raises ServeError before starting if it must not)."""
    import uvicorn

    plan = plan_serve(
        settings,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        workers=workers,
        behind_tls_proxy=behind_tls_proxy,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    prepare(settings, migrate=migrate)
    options = uvicorn_options(plan)
    if plan.workers == 1:
        from sofs_tui.server.app import create_app

        uvicorn.run(create_app(settings, migrate=False), **options)
        return
    # Worker processes rebuild the app from the environment: pass the settings on through it.
    os.environ["SOFS_DATABASE_URL"] = settings.database_url
    os.environ["SOFS_SERVER_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run("sofs_tui.server.serve:app_from_env", factory=True, **options)
