"""Administration of the service: teams, users, managers, case assignment, devices.

`sofs admin …` calls these; each is one unit of work that commits its change together with an
`AuditEvent` (actor, action, ids; never names of families or record text), so every permission
change is attributable (SECURITY R19). Problems a person can fix raise AdminError, whose message
is printed as it is.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from sofs_tui.domain.text import validate_free_text
from sofs_tui.server import auth, pull
from sofs_tui.server.db import AuditEvent, CaseScope, Device, LoginThrottle, Team, TeamManager, User

ROLES = auth.ROLES
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,119}$")


class AdminError(Exception):
    """A request the service cannot carry out as asked; the message says why and what to do."""


@dataclass(frozen=True)
class CaseAssignment:
    """Where a case sits: its team and lead worker (names, for people to read)."""

    case_id: str
    reference: str
    team: str | None
    lead: str | None


def _audit(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    *,
    case_id: str | None = None,
    device_id: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditEvent(
            at=now, actor=actor, action=action, case_id=case_id, device_id=device_id, detail=detail
        )
    )


def _line(value: str, what: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise AdminError(f"Give a {what}.")
    problem = validate_free_text(value, max_length=max_length, multiline=False)
    if problem:
        raise AdminError(f"The {what} is not usable: {problem}")
    return value


def _role(role: str) -> str:
    if role not in ROLES:
        raise AdminError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return role


def _team(session: Session, name: str) -> Team:
    team = session.exec(select(Team).where(Team.name == name.strip())).first()
    if team is None:
        raise AdminError(f"No team called {name!r}. `sofs admin team list` shows the teams.")
    return team


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == auth.normal_username(username))).first()
    if user is None:
        raise AdminError(f"No user {username!r}. `sofs admin user list` shows the users.")
    return user


def _case(session: Session, case: str) -> CaseScope:
    """A case by its id or, failing that, its reference (which must then be unambiguous)."""
    found = session.get(CaseScope, case.strip().lower())
    if found is not None:
        return found
    matches = session.exec(select(CaseScope).where(CaseScope.reference == case.strip())).all()
    if len(matches) > 1:
        raise AdminError(f"Several cases have the reference {case!r}; give the case id instead.")
    if not matches:
        raise AdminError(f"No case {case!r} is assigned. Use `sofs admin case assign` first.")
    return matches[0]


def _describe(session: Session, scope: CaseScope) -> CaseAssignment:
    team = session.get(Team, scope.team_id) if scope.team_id else None
    lead = session.get(User, scope.lead_user_id) if scope.lead_user_id else None
    return CaseAssignment(
        scope.case_id, scope.reference, team.name if team else None, lead.username if lead else None
    )


# -- teams and users ---------------------------------------------------------------------


def create_team(session: Session, name: str, *, actor: str, now: datetime) -> Team:
    name = _line(name, "team name", 120)
    if session.exec(select(Team).where(Team.name == name)).first() is not None:
        raise AdminError(f"A team called {name!r} exists already.")
    team = Team(id=str(uuid.uuid4()), name=name)
    session.add(team)
    _audit(session, now, actor, "team_created", detail=f"team={team.id}")
    session.commit()
    return team


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    team: str | None = None,
    *,
    actor: str,
    now: datetime,
) -> User:
    """A new account; the password must pass the policy (auth.password_problem)."""
    name = auth.normal_username(username)
    role = _role(role)
    if not USERNAME.match(name):
        raise AdminError(
            "A username is 2 to 120 characters: letters, digits and . _ @ + - "
            "(it is stored in lower case)."
        )
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise AdminError(f"The username {name!r} is taken.")
    team_id = _team(session, team).id if team else None
    try:
        password_hash = auth.hash_password(password, name)
    except auth.PasswordRejected as exc:
        raise AdminError(str(exc)) from None
    user = User(
        id=str(uuid.uuid4()),
        username=name,
        password_hash=password_hash,
        role=role,
        team_id=team_id,
        created_at=now,
    )
    session.add(user)
    _audit(session, now, actor, "user_created", detail=f"user={user.id} role={role}")
    session.commit()
    return user


def set_role(session: Session, username: str, role: str, *, actor: str, now: datetime) -> User:
    """Change a role; the next request already sees it (roles are read per request), and the
    user's devices gain or drop the cases that come with it at their next sync."""
    user = _user(session, username)
    before = pull.cases_visible_to(session, user.id)
    user.role = _role(role)
    session.add(user)
    if role != "manager":
        session.execute(delete(TeamManager).where(col(TeamManager.user_id) == user.id))
    _audit(session, now, actor, "role_changed", detail=f"user={user.id} role={role}")
    _reach_changed(session, user.id, before)
    session.commit()
    return user


def set_password(
    session: Session, username: str, password: str, *, actor: str, now: datetime
) -> None:
    """A new password; every existing sign-in of the user ends (tokens revoked)."""
    user = _user(session, username)
    try:
        user.password_hash = auth.hash_password(password, user.username)
    except auth.PasswordRejected as exc:
        raise AdminError(str(exc)) from None
    session.add(user)
    auth.revoke_tokens(session, user_id=user.id)
    auth.clear_failures(session, f"user:{user.username}")
    _audit(session, now, actor, "password_set", detail=f"user={user.id}")
    session.commit()


def disable_user(session: Session, username: str, *, actor: str, now: datetime) -> None:
    """The user can no longer sign in, and every token they hold stops working at once."""
    user = _user(session, username)
    user.disabled = True
    session.add(user)
    revoked = auth.revoke_tokens(session, user_id=user.id)
    _audit(session, now, actor, "user_disabled", detail=f"user={user.id} tokens={revoked}")
    session.commit()


def enable_user(session: Session, username: str, *, actor: str, now: datetime) -> None:
    user = _user(session, username)
    user.disabled = False
    session.add(user)
    _audit(session, now, actor, "user_enabled", detail=f"user={user.id}")
    session.commit()


def unlock_user(session: Session, username: str, *, actor: str, now: datetime) -> None:
    """Lift a sign-in lockout on the account (after checking with its owner)."""
    user = _user(session, username)
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == f"user:{user.username}"))
    _audit(session, now, actor, "user_unlocked", detail=f"user={user.id}")
    session.commit()


def make_manager_of(
    session: Session, username: str, team: str, *, actor: str, now: datetime
) -> None:
    """The manager sees every case of `team` from their next request."""
    user = _user(session, username)
    if user.role != "manager":
        raise AdminError(
            f"{user.username} is a {user.role}; make them a manager first "
            "(`sofs admin user role USER manager`)."
        )
    found = _team(session, team)
    before = pull.cases_visible_to(session, user.id)
    if session.get(TeamManager, (user.id, found.id)) is None:
        session.add(TeamManager(user_id=user.id, team_id=found.id))
    _audit(session, now, actor, "manager_added", detail=f"user={user.id} team={found.id}")
    _reach_changed(session, user.id, before)
    session.commit()


def remove_manager_of(
    session: Session, username: str, team: str, *, actor: str, now: datetime
) -> None:
    user = _user(session, username)
    found = _team(session, team)
    link = session.get(TeamManager, (user.id, found.id))
    if link is None:
        raise AdminError(f"{user.username} does not manage {found.name!r}.")
    before = pull.cases_visible_to(session, user.id)
    session.delete(link)
    _audit(session, now, actor, "manager_removed", detail=f"user={user.id} team={found.id}")
    _reach_changed(session, user.id, before)
    session.commit()


def _reach_changed(session: Session, user_id: str, before: set[str]) -> None:
    """Stream the cases one user gained or lost (R37). Last before COMMIT: it takes the sync
    clock row until then."""
    session.flush()
    pull.record_user_scope_change(session, user_id, before, pull.cases_visible_to(session, user_id))


# -- cases -------------------------------------------------------------------------------


def _case_id(case_id: str) -> str:
    try:
        return str(uuid.UUID(case_id.strip()))
    except ValueError:
        raise AdminError(f"{case_id!r} is not a case id (a UUID).") from None


def _lead(session: Session, lead: str) -> User:
    user = _user(session, lead)
    if user.role == "admin":
        raise AdminError("An admin cannot lead a case: admins see no case data.")
    if user.disabled:
        raise AdminError(f"{user.username} is disabled; enable them or choose another lead.")
    return user


def _scope_changed(
    session: Session, scope: CaseScope, before: tuple[str | None, str | None] | None
) -> None:
    """Stream who gained or lost the case (R37). Last before COMMIT: it takes the sync clock
    row until then."""
    session.flush()
    old = pull.principals_for(session, *before) if before else set()
    pull.record_scope_change(
        session, scope.case_id, old, pull.principals_for(session, scope.team_id, scope.lead_user_id)
    )


def assign_case(
    session: Session,
    case_id: str,
    reference: str,
    team: str | None,
    lead: str | None,
    *,
    actor: str,
    now: datetime,
) -> CaseAssignment:
    """Put a case in a team and/or under a lead worker (the lead's team by default)."""
    case = _case_id(case_id)
    if session.get(CaseScope, case) is not None:
        raise AdminError("That case is assigned already; use `sofs admin case reassign`.")
    reference = _line(reference, "case reference", 40)
    lead_user = _lead(session, lead) if lead else None
    team_id = _team(session, team).id if team else (lead_user.team_id if lead_user else None)
    if team_id is None and lead_user is None:
        raise AdminError("Give a team or a lead worker (who has a team).")
    scope = CaseScope(
        case_id=case,
        reference=reference,
        team_id=team_id,
        lead_user_id=lead_user.id if lead_user else None,
    )
    session.add(scope)
    _audit(
        session, now, actor, "case_assigned", case_id=case, detail=_ids(team_id, scope.lead_user_id)
    )
    described = _describe(session, scope)
    _scope_changed(session, scope, None)
    session.commit()
    return described


def reassign_case(
    session: Session,
    case: str,
    *,
    team: str | None = None,
    lead: str | None = None,
    clear_lead: bool = False,
    actor: str,
    now: datetime,
) -> CaseAssignment:
    """Move a case to another team and/or lead. Whoever loses sight of it loses it at their
    very next request; their devices drop clean copies at the next sync (R37)."""
    if team is None and lead is None and not clear_lead:
        raise AdminError("Give the new team, the new lead, or both.")
    scope = _case(session, case)
    before = (scope.team_id, scope.lead_user_id)
    if team is not None:
        scope.team_id = _team(session, team).id
    if lead is not None:
        scope.lead_user_id = _lead(session, lead).id
    elif clear_lead:
        scope.lead_user_id = None
    if scope.team_id is None and scope.lead_user_id is None:
        raise AdminError("A case needs a team or a lead worker.")
    session.add(scope)
    _audit(
        session,
        now,
        actor,
        "case_reassigned",
        case_id=scope.case_id,
        detail=_ids(scope.team_id, scope.lead_user_id),
    )
    described = _describe(session, scope)
    _scope_changed(session, scope, before)
    session.commit()
    return described


def _ids(team_id: str | None, lead_id: str | None) -> str:
    return f"team={team_id or '-'} lead={lead_id or '-'}"


# -- devices -----------------------------------------------------------------------------


def revoke_device(session: Session, device_id: str, *, actor: str, now: datetime) -> None:
    """A lost or retired laptop: its tokens stop working at once and it gets
    403 device_revoked on every request from then on."""
    device = session.get(Device, device_id.strip().lower())
    if device is None:
        raise AdminError(f"No device {device_id!r}. `sofs admin device list` shows them.")
    device.revoked = True
    session.add(device)
    revoked = auth.revoke_tokens(session, device_id=device.id)
    _audit(session, now, actor, "device_revoked", device_id=device.id, detail=f"tokens={revoked}")
    session.commit()


# -- listings (each one audited: who looked at the permission table) ----------------------


@dataclass(frozen=True)
class UserRow:
    username: str
    role: str
    team: str | None
    disabled: bool
    manages: tuple[str, ...]


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    username: str
    label: str
    app_version: str
    revoked: bool
    last_seen_at: datetime | None


def list_teams(session: Session, *, actor: str, now: datetime) -> list[str]:
    names = list(session.exec(select(Team.name).order_by(col(Team.name))))
    _audit(session, now, actor, "teams_listed")
    session.commit()
    return names


def list_users(session: Session, *, actor: str, now: datetime) -> list[UserRow]:
    teams = {team.id: team.name for team in session.exec(select(Team))}
    manages: dict[str, list[str]] = {}
    for link in session.exec(select(TeamManager)):
        manages.setdefault(link.user_id, []).append(teams[link.team_id])
    rows = [
        UserRow(
            user.username,
            user.role,
            teams.get(user.team_id) if user.team_id else None,
            user.disabled,
            tuple(sorted(manages.get(user.id, []))),
        )
        for user in session.exec(select(User).order_by(col(User.username)))
    ]
    _audit(session, now, actor, "users_listed")
    session.commit()
    return rows


def list_cases(
    session: Session, *, team: str | None = None, actor: str, now: datetime
) -> list[CaseAssignment]:
    query = select(CaseScope).order_by(col(CaseScope.reference), col(CaseScope.case_id))
    if team is not None:
        query = query.where(CaseScope.team_id == _team(session, team).id)
    rows = [_describe(session, scope) for scope in session.exec(query)]
    _audit(session, now, actor, "cases_listed")
    session.commit()
    return rows


def list_devices(
    session: Session, *, username: str | None = None, actor: str, now: datetime
) -> list[DeviceRow]:
    users = {user.id: user.username for user in session.exec(select(User))}
    query = select(Device).order_by(col(Device.registered_at))
    if username is not None:
        query = query.where(Device.user_id == _user(session, username).id)
    rows = [
        DeviceRow(
            device.id,
            users.get(device.user_id, "?"),
            device.label,
            device.app_version,
            device.revoked,
            device.last_seen_at,
        )
        for device in session.exec(query)
    ]
    _audit(session, now, actor, "devices_listed")
    session.commit()
    return rows
