"""`sofs admin`: teams, users, managers, cases and devices, each change audited; clear errors."""

from __future__ import annotations

import argparse
import io
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from sofs_tui.server import admin
from sofs_tui.server.cli_commands import SERVER_COMMANDS, add_server_commands, run_server_command
from sofs_tui.server.db import AuditEvent, CaseScope, ChangeLog, Device, TeamManager, User
from sofs_tui.server.principal import Principal
from sofs_tui.server.scope import can_see_case
from tests.conftest import FakeClock
from tests.server.test_auth import (
    ADMIN,
    PASSWORD,
    WHOAMI,
    _close_apps,  # noqa: F401 (autouse: closes the pools)
    add_device,
    add_team,
    add_user,
    bearer,
    db,
    make_app,
    sign_in,
    tokens,
)


def run_cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """`sofs <argv>` through the same parser wiring cli.py uses."""
    parser = argparse.ArgumentParser(prog="sofs")
    parser.add_argument("--data-dir", type=Path)
    add_server_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    assert args.command in SERVER_COMMANDS
    out, err = io.StringIO(), io.StringIO()
    code = run_server_command(args, io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def service_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SOFS_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> FastAPI:
    return make_app(database_url, tmp_path, clock)


def worker(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.team_id, None)


# -- the command line --------------------------------------------------------------------


def test_an_admin_sets_up_teams_users_and_cases_from_the_command_line(service_db: str) -> None:
    assert run_cli("admin", "migrate")[:2] == (0, "The service database is up to date.\n")
    assert run_cli("admin", "team", "add", "Northside")[0] == 0
    assert run_cli("admin", "team", "add", "Southside")[0] == 0
    code, out, err = run_cli(
        "admin",
        "user",
        "add",
        "jo",
        "--team",
        "Northside",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert (code, out, err) == (0, "Added worker jo in 'Northside'.\n", "")
    run_cli("admin", "user", "add", "mo", "--role", "manager", "--password-stdin", stdin=PASSWORD)
    assert run_cli("admin", "manager", "add", "mo", "Southside")[0] == 0
    case_id = str(uuid.uuid4())
    code, out, _ = run_cli(
        "admin", "case", "assign", case_id, "--reference", "CP-0001", "--lead", "jo"
    )
    assert code == 0
    assert out == f"Assigned CP-0001 ({case_id}): team Northside, lead jo.\n"
    code, out, _ = run_cli(
        "admin", "case", "reassign", "CP-0001", "--team", "Southside", "--no-lead"
    )
    assert out == f"Reassigned CP-0001 ({case_id}): team Southside, lead -.\n"

    code, out, _ = run_cli("admin", "user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["jo", "worker", "Northside"]
    assert lines[1].split() == ["mo", "manager", "-", "manages:", "Southside"]
    assert run_cli("admin", "case", "list", "--team", "Southside")[1].split()[:2] == [
        "CP-0001",
        case_id,
    ]
    assert run_cli("admin", "team", "list")[1] == "Northside\nSouthside\n"


def test_a_deny_listed_password_is_refused_with_exit_status_one(service_db: str) -> None:
    run_cli("admin", "migrate")
    code, out, err = run_cli("admin", "user", "add", "jo", "--password-stdin", stdin="Password1\n")
    assert (code, out) == (1, "")
    assert "most common" in err
    assert "Traceback" not in err
    assert run_cli("admin", "user", "list")[1].startswith("No users yet")


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("user", "add", "jo", "--password-stdin"), f"{PASSWORD}\n", "is taken"),
        (("user", "add", "sam", "--team", "Nowhere", "--password-stdin"), PASSWORD, "No team"),
        (("user", "add", "Bad Name!", "--password-stdin"), PASSWORD, "A username is"),
        (("user", "add", "sam", "--password-stdin"), "", "found nothing"),
        (("user", "add", "sam", "--password-stdin"), "short\n", "at least 8"),
        (("user", "role", "nobody", "manager"), "", "No user 'nobody'"),
        (("user", "password", "jo", "--password-stdin"), "jo\n", "at least 8"),
        (("manager", "add", "jo", "Northside"), "", "make them a manager first"),
        (("team", "add", "Northside"), "", "exists already"),
        (("case", "assign", "not-a-uuid", "--reference", "R", "--team", "Northside"), "", "UUID"),
        (("case", "assign", str(uuid.UUID(int=1)), "--reference", "R"), "", "Give a team"),
        (
            ("case", "assign", str(uuid.UUID(int=1)), "--reference", "R", "--lead", "boss"),
            "",
            "admins see no case data",
        ),
        (("case", "reassign", "CP-404", "--team", "Northside"), "", "No case"),
        (("case", "reassign", "CP-404"), "", "Give the new team"),
        (("device", "revoke", str(uuid.UUID(int=7))), "", "No device"),
    ],
)
def test_user_errors_print_one_line_and_exit_one(
    service_db: str, argv: tuple[str, ...], stdin: str, message: str
) -> None:
    run_cli("admin", "migrate")
    run_cli("admin", "team", "add", "Northside")
    run_cli("admin", "user", "add", "jo", "--team", "Northside", "--password-stdin", stdin=PASSWORD)
    run_cli("admin", "user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    code, out, err = run_cli("admin", *argv, stdin=stdin)
    assert code == 1
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_admin_commands_on_a_database_not_yet_migrated_say_to_migrate(service_db: str) -> None:
    code, _, err = run_cli("admin", "user", "list")
    assert code == 1
    assert "Run `sofs admin migrate` first" in err


def test_an_unreachable_database_is_one_clear_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOFS_DATABASE_URL", "postgresql+psycopg://admin:s3cret@127.0.0.1:9/sofs")
    code, _, err = run_cli("admin", "team", "list")
    assert code == 1
    assert "127.0.0.1:9/sofs" in err
    assert "s3cret" not in err
    assert "Traceback" not in err


def test_the_data_dir_option_holds_the_default_sqlite_database(tmp_path: Path) -> None:
    folder = tmp_path / "service"
    assert run_cli("admin", "--data-dir", str(folder), "migrate")[0] == 0
    assert (folder / "sofs-server.db").is_file()
    assert run_cli("admin", "--data-dir", str(folder), "team", "add", "A")[0] == 0
    assert run_cli("--data-dir", str(folder), "admin", "team", "list")[1] == "A\n"


def test_a_new_password_from_the_command_line_ends_existing_sessions(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("SOFS_DATABASE_URL", database_url)
    client = TestClient(app)
    add_user(app, "jo")
    old = tokens(client, "jo")
    new_password = "a brand new passphrase"
    code, out, _ = run_cli(
        "admin", "user", "password", "jo", "--password-stdin", stdin=new_password
    )
    assert (code, out) == (0, "Set a new password for jo; their devices must sign in again.\n")
    assert client.get(WHOAMI, headers=bearer(old["access_token"])).status_code == 401
    assert sign_in(client, "jo").status_code == 401
    assert sign_in(client, "jo", new_password).status_code == 200


def test_device_labels_are_printed_without_terminal_escapes(
    app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFS_DATABASE_URL", database_url)
    device_id = add_device(app, add_user(app, "jo"))
    with db(app) as session:
        device = session.get(Device, device_id)
        assert device is not None
        device.label = "laptop\x1b]0;PWNED\x07\x1b[2J"
        session.add(device)
        session.commit()
    code, out, _ = run_cli("admin", "device", "list")
    assert code == 0
    assert device_id in out
    assert "\x1b" not in out and "\x07" not in out


# -- the functions: effects and audit ----------------------------------------------------


def test_every_admin_action_is_audited_with_ids_and_no_secrets(app: FastAPI) -> None:
    now = app.state.clock()
    with db(app) as session:
        admin.create_team(session, "A", actor=ADMIN, now=now)
        admin.create_team(session, "B", actor=ADMIN, now=now)
        jo = admin.create_user(session, "jo", PASSWORD, "worker", "A", actor=ADMIN, now=now)
        admin.create_user(session, "mo", PASSWORD, "manager", "A", actor=ADMIN, now=now)
        admin.set_role(session, "jo", "worker", actor=ADMIN, now=now)
        admin.set_password(session, "jo", "another long passphrase", actor=ADMIN, now=now)
        admin.make_manager_of(session, "mo", "B", actor=ADMIN, now=now)
        admin.remove_manager_of(session, "mo", "B", actor=ADMIN, now=now)
        case_id = str(uuid.uuid4())
        admin.assign_case(session, case_id, "CP-1", "A", "jo", actor=ADMIN, now=now)
        admin.reassign_case(session, case_id, team="B", actor=ADMIN, now=now)
        device_id = add_device(app, jo.id)
        admin.revoke_device(session, device_id, actor=ADMIN, now=now)
        admin.disable_user(session, "jo", actor=ADMIN, now=now)
        admin.enable_user(session, "jo", actor=ADMIN, now=now)
        admin.unlock_user(session, "jo", actor=ADMIN, now=now)
        admin.list_teams(session, actor=ADMIN, now=now)
        admin.list_users(session, actor=ADMIN, now=now)
        admin.list_cases(session, actor=ADMIN, now=now)
        admin.list_devices(session, actor=ADMIN, now=now)
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [e.action for e in events] == [
        "team_created", "team_created", "user_created", "user_created", "role_changed",
        "password_set", "manager_added", "manager_removed", "case_assigned", "case_reassigned",
        "device_revoked", "user_disabled", "user_enabled", "user_unlocked", "teams_listed",
        "users_listed", "cases_listed", "devices_listed",
    ]  # fmt: skip
    assert {e.actor for e in events} == {ADMIN}
    assert {e.case_id for e in events if e.action.startswith("case_")} == {case_id}
    assert next(e for e in events if e.action == "device_revoked").device_id == device_id
    text = " ".join(e.detail for e in events)
    for secret_or_text in (PASSWORD, "another long passphrase", "CP-1"):
        assert secret_or_text not in text
    assert jo.id in text  # who was changed: by id


def test_reassigning_a_case_moves_it_out_of_the_old_workers_sight(app: FastAPI) -> None:
    now = app.state.clock()
    add_team(app, "A")
    add_team(app, "B")
    add_user(app, "jo", team="A")
    add_user(app, "sam", team="B")
    case_id = str(uuid.uuid4())
    with db(app) as session:
        admin.assign_case(session, case_id, "CP-1", None, "jo", actor=ADMIN, now=now)
        jo = session.exec(select(User).where(User.username == "jo")).one()
        sam = session.exec(select(User).where(User.username == "sam")).one()
        assert session.get(CaseScope, case_id) is not None
        assert can_see_case(session, worker(jo), case_id)
        assert not can_see_case(session, worker(sam), case_id)
        moved = admin.reassign_case(session, "CP-1", team="B", lead="sam", actor=ADMIN, now=now)
        assert (moved.team, moved.lead) == ("B", "sam")
        assert not can_see_case(session, worker(jo), case_id)
        assert can_see_case(session, worker(sam), case_id)


def test_a_case_assigned_to_a_lead_defaults_to_the_leads_team(app: FastAPI) -> None:
    team_a = add_team(app, "A")
    add_user(app, "jo", team="A")
    with db(app) as session:
        row = admin.assign_case(
            session, str(uuid.uuid4()), "CP-2", None, "JO", actor=ADMIN, now=app.state.clock()
        )
        scope = session.get(CaseScope, row.case_id)
    assert scope is not None and scope.team_id == team_a
    assert (row.team, row.lead) == ("A", "jo")


def test_a_reference_shared_by_two_cases_asks_for_the_id(app: FastAPI) -> None:
    add_team(app, "A")
    now = app.state.clock()
    with db(app) as session:
        for _ in range(2):
            admin.assign_case(session, str(uuid.uuid4()), "CP-9", "A", None, actor=ADMIN, now=now)
        with pytest.raises(admin.AdminError, match="give the case id"):
            admin.reassign_case(session, "CP-9", team="A", actor=ADMIN, now=now)


def test_a_manager_made_a_worker_no_longer_manages_any_team(app: FastAPI) -> None:
    add_team(app, "A")
    add_user(app, "mo", "manager")
    now = app.state.clock()
    with db(app) as session:
        admin.make_manager_of(session, "mo", "A", actor=ADMIN, now=now)
        admin.set_role(session, "mo", "worker", actor=ADMIN, now=now)
        assert session.exec(select(TeamManager)).all() == []


def test_a_case_reference_with_control_characters_is_refused(app: FastAPI) -> None:
    add_team(app, "A")
    with db(app) as session, pytest.raises(admin.AdminError, match="hidden control"):
        admin.assign_case(
            session, str(uuid.uuid4()), "CP\x1b[31m", "A", None, actor=ADMIN, now=app.state.clock()
        )


def test_disabling_through_the_command_line_is_immediate(
    app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFS_DATABASE_URL", database_url)
    client = TestClient(app)
    add_user(app, "jo")
    access = tokens(client, "jo")["access_token"]
    assert run_cli("admin", "user", "disable", "jo")[:2] == (0, "Disabled jo.\n")
    assert client.get(WHOAMI, headers=bearer(access)).status_code == 401


def stream(app: FastAPI) -> list[tuple[str, str, str | None]]:
    """The pull stream's scope events: (kind, case, user)."""
    with db(app) as session:
        rows = session.exec(select(ChangeLog).order_by(col(ChangeLog.seq))).all()
        names = {user.id: user.username for user in session.exec(select(User))}
    return [(r.kind, r.case_id, names.get(r.principal_user_id or "")) for r in rows]


def test_case_assignment_and_reassignment_stream_gains_and_revokes(app: FastAPI) -> None:
    now = app.state.clock()
    add_team(app, "A")
    add_team(app, "B")
    add_user(app, "jo", team="A")
    add_user(app, "ann", team="A")
    add_user(app, "sam", team="B")
    add_user(app, "boss", "admin")
    case_id = str(uuid.uuid4())
    with db(app) as session:
        admin.assign_case(session, case_id, "CP-1", "A", "jo", actor=ADMIN, now=now)
        assert sorted(stream(app)) == [("gain", case_id, "ann"), ("gain", case_id, "jo")]
        admin.reassign_case(session, case_id, team="B", lead="sam", actor=ADMIN, now=now)
    assert sorted(stream(app)[2:]) == [
        ("gain", case_id, "sam"),
        ("revoke", case_id, "ann"),
        ("revoke", case_id, "jo"),
    ]


def test_a_managers_new_and_lost_teams_stream_to_their_devices(app: FastAPI) -> None:
    now = app.state.clock()
    add_team(app, "A")
    add_team(app, "B")
    add_user(app, "mo", "manager", "A")
    case_id = str(uuid.uuid4())
    with db(app) as session:
        admin.assign_case(session, case_id, "CP-1", "B", None, actor=ADMIN, now=now)
        admin.make_manager_of(session, "mo", "B", actor=ADMIN, now=now)
        assert stream(app) == [("gain", case_id, "mo")]
        admin.set_role(session, "mo", "worker", actor=ADMIN, now=now)
    assert stream(app) == [("gain", case_id, "mo"), ("revoke", case_id, "mo")]
