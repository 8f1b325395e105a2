"""Passwords, tokens and login throttling for the service (SECURITY R27–R29).

Tokens are opaque random strings kept in `auth_token` only as SHA-256 hashes, not JWTs:
- revocation is instant and shared: disabling a user, revoking a device or detecting a reused
  refresh token flips rows that every stateless worker reads on the very next request, with no
  deny-list to distribute and no wait for an `exp` to pass;
- there is nothing to verify but a hash lookup, so there is no signing key to leak and no
  algorithm confusion (`alg=none`, HS/RS key swaps) to get wrong;
- a stolen database copy holds no usable token, only its hash.
The cost is one indexed read per request, which the endpoints do anyway.

Every expiry decision uses the app's injectable clock (`request.app.state.clock`).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, NoReturn

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from sofs_tui.server.db import (
    READ_ONLY,
    AuditEvent,
    AuthToken,
    Device,
    LoginThrottle,
    TeamManager,
    User,
)
from sofs_tui.server.deps import get_clock, get_engine
from sofs_tui.server.principal import Principal
from sofs_tui.server.settings import ACCESS_TOKEN_TTL, ServerSettings
from sofs_tui.sync.protocol import ErrorResponse

# OWASP's Argon2id profile (m=19 MiB, t=2, p=1): about 20 ms here. Raising any parameter makes
# every older hash rehash at its owner's next login (`verify_password`).
PASSWORD_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
MIN_PASSWORD = 8
MAX_PASSWORD = 128

# The most common passwords of public breach corpora (all at least 8 characters, since shorter
# ones fail the length rule anyway). Compared case-insensitively, so "Password1" is refused.
_COMMON = """
    12345678 123456789 1234567890 12345678910 123123123 1234512345 11111111 111111111
    1111111111 00000000 000000000 0000000000 11223344 12341234 12344321 87654321 88888888
    99999999 66666666 55555555 22222222 33333333 44444444 77777777 123456789a 1q2w3e4r
    1q2w3e4r5t 1qaz2wsx 1qazxsw2 zaq12wsx qwertyuiop qwerty123 qwerty12 qwerty1234
    qwertyui asdfghjkl asdfasdf zxcvbnm1 zxcvbnm123 password password1 password12
    password123 password1234 password! passw0rd p@ssword p@ssw0rd pa55word pa55w0rd
    passwordpassword letmein1 letmein123 welcome1 welcome123 welcome2024 welcome2025
    iloveyou iloveyou1 sunshine sunshine1 princess princess1 football football1 baseball
    superman starwars trustno1 whatever computer michelle jennifer changeme changeme1
    abcd1234 abc12345 abcdefgh abcdefg1 aa123456 a1b2c3d4 q1w2e3r4 qwer1234 asdf1234
    monkey123 dragon123 master123 shadow123 liverpool chelsea1 arsenal1 manchester
    admin123 admin1234 administrator secret123 summer2024 winter2024 spring2025 autumn2025
    login123 default1 temppass temp1234 council1 socialwork
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())

ACCESS = "access"
REFRESH = "refresh"
ADDRESS_FACTOR = 4  # an office behind one NAT address gets this many times the account's tries
MAX_LOCKOUT = timedelta(hours=24)
FORGET_FAILURES_AFTER = timedelta(hours=24)
ROLES = ("worker", "manager", "admin")


class PasswordRejected(ValueError):
    """A new password breaks the policy; the message says why, for the person choosing it."""


class AuthFailed(Exception):
    """401: wrong credentials or an unusable token (the detail is the same for every cause)."""

    def __init__(self, detail: str = "invalid_credentials") -> None:
        super().__init__(detail)
        self.detail = detail


class Throttled(Exception):
    """429: too many failed logins for this account or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class DeviceRefused(Exception):
    """403: the device is revoked, or registered to someone else."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# -- passwords ---------------------------------------------------------------------------


def _normal(password: str) -> str:
    # NFKC so the same passphrase typed on two keyboards hashes the same (NIST SP 800-63B).
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` may not be chosen, in words for the person choosing it; None if fine.

    Length and a deny-list only: no composition rules (NCSC, OWASP ASVS 6.2)."""
    normal = _normal(password)
    if len(normal) < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters (spaces are fine)."
    if len(normal) > MAX_PASSWORD:
        return f"Choose a password of at most {MAX_PASSWORD} characters."
    folded = normal.casefold()
    if folded in COMMON_PASSWORDS:
        return "That password is one of the most common and easily guessed; choose another."
    if username and folded == username.casefold():
        return "The password may not be the username."
    return None


def hash_password(password: str, username: str = "") -> str:
    """The Argon2id hash of a new password, after the policy check (raises PasswordRejected)."""
    problem = password_problem(password, username)
    if problem:
        raise PasswordRejected(problem)
    return PASSWORD_HASHER.hash(_normal(password))


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash to verify against for unknown usernames, so they cost as much time as known."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None or PASSWORD_HASHER.check_needs_rehash(_DUMMY_HASH):
        _DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, replacement hash when the stored one uses older parameters).

    `stored_hash=None` (no such user) still runs a full verification, against a dummy hash."""
    candidate = _normal(password)
    try:
        PASSWORD_HASHER.verify(stored_hash or _dummy_hash(), candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    if PASSWORD_HASHER.check_needs_rehash(stored_hash):
        return True, PASSWORD_HASHER.hash(candidate)
    return True, None


def normal_username(username: str) -> str:
    return username.strip().casefold()


# -- tokens ------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    family_id: str


def access_ttl(settings: ServerSettings) -> timedelta:
    """The configured access-token lifetime, never more than 15 minutes (R29)."""
    return min(settings.access_token_ttl, ACCESS_TOKEN_TTL)


def issue_tokens(
    session: Session,
    user_id: str,
    device_id: str | None,
    now: datetime,
    settings: ServerSettings,
    family_id: str | None = None,
) -> IssuedTokens:
    """A new access and refresh token (in `family_id`, or a new family). The caller commits."""
    family = family_id or str(uuid.uuid4())
    ttl = access_ttl(settings)
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    for kind, token, lifetime in (
        (ACCESS, access, ttl),
        (REFRESH, refresh, settings.refresh_token_ttl),
    ):
        session.add(
            AuthToken(
                token_hash=token_digest(token),
                kind=kind,
                user_id=user_id,
                device_id=device_id,
                family_id=family,
                issued_at=now,
                expires_at=now + lifetime,
            )
        )
    return IssuedTokens(access, refresh, int(ttl.total_seconds()), family)


def revoke_tokens(
    session: Session,
    *,
    user_id: str | None = None,
    device_id: str | None = None,
    family_id: str | None = None,
) -> int:
    """Revoke every token of a user, a device or a family at once; how many. Caller commits."""
    conditions: list[Any] = []
    if user_id is not None:
        conditions.append(col(AuthToken.user_id) == user_id)
    if device_id is not None:
        conditions.append(col(AuthToken.device_id) == device_id)
    if family_id is not None:
        conditions.append(col(AuthToken.family_id) == family_id)
    if not conditions:
        raise ValueError("name a user, a device or a family")
    result = session.execute(
        update(AuthToken)
        .where(or_(*conditions), col(AuthToken.revoked).is_(False))
        .values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _audit(
    session: Session, now: datetime, actor: str, action: str, device_id: str | None = None
) -> None:
    session.add(AuditEvent(at=now, actor=actor, device_id=device_id, action=action))


def _device_check(session: Session, device_id: str | None, user_id: str) -> None:
    if device_id is None:
        return
    device = session.get(Device, device_id)
    if device is None:
        return  # registered later through PUT /sync/v1/devices/{id}, under this user
    if device.revoked:
        raise DeviceRefused("device_revoked")
    if device.user_id != user_id:
        raise DeviceRefused("device_not_yours")


# -- login throttling --------------------------------------------------------------------


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username}"[:200], f"addr:{address}"[:200]


def _threshold(key: str, settings: ServerSettings) -> int:
    base = settings.login_failures_before_throttle
    return base * ADDRESS_FACTOR if key.startswith("addr:") else base


def _lockout(failures: int, threshold: int, settings: ServerSettings) -> timedelta | None:
    """Exponential: the base lockout at the threshold, doubling with each failure past it."""
    over = failures - threshold
    if over < 0:
        return None
    return min(settings.login_lockout * (1 << min(over, 16)), MAX_LOCKOUT)


def retry_after(session: Session, keys: tuple[str, ...], now: datetime) -> int | None:
    """Seconds until every key is unlocked, or None when none is locked."""
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))).all()
    waits = [
        (row.locked_until - now).total_seconds()
        for row in rows
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def _locked_row(session: Session, key: str) -> LoginThrottle:
    """The throttle row for `key`, locked for update (created if absent, race-safe)."""
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is not None:
        return row
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.add(LoginThrottle(key=key, failures=0))
    except IntegrityError:
        pass  # another worker inserted it first
    row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def record_failure(
    session: Session, keys: tuple[str, ...], now: datetime, settings: ServerSettings
) -> None:
    """Count one failed login against each key, locking those past their threshold."""
    for key in keys:
        row = _locked_row(session, key)
        if row.last_failure_at is not None and now - row.last_failure_at > FORGET_FAILURES_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        lockout = _lockout(row.failures, _threshold(key, settings), settings)
        if lockout is not None:
            row.locked_until = now + lockout
        session.add(row)


def clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


def _forget_stale(session: Session, user_id: str, now: datetime) -> None:
    """Housekeeping at each sign-in: old failure counts, and this user's dead tokens."""
    cutoff = now - FORGET_FAILURES_AFTER
    session.execute(
        delete(LoginThrottle).where(
            col(LoginThrottle.last_failure_at) < cutoff,
            or_(col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) < now),
        )
    )
    # Expired tokens are useless; spent refresh tokens stay until they expire (reuse detection).
    session.execute(
        delete(AuthToken).where(
            col(AuthToken.user_id) == user_id, col(AuthToken.expires_at) < now - timedelta(days=1)
        )
    )


@dataclass(frozen=True)
class LoginResult:
    tokens: IssuedTokens
    username: str
    role: str


def login(
    session: Session,
    username: str,
    password: str,
    device_id: str | None,
    address: str,
    now: datetime,
    settings: ServerSettings,
) -> LoginResult:
    """Check a username and password and issue tokens (raises AuthFailed, Throttled,
    DeviceRefused). Known and unknown usernames cost the same time and get the same answer."""
    name = normal_username(username)
    keys = _throttle_keys(name, address)
    wait = retry_after(session, keys, now)
    found = session.exec(
        select(User.id, User.password_hash, User.disabled, User.role).where(User.username == name)
    ).first()
    # End the read before the slow hash: SQLite holds its write lock for a whole transaction.
    session.rollback()
    if wait is not None:
        raise Throttled(wait)
    ok, new_hash = verify_password(found[1] if found else None, password)
    if not ok or found is None or found[2]:
        record_failure(session, keys, now, settings)
        _audit(session, now, name if found else "", "login_failed")
        session.commit()
        raise AuthFailed("invalid_credentials")
    user_id, _, _, role = found
    _device_check(session, device_id, user_id)
    clear_failures(session, keys[0])
    _forget_stale(session, user_id, now)
    if new_hash:
        session.execute(update(User).where(col(User.id) == user_id).values(password_hash=new_hash))
    tokens = issue_tokens(session, user_id, device_id, now, settings)
    _audit(session, now, name, "login", device_id)
    session.commit()
    return LoginResult(tokens, name, role)


def refresh(
    session: Session, refresh_token: str, now: datetime, settings: ServerSettings
) -> LoginResult:
    """Rotate a refresh token: the presented one is spent, a new pair is issued in its family.

    A spent token presented again means two parties hold it; the whole family is revoked
    (raises AuthFailed), so the thief's and the owner's copies both stop working."""
    digest = token_digest(refresh_token)
    row = session.get(AuthToken, digest)
    if row is None or row.kind != REFRESH:
        raise AuthFailed("invalid_token")
    user = session.get(User, row.user_id)
    if user is None:
        raise AuthFailed("invalid_token")
    if row.used_at is not None:
        _spent_token_reused(session, row, user.username, now)
    if row.device_id is not None:
        device = session.get(Device, row.device_id)
        if device is not None and device.revoked:
            raise DeviceRefused("device_revoked")
    if row.revoked or row.expires_at <= now or user.disabled:
        raise AuthFailed("invalid_token")
    claimed = session.execute(
        update(AuthToken)
        .where(
            col(AuthToken.token_hash) == digest,
            col(AuthToken.used_at).is_(None),
            col(AuthToken.revoked).is_(False),
        )
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # another worker rotated it a moment ago
        _spent_token_reused(session, row, user.username, now)
    tokens = issue_tokens(session, user.id, row.device_id, now, settings, family_id=row.family_id)
    _audit(session, now, user.username, "token_refreshed", row.device_id)
    session.commit()
    return LoginResult(tokens, user.username, user.role)


def _spent_token_reused(session: Session, row: AuthToken, username: str, now: datetime) -> NoReturn:
    family, device_id = row.family_id, row.device_id
    session.rollback()
    revoke_tokens(session, family_id=family)
    _audit(session, now, username, "refresh_token_reused", device_id)
    session.commit()
    raise AuthFailed("invalid_token")


# -- the request's principal -------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    family_id: str


def authenticate(session: Session, access_token: str, now: datetime) -> Authenticated:
    """The principal an access token stands for (raises AuthFailed, DeviceRefused).

    Role, team and managed teams come from the database now, not from the token, so an admin's
    change applies to the very next request."""
    # One query for the token, its user and its device (every request pays for it); a second
    # for the teams a manager oversees.
    found = session.exec(
        select(AuthToken, User, col(Device.revoked))
        .join(User, col(User.id) == col(AuthToken.user_id))
        .outerjoin(Device, col(Device.id) == col(AuthToken.device_id))
        .where(col(AuthToken.token_hash) == token_digest(access_token))
    ).first()
    if found is None:
        raise AuthFailed("invalid_token")
    token, user, device_revoked = found
    if token.kind != ACCESS:
        raise AuthFailed("invalid_token")
    if device_revoked:
        raise DeviceRefused("device_revoked")
    if token.revoked or token.expires_at <= now or user.disabled:
        raise AuthFailed("invalid_token")
    managed: Iterable[str] = ()
    if user.role == "manager":
        managed = session.exec(select(TeamManager.team_id).where(TeamManager.user_id == user.id))
    principal = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        device_id=token.device_id,
        managed_team_ids=frozenset(managed),
    )
    return Authenticated(principal, token.family_id)


def unauthorized(detail: str = "not_authenticated") -> HTTPException:
    challenge = "Bearer" if detail == "not_authenticated" else f'Bearer error="{detail}"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from POST /auth/token (15 minutes; renew with /auth/refresh).",
)


def require_authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Authenticated:
    """The FastAPI dependency behind `require_principal`, keeping the token's family too."""
    if credentials is None or not credentials.credentials:
        raise unauthorized()
    # A read-only session of its own: the endpoint's transaction stays untouched, and on SQLite
    # checking a token neither waits for nor blocks a writer.
    reader = get_engine(request).execution_options(**{READ_ONLY: True})
    with Session(reader, expire_on_commit=False) as session:
        try:
            return authenticate(session, credentials.credentials, get_clock(request)())
        except AuthFailed as exc:
            raise unauthorized(exc.detail) from None
        except DeviceRefused as exc:
            raise HTTPException(status_code=403, detail=exc.detail) from None


def require_principal(
    authenticated: Annotated[Authenticated, Depends(require_authenticated)],
) -> Principal:
    """`Authorization: Bearer <access token>` → the Principal; 401 (`WWW-Authenticate: Bearer`)
    for a missing, unknown, expired, revoked or refresh token; 403 `device_revoked`."""
    return authenticated.principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]

#: OpenAPI `responses=` for any route behind `require_principal` (Schemathesis checks that every
#: status an operation can return is documented).
PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing, unknown, expired or revoked token"},
    403: {"model": ErrorResponse, "description": "Device revoked, or not allowed"},
}

#: OpenAPI `responses=` for any route that takes a JSON body: unparseable (400), or over the
#: BodyLimit (413, refused before parsing).
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body is not parseable JSON"},
    413: {"model": ErrorResponse, "description": "The body is over the size limit"},
}
