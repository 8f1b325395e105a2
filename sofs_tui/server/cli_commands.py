"""`sofs serve` and `sofs admin …`: the service's commands, wired into `sofs_tui.cli`.

`sofs admin` works on the service database directly (SOFS_DATABASE_URL, or the SQLite file in
`--data-dir`): whoever can run it with that access is the service's administrator, and every
action is audited under their login name. Passwords come from a prompt or, for scripts, one line
on standard input (`--password-stdin`); never from an argument or the environment. Problems
print one plain line and exit with status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

SERVER_COMMANDS = frozenset({"serve", "admin"})


class _UserError(Exception):
    """A problem the person at the keyboard can fix."""


def add_server_commands(subparsers: Any) -> None:
    """Add `serve` and `admin` to the `sofs` subcommands (an argparse subparsers action)."""
    serve = subparsers.add_parser(
        "serve",
        help="run the central service (uvicorn)",
        description="Run the central sync service. Plain http only on a loopback address; "
        "anything else needs --certfile/--keyfile or --behind-tls-proxy.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (8000, or 8443 with TLS)")
    serve.add_argument("--certfile", type=Path, help="TLS certificate chain (PEM)")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM, unencrypted)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL)")
    _data_dir(serve)
    serve.add_argument(
        "--behind-tls-proxy",
        action="store_true",
        help="plain http on a non-loopback address, ONLY behind a TLS-terminating reverse "
        "proxy on a private network; trusts X-Forwarded-* from --forwarded-allow-ips",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxy addresses whose X-Forwarded-* headers are trusted (with --behind-tls-proxy)",
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not upgrade the schema at start (when `sofs admin migrate` runs per deploy)",
    )

    admin = subparsers.add_parser(
        "admin",
        help="administer the service: teams, users, cases, devices",
        description="Administer the central service's database (SOFS_DATABASE_URL, or the "
        "SQLite file in --data-dir). Every action is audited.",
    )
    _data_dir(admin)
    areas = admin.add_subparsers(dest="admin_area", metavar="AREA", required=True)
    areas.add_parser("migrate", help="create or upgrade the service's database schema")

    team = areas.add_parser("team", help="teams").add_subparsers(
        dest="admin_action", metavar="ACTION", required=True
    )
    team.add_parser("add", help="add a team").add_argument("name")
    team.add_parser("list", help="list the teams")

    user = areas.add_parser("user", help="user accounts").add_subparsers(
        dest="admin_action", metavar="ACTION", required=True
    )
    add = user.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=("worker", "manager", "admin"), default="worker")
    add.add_argument("--team", help="the user's own team")
    _password_stdin(add)
    user.add_parser("list", help="list the users")
    for action, text in (
        ("disable", "stop a user signing in; ends their sessions at once"),
        ("enable", "let a disabled user sign in again"),
        ("unlock", "lift a lockout after too many failed sign-ins"),
    ):
        user.add_parser(action, help=text).add_argument("username")
    role = user.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=("worker", "manager", "admin"))
    password = user.add_parser("password", help="set a new password; ends their sessions")
    password.add_argument("username")
    _password_stdin(password)

    manager = areas.add_parser("manager", help="which teams a manager oversees").add_subparsers(
        dest="admin_action", metavar="ACTION", required=True
    )
    for action, text in (("add", "let a manager see a team's cases"), ("remove", "undo that")):
        parser = manager.add_parser(action, help=text)
        parser.add_argument("username")
        parser.add_argument("team")

    case = areas.add_parser("case", help="case assignment").add_subparsers(
        dest="admin_action", metavar="ACTION", required=True
    )
    assign = case.add_parser("assign", help="put a case in a team and/or under a lead worker")
    assign.add_argument("case_id", help="the case's id (a UUID)")
    assign.add_argument("--reference", required=True, help="the case reference, e.g. CP-0012")
    assign.add_argument("--team")
    assign.add_argument("--lead", help="username of the lead worker")
    reassign = case.add_parser("reassign", help="move a case to another team or lead")
    reassign.add_argument("case", help="the case's id or reference")
    reassign.add_argument("--team")
    lead = reassign.add_mutually_exclusive_group()
    lead.add_argument("--lead", help="username of the new lead worker")
    lead.add_argument("--no-lead", action="store_true", help="the case has no lead worker")
    case.add_parser("list", help="list assigned cases").add_argument("--team")

    device = areas.add_parser("device", help="registered devices").add_subparsers(
        dest="admin_action", metavar="ACTION", required=True
    )
    device.add_parser("revoke", help="revoke a lost or retired device").add_argument("device_id")
    device.add_parser("list", help="list devices").add_argument("--user")


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        dest="server_data_dir",
        type=Path,
        help="the service's data folder (its SQLite file when SOFS_DATABASE_URL is unset)",
    )


def _password_stdin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (one line) instead of a prompt",
    )


def run_server_command(
    args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO | None = None
) -> int:
    """Run `serve` or `admin`; 0 on success, 1 with one line on `err` for a user error."""
    err = err or sys.stderr
    from sqlalchemy.exc import SQLAlchemyError

    from sofs_tui.server.admin import AdminError
    from sofs_tui.server.serve import ServeError

    try:
        if args.command == "serve":
            return _serve(args)
        return _admin(args, stdin, out)
    except (_UserError, AdminError, ServeError) as exc:
        print(f"sofs {args.command}: {exc}", file=err)
        return 1
    except SQLAlchemyError as exc:
        print(f"sofs {args.command}: {_database_problem(args, exc)}", file=err)
        return 1


def _settings(args: argparse.Namespace) -> Any:
    from sofs_tui.server.settings import ServerSettings

    folder = args.server_data_dir or getattr(args, "data_dir", None)
    return ServerSettings.from_env(folder)


def _database_problem(args: argparse.Namespace, exc: Exception) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError, ProgrammingError

    where = make_url(_settings(args).database_url).render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).lower()
    if isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in text or "does not exist" in text or "undefinedtable" in text
    ):
        return f"The database at {where} is not set up. Run `sofs admin migrate` first."
    return f"The database at {where} failed ({exc.__class__.__name__}); nothing was changed."


def _serve(args: argparse.Namespace) -> int:
    from sofs_tui.server.serve import serve

    serve(
        _settings(args),
        host=args.host,
        port=args.port,
        certfile=args.certfile,
        keyfile=args.keyfile,
        workers=args.workers,
        behind_tls_proxy=args.behind_tls_proxy,
        forwarded_allow_ips=args.forwarded_allow_ips,
        migrate=not args.no_migrate,
    )
    return 0


def _actor() -> str:
    try:
        return f"admin-cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "admin-cli"


def _new_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        line = stdin.readline()
        if not line:
            raise _UserError("Expected the password on standard input, found nothing.")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise _UserError("No terminal to ask for the password. Use --password-stdin.")
    first = getpass.getpass("New password: ")
    if getpass.getpass("New password again: ") != first:
        raise _UserError("The two passwords differ. Nothing was changed; try again.")
    return first


def _admin(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from sofs_tui.server.db import make_engine
    from sofs_tui.server.db import session as open_session

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        if args.admin_area == "migrate":
            from sofs_tui.server.migrate import upgrade

            settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            upgrade(engine)
            print("The service database is up to date.", file=out)
            return 0
        _require_current_schema(engine)
        handler = _ADMIN[(args.admin_area, args.admin_action)]
        with open_session(engine) as session:
            handler(args, session, stdin, out, {"actor": _actor(), "now": datetime.now(UTC)})
        return 0
    finally:
        engine.dispose()


def _require_current_schema(engine: Any) -> None:
    from sofs_tui.server.migrate import current_revision, head_revision

    current = current_revision(engine)
    if current is None:
        raise _UserError("The service database is not set up. Run `sofs admin migrate` first.")
    if current != head_revision():
        raise _UserError(
            "The service database has an older (or newer) schema than this program. "
            "Run `sofs admin migrate` (after a backup), or use the matching version of sofs."
        )


_Handler = Callable[[argparse.Namespace, Any, TextIO, TextIO, dict[str, Any]], None]


def _team_add(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    team = admin.create_team(s, a.name, **who)
    print(f"Added team {team.name!r}.", file=o)


def _team_list(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    names = admin.list_teams(s, **who)
    print("\n".join(names) if names else "No teams yet: `sofs admin team add NAME`.", file=o)


def _user_add(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    user = admin.create_user(s, a.username, _new_password(a, i), a.role, a.team, **who)
    team = f" in {a.team!r}" if a.team else ""
    print(f"Added {user.role} {user.username}{team}.", file=o)


def _user_list(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    rows = admin.list_users(s, **who)
    if not rows:
        print("No users yet: `sofs admin user add NAME --role worker --team TEAM`.", file=o)
    for row in rows:
        extra = f"  manages: {', '.join(row.manages)}" if row.manages else ""
        state = "  DISABLED" if row.disabled else ""
        print(f"{row.username:<24} {row.role:<8} {row.team or '-':<24}{state}{extra}", file=o)


def _user_flag(action: str, done: str) -> _Handler:
    def run(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
        from sofs_tui.server import admin

        getattr(admin, f"{action}_user")(s, a.username, **who)
        print(f"{done.capitalize()} {a.username}.", file=o)

    return run


def _user_role(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    user = admin.set_role(s, a.username, a.role, **who)
    print(f"{user.username} is now a {user.role}.", file=o)


def _user_password(
    a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]
) -> None:
    from sofs_tui.server import admin

    admin.set_password(s, a.username, _new_password(a, i), **who)
    print(f"Set a new password for {a.username}; their devices must sign in again.", file=o)


def _manager(add: bool) -> _Handler:
    def run(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
        from sofs_tui.server import admin

        if add:
            admin.make_manager_of(s, a.username, a.team, **who)
            print(f"{a.username} now manages {a.team!r}.", file=o)
        else:
            admin.remove_manager_of(s, a.username, a.team, **who)
            print(f"{a.username} no longer manages {a.team!r}.", file=o)

    return run


def _where(row: Any) -> str:
    return f"team {row.team or '-'}, lead {row.lead or '-'}"


def _case_assign(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    row = admin.assign_case(s, a.case_id, a.reference, a.team, a.lead, **who)
    print(f"Assigned {row.reference} ({row.case_id}): {_where(row)}.", file=o)


def _case_reassign(
    a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]
) -> None:
    from sofs_tui.server import admin

    row = admin.reassign_case(s, a.case, team=a.team, lead=a.lead, clear_lead=a.no_lead, **who)
    print(f"Reassigned {row.reference} ({row.case_id}): {_where(row)}.", file=o)


def _case_list(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.server import admin

    rows = admin.list_cases(s, team=a.team, **who)
    if not rows:
        print("No cases assigned.", file=o)
    for row in rows:
        print(f"{row.reference:<16} {row.case_id}  {_where(row)}", file=o)


def _device_revoke(
    a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]
) -> None:
    from sofs_tui.server import admin

    admin.revoke_device(s, a.device_id, **who)
    print(f"Revoked device {a.device_id}; it can no longer sync.", file=o)


def _device_list(a: argparse.Namespace, s: Any, i: TextIO, o: TextIO, who: dict[str, Any]) -> None:
    from sofs_tui.domain.text import clean_text
    from sofs_tui.server import admin

    rows = admin.list_devices(s, username=a.user, **who)
    if not rows:
        print("No devices registered.", file=o)
    for row in rows:
        seen = row.last_seen_at.isoformat(timespec="minutes") if row.last_seen_at else "never"
        state = "  REVOKED" if row.revoked else ""
        label = clean_text(row.label, multiline=False)  # sent by the device: no escapes
        print(f"{row.device_id}  {row.username:<20} {label:<24} last seen {seen}{state}", file=o)


_ADMIN: dict[tuple[str, str], _Handler] = {
    ("team", "add"): _team_add,
    ("team", "list"): _team_list,
    ("user", "add"): _user_add,
    ("user", "list"): _user_list,
    ("user", "disable"): _user_flag("disable", "disabled"),
    ("user", "enable"): _user_flag("enable", "enabled"),
    ("user", "unlock"): _user_flag("unlock", "unlocked"),
    ("user", "role"): _user_role,
    ("user", "password"): _user_password,
    ("manager", "add"): _manager(True),
    ("manager", "remove"): _manager(False),
    ("case", "assign"): _case_assign,
    ("case", "reassign"): _case_reassign,
    ("case", "list"): _case_list,
    ("device", "revoke"): _device_revoke,
    ("device", "list"): _device_list,
}
