"""The `sofs` command: the app by default, and scriptable subcommands that need no screen.

Passphrases come from a prompt or, for scripts, from standard input (`--passphrase-stdin`);
never from an argument or an environment variable, where other users and logs can see them.
Heavy imports happen inside the command that needs them, so `sofs --help` is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, TextIO, cast

from sofs_tui import __version__

if TYPE_CHECKING:
    import argparse

    from sofs_tui.paths import AppPaths
    from sofs_tui.store.store import Store

DEMO_CASES = 60
MAX_DEMO_CASES = 10_000  # as sofs_tui.store.demo.MAX_DEMO_CASES (not imported: it is heavy)


class CliError(Exception):
    """A problem the user can fix; printed as one message, no traceback, exit status 1."""


def _case_count(text: str) -> int:
    """`--cases`: a whole number from 1 to MAX_DEMO_CASES, checked before any passphrase is
    asked for; argparse reports a bad one as a usage error (exit status 2)."""
    import argparse

    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_DEMO_CASES:
        raise argparse.ArgumentTypeError(f"choose from 1 to {MAX_DEMO_CASES} cases, not {count}")
    return count


def _parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    """`sofs`'s arguments; without the subcommands (whose modules and ~40 parsers cost about
    40 ms) for the plain app start, where the first frame is waited for."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="sofs",
        description="Signs of Safety assessments and child protection conferences, offline.",
        add_help=with_commands,
    )
    parser.set_defaults(command=None)
    parser.add_argument("--version", action="version", version=f"sofs {__version__}")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the store, settings and state in this folder"
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the app on a throwaway invented caseload"
    )
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from standard input (one line) instead of a prompt",
    )
    if not with_commands:
        return parser
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    init = commands.add_parser("init", help="set up this device: choose the store passphrase")
    init.add_argument("--user", default=None, help="your username (default: your login name)")
    init.add_argument("--role", choices=("worker", "manager", "admin"), default="worker")
    commands.add_parser(
        "passwd", help="change the store passphrase (stdin: old, then new, one per line)"
    )
    demo = commands.add_parser("demo-data", help="add an invented caseload to the store")
    demo.add_argument(
        "--cases",
        type=_case_count,
        default=DEMO_CASES,
        help=f"how many cases to add (1-{MAX_DEMO_CASES}); a second run adds more",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed, for the same caseload")
    commands.add_parser(
        "keys",
        help="list every key by its keymap id, and check the keymap in settings.toml",
    )
    # Each area registers its own subcommands; their heavy imports stay inside the commands.
    from sofs_tui.exports.cli_commands import add_export_commands
    from sofs_tui.server.cli_commands import add_server_commands
    from sofs_tui.sync.cli_commands import add_sync_commands

    add_sync_commands(commands)
    add_export_commands(commands)
    add_server_commands(commands)
    return parser


def _read_secret(args: argparse.Namespace, prompt: str, stdin: TextIO) -> str:
    if args.passphrase_stdin:
        line = stdin.readline()
        if not line:
            raise CliError("Expected the passphrase on standard input, found nothing.")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError(
            "No terminal to ask for the passphrase. Use --passphrase-stdin to pipe it in."
        )
    import getpass

    return getpass.getpass(prompt)


def _new_secret(args: argparse.Namespace, stdin: TextIO, what: str) -> str:
    first = _read_secret(args, f"{what}: ", stdin)
    if args.passphrase_stdin:
        return first
    if _read_secret(args, f"{what} again: ", stdin) != first:
        raise CliError("The two passphrases differ. Nothing was changed; try again.")
    return first


def _paths(args: argparse.Namespace) -> AppPaths:
    from sofs_tui.paths import app_paths

    return app_paths(args.data_dir)


def _unlock(args: argparse.Namespace, stdin: TextIO) -> Store:
    from sofs_tui.store.files import is_enrolled
    from sofs_tui.store.store import unlock

    data_dir = _paths(args).data_dir
    if not is_enrolled(data_dir):
        raise CliError(
            f"No case store is set up in {data_dir}. Run `sofs init` first "
            "(or `sofs --demo` to try the app)."
        )
    return unlock(data_dir, _read_secret(args, "Store passphrase: ", stdin))


def _cmd_init(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    import getpass

    from sofs_tui.store.files import is_enrolled
    from sofs_tui.store.store import Actor, enrol

    data_dir = _paths(args).data_dir
    if is_enrolled(data_dir):
        raise CliError(f"A case store is already set up in {data_dir}; nothing was changed.")
    passphrase = _new_secret(args, stdin, "Choose a passphrase")
    actor = Actor(args.user or getpass.getuser(), args.role)
    store = enrol(data_dir, passphrase, actor)
    store.lock()
    print(f"Set up an encrypted case store for {actor.username} in {data_dir}.", file=out)
    return 0


def _cmd_passwd(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.store.files import KEYFILE_NAME
    from sofs_tui.store.keys import change_passphrase

    keyfile = _paths(args).data_dir / KEYFILE_NAME
    old = _read_secret(args, "Current passphrase: ", stdin)
    new = _new_secret(args, stdin, "New passphrase")
    change_passphrase(keyfile, old, new)
    print("Passphrase changed. Use the new one from now on.", file=out)
    return 0


def _cmd_demo_data(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.store.demo import fill_demo_caseload

    store = _unlock(args, stdin)
    try:
        counts = fill_demo_caseload(store, args.cases, seed=args.seed)
    finally:
        store.lock()
    total = sum(counts.values())
    print(f"Added {args.cases} invented cases ({total} records).", file=out)
    return 0


def _run_app(args: argparse.Namespace, stdin: TextIO) -> int:
    """The app. It asks for the passphrase itself (or sets up the store on first run), so
    nothing is prompted on the terminal; `--demo` needs no passphrase at all."""
    from sofs_tui.app import run_app
    from sofs_tui.config import SettingsError

    try:
        return run_app(_paths(args), demo=args.demo)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _cmd_keys(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    """Every binding id with its key (the keymap's where it sets one) and what it does; then
    what is wrong with the keymap, if anything (exit 1)."""
    from sofs_tui.config import load_settings
    from sofs_tui.keymap import keymap_mistakes, known_bindings

    settings_file = _paths(args).settings_file
    keymap = load_settings(settings_file).keymap
    known = known_bindings()
    width = max(len(b.id) for b in known)
    print(f"{'id':<{width}}  {'keys':<14}  what it does (screen)", file=out)
    for binding in known:
        keys = keymap.get(binding.id, binding.keys)
        mark = "*" if binding.id in keymap else " "
        print(
            f"{binding.id:<{width}} {mark}{keys:<14}  {binding.description} ({binding.where})",
            file=out,
        )
    print(f"\n* set in {settings_file} under [keymap]", file=out)
    problems = keymap_mistakes(keymap, known)
    for problem in problems:
        print(f"keymap: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _cmd_sync(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.sync.cli_commands import run_sync_command

    return run_sync_command(args, stdin, out)


def _cmd_export(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.exports.cli_commands import run_export_command

    return run_export_command(args, stdin, out)


def _cmd_server(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.server.cli_commands import run_server_command

    return run_server_command(args, stdin, out)


_COMMANDS = {
    "serve": _cmd_server,
    "admin": _cmd_server,
    "init": _cmd_init,
    "passwd": _cmd_passwd,
    "demo-data": _cmd_demo_data,
    "keys": _cmd_keys,
    "login": _cmd_sync,
    "sync": _cmd_sync,
    "export": _cmd_export,
    "stats": _cmd_export,
    "import": _cmd_export,
}


#: The app's switches, as `_parser` names them.
_APP_SWITCHES = {"--demo": "demo", "--passphrase-stdin": "passphrase_stdin"}


def _app_options(argv: Sequence[str]) -> argparse.Namespace | None:
    """The app's own start (`sofs`, `sofs --data-dir DIR`, `--demo`) read without argparse,
    whose import (about 3 ms) would come before the first frame; None for anything else
    (a command, --help, an abbreviation, a mistake), which argparse reads as ever. Gives what
    argparse gives for the same words (tests compare them)."""
    values: dict[str, object] = {
        "data_dir": None,
        "demo": False,
        "passphrase_stdin": False,
        "command": None,
    }
    words = iter(argv)
    for word in words:
        if word in _APP_SWITCHES:
            values[_APP_SWITCHES[word]] = True
        elif word == "--data-dir" or word.startswith("--data-dir="):
            folder = word.partition("=")[2] if "=" in word else next(words, "")
            if not folder or folder.startswith("-"):
                return None
            values["data_dir"] = Path(folder)
        else:
            return None
    return cast("argparse.Namespace", SimpleNamespace(**values))


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The app's own options are read by `_app_options`; other options alone (the app) are
    parsed without building the subcommands; anything else, a command, --help or a mistake,
    goes to the full parser."""
    options = _app_options(sys.argv[1:] if argv is None else argv)
    if options is not None:
        return options
    args, rest = _parser(with_commands=False).parse_known_args(argv)
    if not rest:
        return args
    return _parser().parse_args(argv)


def main(
    argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    args = _parse(argv)
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        if args.command is None:
            return _run_app(args, stdin)
        return _COMMANDS[args.command](args, stdin, out)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped. Nothing half-saved: every save is all or nothing.", file=sys.stderr)
        return 130
    except Exception as exc:
        from sofs_tui.store.errors import StoreError  # not needed before the app's first frame

        if not isinstance(exc, StoreError):
            raise
        print(exc.user_message, file=sys.stderr)
        return 1
