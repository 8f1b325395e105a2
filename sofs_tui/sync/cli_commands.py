"""`sofs login URL` and `sofs sync`: the sync engine without the screen, for scripts and tests.

Secrets come from a prompt or from standard input, one line each, never from an argument or
an environment variable. When both come from standard input the order is fixed:

1. the store passphrase (`--passphrase-stdin`, as for every command),
2. the service password (`--password-stdin`).

Without `--passphrase-stdin` the passphrase is asked at the terminal and the password is the
first line. `sofs sync` reads the password only if it needs one (no refresh token kept, or
the service refused it), so a script may always supply it.

Exit status: 0 when the sync finished (conflicts and held changes are reported, not errors),
1 when it stopped (offline, signed out, ...): local work is never touched either way.
Nothing heavy is imported until a command runs (`sofs --help` stays instant).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import httpx

    from sofs_tui.secrets import TokenStore
    from sofs_tui.store.store import Store
    from sofs_tui.sync.engine import SyncProgress, SyncSummary

SYNC_COMMANDS = frozenset({"login", "sync"})
#: A push or pull this long gets a progress bar.
LONG_SYNC = 200

_STDIN_ORDER = (
    "With --passphrase-stdin too, standard input holds the store passphrase on the first "
    "line and the service password on the second."
)


class SyncCliError(Exception):
    """A problem the user can fix; printed as one message, exit status 1."""


def add_sync_commands(subparsers: Any) -> None:
    """Add `login` and `sync` to the `sofs` subcommands (`parser.add_subparsers()`)."""
    login = subparsers.add_parser(
        "login",
        help="sign in to the central service and remember it on this computer",
        description="Sign in to the central service. " + _STDIN_ORDER,
    )
    login.add_argument("url", help="the service address, e.g. https://sofs.council.example")
    login.add_argument(
        "--user", default=None, help="your username on the service (default: this store's)"
    )
    _common(login)
    sync = subparsers.add_parser(
        "sync",
        help="send saved changes to the service and fetch updates now",
        description="Send saved changes and fetch updates. " + _STDIN_ORDER,
    )
    _common(sync)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the service password from standard input (after the store passphrase)",
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        default=None,
        help="a certificate authority file for a service with the council's own certificate",
    )


def run_sync_command(
    args: argparse.Namespace,
    stdin: TextIO,
    out: TextIO,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    tokens: TokenStore | None = None,
    err: TextIO | None = None,
) -> int:
    """Run `login` or `sync`. `transport` and `tokens` are for tests (a fake service, an
    in-memory credential store); production leaves them out."""
    from sofs_tui.store.errors import StoreError
    from sofs_tui.sync.client import SyncError

    err = err or sys.stderr
    secrets = _Secrets(args, stdin)
    try:
        if args.command == "login":
            return _login(args, secrets, out, transport, tokens)
        if args.command == "sync":
            return _sync(args, secrets, out, err, transport, tokens)
        raise SyncCliError(f"Unknown sync command {args.command!r}.")
    except (StoreError, SyncError) as exc:
        print(exc.user_message, file=err)
        return 1
    except SyncCliError as exc:
        print(exc, file=err)
        return 1
    except KeyboardInterrupt:
        print("Stopped. Your saved work is safe; unsent changes go at the next sync.", file=err)
        return 130


class _Secrets:
    """Reads the passphrase, then the password, from stdin or a prompt (see module doc)."""

    def __init__(self, args: argparse.Namespace, stdin: TextIO) -> None:
        self._args = args
        self._stdin = stdin

    def passphrase(self) -> str:
        from_stdin = bool(getattr(self._args, "passphrase_stdin", False))
        prompt = "Store passphrase: "
        return self._read(from_stdin, prompt, "--passphrase-stdin", "the store passphrase")

    def password(self, prompt: str) -> str:
        from_stdin = bool(self._args.password_stdin)
        return self._read(from_stdin, prompt, "--password-stdin", "the service password")

    def _read(self, from_stdin: bool, prompt: str, flag: str, what: str) -> str:
        if from_stdin:
            line = self._stdin.readline()
            if not line:
                raise SyncCliError(f"Expected {what} on standard input, found nothing.")
            return line.rstrip("\r\n")
        if not sys.stdin.isatty():
            raise SyncCliError(f"No terminal to ask for {what}. Use {flag} to pipe it in.")
        return getpass.getpass(prompt)


def _unlock(args: argparse.Namespace, secrets: _Secrets) -> Store:
    from sofs_tui.paths import app_paths
    from sofs_tui.store.files import is_enrolled
    from sofs_tui.store.store import unlock

    data_dir = app_paths(getattr(args, "data_dir", None)).data_dir
    if not is_enrolled(data_dir):
        raise SyncCliError(f"No case store is set up in {data_dir}. Run `sofs init` first.")
    return unlock(data_dir, secrets.passphrase())


def _ca_file(path: Path | None) -> str:
    if path is None:
        return ""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise SyncCliError(f"The certificate authority file {resolved} does not exist.")
    return str(resolved)


def _token_store(tokens: TokenStore | None) -> TokenStore:
    from sofs_tui.secrets import TokenStore

    return tokens if tokens is not None else TokenStore.from_system()


def _login(
    args: argparse.Namespace,
    secrets: _Secrets,
    out: TextIO,
    transport: httpx.AsyncBaseTransport | None,
    tokens: TokenStore | None,
) -> int:
    import asyncio

    from sofs_tui.store import sync_local
    from sofs_tui.sync.client import SyncClient, check_base_url
    from sofs_tui.sync.credentials import Credentials
    from sofs_tui.sync.engine import SyncEngine

    url = check_base_url(args.url)  # refused before any secret is read
    ca_file = _ca_file(args.ca_file)
    store = _unlock(args, secrets)
    try:
        username = args.user or store.actor.username
        password = secrets.password(f"Password for {username} at {url}: ")
        credentials = Credentials(_token_store(tokens), url, username, device_id=store.device_id)

        async def sign_in() -> None:
            async with SyncClient(url, ca_file=ca_file or None, transport=transport) as client:
                await credentials.login(client, password)
                await asyncio.to_thread(sync_local.set_server, store, url, username, ca_file)
                await SyncEngine(store, client, credentials).handshake()

        asyncio.run(sign_in())
    finally:
        store.lock()
    print(f"Signed in to {url} as {username}.", file=out)
    if credentials.keeps_tokens:
        print("`sofs sync` will not ask for your password until the session ends.", file=out)
    else:
        print(credentials.problem, file=out)
    return 0


def _sync(
    args: argparse.Namespace,
    secrets: _Secrets,
    out: TextIO,
    err: TextIO,
    transport: httpx.AsyncBaseTransport | None,
    tokens: TokenStore | None,
) -> int:
    import asyncio

    from sofs_tui.store import sync_local
    from sofs_tui.sync.client import SyncClient
    from sofs_tui.sync.credentials import Credentials
    from sofs_tui.sync.engine import SyncEngine

    store = _unlock(args, secrets)
    try:
        settings = sync_local.sync_settings(store)
        if not settings.server_url:
            raise SyncCliError(
                "This computer is not signed in to a service yet. Run `sofs login URL` first."
            )
        url, username = settings.server_url, settings.server_username
        ca_file = _ca_file(args.ca_file) or settings.ca_file

        async def ask_password() -> str | None:
            return secrets.password(f"Password for {username} at {url}: ")

        credentials = Credentials(
            _token_store(tokens),
            url,
            username,
            device_id=store.device_id,
            ask_password=ask_password,
        )
        bar = _ProgressBar(out)

        async def run() -> SyncSummary:
            async with SyncClient(url, ca_file=ca_file or None, transport=transport) as client:
                return await SyncEngine(store, client, credentials).sync(progress=bar)

        summary = asyncio.run(run())
        bar.finish()
    finally:
        store.lock()
    _report(summary, out, err)
    return 0 if summary.ok else 1


class _ProgressBar:
    """A text bar for long syncs only; one line per step when not on a terminal."""

    WIDTH = 30

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = bool(getattr(out, "isatty", lambda: False)())
        self._open = False

    def __call__(self, step: SyncProgress) -> None:
        long_push = step.phase == "push" and (step.total or 0) >= LONG_SYNC
        long_pull = step.phase == "pull" and (step.total is None or step.done >= LONG_SYNC)
        if not (long_push or long_pull):
            return
        label = "Sending changes " if step.phase == "push" else "Fetching updates"
        if step.total:
            filled = round(self.WIDTH * step.done / step.total)
            line = f"{label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {step.done}/{step.total}"
        else:
            line = f"{label} ... {step.done} so far"
        self._out.write(("\r" + line) if self._tty else line + "\n")
        self._out.flush()
        self._open = self._tty

    def finish(self) -> None:
        if self._open:
            self._out.write("\n")
            self._open = False


def _report(summary: SyncSummary, out: TextIO, err: TextIO) -> None:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    print(
        f"Sent {plural(summary.sent, 'change')}, received {plural(summary.received, 'update')}; "
        f"{plural(summary.conflicts, 'new conflict')}, {summary.held} held, "
        f"{summary.rejected} rejected.",
        file=out,
    )
    for notice in summary.notices:
        reason = f" ({notice.reason})" if notice.reason else ""
        print(
            f"  {notice.status.capitalize()} by the service: {notice.entity} "
            f"{notice.record_id}{reason}. Your text is kept on this computer.",
            file=out,
        )
    if summary.conflicts:
        print("Open the app's Conflicts screen to choose which version to keep.", file=out)
    if summary.flagged:
        print(
            f"{plural(summary.flagged, 'change')} could not be sent and "
            f"{'is' if summary.flagged == 1 else 'are'} kept on this computer: contact IT.",
            file=out,
        )
    if summary.clock_warning and summary.clock_offset_s is not None:
        minutes = round(abs(summary.clock_offset_s) / 60)
        amount = plural(minutes, "minute") if minutes < 120 else plural(minutes // 60, "hour")
        side = "behind" if summary.clock_offset_s > 0 else "ahead of"
        print(
            f"This computer's clock is about {amount} {side} the service's. Sync is not "
            "affected, but please set the right time.",
            file=out,
        )
    for message in summary.errors:
        print(f"Sync stopped: {message}", file=err)
    if summary.retry_in is not None:
        print(f"Try again in about {max(1, round(summary.retry_in))} seconds.", file=err)
