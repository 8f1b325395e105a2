"""Sign-in, tokens and throttling (SECURITY R27–R29), on SQLite and PostgreSQL.

The helpers at the top (make_app, add_user, sign_in, bearer) are shared by the other server
auth tests.
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sofs_tui.server import admin, auth
from sofs_tui.server.app import create_app
from sofs_tui.server.db import AuditEvent, AuthToken, Device, User
from sofs_tui.server.settings import ServerSettings
from tests.conftest import FakeClock

PASSWORD = "correct horse battery staple"
ADMIN = "test-admin"
WHOAMI = "/test/whoami"


_OPEN_APPS: list[FastAPI] = []


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    """Close every app's connection pool after each test (PostgreSQL has a connection limit)."""
    yield
    while _OPEN_APPS:
        _OPEN_APPS.pop().state.engine.dispose()


def make_app(database_url: str, tmp_path: Path, clock: FakeClock, **settings: Any) -> FastAPI:
    """The real app, plus a probe route behind `require_principal` that echoes the principal.
    Its connections close after the test (`_close_apps`, imported by the other modules)."""
    app = create_app(
        ServerSettings(data_dir=tmp_path, database_url=database_url, **settings), clock=clock
    )
    _OPEN_APPS.append(app)

    @app.get(WHOAMI, include_in_schema=False)
    def whoami(principal: auth.CurrentPrincipal) -> dict[str, Any]:
        return {
            "user_id": principal.user_id,
            "username": principal.username,
            "role": principal.role,
            "team_id": principal.team_id,
            "device_id": principal.device_id,
            "managed": sorted(principal.managed_team_ids),
        }

    return app


def db(app: FastAPI) -> Session:
    return Session(app.state.engine, expire_on_commit=False)


def add_team(app: FastAPI, name: str) -> str:
    with db(app) as session:
        return admin.create_team(session, name, actor=ADMIN, now=app.state.clock()).id


def add_user(
    app: FastAPI,
    username: str,
    role: str = "worker",
    team: str | None = None,
    password: str = PASSWORD,
) -> str:
    with db(app) as session:
        user = admin.create_user(
            session, username, password, role, team, actor=ADMIN, now=app.state.clock()
        )
        return user.id


def add_device(app: FastAPI, user_id: str) -> str:
    device_id = str(uuid.uuid4())
    with db(app) as session:
        session.add(
            Device(id=device_id, user_id=user_id, label="laptop", registered_at=app.state.clock())
        )
        session.commit()
    return device_id


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, device_id: str | None = None
) -> Any:
    body: dict[str, Any] = {"username": username, "password": password}
    if device_id:
        body["device_id"] = device_id
    return client.post("/auth/token", json=body)


def tokens(client: TestClient, username: str, device_id: str | None = None) -> dict[str, Any]:
    response = sign_in(client, username, device_id=device_id)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> FastAPI:
    return make_app(database_url, tmp_path, clock)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


# -- R27 passwords -----------------------------------------------------------------------


def test_stored_hash_is_argon2id_with_at_least_the_owasp_parameters(app: FastAPI) -> None:
    add_user(app, "jo")
    with db(app) as session:
        stored = session.exec(select(User.password_hash).where(User.username == "jo")).one()
    assert stored.startswith("$argon2id$")
    params = dict(part.split("=") for part in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19_456
    assert int(params["t"]) >= 2
    assert PASSWORD not in stored


def test_a_legacy_parameter_hash_is_rehashed_at_sign_in(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    legacy = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=2, type=Type.ID)
    with db(app) as session:
        user = session.exec(select(User).where(User.username == "jo")).one()
        user.password_hash = legacy.hash(PASSWORD)
        session.add(user)
        session.commit()

    assert sign_in(client, "jo").status_code == 200

    with db(app) as session:
        stored = session.exec(select(User.password_hash).where(User.username == "jo")).one()
    assert "m=19456,t=2,p=1" in stored
    assert not auth.PASSWORD_HASHER.check_needs_rehash(stored)
    assert sign_in(client, "jo").status_code == 200  # the new hash still matches


@pytest.mark.parametrize("weak", ["Password1", "password", "12345678", "PASSWORD123", "Passw0rd"])
def test_common_passwords_are_refused_with_a_clear_message(weak: str) -> None:
    with pytest.raises(auth.PasswordRejected, match="most common"):
        auth.hash_password(weak)


@pytest.mark.parametrize(
    ("password", "message"),
    [("seven77", "at least 8"), ("x" * 129, "at most 128"), ("jo-smith", "not be the username")],
)
def test_short_long_and_username_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(auth.PasswordRejected, match=message):
        auth.hash_password(password, "jo-smith")


def test_a_long_passphrase_with_spaces_and_no_digits_is_accepted(
    app: FastAPI, client: TestClient
) -> None:
    passphrase = "the quick brown fox jumps over the lazy dog near the river bank"
    assert len(passphrase) >= 60
    add_user(app, "jo", password=passphrase)
    assert sign_in(client, "jo", passphrase).status_code == 200
    assert auth.password_problem("x" * 128) is None


# -- tokens (R29) ------------------------------------------------------------------------


def test_sign_in_gives_opaque_tokens_living_at_most_fifteen_minutes(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    response = sign_in(client, "jo")
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["role"] == "worker"
    assert 0 < body["expires_in"] <= 15 * 60
    assert response.headers["cache-control"] == "no-store"
    assert body["access_token"] != body["refresh_token"]
    assert body["access_token"].count(".") == 0  # opaque, not a JWT


def test_tokens_are_stored_only_as_sha256_hashes(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    body = tokens(client, "jo")
    with db(app) as session:
        rows = session.exec(select(AuthToken)).all()
    stored = {row.token_hash for row in rows}
    assert stored == {
        auth.token_digest(body["access_token"]),
        auth.token_digest(body["refresh_token"]),
    }
    assert body["access_token"] not in stored
    assert body["refresh_token"] not in stored


def test_a_configured_access_lifetime_over_fifteen_minutes_is_capped(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    app = make_app(database_url, tmp_path, clock, access_token_ttl=timedelta(hours=2))
    add_user(app, "jo")
    assert tokens(TestClient(app), "jo")["expires_in"] == 15 * 60


def test_an_access_token_expires_after_fifteen_minutes(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    add_user(app, "jo")
    access = tokens(client, "jo")["access_token"]
    clock.advance(minutes=14, seconds=59)
    assert client.get(WHOAMI, headers=bearer(access)).status_code == 200
    clock.advance(minutes=1, seconds=1)
    response = client.get(WHOAMI, headers=bearer(access))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    first = tokens(client, "jo")
    renewed = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert renewed.status_code == 200
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get(WHOAMI, headers=bearer(second["access_token"])).status_code == 200

    # A thief replays the spent token: refused, and everything in the family dies with it.
    replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert (
        client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code
        == 401
    )
    assert client.get(WHOAMI, headers=bearer(second["access_token"])).status_code == 401
    with db(app) as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert "refresh_token_reused" in actions


def test_another_sign_in_is_untouched_when_one_family_is_revoked(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    laptop, other = tokens(client, "jo"), tokens(client, "jo")
    client.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    client.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]})  # reuse
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "forged",
    ["random", "refresh_as_access", "expired", "revoked", "jwt_alg_none", "empty"],
)
def test_unusable_tokens_get_401_with_a_bearer_challenge(
    app: FastAPI, client: TestClient, clock: FakeClock, forged: str
) -> None:
    add_user(app, "jo")
    body = tokens(client, "jo")
    token = {
        "random": "x" * 43,
        "refresh_as_access": body["refresh_token"],
        "expired": body["access_token"],
        "revoked": body["access_token"],
        "jwt_alg_none": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJqbyJ9.",
        "empty": "",
    }[forged]
    if forged == "expired":
        clock.advance(minutes=16)
    if forged == "revoked":
        with db(app) as session:
            auth.revoke_tokens(session, family_id=auth_family(app, body["access_token"]))
            session.commit()
    response = client.get(WHOAMI, headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}


def auth_family(app: FastAPI, token: str) -> str:
    with db(app) as session:
        row = session.get(AuthToken, auth.token_digest(token))
        assert row is not None
        return row.family_id


@pytest.mark.parametrize("header", [None, "Basic am86cGFzcw==", "Bearer"])
def test_missing_or_malformed_authorization_gets_401(
    client: TestClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get(WHOAMI, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_access_token_cannot_be_used_to_refresh(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    body = tokens(client, "jo")
    assert (
        client.post("/auth/refresh", json={"refresh_token": body["access_token"]}).status_code
        == 401
    )


def test_an_expired_refresh_token_is_refused(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    add_user(app, "jo")
    body = tokens(client, "jo")
    clock.advance(days=31)
    assert (
        client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code
        == 401
    )


def test_disabling_a_user_revokes_their_tokens_at_the_next_request(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    body = tokens(client, "jo")
    assert client.get(WHOAMI, headers=bearer(body["access_token"])).status_code == 200
    with db(app) as session:
        admin.disable_user(session, "jo", actor=ADMIN, now=app.state.clock())
    assert client.get(WHOAMI, headers=bearer(body["access_token"])).status_code == 401
    assert (
        client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code
        == 401
    )
    assert sign_in(client, "jo").status_code == 401  # same answer as a wrong password
    with db(app) as session:
        admin.enable_user(session, "jo", actor=ADMIN, now=app.state.clock())
    assert client.get(WHOAMI, headers=bearer(body["access_token"])).status_code == 401
    assert sign_in(client, "jo").status_code == 200


def test_revoking_a_device_refuses_its_tokens_with_device_revoked(
    app: FastAPI, client: TestClient
) -> None:
    user_id = add_user(app, "jo")
    laptop = add_device(app, user_id)
    on_laptop = tokens(client, "jo", device_id=laptop)
    elsewhere = tokens(client, "jo")
    assert (
        client.get(WHOAMI, headers=bearer(on_laptop["access_token"])).json()["device_id"] == laptop
    )

    with db(app) as session:
        admin.revoke_device(session, laptop, actor=ADMIN, now=app.state.clock())

    response = client.get(WHOAMI, headers=bearer(on_laptop["access_token"]))
    assert (response.status_code, response.json()) == (403, {"detail": "device_revoked"})
    renewal = client.post("/auth/refresh", json={"refresh_token": on_laptop["refresh_token"]})
    assert (renewal.status_code, renewal.json()) == (403, {"detail": "device_revoked"})
    assert sign_in(client, "jo", device_id=laptop).status_code == 403
    with db(app) as session:
        assert all(
            row.revoked
            for row in session.exec(select(AuthToken).where(AuthToken.device_id == laptop))
        )
    # The user's other sign-ins are not the lost laptop's.
    assert client.get(WHOAMI, headers=bearer(elsewhere["access_token"])).status_code == 200


def test_signing_in_with_someone_elses_device_is_refused(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    sam = add_user(app, "sam")
    response = sign_in(client, "jo", device_id=add_device(app, sam))
    assert (response.status_code, response.json()) == (403, {"detail": "device_not_yours"})


def test_logout_revokes_that_sign_in_only(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    first, second = tokens(client, "jo"), tokens(client, "jo")
    assert client.post("/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    assert client.get(WHOAMI, headers=bearer(first["access_token"])).status_code == 401
    assert (
        client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code
        == 401
    )
    assert client.get(WHOAMI, headers=bearer(second["access_token"])).status_code == 200
    assert client.post("/auth/logout").status_code == 401


def test_the_principal_comes_from_the_database_at_each_request(
    app: FastAPI, client: TestClient
) -> None:
    team_a, team_b = add_team(app, "A"), add_team(app, "B")
    user_id = add_user(app, "jo", "manager", "A")
    with db(app) as session:
        admin.make_manager_of(session, "jo", "B", actor=ADMIN, now=app.state.clock())
    access = tokens(client, "jo")["access_token"]
    me = client.get(WHOAMI, headers=bearer(access)).json()
    assert me == {
        "user_id": user_id,
        "username": "jo",
        "role": "manager",
        "team_id": team_a,
        "device_id": None,
        "managed": [team_b],
    }
    with db(app) as session:
        admin.set_role(session, "jo", "worker", actor=ADMIN, now=app.state.clock())
    me = client.get(WHOAMI, headers=bearer(access)).json()
    assert (me["role"], me["managed"]) == ("worker", [])


def test_sign_in_ignores_username_case_and_surrounding_spaces(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "Jo.Smith")
    assert sign_in(client, "  JO.SMITH ").status_code == 200


def test_no_password_or_token_reaches_the_logs(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    add_user(app, "jo")
    caplog.set_level(logging.DEBUG)
    sign_in(client, "jo", "wrong password here")
    body = tokens(client, "jo")
    renewed = client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]}).json()
    client.get(WHOAMI, headers=bearer(renewed["access_token"]))
    for secret in (
        PASSWORD,
        "wrong password here",
        body["access_token"],
        body["refresh_token"],
        renewed["access_token"],
    ):
        assert secret not in caplog.text
    assert "Bearer " not in caplog.text


# -- throttling (R28) --------------------------------------------------------------------


def test_failed_sign_ins_are_throttled_from_the_configured_threshold(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    threshold = app.state.settings.login_failures_before_throttle
    statuses = [sign_in(client, "jo", f"wrong guess {n}").status_code for n in range(20)]
    assert statuses == [401] * threshold + [429] * (20 - threshold)
    locked = sign_in(client, "jo")  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert locked.json() == {"detail": "too_many_attempts"}
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60


def test_known_and_unknown_usernames_get_the_same_answers(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    threshold = app.state.settings.login_failures_before_throttle
    answers = {}
    for name in ("jo", "nobody-here"):
        seen = [sign_in(client, name, "wrong guess") for _ in range(threshold + 1)]
        answers[name] = [(r.status_code, r.json(), "retry-after" in r.headers) for r in seen]
    assert answers["jo"] == answers["nobody-here"]
    assert answers["jo"][0] == (401, {"detail": "invalid_credentials"}, False)
    assert answers["jo"][-1] == (429, {"detail": "too_many_attempts"}, True)


def test_the_lockout_ends_after_its_window_and_doubles_on_the_next_failures(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    add_user(app, "jo")
    threshold = app.state.settings.login_failures_before_throttle
    window = app.state.settings.login_lockout
    for _ in range(threshold):
        sign_in(client, "jo", "wrong guess")
    clock.advance(seconds=window.total_seconds() - 1)
    held = sign_in(client, "jo")
    assert (held.status_code, held.headers["retry-after"]) == (429, "1")
    clock.advance(seconds=1)
    assert sign_in(client, "jo", "wrong again").status_code == 401  # unlocked: a fresh try
    retry = sign_in(client, "jo")
    assert retry.status_code == 429
    assert int(retry.headers["retry-after"]) == 2 * window.total_seconds()


def test_a_successful_sign_in_clears_the_account_failures(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    threshold = app.state.settings.login_failures_before_throttle
    for _ in range(threshold - 1):
        sign_in(client, "jo", "wrong guess")
    assert sign_in(client, "jo").status_code == 200
    for _ in range(threshold - 1):
        sign_in(client, "jo", "wrong guess")
    assert sign_in(client, "jo").status_code == 200


def test_one_address_trying_many_usernames_is_throttled(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    limit = app.state.settings.login_failures_before_throttle * auth.ADDRESS_FACTOR
    for n in range(limit):
        assert sign_in(client, f"probe{n}", "wrong guess").status_code == 401
    assert sign_in(client, "jo").status_code == 429  # the address, not the account, is locked


def test_an_admin_can_lift_a_lockout(app: FastAPI, client: TestClient) -> None:
    add_user(app, "jo")
    for _ in range(app.state.settings.login_failures_before_throttle):
        sign_in(client, "jo", "wrong guess")
    with db(app) as session:
        admin.unlock_user(session, "jo", actor=ADMIN, now=app.state.clock())
    assert sign_in(client, "jo").status_code == 200


def test_throttling_is_shared_by_every_worker(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    # Two app instances over one database stand for two uvicorn worker processes.
    first = make_app(database_url, tmp_path, clock)
    other = create_app(first.state.settings, clock=clock, migrate=False)
    _OPEN_APPS.append(other)
    second = TestClient(other)
    add_user(first, "jo")
    threshold = first.state.settings.login_failures_before_throttle
    for n in range(threshold):
        worker = TestClient(first) if n % 2 else second
        sign_in(worker, "jo", "wrong guess")
    assert sign_in(second, "jo").status_code == 429
    assert sign_in(TestClient(first), "jo").status_code == 429


def test_unknown_usernames_take_about_as_long_as_wrong_passwords(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    # Throttling off for the measurement; trials interleaved so machine noise hits both alike.
    app = make_app(database_url, tmp_path, clock, login_failures_before_throttle=10_000)
    client = TestClient(app)
    add_user(app, "jo")
    timings: dict[str, list[float]] = {"jo": [], "nobody-here": []}
    for trial in range(23):
        for name in ("jo", "nobody-here") if trial % 2 else ("nobody-here", "jo"):
            start = time.perf_counter()
            assert sign_in(client, name, "wrong guess").status_code == 401
            if trial >= 3:  # warm-up
                timings[name].append(time.perf_counter() - start)
    known, unknown = statistics.median(timings["jo"]), statistics.median(timings["nobody-here"])
    assert abs(known - unknown) / max(known, unknown) < 0.3, (known, unknown)


def test_failed_and_successful_sign_ins_are_audited_without_passwords(
    app: FastAPI, client: TestClient
) -> None:
    add_user(app, "jo")
    sign_in(client, "jo", "wrong guess")
    sign_in(client, "nobody-here", "wrong guess")
    sign_in(client, "jo")
    with db(app) as session:
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.action).in_(["login", "login_failed"]))
        ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("login_failed", "jo"),
        ("login_failed", ""),  # an unknown name is not stored: it may be a mistyped password
        ("login", "jo"),
    ]
    assert all("wrong guess" not in e.detail and PASSWORD not in e.detail for e in events)


def test_expiry_decisions_use_the_app_clock_not_the_wall_clock(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2030, 1, 1, tzinfo=UTC))  # years from the wall clock
    app = make_app(database_url, tmp_path, clock)
    client = TestClient(app)
    add_user(app, "jo")
    access = tokens(client, "jo")["access_token"]
    assert client.get(WHOAMI, headers=bearer(access)).status_code == 200
    clock.advance(minutes=16)
    assert client.get(WHOAMI, headers=bearer(access)).status_code == 401


# -- request limits (R32) ----------------------------------------------------------------

TWO_MIB = 2 * 1024 * 1024


def test_a_body_over_the_limit_is_refused_with_413_before_parsing(client: TestClient) -> None:
    body = b'{"username": "' + b"x" * TWO_MIB + b'", "password": "p"}'
    response = client.post(
        "/auth/token", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


def test_a_streamed_body_over_the_limit_without_content_length_is_refused(
    client: TestClient,
) -> None:
    def chunks() -> Any:
        yield b'{"username": "'
        for _ in range(33):
            yield b"x" * 65_536
        yield b'", "password": "p"}'

    response = client.post(
        "/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "x" * 100_000, "password": "a long enough password"},
        {"username": "jo", "password": "p" * 100_000},
        {"username": "jo", "password": PASSWORD, "is_admin": True},
        {"username": "jo"},
        {"username": "jo", "password": PASSWORD, "device_id": "not-a-uuid"},
        {"username": "jo\u0000", "password": PASSWORD},  # PostgreSQL text cannot hold NUL
        {"username": "jo\u001b[2J", "password": PASSWORD},
        {"username": "jo", "password": 12345678},
    ],
    ids=[
        *("100k-name", "100k-password", "unknown-field", "missing-field", "bad-device-id"),
        *("nul-in-name", "escape-in-name", "number-password"),
    ],
)
def test_malformed_sign_ins_get_422_without_echoing_the_input(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = client.post("/auth/token", json=body)
    assert response.status_code == 422
    assert "x" * 1000 not in response.text
    assert "p" * 1000 not in response.text
    assert PASSWORD not in response.text


def test_an_unknown_field_in_a_refresh_is_refused(client: TestClient) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": "t", "scope": "admin"})
    assert response.status_code == 422


def test_an_unknown_query_parameter_is_refused_not_ignored(client: TestClient) -> None:
    response = client.get("/health", params={"family_name": "Smith"})
    assert response.status_code == 422
    assert "Smith" not in response.text
    assert client.get("/health").status_code == 200
